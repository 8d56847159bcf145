/**
 * Read-side queries over producer state and transaction indexes (used by PartitionLog).
 *
 * Aborted transactions for a fetch (Kafka's collectAbortedTransactions): every aborted transaction
 * whose range overlaps [fetchOffset, upperBound) has its ABORT marker at an offset >= fetchOffset,
 * and a segment's `.txnindex` only holds entries whose marker lies in that segment (appended by the
 * write or replay of the marker into it, cut by truncation), so it is indexed in the segment holding
 * fetchOffset or a later one. The scan therefore starts at the last segment whose base offset is <=
 * fetchOffset (binary search; segments are ordered by base offset and each ends at or before the next
 * one's base, so every earlier segment ends at or before fetchOffset and the old full scan skipped it
 * anyway), and goes on in order until an entry's lastStableOffset reaches upperBound (nothing later
 * can overlap) or the segments run out.
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

/** Index of the last segment (ordered by base offset) whose base offset is <= offset, or 0 if none is. */
function startIndex(segments: readonly LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let ans = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid]!.baseOffset <= offset) {
      ans = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return ans;
}

/** Aborted transactions overlapping [fetchOffset, upperBound), in marker order; `segments` ordered by base offset. */
export function abortedTransactionsIn(
  segments: readonly LogSegment[],
  fetchOffset: number,
  upperBound: number,
): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (let i = startIndex(segments, fetchOffset); i < segments.length; i++) {
    const seg = segments[i]!;
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
