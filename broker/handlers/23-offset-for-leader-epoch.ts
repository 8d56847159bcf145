/**
 * OffsetForLeaderEpoch (key 23), versions 0-4 (0-1 from Kafka 3.9.1's definitions; v4 flexible).
 *
 * Per partition: the end offset of the requested leader epoch — the largest epoch <= the one asked and the
 * start offset of the next epoch, or the log end offset for the latest epoch — from the partition's
 * leader-epoch cache (Partition.endOffsetForEpoch, Kafka's semantics). The partition's current epoch (0 on a
 * single node, which has led every partition since creation) answers (epoch, log end offset) even before
 * the first append has put an entry in the cache. An epoch above every known one (or -1) → leaderEpoch -1,
 * endOffset -1 with no error, as Kafka. v2+ currentLeaderEpoch newer than the partition's →
 * UNKNOWN_LEADER_EPOCH, older → FENCED_LEADER_EPOCH (-1 = not checked). Unknown
 * topic or partition → UNKNOWN_TOPIC_OR_PARTITION. v0 answers carry no leader epoch; v3+ replicaId
 * (-1 for consumers) does not change the answer on a single node.
 * Authorization (Kafka's KafkaApis, KIP-320): CLUSTER_ACTION on the CLUSTER allows every topic, else DESCRIBE
 * on each topic; a denied topic's partitions answer TOPIC_AUTHORIZATION_FAILED (epoch and offset -1).
 */
import {
  decodeOffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochRequest,
} from '../../protocol/generated/offset-for-leader-epoch-request.js';
import {
  defaultOffsetForLeaderEpochResponse,
  defaultOffsetForLeaderEpochResponseEpochEndOffset,
  encodeOffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochResponseEpochEndOffset,
} from '../../protocol/generated/offset-for-leader-epoch-response.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorizedCluster, filterAuthorized } from '../security/authorize.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { registerHandler } from './registry.js';

export const offsetForLeaderEpochHandler = registerHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>({
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  minVersion: 0,
  maxVersion: 4,
  decode: decodeOffsetForLeaderEpochRequest,
  encode: encodeOffsetForLeaderEpochResponse,
  handle(req, ctx) {
    const { partitions: replicaManager } = ctx.services;
    const res = defaultOffsetForLeaderEpochResponse();
    // KIP-320: brokers hold CLUSTER_ACTION; consumers checking for truncation need DESCRIBE on the topic.
    const all = authorizedCluster(ctx, AclOperation.CLUSTER_ACTION, false);
    const names = req.topics.map((t) => t.topic);
    const describable = all
      ? new Set(names)
      : filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, names);
    for (const t of req.topics) {
      const partitions: OffsetForLeaderEpochResponseEpochEndOffset[] = [];
      for (const p of t.partitions) {
        const out = defaultOffsetForLeaderEpochResponseEpochEndOffset();
        out.partition = p.partition;
        partitions.push(out);
        if (!describable.has(t.topic)) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        const log = replicaManager.getPartitionOrError(t.topic, p.partition, p.currentLeaderEpoch);
        if (typeof log === 'number') {
          out.errorCode = log;
          continue;
        }
        const found = log.endOffsetForEpoch(p.leaderEpoch);
        out.leaderEpoch = found.epoch;
        out.endOffset = BigInt(found.endOffset);
      }
      res.topics.push({ topic: t.topic, partitions });
    }
    return res;
  },
});
