/**
 * LogFlusher: the durability side of one PartitionLog (flush policy, group commit, recovery point).
 *
 * Owns the recovery point: every offset below it is fsynced, together with the directory entries of
 * the segments holding it. A flush run (one group commit) captures the log end offset E (only written
 * bytes count: a segment's next offset moves after its write completes), fdatasyncs the log of every
 * segment that may hold data at or above the recovery point (fdatasync flushes the file size too; plus a
 * full flush, indexes included, of segments rolled since and of segments whose index files may still
 * hold entries cut by a truncation; the active segment's indexes are not synced, recovery rebuilds them),
 * fsyncs the partition directory if entries were created/renamed/removed since the last one, and then
 * advances the recovery point to E.
 *
 * Group commit (`request(upTo)`): an append that reached offset upTo - 1 waits for the first run whose E is
 * >= upTo: the run in flight if it captured E after the append was written, else the next one. At most one
 * run is in flight per log; every request made meanwhile joins the single next run, which starts as soon as
 * the one in flight ends, so N appends arriving during one fdatasync cost one more fdatasync, not N. Each
 * partition has its own LogFlusher: one partition's fdatasync never waits for another's. A run failing
 * rejects exactly the requests it was serving; later requests get a new run. `request()` without an offset
 * (a roll, flush.ms, PartitionLog.flush) waits for a run that starts after the call.
 *
 * Policy (Kafka's flush.messages / flush.ms): `afterAppend(leo)` returns true when
 * leo - max(recoveryPoint, last requested flush) >= flush.messages, i.e. the caller must await
 * `request(upTo)` before acknowledging; otherwise it arms a flush.ms timer on the injected clock.
 *
 * An optional `onFlush(seconds)` observer sees the duration of every flush run (the fsync latency metric).
 */

import type { Logger } from 'pino';
import type { Clock, TimerHandle } from './clock.js';
import type { FileSystem } from './fs.js';
import { LONG_MAX } from './log-config.js';
import type { LogSegment } from './segment.js';
import type { SegmentSet } from './segment-set.js';

/** A request for a flush: served by a run whose captured log end is >= upTo (undefined: a run started after it). */
interface FlushWaiter {
  upTo: number | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class LogFlusher {
  private _recoveryPoint: number;
  private requestedUpTo = 0;
  private dirDirty = false;
  private timer: TimerHandle | undefined;
  private readonly rolled = new Set<LogSegment>();
  /** True while a run is in flight. */
  private running = false;
  /**
   * What the run in flight covers: the log end offset it captured, lowered by a truncation meanwhile (data
   * written again below its capture after a truncation is not covered).
   */
  private inFlightTarget = -1;
  /** Requests the run in flight serves. */
  private serving: FlushWaiter[] = [];
  /** Requests for the next run. */
  private waiting: FlushWaiter[] = [];
  private idleWaiters: Array<() => void> = [];
  private _runs = 0;

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
  }

  get recoveryPoint(): number {
    return this._recoveryPoint;
  }

  /** Completed flush runs (group commits). */
  get runs(): number {
    return this._runs;
  }

  /**
   * Resolves once every offset below `upTo` (written before this call) is durable: at once if the recovery
   * point is there, with the run in flight if it captured a log end >= upTo, else with the next run. Without
   * `upTo`: flush everything appended so far, resolving after a run that started after this call.
   */
  request(upTo?: number): Promise<void> {
    if (upTo !== undefined && upTo <= this._recoveryPoint) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w = { upTo, resolve, reject };
      if (this.running && upTo !== undefined && upTo <= this.inFlightTarget) {
        this.serving.push(w);
        return;
      }
      this.waiting.push(w);
      if (!this.running) void this.loop();
    });
  }

  /** Start a flush without waiting for it (errors are logged). */
  requestInBackground(why: string): void {
    this.request().catch((err: unknown) => this.logger?.error({ err, dir: this.dir }, `${why} flush failed`));
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
    if (this.inFlightTarget > leo) this.inFlightTarget = leo;
  }

  /** Stop the timer and wait for in-flight runs. */
  async stop(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** Final flush on close: everything, indexes included; the recovery point becomes the log end. */
  async flushAllForClose(): Promise<void> {
    const active = this.segments.last();
    for (const seg of this.segments) {
      if (seg !== active) seg.seal();
    }
    this.inFlightTarget = this.segments.last()?.nextOffset ?? 0;
    await this.run();
    this.inFlightTarget = -1;
    for (const seg of this.segments) await seg.flush(true);
    this._recoveryPoint = this.segments.last()?.nextOffset ?? this._recoveryPoint;
  }

  /** Runs while requests wait; each run serves the requests waiting when it starts and those joining it. */
  private async loop(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      this.serving = this.waiting;
      this.waiting = [];
      this.inFlightTarget = this.segments.last()?.nextOffset ?? 0;
      try {
        await this.run();
        this._runs++;
        for (const w of this.serving) w.resolve();
      } catch (err) {
        this._runs++;
        for (const w of this.serving) w.reject(err);
      }
      this.serving = [];
    }
    this.running = false;
    this.inFlightTarget = -1;
    const idle = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of idle) r();
  }

  /** One flush run up to `inFlightTarget` (the log end offset when it starts, set by the caller). */
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
    const target = this.inFlightTarget;
    if (target > this._recoveryPoint && target <= leo) this._recoveryPoint = target;
  }
}
