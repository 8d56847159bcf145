/**
 * JoinGroup (key 11), versions 0-9 (v6+ flexible) — classic rebalance protocol.
 *
 * v0 has no rebalance timeout (the session timeout is used, as Kafka does); v4+ a first join without a
 * member id answers MEMBER_ID_REQUIRED carrying the generated id; v5+ group.instance.id (static
 * membership); v7+ protocol type in the answer; v9 skipAssignment (a static leader rejoining a Stable group
 * unchanged). The answer waits for the join phase to complete (all members rejoined, or the rebalance
 * timeout); the connection processes nothing else meanwhile, which is what clients expect. Below v7 the
 * protocol name is not nullable, so errors carry "".
 * Authorization (Kafka's KafkaApis): READ on the group, else GROUP_AUTHORIZATION_FAILED and the group is not
 * touched.
 */
import { decodeJoinGroupRequest, type JoinGroupRequest } from '../../protocol/generated/join-group-request.js';
import {
  defaultJoinGroupResponse,
  encodeJoinGroupResponse,
  type JoinGroupResponse,
} from '../../protocol/generated/join-group-response.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized } from '../security/authorize.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { registerHandler } from './registry.js';

export const joinGroupHandler = registerHandler<JoinGroupRequest, JoinGroupResponse>({
  apiKey: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  decode: decodeJoinGroupRequest,
  encode: encodeJoinGroupResponse,
  async handle(req, ctx) {
    const { groups } = ctx.services;
    const v = ctx.apiVersion;
    if (!authorized(ctx, AclOperation.READ, AclResourceType.GROUP, req.groupId)) {
      const denied = defaultJoinGroupResponse();
      denied.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      denied.memberId = req.memberId;
      denied.protocolName = v >= 7 ? null : '';
      return denied;
    }
    // Waiting for the rebalance is not handling time (client quotas).
    const r = await ctx.quota.park(
      groups.join({
        groupId: req.groupId,
        memberId: req.memberId,
        groupInstanceId: v >= 5 ? req.groupInstanceId : null,
        protocolType: req.protocolType,
        protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: v === 0 || req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
        clientId: ctx.header.clientId ?? '',
        clientHost: ctx.clientHost,
        requireKnownMemberId: v >= 4,
      }),
    );
    const res = defaultJoinGroupResponse();
    res.errorCode = r.errorCode;
    res.generationId = r.generationId;
    res.protocolType = r.protocolType;
    res.protocolName = v >= 7 ? r.protocolName : (r.protocolName ?? '');
    res.leader = r.leader;
    res.skipAssignment = r.skipAssignment;
    res.memberId = r.memberId;
    res.members = r.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata,
    }));
    return res;
  },
});
