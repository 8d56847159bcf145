/**
 * ListOffsets (key 2), versions 0-10 (v0 from Kafka 3.9.1's definition, for old clients such as sarama).
 *
 * Per partition: timestamp -1 = latest (the high watermark; read_committed, v2+, gets the last stable
 * offset), -2 = earliest (log start offset), -3 = the record with the
 * largest timestamp (v7+), -4 = earliest local (v8+, = earliest here), -5 = latest tiered (v9+, no tiered
 * storage: answers like latest); otherwise the first offset whose timestamp is >= the one asked, found
 * through the time index, or offset -1 when there is none. v0 answers in `oldStyleOffsets`. The leader
 * epoch is the partition's (replica manager); a newer current leader epoch gets UNKNOWN_LEADER_EPOCH, an
 * older one FENCED_LEADER_EPOCH.
 * Authorization (Kafka's KafkaApis): DESCRIBE on each topic, else its partitions answer
 * TOPIC_AUTHORIZATION_FAILED with offset and timestamp -1 (before existence is looked at).
 */
import { decodeListOffsetsRequest, type ListOffsetsRequest } from '../../protocol/generated/list-offsets-request.js';
import {
  defaultListOffsetsPartitionResponse,
  encodeListOffsetsResponse,
  type ListOffsetsResponse,
} from '../../protocol/generated/list-offsets-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const listOffsetsHandler = registerHandler<ListOffsetsRequest, ListOffsetsResponse>({
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 10,
  decode: decodeListOffsetsRequest,
  encode: encodeListOffsetsResponse,
  async handle(req, ctx) {
    const { partitions: replicaManager } = ctx.services;
    const v = ctx.apiVersion;
    const res: ListOffsetsResponse = { throttleTimeMs: 0, topics: [] };
    const describable = filterAuthorized(
      ctx,
      AclOperation.DESCRIBE,
      AclResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    for (const t of req.topics) {
      const partitions = [];
      for (const p of t.partitions) {
        const out = defaultListOffsetsPartitionResponse();
        out.partitionIndex = p.partitionIndex;
        partitions.push(out);
        if (!describable.has(t.name)) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        const log = replicaManager.getPartitionOrError(t.name, p.partitionIndex, p.currentLeaderEpoch);
        if (typeof log === 'number') {
          out.errorCode = log;
          continue;
        }
        const ts = Number(p.timestamp);
        let offset = -1;
        let timestamp = -1;
        const fetchable = v >= 2 && req.isolationLevel === 1 ? log.lastStableOffset : log.highWatermark;
        if (ts === -1 || ts === -5) {
          offset = fetchable;
        } else if (ts === -2 || ts === -4) {
          offset = log.logStartOffset;
        } else if (ts === -3 && v >= 7) {
          const loc = await log.maxTimestampOffset();
          if (loc) {
            offset = loc.offset;
            timestamp = loc.timestamp;
          }
        } else if (ts < 0) {
          out.errorCode = ErrorCode.UNSUPPORTED_VERSION;
          continue;
        } else {
          const loc = await log.offsetForTimestamp(ts);
          if (loc && loc.offset < fetchable) {
            offset = loc.offset;
            timestamp = loc.timestamp;
          }
        }
        out.offset = BigInt(offset);
        out.timestamp = BigInt(timestamp);
        out.leaderEpoch = offset >= 0 ? log.leaderEpoch : -1;
        if (v === 0) out.oldStyleOffsets = p.maxNumOffsets > 0 && offset >= 0 ? [BigInt(offset)] : [];
      }
      res.topics.push({ name: t.name, partitions });
    }
    return res;
  },
});
