/** Raw-protocol helpers for the transaction APIs (handler tests of keys 24, 25, 26, 28, 65, 66). */
import { call } from './test-broker.js';
import type { RawClient } from './raw-client.js';
import type { RunningBroker } from '../../broker/index.js';
import {
  defaultAddPartitionsToTxnRequest,
  encodeAddPartitionsToTxnRequest,
} from '../../protocol/generated/add-partitions-to-txn-request.js';
import { decodeAddPartitionsToTxnResponse } from '../../protocol/generated/add-partitions-to-txn-response.js';
import { encodeAddOffsetsToTxnRequest } from '../../protocol/generated/add-offsets-to-txn-request.js';
import { decodeAddOffsetsToTxnResponse } from '../../protocol/generated/add-offsets-to-txn-response.js';
import { encodeEndTxnRequest } from '../../protocol/generated/end-txn-request.js';
import { decodeEndTxnResponse } from '../../protocol/generated/end-txn-response.js';
import {
  defaultTxnOffsetCommitRequest,
  encodeTxnOffsetCommitRequest,
  type TxnOffsetCommitRequest,
} from '../../protocol/generated/txn-offset-commit-request.js';
import { decodeTxnOffsetCommitResponse } from '../../protocol/generated/txn-offset-commit-response.js';
import { encodeDescribeTransactionsRequest } from '../../protocol/generated/describe-transactions-request.js';
import { decodeDescribeTransactionsResponse } from '../../protocol/generated/describe-transactions-response.js';
import {
  defaultListTransactionsRequest,
  encodeListTransactionsRequest,
  type ListTransactionsRequest,
} from '../../protocol/generated/list-transactions-request.js';
import { decodeListTransactionsResponse } from '../../protocol/generated/list-transactions-response.js';
import { fetchCommitted } from './group-client.js';

export interface Producer {
  id: string;
  pid: bigint;
  epoch: number;
}

/** InitProducerId through the coordinator (independent of the InitProducerId handler). */
export async function initTxn(b: RunningBroker, id: string, timeoutMs = 60_000): Promise<Producer> {
  for (let i = 0; i < 50; i++) {
    const r = await b.broker.transactions.initProducerId({
      transactionalId: id,
      transactionTimeoutMs: timeoutMs,
      producerId: -1,
      producerEpoch: -1,
    });
    if (r.errorCode === 0) return { id, pid: BigInt(r.producerId), epoch: r.producerEpoch };
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`InitProducerId for ${id} kept failing`);
}

export async function addPartitions(
  c: RawClient,
  v: number,
  p: Producer,
  topics: { name: string; partitions: number[] }[],
): Promise<Map<string, number>> {
  const req = {
    ...defaultAddPartitionsToTxnRequest(),
    v3AndBelowTransactionalId: p.id,
    v3AndBelowProducerId: p.pid,
    v3AndBelowProducerEpoch: p.epoch,
    v3AndBelowTopics: topics,
  };
  const res = await call(c, 24, v, encodeAddPartitionsToTxnRequest, decodeAddPartitionsToTxnResponse, req);
  const out = new Map<string, number>();
  for (const t of res.resultsByTopicV3AndBelow)
    for (const r of t.resultsByPartition) out.set(`${t.name}-${r.partitionIndex}`, r.partitionErrorCode);
  return out;
}

export async function addOffsets(c: RawClient, v: number, p: Producer, groupId: string): Promise<number> {
  const res = await call(c, 25, v, encodeAddOffsetsToTxnRequest, decodeAddOffsetsToTxnResponse, {
    transactionalId: p.id,
    producerId: p.pid,
    producerEpoch: p.epoch,
    groupId,
  });
  return res.errorCode;
}

export async function endTxn(c: RawClient, v: number, p: Producer, committed: boolean): Promise<number> {
  const res = await call(c, 26, v, encodeEndTxnRequest, decodeEndTxnResponse, {
    transactionalId: p.id,
    producerId: p.pid,
    producerEpoch: p.epoch,
    committed,
  });
  return res.errorCode;
}

export async function txnCommit(
  c: RawClient,
  v: number,
  p: Producer,
  groupId: string,
  topic: string,
  offsets: [number, number][],
  over: Partial<TxnOffsetCommitRequest> = {},
): Promise<number[]> {
  const req: TxnOffsetCommitRequest = {
    ...defaultTxnOffsetCommitRequest(),
    transactionalId: p.id,
    groupId,
    producerId: p.pid,
    producerEpoch: p.epoch,
    topics: [
      {
        name: topic,
        partitions: offsets.map(([partitionIndex, o]) => ({
          partitionIndex,
          committedOffset: BigInt(o),
          committedLeaderEpoch: -1,
          committedMetadata: 'm',
        })),
      },
    ],
    ...over,
  };
  const res = await call(c, 28, v, encodeTxnOffsetCommitRequest, decodeTxnOffsetCommitResponse, req);
  return res.topics.flatMap((t) => t.partitions.map((x) => x.errorCode));
}

export function describeTxns(c: RawClient, ids: string[]) {
  return call(c, 65, 0, encodeDescribeTransactionsRequest, decodeDescribeTransactionsResponse, {
    transactionalIds: ids,
  });
}

export function listTxns(c: RawClient, v: number, over: Partial<ListTransactionsRequest> = {}) {
  return call(c, 66, v, encodeListTransactionsRequest, decodeListTransactionsResponse, {
    ...defaultListTransactionsRequest(),
    ...over,
  });
}

/** Committed offsets of `groupId` for `topic` (OffsetFetch v1): partition → offset. */
export async function committedOffsets(
  c: RawClient,
  groupId: string,
  topic: string,
  partitions: number[],
): Promise<Map<number, number>> {
  const res = await fetchCommitted(c, 1, { groupId, topics: [{ name: topic, partitionIndexes: partitions }] });
  const out = new Map<number, number>();
  for (const t of res.topics)
    for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, Number(p.committedOffset));
  return out;
}
