/**
 * DescribeProducers (key 61), version 0 (flexible; KIP-664, used by `kafka-transactions.sh
 * describe-producers` and admin clients to find hanging transactions).
 *
 * Per requested partition: the producers the partition has state for (storage/producer-state.ts):
 * id, epoch, last sequence written (-1 if only markers), last batch timestamp, coordinator epoch of the
 * last marker and the first offset of the open transaction (-1 if none). Unknown topics or partitions
 * answer UNKNOWN_TOPIC_OR_PARTITION for that partition, a partition this node does not lead
 * NOT_LEADER_OR_FOLLOWER (read through the replica manager).
 * Authorization (Kafka's KafkaApis): READ on the topic, before its existence; denied → every partition of it
 * answers TOPIC_AUTHORIZATION_FAILED with Kafka's message and no producers.
 */
import {
  decodeDescribeProducersRequest,
  type DescribeProducersRequest,
} from '../../protocol/generated/describe-producers-request.js';
import {
  defaultDescribeProducersResponse,
  encodeDescribeProducersResponse,
  type DescribeProducersResponse,
  type DescribeProducersResponsePartitionResponse,
} from '../../protocol/generated/describe-producers-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { deniedMessage, filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const describeProducersHandler = registerHandler<DescribeProducersRequest, DescribeProducersResponse>({
  apiKey: 61,
  name: 'DescribeProducers',
  minVersion: 0,
  maxVersion: 0,
  decode: decodeDescribeProducersRequest,
  encode: encodeDescribeProducersResponse,
  handle(req, ctx) {
    const { partitions: replicaManager } = ctx.services;
    const res = defaultDescribeProducersResponse();
    const allowed = filterAuthorized(
      ctx,
      AclOperation.READ,
      AclResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    for (const t of req.topics) {
      const partitions: DescribeProducersResponsePartitionResponse[] = [];
      for (const p of t.partitionIndexes) {
        const out: DescribeProducersResponsePartitionResponse = {
          partitionIndex: p,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          activeProducers: [],
        };
        partitions.push(out);
        if (!allowed.has(t.name)) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          out.errorMessage = deniedMessage(out.errorCode);
          continue;
        }
        const log = replicaManager.getPartitionOrError(t.name, p);
        if (typeof log === 'number') {
          out.errorCode = log;
          continue;
        }
        out.activeProducers = log.activeProducers().map((a) => ({
          producerId: BigInt(a.producerId),
          producerEpoch: a.producerEpoch,
          lastSequence: a.lastSequence,
          lastTimestamp: BigInt(a.lastTimestamp),
          coordinatorEpoch: a.coordinatorEpoch,
          currentTxnStartOffset: BigInt(a.currentTxnStartOffset),
        }));
      }
      res.topics.push({ name: t.name, partitions });
    }
    return res;
  },
});
