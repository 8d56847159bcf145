/**
 * SyncGroup (key 14), versions 0-5 (v4+ flexible).
 *
 * The leader's request carries the assignments; they are stored durably (group metadata record in
 * __consumer_offsets) before any member is answered, then every waiting member gets its own. Followers
 * wait for the leader; in a Stable group the current assignment is answered at once. v3+
 * group.instance.id; v5 protocol type/name are checked (INCONSISTENT_GROUP_PROTOCOL) and echoed.
 * Authorization (Kafka's KafkaApis): READ on the group, else GROUP_AUTHORIZATION_FAILED and the group is not
 * touched.
 */
import { decodeSyncGroupRequest, type SyncGroupRequest } from '../../protocol/generated/sync-group-request.js';
import {
  defaultSyncGroupResponse,
  encodeSyncGroupResponse,
  type SyncGroupResponse,
} from '../../protocol/generated/sync-group-response.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized } from '../security/authorize.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { registerHandler } from './registry.js';

export const syncGroupHandler = registerHandler<SyncGroupRequest, SyncGroupResponse>({
  apiKey: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  decode: decodeSyncGroupRequest,
  encode: encodeSyncGroupResponse,
  async handle(req, ctx) {
    const { groups } = ctx.services;
    const v = ctx.apiVersion;
    if (!authorized(ctx, AclOperation.READ, AclResourceType.GROUP, req.groupId)) {
      const denied = defaultSyncGroupResponse();
      denied.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return denied;
    }
    // Waiting for the rebalance is not handling time (client quotas).
    const r = await ctx.quota.park(
      groups.sync({
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: v >= 3 ? req.groupInstanceId : null,
        protocolType: v >= 5 ? req.protocolType : null,
        protocolName: v >= 5 ? req.protocolName : null,
        assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
      }),
    );
    const res = defaultSyncGroupResponse();
    res.errorCode = r.errorCode;
    res.protocolType = r.protocolType;
    res.protocolName = r.protocolName;
    res.assignment = r.assignment;
    return res;
  },
});
