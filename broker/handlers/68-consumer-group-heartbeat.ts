/**
 * ConsumerGroupHeartbeat (key 68), versions 0-1 (flexible) — KIP-848 consumer group protocol.
 *
 * The member joins with epoch 0 (v1: the client generates the member id, an empty one is INVALID_REQUEST;
 * v0: an empty member id gets a server-generated one in the answer), heartbeats with its current epoch and
 * owned partitions, leaves with -1 (a static member with -2). The answer carries the member's epoch, the
 * heartbeat interval (group.consumer.heartbeat.interval.ms) and, when it changed or the request sent its
 * full state, the assignment it may use. Errors as Kafka: GROUP_ID_NOT_FOUND (unknown group with a non-zero
 * epoch, or a group id taken by a classic group), UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH,
 * UNSUPPORTED_ASSIGNOR (not in group.consumer.assignors), INVALID_REQUEST. The state machine is in
 * broker/groups/consumer-group.ts. The answer is sent once the change is written to __consumer_offsets
 * (consumer-group-records.ts; COORDINATOR_NOT_AVAILABLE if that write fails, NOT_COORDINATOR if leadership
 * of the group's __consumer_offsets partition moved). A group this node does not coordinate gets
 * NOT_COORDINATOR, one whose partition is loading COORDINATOR_LOAD_IN_PROGRESS.
 * Authorization (Kafka's KafkaApis): READ on the group, else GROUP_AUTHORIZATION_FAILED; then DESCRIBE on every
 * subscribed topic name, else TOPIC_AUTHORIZATION_FAILED; either way the group is not touched. A regex
 * subscription resolves only to topics the member's principal may DESCRIBE (the filter kept from its heartbeat).
 */
import {
  decodeConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatRequest,
} from '../../protocol/generated/consumer-group-heartbeat-request.js';
import {
  defaultConsumerGroupHeartbeatResponse,
  encodeConsumerGroupHeartbeatResponse,
  type ConsumerGroupHeartbeatResponse,
} from '../../protocol/generated/consumer-group-heartbeat-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { coordinatorErrorFor } from '../internal-topic.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, describableTopicsFilter, filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const consumerGroupHeartbeatHandler = registerHandler<
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse
>({
  apiKey: 68,
  name: 'ConsumerGroupHeartbeat',
  minVersion: 0,
  maxVersion: 1,
  decode: decodeConsumerGroupHeartbeatRequest,
  encode: encodeConsumerGroupHeartbeatResponse,
  async handle(req, ctx) {
    const { groups } = ctx.services;
    const res = defaultConsumerGroupHeartbeatResponse();
    if (!authorized(ctx, AclOperation.READ, AclResourceType.GROUP, req.groupId)) {
      res.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return res;
    }
    const subscribed = req.subscribedTopicNames ?? [];
    if (subscribed.length > 0) {
      const visible = filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, subscribed);
      if (subscribed.some((t) => !visible.has(t))) {
        res.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        return res;
      }
    }
    const coordinator = groups;
    const manager = coordinator.consumer;
    if (!manager) {
      res.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      return res;
    }
    // An empty group id is refused by the heartbeat's own validation (INVALID_REQUEST).
    const unavailable = req.groupId ? coordinator.status(req.groupId) : ErrorCode.NONE;
    if (unavailable) {
      res.errorCode = unavailable;
      return res;
    }
    const r = manager.heartbeat({
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      instanceId: req.instanceId,
      rackId: req.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      subscribedTopicNames: req.subscribedTopicNames,
      subscribedTopicRegex: req.subscribedTopicRegex,
      serverAssignor: req.serverAssignor,
      ownedTopicPartitions: req.topicPartitions,
      clientId: ctx.header.clientId ?? '',
      clientHost: ctx.clientHost,
      version: ctx.apiVersion,
      topicFilter: describableTopicsFilter(ctx),
    });
    try {
      await manager.flush(req.groupId);
    } catch (err) {
      res.errorCode = coordinatorErrorFor(err);
      return res;
    }
    res.errorCode = r.errorCode;
    res.errorMessage = r.errorMessage;
    res.memberId = r.memberId;
    res.memberEpoch = r.memberEpoch;
    res.heartbeatIntervalMs = r.heartbeatIntervalMs;
    res.assignment = r.assignment === null ? null : { topicPartitions: r.assignment };
    return res;
  },
});
