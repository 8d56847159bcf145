/**
 * AddPartitionsToTxn (key 24), versions 0-3 (v3 flexible): the client form, one transaction per request
 * (`v3AndBelow*` fields). v4+ is the batched broker-to-broker form (KIP-890) and is not offered.
 *
 * Partitions join the producer's transaction (broker/txn/coordinator.ts addPartitions). Every partition
 * gets the same code, except that when some partitions do not exist those get UNKNOWN_TOPIC_OR_PARTITION
 * and the others OPERATION_NOT_ATTEMPTED. Below v2 PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH
 * (KIP-588).
 * Authorization (Kafka's KafkaApis): WRITE on the transactional id, else every partition answers
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED; WRITE on each topic, else its partitions answer
 * TOPIC_AUTHORIZATION_FAILED, unknown ones UNKNOWN_TOPIC_OR_PARTITION, the others OPERATION_NOT_ATTEMPTED, and
 * nothing is added to the transaction.
 */
import {
  decodeAddPartitionsToTxnRequest,
  type AddPartitionsToTxnRequest,
} from '../../protocol/generated/add-partitions-to-txn-request.js';
import {
  defaultAddPartitionsToTxnResponse,
  encodeAddPartitionsToTxnResponse,
  type AddPartitionsToTxnResponse,
} from '../../protocol/generated/add-partitions-to-txn-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, filterAuthorized } from '../security/authorize.js';
import { registerHandler, type RequestContext } from './registry.js';

export function fencedFor(code: number, version: number, sinceVersion = 2): number {
  return code === ErrorCode.PRODUCER_FENCED && version < sinceVersion ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
}

/**
 * Kafka's checks: WRITE on the transactional id (else every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
 * WRITE on each topic; one unauthorized topic or unknown partition fails the whole request
 * (TOPIC_AUTHORIZATION_FAILED / UNKNOWN_TOPIC_OR_PARTITION, OPERATION_NOT_ATTEMPTED for the others).
 * Undefined when the request may go on.
 */
function deniedCodes(
  ctx: RequestContext,
  transactionalId: string,
  flat: { topic: string; partition: number }[],
): number[] | undefined {
  if (!authorized(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, transactionalId)) {
    return flat.map(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  }
  const writable = filterAuthorized(
    ctx,
    AclOperation.WRITE,
    AclResourceType.TOPIC,
    flat.map((p) => p.topic),
  );
  if (flat.every((p) => writable.has(p.topic))) return undefined;
  const image = ctx.services.metadata.image;
  return flat.map((p) => {
    if (!writable.has(p.topic)) return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    if (!image.partition(p.topic, p.partition)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return ErrorCode.OPERATION_NOT_ATTEMPTED;
  });
}

export const addPartitionsToTxnHandler = registerHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>({
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 3,
  decode: decodeAddPartitionsToTxnRequest,
  encode: encodeAddPartitionsToTxnResponse,
  async handle(req, ctx) {
    const { transactions } = ctx.services;
    const flat = req.v3AndBelowTopics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
    const denied = deniedCodes(ctx, req.v3AndBelowTransactionalId, flat);
    const codes =
      denied ??
      (await transactions.addPartitions(
        req.v3AndBelowTransactionalId,
        Number(req.v3AndBelowProducerId),
        req.v3AndBelowProducerEpoch,
        flat,
      ));
    const res = defaultAddPartitionsToTxnResponse();
    let i = 0;
    res.resultsByTopicV3AndBelow = req.v3AndBelowTopics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((partitionIndex) => ({
        partitionIndex,
        partitionErrorCode: fencedFor(codes[i++]!, ctx.apiVersion),
      })),
    }));
    return res;
  },
});
