/**
 * The purgatory's expiry (issue #16): the deadlines of every delayed operation in one queue with one clock timer,
 * as Kafka's purgatory keeps its operations in one timing wheel driven by one reaper, instead of a timer each.
 *
 * - Deadlines are whole milliseconds (rounded up); entries with the same deadline share one bucket, the buckets'
 *   deadlines sit in a min-heap, and the one timer is armed for the earliest of them.
 * - An entry fires at most once, never before its deadline by the injected clock (`now() >= deadline`; a timer
 *   that comes back early re-arms for what is left), and never after `cancel`. A cancelled entry stays in its
 *   bucket until that deadline (skipped then); once no entry is live, every bucket and the timer go at once, so
 *   an idle broker keeps no timer.
 * - Fairness: entries that fall due together fire at most SLICE per turn; the rest fire in later turns (`defer`,
 *   setImmediate by default), so the socket reads of the event loop's poll phase run between the slices. Many
 *   idle consumers that long-poll in step (their fetches expire in the same millisecond) then do not hold up
 *   the requests of busy clients for the whole burst of their answers.
 */
import type { Clock, TimerHandle } from '../storage/clock.js';

/** Entries fired per turn at most. */
export const SLICE = 16;

export interface Deadline {
  /** The deadline, in the clock's milliseconds. */
  readonly due: number;
}

interface Entry extends Deadline {
  fire: () => void;
  /** Cancelled or fired. */
  done: boolean;
}

export class DeadlineQueue {
  private readonly buckets = new Map<number, Entry[]>();
  private readonly heap: number[] = [];
  private timer: TimerHandle | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private ready: Entry[] = [];
  private readyHead = 0;
  private deferred = false;
  private live = 0;

  constructor(
    private readonly clock: Clock,
    private readonly defer: (fn: () => void) => void = (fn) => setImmediate(fn),
  ) {}

  /** Entries added and neither fired nor cancelled. */
  get size(): number {
    return this.live;
  }

  /** Run `fire` once `delayMs` have passed, unless cancelled first. */
  add(delayMs: number, fire: () => void): Deadline {
    const due = Math.ceil(this.clock.now() + Math.max(0, delayMs));
    const e: Entry = { due, fire, done: false };
    const bucket = this.buckets.get(due);
    if (bucket) bucket.push(e);
    else {
      this.buckets.set(due, [e]);
      heapPush(this.heap, due);
    }
    this.live++;
    if (due < this.timerDue) this.arm(due);
    return e;
  }

  /** The entry will not fire (a no-op once it fired or was cancelled). */
  cancel(d: Deadline): void {
    const e = d as Entry;
    if (e.done) return;
    e.done = true;
    this.live--;
    if (this.live === 0) this.reset();
  }

  private reset(): void {
    this.buckets.clear();
    this.heap.length = 0;
    this.ready = [];
    this.readyHead = 0;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  private arm(due: number): void {
    this.clock.clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(0, due - this.clock.now()));
  }

  private expire(): void {
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0]! <= now) {
      const due = heapPop(this.heap);
      for (const e of this.buckets.get(due) ?? []) if (!e.done) this.ready.push(e);
      this.buckets.delete(due);
    }
    if (this.heap.length > 0) this.arm(this.heap[0]!);
    this.fireSlice();
  }

  private fireSlice(): void {
    let fired = 0;
    while (this.readyHead < this.ready.length) {
      if (fired === SLICE) {
        if (!this.deferred) {
          this.deferred = true;
          this.defer(() => {
            this.deferred = false;
            this.fireSlice();
          });
        }
        return;
      }
      const e = this.ready[this.readyHead++]!;
      if (e.done) continue;
      e.done = true;
      this.live--;
      fired++;
      e.fire();
    }
    this.ready = [];
    this.readyHead = 0;
    if (this.live === 0) this.reset();
  }
}

function heapPush(h: number[], v: number): void {
  let i = h.length;
  h.push(v);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]! <= v) break;
    h[i] = h[p]!;
    i = p;
  }
  h[i] = v;
}

function heapPop(h: number[]): number {
  const top = h[0]!;
  const last = h.pop()!;
  if (h.length === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const r = l + 1;
    const c = r < h.length && h[r]! < h[l]! ? r : l;
    if (h[c]! >= last) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
  return top;
}
