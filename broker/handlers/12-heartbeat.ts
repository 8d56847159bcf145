/**
 * Heartbeat (key 12), versions 0-4 (v4 flexible; v3+ group.instance.id).
 *
 * Resets the member's session timer. Answers, in Kafka's order: UNKNOWN_MEMBER_ID (unknown group or
 * member, or Empty group), FENCED_INSTANCE_ID (an old member id of a static instance), ILLEGAL_GENERATION,
 * REBALANCE_IN_PROGRESS while the group prepares a rebalance (the member must rejoin), else NONE.
 * Authorization (Kafka's KafkaApis): READ on the group, else GROUP_AUTHORIZATION_FAILED and the group is not
 * touched.
 */
import { decodeHeartbeatRequest, type HeartbeatRequest } from '../../protocol/generated/heartbeat-request.js';
import {
  defaultHeartbeatResponse,
  encodeHeartbeatResponse,
  type HeartbeatResponse,
} from '../../protocol/generated/heartbeat-response.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized } from '../security/authorize.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { registerHandler } from './registry.js';

export const heartbeatHandler = registerHandler<HeartbeatRequest, HeartbeatResponse>({
  apiKey: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  decode: decodeHeartbeatRequest,
  encode: encodeHeartbeatResponse,
  handle(req, ctx) {
    const { groups } = ctx.services;
    const res = defaultHeartbeatResponse();
    if (!authorized(ctx, AclOperation.READ, AclResourceType.GROUP, req.groupId)) {
      res.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return res;
    }
    res.errorCode = groups.heartbeat(
      req.groupId,
      req.memberId,
      ctx.apiVersion >= 3 ? req.groupInstanceId : null,
      req.generationId,
    );
    return res;
  },
});
