/**
 * Injectable time source for the storage layer.
 *
 * Everything in storage/ that depends on wall-clock time (segment.ms rolls, flush.ms, retention checks,
 * delayed file deletion, checkpoint intervals) reads time and arms timers only through a `Clock`, so
 * tests can drive time deterministically with `FakeClock`.
 *
 * Invariants:
 * - `now()` is milliseconds since the epoch (SystemClock) or since the fake origin (FakeClock); it never
 *   goes backwards on a FakeClock.
 * - Timers fire at most once; `clearTimeout` of a fired or cleared timer is a no-op.
 * - SystemClock timers are unref'd: storage housekeeping never keeps the process alive.
 * - FakeClock fires due timers in (due time, creation order) order, and a timer armed by a firing
 *   callback fires in the same `advance` call if it falls due within the advanced window.
 */

/** Opaque timer handle. */
export interface TimerHandle {
  readonly __timer?: never;
}

export interface Clock {
  /** Current time in milliseconds. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Real time, backed by Date.now and global unref'd timers. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 0x7fffffff)));
    t.unref();
    return t as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) clearTimeout(handle as unknown as NodeJS.Timeout);
  }
}

interface FakeTimer extends TimerHandle {
  due: number;
  seq: number;
  fn: () => void;
  active: boolean;
}

/** Manually driven clock for tests: time moves only through `advance`/`set`. */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: FakeTimer = { due: this.time + Math.max(0, ms), seq: this.seq++, fn, active: true };
    this.timers.push(t);
    return t;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const t = handle as FakeTimer;
    t.active = false;
    const i = this.timers.indexOf(t);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Number of armed, unfired timers. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Move time forward by `ms`, firing every timer that falls due (in due order), synchronously. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('FakeClock cannot go backwards');
    const target = this.time + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.timers) {
        if (t.due <= target && (next === undefined || t.due < next.due || (t.due === next.due && t.seq < next.seq)))
          next = t;
      }
      if (next === undefined) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      if (next.due > this.time) this.time = next.due;
      next.active = false;
      next.fn();
    }
    this.time = target;
  }

  /**
   * Advance time, then let promise continuations started by fired timers run (a few macrotask turns),
   * which is what tests usually want when timers kick off async work.
   */
  async advanceAndSettle(ms: number, turns = 20): Promise<void> {
    this.advance(ms);
    for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
  }
}
