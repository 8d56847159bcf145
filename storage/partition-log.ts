/**
 * PartitionLog: the log of one partition, directory `<topic>-<partition>/`.
 *
 * On-disk layout: segments (`<20-digit base>.log/.index/.timeindex[/.txnindex]`, see segment.ts),
 * producer state snapshots `<20-digit offset>.snapshot` (producer-snapshot.ts), `*.deleted` files
 * awaiting deletion, and `leader-epoch-checkpoint`. The recovery point and the log start offset
 * are NOT stored here: the LogManager keeps them in the data directory's
 * `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint` (Kafka's layout) and passes them
 * to `open`. DeleteRecords awaits `deps.persistLogStartOffset` so a moved log start survives a crash;
 * a standalone PartitionLog without that hook keeps it in memory only (on reopen it falls back to the
 * first segment's base offset).
 *
 * Offsets, positions and timestamps are JS numbers (exact to 2^53 - 1).
 *
 * Invariants:
 * - All mutations (append, roll, retention, DeleteRecords, truncation, close) run one at a time on a
 *   promise queue. Reads are not queued: they use the segment list and sizes as they are when they run.
 * - logStartOffset <= highWatermark <= logEndOffset; recoveryPoint <= logEndOffset and every offset
 *   below the recovery point has been fsynced (log data and the directory entries of its segments).
 * - The last segment is the active one; only it receives appends; it is never deleted by retention.
 * - Deleted segments are renamed `*.deleted` at once and unlinked after file.delete.delay.ms, so reads
 *   already holding them finish.
 *
 * Appends: each append's batches are checked structurally, stamped in place (baseOffset,
 * partitionLeaderEpoch) and written with one positional writev. Appends that queue up behind a write
 * in flight are coalesced: the next drain writes all of them with a single writev (split where a roll
 * or a leader epoch change intervenes), so throughput does not hinge on one syscall per request.
 *
 * Durability (log-flusher.ts): when logEndOffset - max(recoveryPoint, last requested flush) >=
 * flush.messages, an append resolves only after an fsync covering it. fsyncs are GROUP COMMITS:
 * appends that arrive while an fsync is in flight share the next one, and writes are not blocked by
 * fsyncs. flush.ms arms a clock timer on the first unflushed append. Rolls start a background flush of
 * the old segment. Fsync failures reject the waiting appends with StorageError; the data stays in the
 * log (it is in the page cache and readable) and the next flush retries. Write failures are rolled back
 * (the log end does not move) and reject exactly the appends of that write.
 *
 * High watermark: with `autoAdvanceHighWatermark` (single node, the default) it follows the log end
 * offset after each append, after the fsync when the flush policy demands one. Replication will set it
 * with `updateHighWatermark` instead.
 *
 * Compaction (log-cleaner.ts): the cleaner reads closed segments without holding the queue and writes
 * its output as `<base>.log.cleaned` (+ indexes); only `replaceSegments` runs on the queue: it checks
 * that the segments it replaces are still in the log (no truncation or deletion raced with the clean),
 * renames the output to `.swap` (dir fsync), retires the old segments (`.deleted`) and renames the
 * output to its final name (dir fsync). The loader completes a `.swap` left by a crash.
 *
 * Producer state (producer-state.ts, owned through partition-producers.ts): batches with a producer id are checked in the append queue
 * (duplicates answered with the original offsets, sequence and epoch errors rejected) against a stage
 * that is committed only when the write succeeds. Transaction markers (appendTxnMarker) go through the
 * same queue; an ABORT is recorded in the active segment's `.txnindex`. Snapshots `<offset>.snapshot`
 * are written at roll (and fsynced txn index first) and close; open loads the newest and replays the
 * log after it (producer-recovery.ts), rebuilding the replayed segments' txn indexes. The last stable
 * offset is min(first offset of undecided transactions, high watermark).
 *
 * TODO(replication): appendAsFollower (no offset assignment, epochs from batches).
 */

import path from 'node:path';
import type { Logger } from 'pino';
import { SystemClock } from './clock.js';
import type { Clock } from './clock.js';
import { NodeFileSystem } from './fs.js';
import type { FileSystem } from './fs.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import { loadLog, segmentConfigOf } from './log-loader.js';
import type { RecoverySummary } from './log-loader.js';
import type { SegmentSet } from './segment-set.js';
import { CLEANED_SUFFIX, LogSegment, SWAP_SUFFIX } from './segment.js';
import type { SegmentDeps } from './segment.js';
import { LogFlusher } from './log-flusher.js';
import { scanAppend, stampAppend } from './batch-scan.js';
import type { RecordLocation } from './batch-scan.js';
import { CorruptRecordError, StorageError } from '../protocol/errors.js';
import { NONE, OFFSET_OUT_OF_RANGE, LATEST_TIMESTAMP, EARLIEST_TIMESTAMP, MAX_TIMESTAMP, parseTopicPartition } from './partition-log-types.js';
import type { AppendOptions, AppendResult, DeleteRecordsResult, PartitionLogDeps, ReadOptions, ReadResult } from './partition-log-types.js';
import { SegmentDeleter } from './segment-deleter.js';
import { selectDeletableSegments } from './retention.js';
import type { MarkerInfo, ProducerStage } from './producer-state.js';
import { checkAppendBatches, hasProducerBatches } from './producer-recovery.js';
import { PartitionProducers } from './partition-producers.js';
import type { TxnMarkerRequest } from './partition-producers.js';
import type { ActiveProducer } from './txn-queries.js';
import type { AbortedTxn } from './txn-index.js';

export type { RecoverySummary } from './log-loader.js';
export * from './partition-log-types.js';
export type { ActiveProducer } from './txn-queries.js';
export type { TxnMarkerRequest } from './partition-producers.js';

const EMPTY = Buffer.alloc(0);

interface PendingAppend {
  buf: Buffer;
  options: AppendOptions;
  marker?: MarkerInfo;
  resolve: (v: { result: AppendResult; sync: boolean }) => void;
  reject: (err: unknown) => void;
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  private _logStartOffset: number;
  private _highWatermark: number;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly flusher: LogFlusher;
  private closed = false;
  private readonly deleter: SegmentDeleter;
  private hwPosition: { offset: number; segment: LogSegment; position: number } | undefined;
  private readonly autoHw: boolean;
  private pendingAppends: PendingAppend[] = [];
  private drainQueued = false;
  private _truncations = 0;
  private readonly producers: PartitionProducers;
  private _flushWaiters = 0;

  private constructor(
    readonly dir: string,
    private config: LogConfig,
    private readonly fs: FileSystem,
    private readonly clock: Clock,
    private readonly logger: Logger | undefined,
    private readonly segments: SegmentSet,
    readonly leaderEpochCache: LeaderEpochCache,
    logStartOffset: number,
    readonly recoverySummary: RecoverySummary,
    private readonly deps: PartitionLogDeps,
  ) {
    const tp = parseTopicPartition(path.basename(dir));
    this.topic = deps.topic ?? tp?.topic ?? path.basename(dir);
    this.partition = deps.partition ?? tp?.partition ?? 0;
    this._logStartOffset = logStartOffset;
    this._highWatermark = this.logEndOffset;
    this.autoHw = deps.autoAdvanceHighWatermark ?? true;
    this.flusher = new LogFlusher(fs, dir, segments, clock, logger, this.logEndOffset, deps.onFlush);
    this.deleter = new SegmentDeleter(clock, logger);
    this.producers = new PartitionProducers(fs, dir, segments, logger);
  }

  /** Open (creating if needed) and recover the partition directory `dir`. */
  static async open(dir: string, config: LogConfig, deps: PartitionLogDeps = {}): Promise<PartitionLog> {
    const fs = deps.fs ?? new NodeFileSystem();
    const clock = deps.clock ?? new SystemClock();
    const ctx = { fs, clock, recoveryPoint: deps.recoveryPoint ?? 0, logStartOffset: deps.logStartOffset ?? 0 };
    const loaded = await loadLog(dir, config, deps.logger ? { ...ctx, logger: deps.logger } : ctx);
    const log = new PartitionLog(dir, config, fs, clock, deps.logger, loaded.segments, loaded.epochCache, loaded.logStartOffset, loaded.summary, deps);
    await log.producers.load();
    return log;
  }

  get logStartOffset(): number {
    return this._logStartOffset;
  }
  get logEndOffset(): number {
    return this.segments.last()!.nextOffset;
  }
  get highWatermark(): number {
    return this._highWatermark;
  }
  get recoveryPoint(): number {
    return this.flusher.recoveryPoint;
  }
  /** Total bytes of all segments. */
  get size(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }
  get segmentCount(): number {
    return this.segments.count;
  }
  get logConfig(): Readonly<LogConfig> {
    return this.config;
  }
  /** Per-segment facts, oldest first (DescribeLogDirs, tests). */
  segmentsInfo(): Array<{ baseOffset: number; nextOffset: number; size: number; maxTimestamp: number }> {
    return this.segments.values().map((s) => ({ baseOffset: s.baseOffset, nextOffset: s.nextOffset, size: s.size, maxTimestamp: s.maxTimestamp }));
  }
  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.values().map((s) => s.baseOffset);
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
  }

  /** Set the high watermark (clamped to [logStartOffset, logEndOffset]); returns the value set. */
  updateHighWatermark(offset: number): number {
    const hw = Math.min(Math.max(offset, this._logStartOffset), this.logEndOffset);
    if (hw !== this._highWatermark) this.hwPosition = undefined;
    this._highWatermark = hw;
    return hw;
  }

  private maybeAdvanceHw(offset: number): void {
    if (this.autoHw && offset > this._highWatermark) this.updateHighWatermark(offset);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new StorageError(`log ${this.dir} is closed`);
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private segmentDeps(): SegmentDeps {
    return this.logger ? { fs: this.fs, clock: this.clock, logger: this.logger } : { fs: this.fs, clock: this.clock };
  }

  // ---- append ----------------------------------------------------------------------------------

  /**
   * Append one or more v2 batches (validated by the caller). Stamps baseOffset and
   * partitionLeaderEpoch in place in `records`, writes them with one writev, and resolves once the
   * flush policy is satisfied. Appends queued behind a write in flight are coalesced into one writev.
   */
  async append(records: Buffer, options: AppendOptions = {}): Promise<AppendResult> {
    return this.submit(records, options, undefined);
  }

  /**
   * Write a COMMIT or ABORT marker (control batch) for a producer through the append queue: ends its
   * ongoing transaction on this partition, records an abort in the segment's `.txnindex`, and moves
   * the last stable offset once the marker is below the high watermark. Rejects a stale producer epoch
   * (INVALID_PRODUCER_EPOCH) or coordinator epoch (TRANSACTION_COORDINATOR_FENCED).
   */
  appendTxnMarker(m: TxnMarkerRequest): Promise<AppendResult> {
    const { buf, options, marker } = PartitionProducers.marker(m, this.clock.now());
    return this.submit(buf, options, marker);
  }

  /** min(first offset of undecided transactions, high watermark). */
  get lastStableOffset(): number {
    return this.producers.lastStableOffset(this._highWatermark);
  }

  /** Aborted transactions overlapping [fetchOffset, upperBoundOffset), from the segments' txn indexes. */
  abortedTransactions(fetchOffset: number, upperBoundOffset: number): Promise<Array<{ producerId: number; firstOffset: number }>> {
    return Promise.resolve(this.producers.aborted(fetchOffset, upperBoundOffset).map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset })));
  }

  /** Full txn index entries (with marker offsets) overlapping [from, upperBound): for the log cleaner. */
  abortedTransactionRanges(from: number, upperBound: number): AbortedTxn[] {
    return this.producers.aborted(from, upperBound);
  }

  /** Producers with state on this partition (DescribeProducers). */
  activeProducers(): ActiveProducer[] {
    return this.producers.active();
  }

  /** Forget producers idle for producer.id.expiration.ms (no open transaction). Returns how many. */
  removeExpiredProducers(now = this.clock.now()): number {
    return this.producers.state.removeExpired(now, this.deps.producerIdExpirationMs ?? 86400000);
  }

  private async submit(records: Buffer, options: AppendOptions, marker: MarkerInfo | undefined): Promise<AppendResult> {
    const { result, sync } = await new Promise<{ result: AppendResult; sync: boolean }>((resolve, reject) => {
      this.pendingAppends.push(marker ? { buf: records, options, marker, resolve, reject } : { buf: records, options, resolve, reject });
      if (!this.drainQueued) {
        this.drainQueued = true;
        this.enqueue(() => this.drainAppends()).catch((err: unknown) => {
          // The queue refused (log closed): fail whatever is waiting.
          this.drainQueued = false;
          const waiting = this.pendingAppends;
          this.pendingAppends = [];
          for (const w of waiting) w.reject(err);
        });
      }
    });
    if (sync) {
      this._flushWaiters++;
      try {
        await this.flusher.request();
      } finally {
        this._flushWaiters--;
      }
    }
    this.maybeAdvanceHw(result.lastOffset + 1);
    return result;
  }

  /** Write every pending append, grouping consecutive ones into single writevs (split at rolls). */
  private async drainAppends(): Promise<void> {
    this.drainQueued = false;
    const items = this.pendingAppends;
    this.pendingAppends = [];
    const group: PendingAppend[] = [];
    const bufs: Buffer[] = [];
    const results: AppendResult[] = [];
    /** Per group member: the flush decision of a duplicate, or undefined (decided by the write). */
    const dupSync: Array<boolean | undefined> = [];
    let stage: ProducerStage = this.producers.state.stage();
    let groupBytes = 0;
    let groupOffsets = 0;
    let groupMaxTs = -1;
    let groupMaxTsOffset = -1;
    let active = this.segments.last()!;

    const writeGroup = async (): Promise<void> => {
      if (group.length === 0) return;
      const first = this.logEndOffset;
      const written = stage;
      stage = this.producers.state.stage();
      try {
        if (bufs.length > 0) {
          await active.append(bufs, {
            firstOffset: first,
            lastOffset: first + groupOffsets - 1,
            maxTimestamp: groupMaxTs,
            offsetOfMaxTimestamp: groupMaxTsOffset,
            size: groupBytes,
          });
        }
        const sync = bufs.length > 0 && this.flusher.afterAppend(this.logEndOffset, this.config.flushMessages, this.config.flushMs);
        this.producers.state.commit(written);
        await this.producers.recordAborts(active, written);
        for (let i = 0; i < group.length; i++) group[i]!.resolve({ result: results[i]!, sync: dupSync[i] ?? sync });
      } catch (err) {
        for (const g of group) g.reject(err);
      }
      group.length = bufs.length = results.length = dupSync.length = 0;
      groupBytes = groupOffsets = 0;
      groupMaxTs = groupMaxTsOffset = -1;
    };

    for (let idx = 0; idx < items.length; idx++) {
      const it = items[idx]!;
      const scan = scanAppend(it.buf);
      if (typeof scan === 'string') {
        it.reject(new CorruptRecordError(scan));
        continue;
      }
      const now = this.clock.now();
      try {
        let first = this.logEndOffset + groupOffsets;
        const reason = active.shouldRoll({
          appendBytes: it.buf.length,
          pendingBytes: groupBytes,
          lastOffset: first + scan.offsets - 1,
          now,
          segmentBytes: this.config.segmentBytes,
          segmentMs: this.config.segmentMs,
        });
        const epoch = it.options.leaderEpoch;
        const epochChange = epoch !== undefined && epoch >= 0 && epoch !== this.leaderEpochCache.latestEpoch();
        if (reason || epochChange) {
          await writeGroup();
          first = this.logEndOffset;
          if (reason) active = await this.roll(reason);
          if (epochChange && this.leaderEpochCache.assign(epoch, first)) await this.leaderEpochCache.flush();
        }
        // Producer checks, atomic with the offsets assigned here (throws coded errors).
        if (it.marker || hasProducerBatches(it.buf)) {
          const own = this.producers.state.stage(stage);
          const origin = it.options.origin ?? 'client';
          const dup = it.marker ? (own.addMarker(it.marker, first, origin), undefined) : checkAppendBatches(own, it.buf, first, origin);
          if (dup) {
            group.push(it);
            results.push(PartitionProducers.duplicateResult(dup, scan.batches, it.buf.length, this._logStartOffset));
            dupSync.push(dup.lastOffset >= this.flusher.recoveryPoint && dup.lastOffset + 1 - this.flusher.recoveryPoint >= this.config.flushMessages);
            continue;
          }
          own.mergeInto(stage);
        }
        stampAppend(it.buf, first, epoch);
        const appendTime = it.options.appendTime ?? now;
        results.push({
          baseOffset: first,
          lastOffset: first + scan.offsets - 1,
          logAppendTime: this.config.messageTimestampType === 'LogAppendTime' ? appendTime : -1,
          logStartOffset: this._logStartOffset,
          maxTimestamp: scan.maxTimestamp,
          batches: scan.batches,
          bytes: it.buf.length,
        });
        group.push(it);
        dupSync.push(undefined);
        bufs.push(it.buf);
        groupBytes += it.buf.length;
        groupOffsets += scan.offsets;
        if (scan.maxTimestamp > groupMaxTs) {
          groupMaxTs = scan.maxTimestamp;
          groupMaxTsOffset = first + scan.maxTimestampDelta;
        }
      } catch (err) {
        // A producer check, roll or epoch checkpoint failed: this append fails, later ones try again.
        it.reject(err);
      }
    }
    await writeGroup();
  }

  /** Start a new active segment at the log end offset. Caller holds the queue. */
  private async roll(reason: string): Promise<LogSegment> {
    const old = this.segments.last()!;
    const base = old.nextOffset;
    if (old.isEmpty && old.baseOffset === base) return old;
    old.seal();
    this.flusher.markRolled(old);
    const seg = await LogSegment.create(this.dir, base, segmentConfigOf(this.config), this.segmentDeps());
    this.segments.add(seg);
    await this.producers.afterRoll(old);
    this.logger?.debug({ dir: this.dir, reason, baseOffset: base }, 'rolled segment');
    // Flush the old segment in the background (Kafka does the same); appends do not wait for it.
    this.flusher.requestInBackground('roll');
    return seg;
  }

  /** Force a roll (e.g. for tests or admin tools). */
  async forceRoll(): Promise<void> {
    await this.enqueue(() => this.roll('forced'));
  }

  // ---- flush -----------------------------------------------------------------------------------

  /** Appends waiting for a flush (flush.messages) before they are acknowledged. */
  get flushWaiters(): number {
    return this._flushWaiters;
  }

  /** fsync everything appended so far (joins the current group commit). */
  async flush(): Promise<void> {
    await this.flusher.request();
  }

  /** Number of completed fsync rounds (group commits). */
  get flushCount(): number {
    return this.flusher.runs;
  }

  // ---- read ------------------------------------------------------------------------------------

  /** Read whole batches from fetchOffset, from a single segment (Kafka semantics). */
  async read(fetchOffset: number, maxBytes: number, options: ReadOptions = {}): Promise<ReadResult> {
    const leo = this.logEndOffset;
    const base = { highWatermark: this._highWatermark, logStartOffset: this._logStartOffset, logEndOffset: leo };
    if (fetchOffset < this._logStartOffset || fetchOffset > leo) return { errorCode: OFFSET_OUT_OF_RANGE, records: EMPTY, ...base };
    const maxOffset = Math.min(options.maxOffset ?? leo, leo);
    if (fetchOffset >= maxOffset) return { errorCode: NONE, records: EMPTY, ...base };
    const minOne = options.minOneBatch ?? true;
    let seg = this.segments.floor(fetchOffset) ?? this.segments.first();
    while (seg !== undefined) {
      if (seg.baseOffset >= maxOffset) break;
      const maxPosition = await this.positionLimit(seg, maxOffset);
      const r = await seg.read(fetchOffset, maxBytes, maxPosition, minOne, maxOffset);
      if (r !== undefined) return { errorCode: NONE, records: r.records, ...base };
      seg = this.segments.next(seg);
    }
    return { errorCode: NONE, records: EMPTY, ...base };
  }

  /** File position bound in `seg` for reads below maxOffset (cached for the high watermark). */
  private async positionLimit(seg: LogSegment, maxOffset: number): Promise<number> {
    if (maxOffset >= seg.nextOffset) return seg.size;
    const c = this.hwPosition;
    if (c && c.offset === maxOffset && c.segment === seg) return c.position;
    const loc = await seg.translateOffset(maxOffset);
    const position = loc?.position ?? seg.size;
    if (maxOffset === this._highWatermark) this.hwPosition = { offset: maxOffset, segment: seg, position };
    return position;
  }

  // ---- timestamps ------------------------------------------------------------------------------

  /**
   * ListOffsets: first record with timestamp >= ts (offset >= logStartOffset), or the special
   * LATEST / EARLIEST / MAX_TIMESTAMP lookups. Undefined if no record qualifies.
   */
  async offsetForTimestamp(timestamp: number): Promise<RecordLocation | undefined> {
    if (timestamp === LATEST_TIMESTAMP) return { offset: this.logEndOffset, timestamp: -1 };
    if (timestamp === EARLIEST_TIMESTAMP) return { offset: this._logStartOffset, timestamp: -1 };
    if (timestamp === MAX_TIMESTAMP) return this.maxTimestampOffset();
    for (const seg of this.segments.values().slice()) {
      if (seg.nextOffset <= this._logStartOffset || seg.maxTimestamp < timestamp) continue;
      const loc = await seg.findOffsetByTimestamp(timestamp, this._logStartOffset);
      if (loc) return loc;
    }
    return undefined;
  }

  /** The record with the largest timestamp (earliest such), or undefined if the log is empty. */
  async maxTimestampOffset(): Promise<RecordLocation | undefined> {
    let best: LogSegment | undefined;
    for (const seg of this.segments) {
      if (seg.nextOffset <= this._logStartOffset || seg.maxTimestamp < 0) continue;
      if (best === undefined || seg.maxTimestamp > best.maxTimestamp) best = seg;
    }
    if (best === undefined) return undefined;
    const loc = await best.maxTimestampRecord();
    if (loc && loc.offset < this._logStartOffset) return { offset: this._logStartOffset, timestamp: loc.timestamp };
    return loc;
  }

  // ---- compaction support (log-cleaner.ts) ------------------------------------------------------

  /** Snapshot of the closed (non-active) segments, oldest first. */
  closedSegments(): LogSegment[] {
    return this.segments.values().slice(0, -1);
  }

  /** Incremented by every truncation; the cleaner aborts a swap if it changed during a clean. */
  get truncationCount(): number {
    return this._truncations;
  }

  /** A new empty segment named `<base>.log.cleaned` (+ indexes) for the cleaner's output. */
  createCleanedSegment(baseOffset: number): Promise<LogSegment> {
    return LogSegment.createWithSuffix(this.dir, baseOffset, segmentConfigOf(this.config), this.segmentDeps(), CLEANED_SUFFIX);
  }

  /**
   * Swap `cleaned` (a fsynced `.cleaned` segment covering exactly the offsets of `old`) in for the
   * consecutive closed segments `old`, on the mutation queue. Returns false, touching nothing, if the
   * log changed under the cleaner (a segment of `old` left the log or became active, or a truncation
   * happened since `truncationCount` was `expectedTruncations`); the caller then deletes `cleaned`.
   * On-disk order: `.cleaned` -> `.swap`, dir fsync, old segments -> `.deleted`, `.swap` -> final
   * names, dir fsync. `afterSwapRename` is a test hook (crash injection) run after the first dir fsync.
   */
  replaceSegments(old: readonly LogSegment[], cleaned: LogSegment, expectedTruncations: number, afterSwapRename?: () => Promise<void> | void): Promise<boolean> {
    return this.enqueue(async () => {
      const segs = this.segments.values();
      const i = segs.indexOf(old[0]!);
      if (old.length === 0 || this._truncations !== expectedTruncations || i < 0) return false;
      for (let k = 0; k < old.length; k++) {
        if (segs[i + k] !== old[k]) return false;
      }
      if (i + old.length >= segs.length) return false; // would include the active segment
      if (cleaned.baseOffset !== old[0]!.baseOffset || cleaned.nextOffset !== old[old.length - 1]!.nextOffset) return false;
      await cleaned.changeSuffix(SWAP_SUFFIX);
      await this.fs.syncDir(this.dir);
      await afterSwapRename?.();
      for (const seg of old) {
        this.segments.remove(seg);
        this.flusher.forget(seg);
        if (this.hwPosition?.segment === seg) this.hwPosition = undefined;
        await this.deleter.retire(seg, this.config.fileDeleteDelayMs);
      }
      await cleaned.changeSuffix('');
      this.segments.add(cleaned);
      await this.fs.syncDir(this.dir);
      this.logger?.info({ dir: this.dir, replaced: old.map((s) => s.baseOffset), size: cleaned.size }, 'swapped in cleaned segment');
      return true;
    });
  }

  // ---- deletion: DeleteRecords, retention, truncation --------------------------------------------

  /** DeleteRecords: move the log start offset to `offset` (-1 = high watermark). */
  deleteRecordsBefore(offset: number): Promise<DeleteRecordsResult> {
    return this.enqueue(async () => {
      const target = offset === -1 ? this._highWatermark : offset;
      if (target < 0 || target > this._highWatermark) return { errorCode: OFFSET_OUT_OF_RANGE, lowWatermark: this._logStartOffset };
      if (target > this._logStartOffset) {
        this._logStartOffset = target;
        if (this.leaderEpochCache.truncateFromStart(target)) await this.leaderEpochCache.flush();
        await this.deps.persistLogStartOffset?.();
        await this.deleteSegments(selectDeletableSegments(this.segments.values(), this._logStartOffset, undefined, 0));
      }
      return { errorCode: NONE, lowWatermark: this._logStartOffset };
    });
  }

  /**
   * Retention: delete the oldest non-active segments that are wholly below the log start offset, whose
   * max timestamp is older than now - retention.ms, or while the log exceeds retention.bytes by at
   * least that segment's size. Returns the number of segments deleted.
   */
  deleteOldSegments(now = this.clock.now()): Promise<number> {
    return this.enqueue(async () => {
      const doomed = selectDeletableSegments(this.segments.values(), this._logStartOffset, this.config, now);
      if (doomed.length === 0) return 0;
      await this.deleteSegments(doomed);
      const first = this.segments.first()!;
      if (first.baseOffset > this._logStartOffset) {
        this._logStartOffset = first.baseOffset;
        if (this._highWatermark < this._logStartOffset) this._highWatermark = this._logStartOffset;
        if (this.leaderEpochCache.truncateFromStart(this._logStartOffset)) await this.leaderEpochCache.flush();
      }
      return doomed.length;
    });
  }

  /** Remove segments from the log now; their files go `.deleted` and are unlinked later. */
  private async deleteSegments(segs: LogSegment[]): Promise<void> {
    for (const seg of segs) {
      this.segments.remove(seg);
      this.flusher.forget(seg);
      if (this.hwPosition?.segment === seg) this.hwPosition = undefined;
      await this.deleter.retire(seg, this.config.fileDeleteDelayMs);
    }
    if (segs.length) {
      this.logger?.info({ dir: this.dir, segments: segs.map((s) => s.baseOffset) }, 'deleted segments');
      await this.producers.afterDeleteSegments();
    }
  }

  /** Replication: remove every record at offset >= `offset` (whole batches). Returns true if anything changed. */
  truncateTo(offset: number): Promise<boolean> {
    return this.enqueue(async () => {
      if (offset >= this.logEndOffset) return false;
      this._truncations++;
      if (offset < this.segments.first()!.baseOffset) {
        await this.truncateFullyLocked(offset);
        return true;
      }
      try {
        await this.deleteSegments(this.segments.above(offset));
        await this.segments.floor(offset)!.truncateTo(offset);
      } finally {
        // Whole batches go, so the log end may land below `offset` (and below the log start).
        this._logStartOffset = Math.min(this._logStartOffset, this.logEndOffset);
        this.afterTruncation();
      }
      if (this.leaderEpochCache.truncateFromEnd(this.logEndOffset)) await this.leaderEpochCache.flush();
      await this.producers.afterTruncation();
      return true;
    });
  }

  /** Replication: drop everything and restart the log at `offset`. */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.enqueue(() => this.truncateFullyLocked(offset));
  }

  private async truncateFullyLocked(offset: number): Promise<void> {
    this._truncations++;
    const all = this.segments.values().slice();
    const seg = await LogSegment.create(this.dir, offset, segmentConfigOf(this.config), this.segmentDeps());
    await this.deleteSegments(all.filter((s) => s.baseOffset !== offset));
    if (all.some((s) => s.baseOffset === offset)) {
      const same = all.find((s) => s.baseOffset === offset)!;
      this.segments.remove(same);
      await same.close();
    }
    this.segments.add(seg);
    this.flusher.markDirDirty();
    this._logStartOffset = offset;
    this.afterTruncation();
    this.leaderEpochCache.clear();
    await this.leaderEpochCache.flush();
    await this.producers.clear();
    await this.deps.persistLogStartOffset?.();
  }

  private afterTruncation(): void {
    const leo = this.logEndOffset;
    this.hwPosition = undefined;
    if (this._highWatermark > leo) this._highWatermark = leo;
    if (this._highWatermark < this._logStartOffset) this._highWatermark = this._logStartOffset;
    this.flusher.truncatedTo(leo);
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Flush everything, finish pending deletions and close all files. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.enqueue(async () => {
      this.closed = true;
    });
    await this.flusher.stop();
    try {
      await this.flusher.flushAllForClose();
      await this.producers.snapshot().catch((err: unknown) => this.logger?.warn({ err, dir: this.dir }, 'producer snapshot at close failed'));
      await this.deleter.deleteAllNow();
    } finally {
      // Release the files even if the final flush failed (the next open recovers from the checkpoint).
      await this.deleter.abandonAll();
      for (const seg of this.segments) await seg.close().catch(() => undefined);
    }
  }

  /** Stop accepting operations and close all files without flushing (the log is being deleted). */
  async closeWithoutFlush(): Promise<void> {
    if (!this.closed) {
      await this.enqueue(async () => {
        this.closed = true;
      }).catch(() => undefined);
    }
    await this.flusher.stop();
    await this.deleter.abandonAll();
    for (const seg of this.segments) await seg.close().catch(() => undefined);
  }

  /** Close without flushing and remove the whole directory. */
  async delete(): Promise<void> {
    await this.closeWithoutFlush();
    await this.fs.rmrf(this.dir);
  }
}
