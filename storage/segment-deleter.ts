/**
 * Delayed deletion of segments that left a partition log (retention, DeleteRecords, truncation).
 *
 * On disk: a retired segment's three files are renamed at once to `<name>.deleted` (so a crash never
 * resurrects them: the loader removes `*.deleted` files at start-up) and unlinked after
 * file.delete.delay.ms on the injected clock, so that reads already holding the segment can finish.
 * The rename's directory entry becomes durable with the partition's next directory fsync.
 * Delayed unlinks run one segment at a time: retention may retire hundreds of segments at once, and their
 * timers fire together; thousands of concurrent unlinks would fill libuv's thread pool, which appends and
 * fetches of every partition need for their own file I/O.
 */

import type { Logger } from 'pino';
import type { Clock, TimerHandle } from './clock.js';
import type { LogSegment } from './segment.js';

export class SegmentDeleter {
  private readonly pending = new Map<LogSegment, TimerHandle>();
  /** The delayed unlinks, one after another. */
  private unlinks: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Rename `seg` to `.deleted` now; close and unlink it after `delayMs` (immediately if <= 0). */
  async retire(seg: LogSegment, delayMs: number): Promise<void> {
    await seg.renameToDeleted();
    if (delayMs <= 0) {
      await seg.delete();
      return;
    }
    const t = this.clock.setTimeout(() => {
      this.pending.delete(seg);
      this.unlinks = this.unlinks
        .then(() => seg.delete())
        .catch((err: unknown) => this.logger?.warn({ err, path: seg.path }, 'segment delete failed'));
    }, delayMs);
    this.pending.set(seg, t);
  }

  /** Unlink everything still pending now (clean shutdown). */
  async deleteAllNow(): Promise<void> {
    for (const [seg, t] of this.pending) {
      this.clock.clearTimeout(t);
      await seg.delete();
    }
    this.pending.clear();
    await this.unlinks;
  }

  /** Close pending segments without unlinking (their directory is about to be removed). */
  async abandonAll(): Promise<void> {
    for (const [seg, t] of this.pending) {
      this.clock.clearTimeout(t);
      await seg.close().catch(() => undefined);
    }
    this.pending.clear();
    await this.unlinks;
  }
}
