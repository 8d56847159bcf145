/**
 * One transactional id's state (Kafka's TransactionMetadata), and the legal transitions between states.
 *
 * States and their log ids (Kafka's): Empty 0, Ongoing 1, PrepareCommit 2, PrepareAbort 3,
 * CompleteCommit 4, CompleteAbort 5, Dead 6, PrepareEpochFence 7.
 *
 * Invariants:
 * - A transition is two-step: `prepare()` checks the move is legal and returns the would-be next value,
 *   sets `pending` (so a concurrent request answers CONCURRENT_TRANSACTIONS), the caller writes it to
 *   `__transaction_state`, and only then `apply()` makes it current (or `abandon()` on a failed write).
 * - PrepareEpochFence is never written: it is the in-memory step between fencing an ongoing
 *   transaction's producer (epoch bump) and writing its PrepareAbort.
 * - `partitions` is non-empty only in Ongoing / PrepareCommit / PrepareAbort.
 */
import type { TxnLogValue } from './records.js';
import { DecodeError, IllegalStateError } from '../../protocol/errors.js';

export type TxnState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort'
  | 'Dead'
  | 'PrepareEpochFence';

const STATES: TxnState[] = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
];

export function stateId(s: TxnState): number {
  return STATES.indexOf(s);
}

export function stateFromId(id: number): TxnState {
  const s = STATES[id];
  if (!s) throw new DecodeError(`unknown transaction state id ${id}`);
  return s;
}

/** Kafka's names in DescribeTransactions / ListTransactions. */
export const STATE_NAMES: Record<TxnState, string> = {
  Empty: 'Empty',
  Ongoing: 'Ongoing',
  PrepareCommit: 'PrepareCommit',
  PrepareAbort: 'PrepareAbort',
  CompleteCommit: 'CompleteCommit',
  CompleteAbort: 'CompleteAbort',
  Dead: 'Dead',
  PrepareEpochFence: 'PrepareEpochFence',
};

/** Legal previous states of each state (Kafka's validPreviousStates). */
const PREVIOUS: Record<TxnState, readonly TxnState[]> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  PrepareAbort: ['Ongoing', 'PrepareEpochFence'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareEpochFence: ['Ongoing'],
};

export function canTransition(from: TxnState, to: TxnState): boolean {
  return PREVIOUS[to].includes(from);
}

/** Highest epoch a producer id may reach before a new producer id is needed (Short.MAX_VALUE - 1). */
export const MAX_EPOCH = 32766;

export const NO_PRODUCER_ID = -1;
export const NO_EPOCH = -1;

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function splitPartitionKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

/** The fields a transition changes. */
export interface TxnSnapshot {
  producerId: number;
  /** The producer id before the last one (for retried InitProducerId after a producer id change). */
  lastProducerId: number;
  producerEpoch: number;
  /** The epoch handed out before the current one (a retried InitProducerId gets the current one back). */
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  /** partitionKey()s of the transaction */
  partitions: Set<string>;
  startTimestamp: number;
  lastUpdateTimestamp: number;
}

export class TxnMetadata implements TxnSnapshot {
  producerId: number;
  lastProducerId = NO_PRODUCER_ID;
  producerEpoch: number;
  lastProducerEpoch = NO_EPOCH;
  timeoutMs: number;
  state: TxnState;
  partitions = new Set<string>();
  startTimestamp = -1;
  lastUpdateTimestamp: number;
  /** The transition being written, if any. */
  pending: TxnSnapshot | undefined;

  constructor(
    readonly transactionalId: string,
    init: { producerId: number; producerEpoch: number; timeoutMs: number; state: TxnState; now: number },
  ) {
    this.producerId = init.producerId;
    this.producerEpoch = init.producerEpoch;
    this.timeoutMs = init.timeoutMs;
    this.state = init.state;
    this.lastUpdateTimestamp = init.now;
  }

  get epochExhausted(): boolean {
    return this.producerEpoch >= MAX_EPOCH;
  }

  snapshot(): TxnSnapshot {
    return {
      producerId: this.producerId,
      lastProducerId: this.lastProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      timeoutMs: this.timeoutMs,
      state: this.state,
      partitions: new Set(this.partitions),
      startTimestamp: this.startTimestamp,
      lastUpdateTimestamp: this.lastUpdateTimestamp,
    };
  }

  /**
   * Start a transition to `to` with `changes` applied; throws if one is in flight or the move is illegal
   * (callers check state first and answer Kafka's error codes; this is the last line of defence).
   */
  prepare(to: TxnState, changes: Partial<TxnSnapshot>, now: number): TxnSnapshot {
    if (this.pending)
      throw new IllegalStateError(
        `transaction ${this.transactionalId}: transition to ${this.pending.state} in progress`,
      );
    if (!canTransition(this.state, to))
      throw new IllegalStateError(`transaction ${this.transactionalId}: illegal transition ${this.state} -> ${to}`);
    const next = { ...this.snapshot(), ...changes, state: to, lastUpdateTimestamp: now };
    if (to === 'Empty' || to === 'CompleteCommit' || to === 'CompleteAbort' || to === 'Dead')
      next.partitions = new Set();
    this.pending = next;
    return next;
  }

  apply(next: TxnSnapshot): void {
    this.producerId = next.producerId;
    this.lastProducerId = next.lastProducerId;
    this.producerEpoch = next.producerEpoch;
    this.lastProducerEpoch = next.lastProducerEpoch;
    this.timeoutMs = next.timeoutMs;
    this.state = next.state;
    this.partitions = next.partitions;
    this.startTimestamp = next.startTimestamp;
    this.lastUpdateTimestamp = next.lastUpdateTimestamp;
    this.pending = undefined;
  }

  abandon(): void {
    this.pending = undefined;
  }

  /** The snapshot as a `__transaction_state` value. */
  static toLogValue(s: TxnSnapshot): TxnLogValue {
    const partitions = new Map<string, number[]>();
    for (const key of s.partitions) {
      const { topic, partition } = splitPartitionKey(key);
      let ids = partitions.get(topic);
      if (!ids) {
        ids = [];
        partitions.set(topic, ids);
      }
      ids.push(partition);
    }
    // PrepareEpochFence is never persisted; Kafka writes the abort that follows it.
    const state = s.state === 'PrepareEpochFence' ? 'PrepareAbort' : s.state;
    return {
      producerId: s.producerId,
      previousProducerId: s.lastProducerId,
      producerEpoch: s.producerEpoch,
      timeoutMs: s.timeoutMs,
      state,
      partitions,
      lastUpdateTimestamp: s.lastUpdateTimestamp,
      startTimestamp: s.startTimestamp,
    };
  }

  /** Rebuild from a replayed `__transaction_state` value. */
  static fromLogValue(transactionalId: string, v: TxnLogValue): TxnMetadata {
    const m = new TxnMetadata(transactionalId, {
      producerId: v.producerId,
      producerEpoch: v.producerEpoch,
      timeoutMs: v.timeoutMs,
      state: v.state,
      now: v.lastUpdateTimestamp,
    });
    m.lastProducerId = v.previousProducerId;
    m.startTimestamp = v.startTimestamp;
    for (const [topic, ids] of v.partitions) for (const p of ids) m.partitions.add(partitionKey(topic, p));
    return m;
  }
}
