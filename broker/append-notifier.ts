/**
 * Wakes long-polling fetches when data is appended. Fetch registers a waiter on the partitions it reads;
 * Produce calls `notify(topic, partition)` after an append is visible (high watermark moved). A waiter
 * fires at most once and removes itself from every partition it watched. `wakeAll` (shutdown) releases
 * every waiter so in-flight fetches answer at once.
 */
import type { Clock } from '../storage/clock.js';

export class AppendNotifier {
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(private readonly clock: Clock) {}

  private static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Resolves on the first append to any of the partitions, or after timeoutMs. */
  wait(partitions: Iterable<[string, number]>, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const keys: string[] = [];
      const w: Waiter = {
        fire: () => {
          this.clock.clearTimeout(timer);
          for (const k of keys) {
            const set = this.waiters.get(k);
            if (set) {
              set.delete(w);
              if (set.size === 0) this.waiters.delete(k);
            }
          }
          resolve();
        },
      };
      const timer = this.clock.setTimeout(() => w.fire(), Math.max(0, timeoutMs));
      for (const [t, p] of partitions) {
        const k = AppendNotifier.key(t, p);
        keys.push(k);
        let set = this.waiters.get(k);
        if (!set) {
          set = new Set();
          this.waiters.set(k, set);
        }
        set.add(w);
      }
    });
  }

  notify(topic: string, partition: number): void {
    const set = this.waiters.get(AppendNotifier.key(topic, partition));
    if (!set) return;
    for (const w of [...set]) w.fire();
  }

  wakeAll(): void {
    for (const set of [...this.waiters.values()]) for (const w of [...set]) w.fire();
  }

  /** Number of fetches currently waiting (metrics). */
  get waiting(): number {
    const all = new Set<Waiter>();
    for (const set of this.waiters.values()) for (const w of set) all.add(w);
    return all.size;
  }
}

interface Waiter {
  fire(): void;
}
