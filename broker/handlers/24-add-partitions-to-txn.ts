/**
 * AddPartitionsToTxn (key 24), versions 0-3 (v3 flexible): the client form, one transaction per request
 * (`v3AndBelow*` fields). v4+ is the batched broker-to-broker form (KIP-890) and is not offered.
 *
 * Partitions join the producer's transaction (broker/txn/coordinator.ts addPartitions). Every partition
 * gets the same code, except that when some partitions do not exist those get UNKNOWN_TOPIC_OR_PARTITION
 * and the others OPERATION_NOT_ATTEMPTED. Below v2 PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH
 * (KIP-588).
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
import { registerHandler } from './registry.js';

export function fencedFor(code: number, version: number, sinceVersion = 2): number {
  return code === ErrorCode.PRODUCER_FENCED && version < sinceVersion ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
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
    const codes = await transactions.addPartitions(
      req.v3AndBelowTransactionalId,
      Number(req.v3AndBelowProducerId),
      req.v3AndBelowProducerEpoch,
      flat,
    );
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
