/**
 * LeaveGroup (key 13), versions 0-5 (v4+ flexible).
 *
 * v0-2: one member id; its error is the top-level error. v3+: a batch of members (member id and/or
 * group.instance.id), each answered with its own error (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID when a
 * static instance is named with another member id); the top-level error is for group-wide failures only.
 * Removing a member of a Stable or CompletingRebalance group starts a rebalance; the last one leaving
 * makes the group Empty.
 * Authorization (Kafka's KafkaApis): READ on the group, else a top-level GROUP_AUTHORIZATION_FAILED, no member
 * answers, and no member leaves.
 */
import { decodeLeaveGroupRequest, type LeaveGroupRequest } from '../../protocol/generated/leave-group-request.js';
import {
  defaultLeaveGroupResponse,
  encodeLeaveGroupResponse,
  type LeaveGroupResponse,
} from '../../protocol/generated/leave-group-response.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized } from '../security/authorize.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { registerHandler } from './registry.js';

export const leaveGroupHandler = registerHandler<LeaveGroupRequest, LeaveGroupResponse>({
  apiKey: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  decode: decodeLeaveGroupRequest,
  encode: encodeLeaveGroupResponse,
  handle(req, ctx) {
    const { groups } = ctx.services;
    const res = defaultLeaveGroupResponse();
    if (!authorized(ctx, AclOperation.READ, AclResourceType.GROUP, req.groupId)) {
      res.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return res;
    }
    if (ctx.apiVersion < 3) {
      const r = groups.leave(req.groupId, [{ memberId: req.memberId, groupInstanceId: null }]);
      res.errorCode = r.errorCode !== 0 ? r.errorCode : r.members[0]!.errorCode;
      return res;
    }
    const r = groups.leave(
      req.groupId,
      req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })),
    );
    res.errorCode = r.errorCode;
    res.members = r.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: m.errorCode,
    }));
    return res;
  },
});
