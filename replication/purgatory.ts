/**
 * Purgatory: requests that wait for something to happen on their partitions, as Kafka's delayed
 * operations do.
 *
 * - Delayed fetch: a long-polling Fetch waits on the partitions it reads until one of them sees an append
 *   or a high-watermark move (`checkAndComplete`), or its deadline passes; then it reads again. A waiter
 *   fires at most once and leaves every partition it watched.
 * - Delayed produce (acks=all): waits until the high watermark of every partition it wrote passes the
 *   end of its batch. Each entry's `check` answers an error code (NONE = satisfied, another code = failed
 *   for good) or undefined (keep waiting); it runs at once, on every `checkAndComplete` of the entry's
 *   partition, and at the deadline, where an entry still waiting gets REQUEST_TIMED_OUT.
 * - `wakeAll` (shutdown) releases every fetch and settles every produce (still waiting: REQUEST_TIMED_OUT),
 *   so in-flight requests answer at once.
 *
 * Deadlines: one DeadlineQueue (deadline-queue.ts) with one clock timer for every waiting operation, not a timer
 * each; operations expiring together complete a slice at a time, with the event loop's I/O between the slices.
 * Time comes from the injected clock.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { Clock } from '../storage/clock.js';
import { DeadlineQueue, type Deadline } from './deadline-queue.js';

/** One partition a delayed produce waits on. */
export interface ProduceWait {
  topic: string;
  partition: number;
  /** NONE once the entry is done, another Kafka error code if it failed, undefined while it must wait. */
  check(): number | undefined;
}

interface Operation {
  /** Re-check after something happened on `key`; true when the operation is complete. */
  tryComplete(key: string): boolean;
  /** Complete now (deadline or shutdown). */
  force(): void;
  readonly keys: string[];
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class Purgatory {
  private readonly watchers = new Map<string, Set<Operation>>();
  private fetches = 0;
  private produces = 0;
  private readonly deadlines: DeadlineQueue;

  constructor(clock: Clock) {
    this.deadlines = new DeadlineQueue(clock);
  }

  /** Fetches currently waiting (metrics). */
  get waitingFetches(): number {
    return this.fetches;
  }

  /** Produces currently waiting for their acks (metrics). */
  get waitingProduces(): number {
    return this.produces;
  }

  /** Resolves on the first append or high-watermark move on any of the partitions, or after timeoutMs. */
  delayFetch(partitions: Iterable<[string, number]>, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const keys = [...partitions].map(([t, p]) => keyOf(t, p));
      let deadline: Deadline | undefined;
      let done = false;
      const op: Operation = {
        keys,
        tryComplete: () => {
          op.force();
          return true;
        },
        force: () => {
          if (done) return;
          done = true;
          if (deadline) this.deadlines.cancel(deadline);
          this.unwatch(op);
          this.fetches--;
          resolve();
        },
      };
      this.fetches++;
      this.watch(op);
      deadline = this.deadlines.add(timeoutMs, () => op.force());
    });
  }

  /**
   * Resolves with one error code per entry (in order) once every entry's check is settled; entries still
   * waiting after timeoutMs get REQUEST_TIMED_OUT.
   */
  delayProduce(entries: ProduceWait[], timeoutMs: number): Promise<number[]> {
    const codes: (number | undefined)[] = entries.map((e) => e.check());
    if (codes.every((c) => c !== undefined)) return Promise.resolve(codes as number[]);
    return new Promise((resolve) => {
      let deadline: Deadline | undefined;
      let done = false;
      const finish = (): void => {
        done = true;
        if (deadline) this.deadlines.cancel(deadline);
        this.unwatch(op);
        this.produces--;
        resolve(codes.map((c) => c ?? ErrorCode.REQUEST_TIMED_OUT));
      };
      const op: Operation = {
        keys: [...new Set(entries.map((e) => keyOf(e.topic, e.partition)))],
        tryComplete: (key) => {
          if (done) return true;
          entries.forEach((e, i) => {
            if (codes[i] === undefined && keyOf(e.topic, e.partition) === key) codes[i] = e.check();
          });
          if (codes.some((c) => c === undefined)) return false;
          finish();
          return true;
        },
        force: () => {
          if (done) return;
          entries.forEach((e, i) => {
            if (codes[i] === undefined) codes[i] = e.check();
          });
          finish();
        },
      };
      this.produces++;
      this.watch(op);
      deadline = this.deadlines.add(timeoutMs, () => op.force());
    });
  }

  /** Something happened on the partition (append, high-watermark move): complete what waits on it. */
  checkAndComplete(topic: string, partition: number): void {
    if (this.watchers.size === 0) return; // nothing waits (the common case of a produce): no key to build
    const key = keyOf(topic, partition);
    const set = this.watchers.get(key);
    if (!set) return;
    for (const op of [...set]) op.tryComplete(key);
  }

  /** Shutdown: every fetch answers now, every produce settles with what it has. */
  wakeAll(): void {
    const all = new Set<Operation>();
    for (const set of this.watchers.values()) for (const op of set) all.add(op);
    for (const op of all) op.force();
  }

  private watch(op: Operation): void {
    for (const k of op.keys) {
      const set = this.watchers.get(k) ?? new Set<Operation>();
      this.watchers.set(k, set);
      set.add(op);
    }
  }

  private unwatch(op: Operation): void {
    for (const k of op.keys) {
      const set = this.watchers.get(k);
      if (!set) continue;
      set.delete(op);
      if (set.size === 0) this.watchers.delete(k);
    }
  }
}
