/**
 * DeleteRecords (key 21), versions 0-2 (v2 flexible).
 *
 * Per partition: move the log start offset up to `offset` (-1 = the high watermark) and answer the new low
 * watermark; whole segments below it are deleted, and the new start offset is checkpointed before the
 * answer. An offset above the high watermark or below -1 → OFFSET_OUT_OF_RANGE; an offset at or below the
 * current start offset changes nothing and answers the current one. Unknown topic or partition →
 * UNKNOWN_TOPIC_OR_PARTITION; internal topics → INVALID_TOPIC_EXCEPTION and a topic whose cleanup.policy
 * lacks `delete` → POLICY_VIOLATION, as Kafka. Failed partitions answer low watermark -1, as Kafka.
 * Goes through the partition (replica manager); a partition this node does not lead → NOT_LEADER_OR_FOLLOWER.
 * Single node: nothing to wait for, so the timeout is not used.
 * Authorization (Kafka's KafkaApis): DELETE on the topic, checked before its existence; denied partitions answer
 * TOPIC_AUTHORIZATION_FAILED with low watermark -1 and nothing is deleted.
 */
import {
  decodeDeleteRecordsRequest,
  type DeleteRecordsRequest,
} from '../../protocol/generated/delete-records-request.js';
import {
  defaultDeleteRecordsResponse,
  encodeDeleteRecordsResponse,
  type DeleteRecordsPartitionResult,
  type DeleteRecordsResponse,
} from '../../protocol/generated/delete-records-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { RunnelError } from '../../protocol/errors.js';
import { isInternalTopic } from '../topics.js';
import type { BrokerServices } from '../services.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

async function deleteOne(
  services: Pick<BrokerServices, 'partitions' | 'log'>,
  topic: string,
  partition: number,
  offset: bigint,
): Promise<DeleteRecordsPartitionResult> {
  const out: DeleteRecordsPartitionResult = { partitionIndex: partition, lowWatermark: -1n, errorCode: ErrorCode.NONE };
  if (isInternalTopic(topic)) {
    out.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
    return out;
  }
  const log = services.partitions.getPartitionOrError(topic, partition);
  if (typeof log === 'number') {
    out.errorCode = log;
    return out;
  }
  if (!log.logConfig.cleanupPolicy.includes('delete')) {
    out.errorCode = ErrorCode.POLICY_VIOLATION;
    return out;
  }
  if (offset < -1n || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
    return out;
  }
  try {
    const r = await log.deleteRecordsBefore(Number(offset));
    out.errorCode = r.errorCode;
    if (r.errorCode === ErrorCode.NONE) out.lowWatermark = BigInt(r.lowWatermark);
  } catch (err) {
    out.errorCode = err instanceof RunnelError && err.kafkaCode >= 0 ? err.kafkaCode : ErrorCode.UNKNOWN_SERVER_ERROR;
    services.log.warn({ topic, partition, err: (err as Error).message }, 'DeleteRecords failed');
  }
  return out;
}

export const deleteRecordsHandler = registerHandler<DeleteRecordsRequest, DeleteRecordsResponse>({
  apiKey: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeDeleteRecordsRequest,
  encode: encodeDeleteRecordsResponse,
  async handle(req, ctx) {
    const res = defaultDeleteRecordsResponse();
    const allowed = filterAuthorized(
      ctx,
      AclOperation.DELETE,
      AclResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    for (const t of req.topics) {
      const partitions = await Promise.all(
        t.partitions.map((p) =>
          allowed.has(t.name)
            ? deleteOne(ctx.services, t.name, p.partitionIndex, p.offset)
            : { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
        ),
      );
      res.topics.push({ name: t.name, partitions });
    }
    return res;
  },
});
