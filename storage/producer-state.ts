/**
 * Per-partition producer state (Kafka's ProducerStateManager): for every producer id seen on the
 * partition, its epoch, the metadata of its last five data batches (first/last sequence, first/last
 * offset, max timestamp), the coordinator epoch of its last transaction marker and the first offset
 * of its ongoing transaction, if any. PartitionLog owns one and consults it inside its append queue,
 * so checks and offset assignment are atomic. Offsets and producer ids are JS numbers.
 *
 * Rules for a data batch with producerId >= 0 (origin 'client'; Kafka's ProducerAppendInfo):
 * - exact duplicate (same epoch, same first and last sequence as one of the last five batches): the
 *   append is answered with the original offsets and nothing is written;
 * - epoch older than the producer's → InvalidProducerEpochError (INVALID_PRODUCER_EPOCH, what Kafka
 *   2.7+ answers on produce);
 * - a new epoch must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER;
 * - same epoch: first sequence must be last sequence + 1 (wrapping from Int32 max to 0), else
 *   OUT_OF_ORDER_SEQUENCE_NUMBER;
 * - a producer with no state (never seen, expired, or its data deleted) is accepted at any sequence,
 *   as Kafka 2.5+ does (KIP-360: the broker no longer answers UNKNOWN_PRODUCER_ID; only KIP-890 part 2
 *   verification, not offered here, insists on sequence 0);
 * - a batch without a sequence (-1) from a client → INVALID_RECORD (Kafka's LogValidator);
 * - a non-transactional batch while the producer has a transaction open → INVALID_TXN_STATE;
 *   a transactional batch with none open starts one at its first offset.
 * Origin 'coordinator' (group/transaction coordinators writing their own batches) checks only the
 * epoch; 'replay' (recovery) checks nothing.
 *
 * Transaction markers: a marker with an epoch older than the producer's is refused with
 * INVALID_PRODUCER_EPOCH, one with an older coordinator epoch with TRANSACTION_COORDINATOR_FENCED. A
 * marker ends the producer's ongoing transaction (if any) and yields a CompletedTxn; a new epoch in a
 * marker clears the batch metadata (as Kafka's maybeUpdateProducerEpoch).
 *
 * Staging: checks of one write group run against a `ProducerStage` (an overlay of copied entries);
 * `commit(stage)` applies it after the write succeeded, so a failed write leaves no trace. A stage
 * may have a parent stage (one append inside a group: all its batches pass or none do).
 *
 * Last stable offset: min(first offsets of ongoing transactions, first offsets of completed
 * transactions whose marker is not yet below the high watermark, high watermark).
 */

import { RunnelError } from '../protocol/errors.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';

export const MAX_BATCHES_PER_PRODUCER = 5;
const INT32_MAX = 0x7fffffff;

export class ProducerStateError extends RunnelError {
  constructor(kafkaCode: number, message: string) {
    super('ERR_PRODUCER_STATE', message, kafkaCode);
  }
}
export class OutOfOrderSequenceError extends ProducerStateError {
  constructor(message: string) {
    super(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message);
  }
}
export class InvalidProducerEpochError extends ProducerStateError {
  constructor(message: string) {
    super(ErrorCode.INVALID_PRODUCER_EPOCH, message);
  }
}

export interface BatchMeta {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  /** -1: no epoch known. */
  epoch: number;
  /** The last (at most five) data batches, oldest first. */
  batches: BatchMeta[];
  /** Coordinator epoch of the last marker, -1 if none. */
  coordinatorEpoch: number;
  /** First offset of the ongoing transaction on this partition, -1 if none. */
  txnFirstOffset: number;
  /** Max timestamp of the last batch or marker (Kafka's lastTimestamp; producer expiry uses it). */
  lastTimestamp: number;
}

/** What the state needs to know about one data batch (read from its header). */
export interface DataBatchInfo {
  producerId: number;
  epoch: number;
  baseSeq: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
  transactional: boolean;
}

export interface MarkerInfo {
  producerId: number;
  epoch: number;
  coordinatorEpoch: number;
  commit: boolean;
  timestamp: number;
}

export interface CompletedTxn {
  producerId: number;
  firstOffset: number;
  /** Offset of the marker. */
  lastOffset: number;
  aborted: boolean;
}

export type AppendOrigin = 'client' | 'coordinator' | 'replay';

export function lastSequenceOf(baseSeq: number, lastOffsetDelta: number): number {
  return baseSeq > INT32_MAX - lastOffsetDelta
    ? lastOffsetDelta - (INT32_MAX - baseSeq) - 1
    : baseSeq + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export function emptyEntry(producerId: number): ProducerEntry {
  return { producerId, epoch: -1, batches: [], coordinatorEpoch: -1, txnFirstOffset: -1, lastTimestamp: -1 };
}

function copyEntry(e: ProducerEntry): ProducerEntry {
  return { ...e, batches: e.batches.slice() };
}

interface StateSource {
  lookup(producerId: number): ProducerEntry | undefined;
}

/** Pending changes of one write group or one append (see the header). */
export class ProducerStage implements StateSource {
  readonly entries = new Map<number, ProducerEntry>();
  readonly completed: CompletedTxn[] = [];
  constructor(private readonly parent: StateSource) {}

  lookup(producerId: number): ProducerEntry | undefined {
    return this.entries.get(producerId) ?? this.parent.lookup(producerId);
  }
  get isEmpty(): boolean {
    return this.entries.size === 0;
  }
  /** A writable copy of the producer's entry in this stage. */
  private own(producerId: number): ProducerEntry {
    let e = this.entries.get(producerId);
    if (!e) {
      const base = this.parent.lookup(producerId);
      e = base ? copyEntry(base) : emptyEntry(producerId);
      this.entries.set(producerId, e);
    }
    return e;
  }

  /**
   * Check one data batch that would take offsets [firstOffset, firstOffset + lastOffsetDelta] and record
   * it. Returns the original batch if this one is an exact duplicate (nothing is recorded then).
   * Throws ProducerStateError subclasses.
   */
  addData(b: DataBatchInfo, firstOffset: number, origin: AppendOrigin): BatchMeta | undefined {
    const cur = this.lookup(b.producerId);
    const lastSeq = b.baseSeq < 0 ? -1 : lastSequenceOf(b.baseSeq, b.lastOffsetDelta);
    if (origin === 'client' && cur && cur.epoch === b.epoch && b.baseSeq >= 0) {
      const dup = cur.batches.find((m) => m.firstSeq === b.baseSeq && m.lastSeq === lastSeq);
      if (dup) return dup;
    }
    const where = `producer ${b.producerId} at offset ${firstOffset}`;
    if (origin !== 'replay') {
      if (cur && b.epoch < cur.epoch) {
        throw new InvalidProducerEpochError(
          `epoch ${b.epoch} of ${where} is older than the last seen epoch ${cur.epoch}`,
        );
      }
      if (origin === 'client') this.checkSequence(cur, b, where);
    }
    const e = this.own(b.producerId);
    if (b.epoch !== e.epoch) {
      e.epoch = b.epoch;
      e.batches = [];
    }
    if (e.txnFirstOffset >= 0 && !b.transactional && origin !== 'replay') {
      throw new ProducerStateError(
        ErrorCode.INVALID_TXN_STATE,
        `non-transactional batch from ${where} while its transaction from offset ${e.txnFirstOffset} is open`,
      );
    }
    if (b.transactional && e.txnFirstOffset < 0) e.txnFirstOffset = firstOffset;
    if (b.baseSeq >= 0) {
      e.batches.push({
        firstSeq: b.baseSeq,
        lastSeq,
        firstOffset,
        lastOffset: firstOffset + b.lastOffsetDelta,
        timestamp: b.maxTimestamp,
      });
      if (e.batches.length > MAX_BATCHES_PER_PRODUCER) e.batches.shift();
    }
    e.lastTimestamp = b.maxTimestamp;
    return undefined;
  }

  private checkSequence(cur: ProducerEntry | undefined, b: DataBatchInfo, where: string): void {
    if (b.baseSeq < 0)
      throw new ProducerStateError(ErrorCode.INVALID_RECORD, `batch from ${where} has no sequence number`);
    if (!cur || cur.epoch === -1) return; // no state: any sequence (KIP-360)
    if (b.epoch !== cur.epoch) {
      if (b.baseSeq !== 0)
        throw new OutOfOrderSequenceError(`new epoch ${b.epoch} of ${where} starts at sequence ${b.baseSeq}, not 0`);
      return;
    }
    const last = cur.batches[cur.batches.length - 1];
    // Same epoch but no batch metadata (e.g. only markers so far): any sequence, as Kafka.
    if (last && !inSequence(last.lastSeq, b.baseSeq)) {
      throw new OutOfOrderSequenceError(
        `out of order sequence ${b.baseSeq} from ${where}; ` +
          `expected ${last.lastSeq === INT32_MAX ? 0 : last.lastSeq + 1}`,
      );
    }
  }

  /** Check and record a COMMIT/ABORT marker written at `offset`; returns the transaction it ends, if any. */
  addMarker(m: MarkerInfo, offset: number, origin: AppendOrigin): CompletedTxn | undefined {
    const cur = this.lookup(m.producerId);
    if (origin !== 'replay' && cur) {
      if (m.epoch < cur.epoch) {
        throw new InvalidProducerEpochError(
          `marker epoch ${m.epoch} of producer ${m.producerId} is older than the last seen epoch ${cur.epoch}`,
        );
      }
      if (m.coordinatorEpoch < cur.coordinatorEpoch) {
        throw new ProducerStateError(
          ErrorCode.TRANSACTION_COORDINATOR_FENCED,
          `marker coordinator epoch ${m.coordinatorEpoch} of producer ${m.producerId} ` +
            `is older than ${cur.coordinatorEpoch}`,
        );
      }
    }
    const e = this.own(m.producerId);
    if (m.epoch !== e.epoch) {
      e.epoch = m.epoch;
      e.batches = [];
    }
    e.coordinatorEpoch = m.coordinatorEpoch;
    e.lastTimestamp = m.timestamp;
    if (e.txnFirstOffset < 0) return undefined;
    const done: CompletedTxn = {
      producerId: m.producerId,
      firstOffset: e.txnFirstOffset,
      lastOffset: offset,
      aborted: !m.commit,
    };
    e.txnFirstOffset = -1;
    this.completed.push(done);
    return done;
  }

  /** Move this stage's changes into its parent stage. */
  mergeInto(parent: ProducerStage): void {
    for (const [id, e] of this.entries) parent.entries.set(id, e);
    parent.completed.push(...this.completed);
  }
}

export class ProducerStateManager implements StateSource {
  private readonly entries = new Map<number, ProducerEntry>();
  /** producerId -> first offset of its ongoing transaction. */
  private readonly ongoing = new Map<number, number>();
  /** Completed transactions whose marker is not yet below the high watermark. */
  private unstable: CompletedTxn[] = [];

  lookup(producerId: number): ProducerEntry | undefined {
    return this.entries.get(producerId);
  }
  get size(): number {
    return this.entries.size;
  }
  stage(parent?: ProducerStage): ProducerStage {
    return new ProducerStage(parent ?? this);
  }

  /** Apply a stage whose batches were written. Completed transactions stay unstable until the HW passes them. */
  commit(stage: ProducerStage, trackUnstable = true): void {
    for (const e of stage.entries.values()) this.put(e);
    if (trackUnstable) this.unstable.push(...stage.completed);
  }

  private put(e: ProducerEntry): void {
    this.entries.set(e.producerId, e);
    if (e.txnFirstOffset >= 0) this.ongoing.set(e.producerId, e.txnFirstOffset);
    else this.ongoing.delete(e.producerId);
  }

  /** First offset of an undecided transaction (ongoing, or decided above `highWatermark`), or Infinity. */
  firstUnstableOffset(highWatermark: number): number {
    if (this.unstable.length > 0) this.unstable = this.unstable.filter((t) => t.lastOffset >= highWatermark);
    let min = Infinity;
    for (const o of this.ongoing.values()) if (o < min) min = o;
    for (const t of this.unstable) if (t.firstOffset < min) min = t.firstOffset;
    return min;
  }

  /**
   * Kafka's lastStableOffset(completedTxn), stored in the txn index entry of an aborted transaction: the first
   * offset of another producer's ongoing transaction, else the marker's offset + 1. Transactions already
   * decided (markers written, even if not yet below the high watermark) do not count, as in Kafka: a
   * read_committed lookup stops at the first entry whose value reaches its upper bound, so a value lower
   * than this only makes lookups walk further.
   */
  stableOffsetAfter(txn: CompletedTxn): number {
    let min = Infinity;
    for (const [id, o] of this.ongoing) if (id !== txn.producerId && o < min) min = o;
    return Number.isFinite(min) ? min : txn.lastOffset + 1;
  }

  /** Remove producers idle for at least expirationMs (by their last batch timestamp) with no open transaction. */
  removeExpired(now: number, expirationMs: number): number {
    let n = 0;
    for (const [id, e] of this.entries) {
      if (e.txnFirstOffset < 0 && now - e.lastTimestamp >= expirationMs) {
        this.entries.delete(id);
        n++;
      }
    }
    return n;
  }

  /** Entries for snapshots and DescribeProducers. */
  all(): ProducerEntry[] {
    return [...this.entries.values()];
  }

  /** Replace everything with `entries` (snapshot load). */
  reset(entries: readonly ProducerEntry[] = []): void {
    this.entries.clear();
    this.ongoing.clear();
    this.unstable = [];
    for (const e of entries) this.put(copyEntry(e));
  }
}
