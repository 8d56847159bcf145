/**
 * Read-side queries over producer state and transaction indexes (used by PartitionLog).
 *
 * Aborted transactions for a fetch (Kafka's collectAbortedTransactions): every aborted transaction
 * whose range overlaps [fetchOffset, upperBound) has its ABORT marker at an offset >= fetchOffset,
 * so it is indexed in the segment holding fetchOffset or a later one; segments are scanned in order
 * until an entry's lastStableOffset reaches upperBound (nothing later can overlap) or they run out.
 */

import type { LogSegment } from './segment.js';
import type { ProducerEntry } from './producer-state.js';
import type { AbortedTxn } from './txn-index.js';

export interface ActiveProducer {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  currentTxnStartOffset: number;
}

export function abortedTransactionsIn(segments: readonly LogSegment[], fetchOffset: number, upperBound: number): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (const seg of segments) {
    if (seg.nextOffset <= fetchOffset) continue;
    const { aborted, complete } = seg.txnIndex.collect(fetchOffset, upperBound);
    out.push(...aborted);
    if (complete) break;
  }
  return out;
}

/** Whether a data batch of `producerId` covering [base, last] belongs to one of the `aborted` transactions. */
export function inAbortedTxn(aborted: readonly AbortedTxn[], producerId: number, base: number, last: number): boolean {
  return aborted.some((a) => a.producerId === producerId && a.firstOffset <= base && last < a.lastOffset);
}

export function describeProducers(entries: readonly ProducerEntry[]): ActiveProducer[] {
  return entries.map((e) => ({
    producerId: e.producerId,
    producerEpoch: e.epoch,
    lastSequence: e.batches.length ? e.batches[e.batches.length - 1]!.lastSeq : -1,
    lastTimestamp: e.lastTimestamp,
    coordinatorEpoch: e.coordinatorEpoch,
    currentTxnStartOffset: e.txnFirstOffset,
  }));
}
