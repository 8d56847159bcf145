/**
 * Coalescer: run an async task on demand, merging concurrent demands (group commit).
 *
 * `request()` resolves after a run of the task that *started after* the request was made. Requests made
 * while a run is in flight all wait for the single next run. So N concurrent requests cost at most two
 * runs, and a run failing rejects exactly the requests it was serving (later requests get a new run).
 * Used for checkpoint writes (LogManager, the HW checkpoint). The log fsync group commit is LogFlusher's own
 * (log-flusher.ts): there a run also serves requests for data written before it began.
 */

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Coalescer {
  private running = false;
  private waiters: Waiter[] = [];
  private idleWaiters: Array<() => void> = [];
  /** Completed runs (successful or not). */
  runs = 0;

  constructor(private readonly task: () => Promise<void>) {}

  get busy(): boolean {
    return this.running;
  }

  request(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  /** Resolves when no run is in flight or pending. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async loop(): Promise<void> {
    this.running = true;
    while (this.waiters.length > 0) {
      const group = this.waiters;
      this.waiters = [];
      try {
        await this.task();
        this.runs++;
        for (const w of group) w.resolve();
      } catch (err) {
        this.runs++;
        for (const w of group) w.reject(err);
      }
    }
    this.running = false;
    const idle = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of idle) r();
  }
}
