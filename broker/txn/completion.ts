/**
 * The second phase of a transaction, once PrepareCommit / PrepareAbort is durable in `__transaction_state`
 * (Kafka's TransactionMarkerChannelManager side of the coordinator): a COMMIT/ABORT marker to every partition
 * of the transaction, then the transactional offsets are materialized or dropped, then CompleteCommit /
 * CompleteAbort is written. It runs in the background: EndTxn has answered already.
 *
 * - At most one completion per transactional id at a time (`has(id)`: the coordinator answers
 *   CONCURRENT_TRANSACTIONS meanwhile, as Kafka does while its pending state is Complete*).
 * - Markers are retried by the writer (markers.ts) until they are done; a marker write that fails for good
 *   makes the whole completion retried after MARKER_RETRY_MS (a marker appended twice is harmless: the second
 *   ends no transaction).
 * - Each write carries the AbortSignal of the id's `__transaction_state` partition: when this node loses that
 *   partition (`abortPartition`) the retries stop, and nothing more is written for its transactions (`isCurrent`
 *   turns false); the partition's new coordinator completes them when it loads them.
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../../storage/clock.js';
import type { Logger } from '../logger.js';
import { splitPartitionKey, type TxnMetadata } from './state.js';

export interface TxnMarker {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
}

export interface TxnCompletionDeps {
  clock: Clock;
  /** Append a marker to one partition; rejects when `signal` fires (or for good, for other errors). */
  writeMarker(topic: string, partition: number, m: TxnMarker, signal?: AbortSignal): Promise<void>;
  /** Called after the markers of a transaction were written (transactional offsets become visible). */
  onMarkersWritten?(producerId: number, commit: boolean): unknown;
  /** Write CompleteCommit / CompleteAbort for `md`: NONE or the error code. */
  writeComplete(md: TxnMetadata, commit: boolean): Promise<number>;
  /** Whether `md` is still the coordinated state of its id (not unloaded, the coordinator not stopped). */
  isCurrent(md: TxnMetadata): boolean;
  /** The coordinator epoch of an id (the leader epoch of its `__transaction_state` partition). */
  coordinatorEpoch(transactionalId: string): number;
  /** The `__transaction_state` partition of an id (undefined: no partitions, as in unit tests). */
  partitionOf(transactionalId: string): number | undefined;
  log?: Logger;
}

/** Wait before a failed completion is tried again. */
export const MARKER_RETRY_MS = 500;

interface Running {
  md: TxnMetadata;
  run: Promise<void>;
}

export class TxnCompletions {
  private readonly running = new Map<string, Running>();
  /** One AbortController per `__transaction_state` partition with completions in flight. */
  private readonly signals = new Map<number, AbortController>();
  private stopped = false;

  constructor(private readonly deps: TxnCompletionDeps) {}

  /** Whether a completion of `transactionalId` is in flight. */
  has(transactionalId: string): boolean {
    return this.running.has(transactionalId);
  }

  /**
   * Complete the Prepare* transaction `md`. Resolves when done, or after a failure once a retry is scheduled,
   * or once abandoned (partition lost, stopped); never rejects.
   */
  complete(md: TxnMetadata): Promise<void> {
    const id = md.transactionalId;
    const cur = this.running.get(id);
    if (cur?.md === md) return cur.run;
    // The previous state of this id (unloaded, then loaded again) is still finishing: this one follows it.
    if (cur) return cur.run.then(() => this.complete(md));
    const entry: Running = { md, run: Promise.resolve() };
    entry.run = this.run(md)
      .catch((err: unknown) =>
        this.deps.log?.warn({ transactionalId: id, err: (err as Error).message }, 'completing transaction failed'),
      )
      .finally(() => {
        if (this.running.get(id) === entry) this.running.delete(id);
      });
    this.running.set(id, entry);
    return entry.run;
  }

  /** This node lost `partition` of `__transaction_state`: the marker retries of its transactions stop. */
  abortPartition(partition: number): void {
    const c = this.signals.get(partition);
    if (!c) return;
    this.signals.delete(partition);
    c.abort();
  }

  stop(): void {
    this.stopped = true;
    for (const p of [...this.signals.keys()]) this.abortPartition(p);
  }

  /** Wait for the completions in flight (tests, shutdown). */
  async idle(): Promise<void> {
    for (let i = 0; i < 10_000 && this.running.size > 0; i++)
      await Promise.all([...this.running.values()].map((r) => r.run));
  }

  private signalFor(transactionalId: string): AbortSignal | undefined {
    const p = this.deps.partitionOf(transactionalId);
    if (p === undefined) return undefined;
    let c = this.signals.get(p);
    if (!c) {
      c = new AbortController();
      // Every marker write in flight of the partition's transactions listens to it (0: no warning threshold).
      setMaxListeners(0, c.signal);
      this.signals.set(p, c);
    }
    return c.signal;
  }

  private async run(md: TxnMetadata): Promise<void> {
    const commit = md.state === 'PrepareCommit';
    if (!commit && md.state !== 'PrepareAbort') return;
    if (this.stopped || !this.deps.isCurrent(md)) return;
    const id = md.transactionalId;
    const marker: TxnMarker = {
      producerId: md.producerId,
      producerEpoch: md.producerEpoch,
      coordinatorEpoch: this.deps.coordinatorEpoch(id),
      commit,
    };
    const signal = this.signalFor(id);
    try {
      await Promise.all(
        [...md.partitions].map((k) => {
          const { topic, partition } = splitPartitionKey(k);
          return this.deps.writeMarker(topic, partition, marker, signal);
        }),
      );
    } catch (err) {
      if (signal?.aborted || this.stopped || !this.deps.isCurrent(md)) {
        this.deps.log?.info({ transactionalId: id }, 'transaction markers abandoned: no longer the coordinator');
        return;
      }
      this.deps.log?.warn(
        { transactionalId: id, err: (err as Error).message },
        'writing transaction markers failed; retrying',
      );
      this.retryLater(md);
      return;
    }
    try {
      await this.deps.onMarkersWritten?.(md.producerId, commit);
    } catch (err) {
      this.deps.log?.warn(
        { transactionalId: id, err: (err as Error).message },
        'completing transactional offsets failed',
      );
    }
    if (!this.deps.isCurrent(md)) return;
    if (await this.deps.writeComplete(md, commit)) this.retryLater(md);
  }

  private retryLater(md: TxnMetadata): void {
    if (this.stopped) return;
    this.deps.clock.setTimeout(() => {
      // Not if the id's partition was unloaded meanwhile: its new coordinator completes it.
      if (!this.stopped && this.deps.isCurrent(md)) void this.complete(md);
    }, MARKER_RETRY_MS);
  }
}
