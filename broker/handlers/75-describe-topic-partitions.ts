/**
 * DescribeTopicPartitions (key 75), version 0 (flexible; KIP-966).
 *
 * Topics: the listed names, or every topic when the list is empty; answered in name order, starting at the
 * cursor (topics before the cursor topic are skipped; in the cursor topic, partitions before its index).
 * Pagination: at most responsePartitionLimit partitions (clamped to 1..2000, Kafka's
 * max.request.partition.size.limit default) per response; when the limit cuts a topic short, nextCursor
 * names that topic and the next partition; when it is reached exactly and topics remain, nextCursor names
 * the next topic at partition 0; otherwise it is null. Listed topics that do not exist get
 * UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for illegal names); when listing all topics there
 * are none. A cursor topic missing from a non-empty list, or a negative cursor partition, is
 * INVALID_REQUEST for every listed topic, as Kafka's error response. Leader, leader epoch, replicas and ISR
 * come from the metadata image (one node today: it leads every partition at epoch 0); replicas on fenced or
 * unregistered brokers are offline; the ELR is empty.
 *
 * Authorization (Kafka's DescribeTopicPartitionsRequestHandler): topics the principal may not DESCRIBE are
 * skipped (they count for no page); when topics are listed, each such topic met before the page ends is
 * appended after the others with TOPIC_AUTHORIZATION_FAILED and the zero topic id, existing or not. Every other
 * topic in the answer carries its authorized operations (Kafka's bitfield; all supported ones without an
 * authorizer).
 */
import {
  decodeDescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsRequest,
} from '../../protocol/generated/describe-topic-partitions-request.js';
import {
  defaultDescribeTopicPartitionsResponse,
  defaultDescribeTopicPartitionsResponseTopic,
  encodeDescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponsePartition,
  type DescribeTopicPartitionsResponseTopic,
} from '../../protocol/generated/describe-topic-partitions-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import {
  NO_LEADER,
  invalidTopicName,
  type MetadataImage,
  type PartitionRegistration,
} from '../../replication/metadata/image.js';
import { isInternalTopic, ZERO_UUID } from '../topics.js';
import { registerHandler } from './registry.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { filterAuthorized } from '../security/authorize.js';
import { authorizedOperations } from '../security/authorized-operations.js';

export const MAX_PARTITIONS_PER_RESPONSE = 2000;

export const describeTopicPartitionsHandler = registerHandler<
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse
>({
  apiKey: 75,
  name: 'DescribeTopicPartitions',
  minVersion: 0,
  maxVersion: 0,
  decode: decodeDescribeTopicPartitionsRequest,
  encode: encodeDescribeTopicPartitionsResponse,
  handle(req, ctx) {
    const { metadata } = ctx.services;
    const image = metadata.image;
    const res = defaultDescribeTopicPartitionsResponse();
    const cursor = req.cursor;
    const cursorTopic = cursor?.topicName ?? '';
    const all = req.topics.length === 0;
    const names = new Set<string>();
    if (all) {
      for (const t of image.topics()) if (t.name >= cursorTopic) names.add(t.name);
    } else {
      for (const t of req.topics) if (t.name >= cursorTopic) names.add(t.name);
    }
    if (cursor && ((!all && !names.has(cursor.topicName)) || cursor.partitionIndex < 0)) {
      for (const t of req.topics) {
        const out = defaultDescribeTopicPartitionsResponseTopic();
        out.name = t.name;
        out.errorCode = ErrorCode.INVALID_REQUEST;
        res.topics.push(out);
      }
      return res;
    }
    const describable = filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, names);
    const denied: DescribeTopicPartitionsResponseTopic[] = [];
    let remaining = Math.max(Math.min(req.responsePartitionLimit, MAX_PARTITIONS_PER_RESPONSE), 1);
    for (const name of [...names].sort()) {
      const out = defaultDescribeTopicPartitionsResponseTopic();
      out.name = name;
      if (!describable.has(name)) {
        if (!all) {
          out.topicId = ZERO_UUID;
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          denied.push(out);
        }
        continue;
      }
      if (remaining === 0) {
        res.nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const meta = image.topic(name);
      out.isInternal = isInternalTopic(name);
      out.topicAuthorizedOperations = authorizedOperations(ctx, AclResourceType.TOPIC, name);
      if (!meta) {
        if (all) continue;
        out.topicId = ZERO_UUID;
        out.errorCode = invalidTopicName(name)
          ? ErrorCode.INVALID_TOPIC_EXCEPTION
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        res.topics.push(out);
        continue;
      }
      out.topicId = meta.topicId;
      const start = name === cursorTopic && cursor ? cursor.partitionIndex : 0;
      const end = Math.min(meta.partitions, start + remaining);
      for (let p = start; p < end; p++) out.partitions.push(partitionInfo(image, meta.partitionStates[p]!));
      res.topics.push(out);
      remaining -= Math.max(0, end - start);
      if (end < meta.partitions) {
        res.nextCursor = { topicName: name, partitionIndex: end };
        break;
      }
    }
    res.topics.push(...denied);
    return res;
  },
});

function partitionInfo(image: MetadataImage, s: PartitionRegistration): DescribeTopicPartitionsResponsePartition {
  const offline = s.replicas.filter((id) => image.broker(id)?.fenced ?? true);
  return {
    errorCode: s.leader === NO_LEADER || offline.includes(s.leader) ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
    partitionIndex: s.partition,
    leaderId: s.leader,
    leaderEpoch: s.leaderEpoch,
    replicaNodes: [...s.replicas],
    isrNodes: [...s.isr],
    eligibleLeaderReplicas: [],
    lastKnownElr: [],
    offlineReplicas: offline,
  };
}
