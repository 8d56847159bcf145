/**
 * LogFlusher: the durability side of one PartitionLog (flush policy, group commit, recovery point).
 *
 * Owns the recovery point: every offset below it is fsynced, together with the directory entries of
 * the segments holding it. A flush (one Coalescer run = one group commit) captures the log end offset
 * E, fdatasyncs the log of every segment that may hold data at or above the recovery point (plus a
 * full flush, indexes included, of segments rolled since and of segments whose index files may still
 * hold entries cut by a truncation), fsyncs the partition directory if entries
 * were created/renamed/removed since the last one, and then advances the recovery point to E.
 * Concurrent requests share runs: requests made while a run is in flight wait for the next run.
 *
 * Policy (Kafka's flush.messages / flush.ms): `afterAppend(leo)` returns true when
 * leo - max(recoveryPoint, last requested flush) >= flush.messages, i.e. the caller must await
 * `request()` before acknowledging; otherwise it arms a flush.ms timer on the injected clock.
 *
 * An optional `onFlush(seconds)` observer sees the duration of every flush run (the fsync latency metric).
 */

import type { Logger } from 'pino';
import type { Clock, TimerHandle } from './clock.js';
import type { FileSystem } from './fs.js';
import { Coalescer } from './coalescer.js';
import { LONG_MAX } from './log-config.js';
import type { LogSegment } from './segment.js';
import type { SegmentSet } from './segment-set.js';

export class LogFlusher {
  private _recoveryPoint: number;
  private requestedUpTo = 0;
  private dirDirty = false;
  private timer: TimerHandle | undefined;
  private readonly rolled = new Set<LogSegment>();
  private readonly syncer: Coalescer;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly segments: SegmentSet,
    private readonly clock: Clock,
    private readonly logger: Logger | undefined,
    recoveryPoint: number,
    /** Called after each flush run with its wall-clock duration in seconds (metrics; never the injected clock). */
    private readonly onFlush?: (seconds: number) => void,
  ) {
    this._recoveryPoint = recoveryPoint;
    this.syncer = new Coalescer(() => this.run());
  }

  get recoveryPoint(): number {
    return this._recoveryPoint;
  }

  /** Completed flush runs (group commits). */
  get runs(): number {
    return this.syncer.runs;
  }

  /** Flush everything appended so far; resolves after a run that started after this call. */
  request(): Promise<void> {
    return this.syncer.request();
  }

  /** Start a flush without waiting for it (errors are logged). */
  requestInBackground(why: string): void {
    this.syncer.request().catch((err: unknown) => this.logger?.error({ err, dir: this.dir }, `${why} flush failed`));
  }

  /** After an append reaching `leo`: true if the appender must await a flush. */
  afterAppend(leo: number, flushMessages: number, flushMs: number): boolean {
    if (leo - Math.max(this._recoveryPoint, this.requestedUpTo) >= flushMessages) {
      this.requestedUpTo = leo;
      return true;
    }
    if (flushMs < LONG_MAX && this.timer === undefined) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.requestInBackground('flush.ms');
      }, flushMs);
    }
    return false;
  }

  /** A directory entry was created, renamed or removed. */
  markDirDirty(): void {
    this.dirDirty = true;
  }

  /** `seg` stopped being active: its indexes need one full flush. */
  markRolled(seg: LogSegment): void {
    this.rolled.add(seg);
    this.dirDirty = true;
  }

  /** `seg` left the log. */
  forget(seg: LogSegment): void {
    this.rolled.delete(seg);
    this.dirDirty = true;
  }

  /** The log was truncated to `leo`. */
  truncatedTo(leo: number): void {
    if (this._recoveryPoint > leo) this._recoveryPoint = leo;
    if (this.requestedUpTo > leo) this.requestedUpTo = leo;
  }

  /** Stop the timer and wait for in-flight runs. */
  async stop(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.syncer.idle();
  }

  /** Final flush on close: everything, indexes included; the recovery point becomes the log end. */
  async flushAllForClose(): Promise<void> {
    const active = this.segments.last();
    for (const seg of this.segments) {
      if (seg !== active) seg.seal();
    }
    await this.run();
    for (const seg of this.segments) await seg.flush(true);
    this._recoveryPoint = this.segments.last()?.nextOffset ?? this._recoveryPoint;
  }

  private async run(): Promise<void> {
    if (!this.onFlush) return this.runOnce();
    const t0 = performance.now();
    await this.runOnce();
    try {
      this.onFlush((performance.now() - t0) / 1000);
    } catch {
      // an observer never breaks a flush
    }
  }

  private async runOnce(): Promise<void> {
    const active = this.segments.last();
    const target = active?.nextOffset ?? 0;
    const todo = new Set([...this.rolled, ...this.segments.from(this._recoveryPoint)]);
    for (const seg of todo) {
      try {
        await seg.flush(seg !== active || seg.indexesStale);
        if (seg !== active) this.rolled.delete(seg);
      } catch (err) {
        if (this.segments.values().includes(seg)) throw err;
        this.rolled.delete(seg); // deleted meanwhile: nothing to flush
      }
    }
    if (this.dirDirty) {
      this.dirDirty = false;
      try {
        await this.fs.syncDir(this.dir);
      } catch (err) {
        this.dirDirty = true;
        throw err;
      }
    }
    const leo = this.segments.last()?.nextOffset ?? 0;
    if (target > this._recoveryPoint && target <= leo) this._recoveryPoint = target;
  }
}
