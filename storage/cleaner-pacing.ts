/**
 * Pacing of the log cleaner. In its worker thread (cleaner-runner.ts) only the IoThrottler applies; a clean run
 * inline (MemoryFileSystem) shares the broker's one event loop with produce and fetch, and is also sliced:
 * - `TimeSlicer`: the cleaner works in slices of at most `sliceMs` of wall time; `pause()` answers undefined
 *   while the slice lasts and otherwise a promise that resolves after one turn of the event loop (setImmediate:
 *   after the pending I/O callbacks, so requests that arrived meanwhile are served first). Wall time is read
 *   from performance.now (slicing is about this process's loop, not the injected storage clock).
 * - `IoThrottler`: Kafka's log.cleaner.io.max.bytes.per.second (kafka.utils.Throttler): the bytes the cleaner
 *   reads and writes are counted; at each check, at most every `checkIntervalMs` on the injected clock, a rate
 *   above the limit sleeps (clock.setTimeout) as long as the bytes should have taken. A limit of
 *   Number.MAX_VALUE or more (the default, as Kafka's Double.MaxValue), or not positive, never throttles.
 */
import type { Clock } from './clock.js';

export class TimeSlicer {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs: number) {}

  /** Undefined while the current slice lasts; else a promise resolved after one turn of the loop. */
  pause(): Promise<void> | undefined {
    if (performance.now() - this.sliceStart < this.sliceMs) return undefined;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.sliceStart = performance.now();
        resolve();
      }),
    );
  }
}

export class IoThrottler {
  private periodStart: number;
  private bytes = 0;

  constructor(
    private readonly clock: Clock,
    private readonly maxBytesPerSecond: number,
    private readonly checkIntervalMs = 300,
  ) {
    this.periodStart = clock.now();
  }

  get enabled(): boolean {
    return this.maxBytesPerSecond > 0 && this.maxBytesPerSecond < Number.MAX_VALUE;
  }

  /** Count `n` bytes of cleaner I/O; resolves once the rate is back under the limit (at once if it is). */
  async maybeThrottle(n: number): Promise<void> {
    if (!this.enabled) return;
    this.bytes += n;
    const elapsed = this.clock.now() - this.periodStart;
    if (elapsed < this.checkIntervalMs) return;
    const rate = (this.bytes * 1000) / Math.max(elapsed, 1);
    if (rate > this.maxBytesPerSecond) {
      const sleepMs = Math.round((this.bytes * 1000) / this.maxBytesPerSecond - elapsed);
      if (sleepMs > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, sleepMs));
    }
    this.periodStart = this.clock.now();
    this.bytes = 0;
  }
}
