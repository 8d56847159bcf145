/**
 * WriteTxnMarkers (key 27), versions 0-1 (v1 flexible; Kafka 4.x keeps only v1). A broker-to-broker API: a
 * transaction coordinator (broker/txn/markers.ts) sends the COMMIT/ABORT markers of a transaction to the
 * leaders of its partitions. Advertised in ApiVersions as Kafka's brokers do (its spec's listener is `broker`).
 *
 * For each marker and each of its topic-partitions, the control batch is appended as leader through the replica
 * manager with acks=all semantics (Kafka's handleWriteTxnMarkersRequest: requiredAcks -1, internal topics
 * allowed, request.timeout.ms 30000): refused with NOT_ENOUGH_REPLICAS below min.insync.replicas, else
 * answered once the high watermark passed the marker (REQUEST_TIMED_OUT or NOT_ENOUGH_REPLICAS_AFTER_APPEND
 * otherwise). Per-partition errors: UNKNOWN_TOPIC_OR_PARTITION (not hosted here), NOT_LEADER_OR_FOLLOWER,
 * INVALID_PRODUCER_EPOCH (an older producer epoch than the partition's), TRANSACTION_COORDINATOR_FENCED (a
 * coordinator epoch older than the last one seen for that producer on the partition), storage errors. A
 * producer id outside 0..2^53-1 is answered INVALID_REQUEST (Runnel keeps producer ids as safe integers).
 * Once a marker is written to `__consumer_offsets` partitions, the producer's staged transactional offsets
 * are completed here, as Kafka's handler calls the group coordinator's onTransactionCompleted.
 * Authorization (Kafka's KafkaApis): CLUSTER_ACTION on the CLUSTER, else every partition answers
 * CLUSTER_AUTHORIZATION_FAILED and no marker is written.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { RunnelError } from '../../protocol/errors.js';
import {
  decodeWriteTxnMarkersRequest,
  type WriteTxnMarkersRequest,
  type WriteTxnMarkersRequestWritableTxnMarker,
} from '../../protocol/generated/write-txn-markers-request.js';
import {
  defaultWriteTxnMarkersResponse,
  encodeWriteTxnMarkersResponse,
  type WriteTxnMarkersResponse,
  type WriteTxnMarkersResponseWritableTxnMarkerResult,
} from '../../protocol/generated/write-txn-markers-response.js';
import { OFFSETS_TOPIC } from '../groups/offsets-log.js';
import type { BrokerServices } from '../services.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster } from '../security/authorize.js';
import { registerHandler } from './registry.js';

/** Kafka's request.timeout.ms default: how long an acks=all marker waits for the high watermark. */
const MARKER_TIMEOUT_MS = 30000;

type MarkerServices = Pick<BrokerServices, 'partitions' | 'transactions' | 'log'>;

async function writeOne(
  services: MarkerServices,
  m: WriteTxnMarkersRequestWritableTxnMarker,
  topic: string,
  partition: number,
): Promise<number> {
  if (m.producerId < 0n || m.producerId > BigInt(Number.MAX_SAFE_INTEGER)) return ErrorCode.INVALID_REQUEST;
  const p = services.partitions.getPartitionOrError(topic, partition);
  if (typeof p === 'number') return p;
  try {
    const r = await services.partitions.appendTxnMarker(
      topic,
      partition,
      {
        producerId: Number(m.producerId),
        producerEpoch: m.producerEpoch,
        coordinatorEpoch: m.coordinatorEpoch,
        commit: m.transactionResult,
      },
      { requiredAcks: -1, timeoutMs: MARKER_TIMEOUT_MS },
    );
    return r ? r.errorCode : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  } catch (err) {
    const code = err instanceof RunnelError && err.kafkaCode >= 0 ? err.kafkaCode : ErrorCode.UNKNOWN_SERVER_ERROR;
    if (code === ErrorCode.UNKNOWN_SERVER_ERROR) {
      services.log.warn({ topic, partition, err: (err as Error).message }, 'WriteTxnMarkers append failed');
    }
    return code;
  }
}

async function writeMarker(
  services: MarkerServices,
  m: WriteTxnMarkersRequestWritableTxnMarker,
): Promise<WriteTxnMarkersResponseWritableTxnMarkerResult> {
  let offsetsWritten = false;
  const topics = await Promise.all(
    m.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(
        t.partitionIndexes.map(async (partitionIndex) => {
          const errorCode = await writeOne(services, m, t.name, partitionIndex);
          if (errorCode === ErrorCode.NONE && t.name === OFFSETS_TOPIC) offsetsWritten = true;
          return { partitionIndex, errorCode };
        }),
      ),
    })),
  );
  if (offsetsWritten) {
    try {
      await services.transactions.offsets.complete(Number(m.producerId), m.transactionResult);
    } catch (err) {
      services.log.warn(
        { producerId: Number(m.producerId), err: (err as Error).message },
        'completing transactional offsets failed',
      );
    }
  }
  return { producerId: m.producerId, topics };
}

export const writeTxnMarkersHandler = registerHandler<WriteTxnMarkersRequest, WriteTxnMarkersResponse>({
  apiKey: 27,
  name: 'WriteTxnMarkers',
  minVersion: 0,
  maxVersion: 1,
  decode: decodeWriteTxnMarkersRequest,
  encode: encodeWriteTxnMarkersResponse,
  async handle(req, ctx) {
    const res = defaultWriteTxnMarkersResponse();
    if (!authorizedCluster(ctx, AclOperation.CLUSTER_ACTION)) {
      res.markers = req.markers.map((m) => ({
        producerId: m.producerId,
        topics: m.topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          })),
        })),
      }));
      return res;
    }
    res.markers = await Promise.all(req.markers.map((m) => writeMarker(ctx.services, m)));
    return res;
  },
});
