/**
 * A connection's idle timer (connections.max.idle.ms): `onIdle` runs once `idleMs` have passed since the last
 * `touch()` (a chunk read, a response sent) while `busy()` is false (unsent response bytes: a slow reader of a
 * large response is not idle). One timer per connection, armed for the time left: a touch only stamps the time,
 * where a socket's own setTimeout re-inserts its timer in the timer list on every read and every write (two
 * timer-list operations per request on the hottest path). Real time, unref'd; `stop()` clears it for good.
 */

/** The longest delay a Node timer takes (a longer one would fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class IdleTimer {
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly idleMs: number,
    private readonly busy: () => boolean,
    private readonly onIdle: () => void,
  ) {
    this.arm(idleMs);
  }

  touch(): void {
    this.last = performance.now();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => this.check(), Math.min(Math.max(delay, 1), MAX_TIMER_MS));
    this.timer.unref();
  }

  private check(): void {
    if (this.stopped) return;
    const left = this.last + this.idleMs - performance.now();
    if (left > 0) this.arm(left);
    else if (this.busy()) this.arm(this.idleMs);
    else {
      this.stopped = true;
      this.onIdle();
    }
  }
}
