/**
 * ConsumerGroupDescribe (key 69), versions 0-1 (flexible) — KIP-848 consumer groups.
 *
 * Per group: state (Empty, Assigning, Reconciling, Stable), group epoch, assignment epoch, the selected
 * server assignor and each member's epoch, subscription, current assignment and target assignment (with
 * topic names). A group id that is unknown or not a consumer group answers GROUP_ID_NOT_FOUND, as Kafka.
 * memberType (v1) is 1 (consumer protocol member). Authorized operations are not computed (-2147483648).
 * Authorization (Kafka's KafkaApis): DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED and nothing of it
 * (not even whether it exists); the denied groups are answered first, then the others, as Kafka orders them.
 */
import {
  decodeConsumerGroupDescribeRequest,
  type ConsumerGroupDescribeRequest,
} from '../../protocol/generated/consumer-group-describe-request.js';
import {
  defaultConsumerGroupDescribeResponse,
  defaultConsumerGroupDescribeResponseDescribedGroup,
  encodeConsumerGroupDescribeResponse,
  type ConsumerGroupDescribeResponse,
} from '../../protocol/generated/consumer-group-describe-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { assignmentList } from '../groups/consumer-group.js';
import type { Assignment } from '../groups/assignors.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const consumerGroupDescribeHandler = registerHandler<
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse
>({
  apiKey: 69,
  name: 'ConsumerGroupDescribe',
  minVersion: 0,
  maxVersion: 1,
  decode: decodeConsumerGroupDescribeRequest,
  encode: encodeConsumerGroupDescribeResponse,
  handle(req, ctx) {
    const { groups, metadata } = ctx.services;
    const coordinator = groups;
    const manager = coordinator.consumer;
    const res = defaultConsumerGroupDescribeResponse();
    const withNames = (
      a: Assignment,
    ): { topicPartitions: { topicId: string; topicName: string; partitions: number[] }[] } => ({
      topicPartitions: assignmentList(a).map((t) => ({
        ...t,
        topicName: metadata.image.topicById(t.topicId)?.name ?? '',
      })),
    });
    const allowed = filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.GROUP, req.groupIds);
    for (const groupId of req.groupIds) {
      if (allowed.has(groupId)) continue;
      const d = defaultConsumerGroupDescribeResponseDescribedGroup();
      d.groupId = groupId;
      d.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      res.groups.push(d);
    }
    for (const groupId of req.groupIds) {
      if (!allowed.has(groupId)) continue;
      const d = defaultConsumerGroupDescribeResponseDescribedGroup();
      d.groupId = groupId;
      const g = manager?.groups.get(groupId);
      const unavailable = coordinator.status(groupId);
      if (unavailable) d.errorCode = unavailable;
      else if (!g) {
        d.errorCode = ErrorCode.GROUP_ID_NOT_FOUND;
        d.errorMessage = `Group ${groupId} not found.`;
      } else {
        d.groupState = g.state;
        d.groupEpoch = g.groupEpoch;
        d.assignmentEpoch = g.assignmentEpoch;
        d.assignorName = g.assignorName;
        d.members = [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: m.subscribedTopicNames,
          subscribedTopicRegex: m.subscribedTopicRegex,
          assignment: withNames(m.assigned),
          targetAssignment: withNames(g.targetAssignment.get(m.memberId) ?? new Map()),
          memberType: 1,
        }));
      }
      res.groups.push(d);
    }
    return res;
  },
});
