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
 *   already holding them finish. DeleteRecords, retention and truncation: log-deletion.ts.
 *
 * Appends (append-queue.ts): batches are checked, stamped in place and written with one positional
 * writev; appends queued behind a write in flight are coalesced into the next one.
 *
 * Reads and ListOffsets lookups (log-reader.ts) run off the queue against the current segment list.
 *
 * Durability (log-flusher.ts): when logEndOffset - max(recoveryPoint, last requested flush) >=
 * flush.messages, an append resolves only after an fsync covering it. fsyncs are GROUP COMMITS:
 * an fsync covers every append written before it began, appends written while it is in flight share the
 * next one, and writes are not blocked by fsyncs. flush.ms arms a clock timer on the first unflushed append. Rolls
 * start a background flush of
 * the old segment. Fsync failures reject the waiting appends with StorageError; the data stays in the
 * log (it is in the page cache and readable) and the next flush retries. Write failures: append-queue.ts.
 *
 * High watermark: with `autoAdvanceHighWatermark` (the default, for a standalone log) it follows the log
 * end offset after each append, after the fsync when the flush policy demands one. The broker turns it off:
 * its owner, replication/partition.ts, sets it with `updateHighWatermark`.
 *
 * Compaction (log-cleaner.ts): the cleaner reads closed segments off the queue; only swapping its
 * output in (`replaceSegments`, segment-swap.ts) runs on the queue.
 *
 * Producer state (producer-state.ts, owned through partition-producers.ts): batches with a producer id
 * are checked in the append queue (append-queue.ts). Transaction markers (appendTxnMarker) go through
 * the same queue; an ABORT is recorded in the active segment's `.txnindex`. Snapshots `<offset>.snapshot`
 * are written at roll (txn index fsynced first) and close; open loads the newest and replays the log
 * after it (producer-recovery.ts), rebuilding the replayed segments' txn indexes. The last stable offset
 * is min(first offset of undecided transactions, high watermark).
 *
 * Replication: `appendAsFollower` writes the leader's batches unchanged (offsets, leader epochs, producer
 * ids); the leader-epoch cache follows the batches' epochs; `truncateTo` removes a divergent tail.
 */

import path from 'node:path';
import type { Logger } from 'pino';
import { SystemClock, type Clock } from './clock.js';
import { NodeFileSystem, type FileSystem } from './fs.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import { loadLog, segmentConfigOf, type RecoverySummary } from './log-loader.js';
import type { SegmentSet } from './segment-set.js';
import { CLEANED_SUFFIX, LogSegment, type SegmentConfig, type SegmentDeps, type SegmentTail } from './segment.js';
import { swapInCleanedSegment } from './segment-swap.js';
import { LogFlusher } from './log-flusher.js';
import { epochRuns, type RecordLocation } from './batch-scan.js';
import { StorageError } from '../protocol/errors.js';
import { parseTopicPartition } from './partition-log-types.js';
import type {
  AppendOptions,
  AppendResult,
  DeleteRecordsResult,
  PartitionLogDeps,
  ReadOptions,
  ReadResult,
} from './partition-log-types.js';
import { SegmentDeleter } from './segment-deleter.js';
import { LogDeletion, type LogOffsets } from './log-deletion.js';
import type { MarkerInfo } from './producer-state.js';
import { PartitionProducers, type TxnMarkerRequest } from './partition-producers.js';
import type { CleanShutdownState } from './clean-shutdown.js';
import { AppendQueue } from './append-queue.js';
import { LogReader } from './log-reader.js';
import type { ActiveProducer } from './txn-queries.js';
import type { AbortedTxn } from './txn-index.js';

export type { RecoverySummary } from './log-loader.js';
export * from './partition-log-types.js';
export type { ActiveProducer } from './txn-queries.js';
export type { TxnMarkerRequest } from './partition-producers.js';

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  /** Log start offset, high watermark and truncation count (shared with `deletion`). */
  private readonly offsets: LogOffsets;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly flusher: LogFlusher;
  private closed = false;
  private readonly deleter: SegmentDeleter;
  private readonly autoHw: boolean;
  private readonly appends: AppendQueue;
  private readonly reader: LogReader;
  private readonly producers: PartitionProducers;
  private readonly deletion: LogDeletion;

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
    this.offsets = { logStart: logStartOffset, highWatermark: this.logEndOffset, truncations: 0 };
    this.autoHw = deps.autoAdvanceHighWatermark ?? true;
    this.flusher = new LogFlusher(fs, dir, segments, clock, logger, this.logEndOffset, deps.onFlush);
    this.deleter = new SegmentDeleter(clock, logger);
    this.producers = new PartitionProducers(fs, dir, segments, logger);
    this.reader = new LogReader(segments, this);
    this.appends = new AppendQueue({
      segments,
      producers: this.producers,
      flusher: this.flusher,
      clock,
      leaderEpochCache,
      config: () => this.config,
      logStartOffset: () => this.offsets.logStart,
      enqueue: (fn) => this.enqueue(fn),
      roll: (reason) => this.roll(reason),
    });
    this.deletion = new LogDeletion({
      dir,
      segments,
      offsets: this.offsets,
      leaderEpochCache,
      producers: this.producers,
      flusher: this.flusher,
      reader: this.reader,
      deleter: this.deleter,
      logger,
      config: () => this.config,
      segmentDeps: () => this.segmentDeps(),
      persistLogStartOffset: () => deps.persistLogStartOffset?.(),
    });
  }

  /** Open (creating if needed) and recover the partition directory `dir`. */
  static async open(dir: string, config: LogConfig, deps: PartitionLogDeps = {}): Promise<PartitionLog> {
    const fs = deps.fs ?? new NodeFileSystem();
    const clock = deps.clock ?? new SystemClock();
    const ctx = {
      fs,
      clock,
      recoveryPoint: deps.recoveryPoint ?? 0,
      logStartOffset: deps.logStartOffset ?? 0,
      cleanShutdown: deps.cleanShutdown,
      fresh: deps.fresh ?? false,
    };
    const loaded = await loadLog(dir, config, deps.logger ? { ...ctx, logger: deps.logger } : ctx);
    const log = new PartitionLog(
      dir,
      config,
      fs,
      clock,
      deps.logger,
      loaded.segments,
      loaded.epochCache,
      loaded.logStartOffset,
      loaded.summary,
      deps,
    );
    // A fresh directory's file entries were not fsynced: the first flush does it.
    if (loaded.dirEntriesPending) log.flusher.markDirDirty();
    await log.producers.load(loaded.files, loaded.cleanSnapshot);
    return log;
  }

  /** What the clean-shutdown file records of this log (clean-shutdown.ts); taken after close(). */
  cleanShutdownState(): CleanShutdownState {
    const snapshot = this.producers.encodedAt(this.logEndOffset);
    const epochs = this.leaderEpochCache.isDirty ? undefined : this.leaderEpochCache.all();
    const segments = this.segments.values().map((seg) => seg.tailState());
    return { leo: this.logEndOffset, segments, ...(epochs ? { epochs } : {}), ...(snapshot ? { snapshot } : {}) };
  }

  get logStartOffset(): number {
    return this.offsets.logStart;
  }
  get logEndOffset(): number {
    return this.segments.last()!.nextOffset;
  }
  get highWatermark(): number {
    return this.offsets.highWatermark;
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
    return this.segments
      .values()
      .map((s) => ({ baseOffset: s.baseOffset, nextOffset: s.nextOffset, size: s.size, maxTimestamp: s.maxTimestamp }));
  }
  /** Base offset of the active segment: the one the cleaner and retention never change (roll moves it). */
  get activeSegmentBase(): number {
    return this.segments.last()?.baseOffset ?? this.offsets.logStart;
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
    const hw = Math.min(Math.max(offset, this.offsets.logStart), this.logEndOffset);
    if (hw !== this.offsets.highWatermark) this.reader.forget();
    this.offsets.highWatermark = hw;
    return hw;
  }

  private maybeAdvanceHw(offset: number): void {
    if (this.autoHw && offset > this.offsets.highWatermark) this.updateHighWatermark(offset);
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
   * Replication: append the leader's v2 batches as they are (no offsets or epochs stamped). Runs of
   * batches with one leader epoch go as one append each, so the leader-epoch cache records where every
   * epoch starts. The first batch must start at or after the log end (else StorageError).
   */
  async appendAsFollower(records: Buffer): Promise<AppendResult | undefined> {
    let last: AppendResult | undefined;
    for (const run of epochRuns(records)) {
      last = await this.submit(run.records, { asFollower: true, leaderEpoch: run.epoch, origin: 'replay' }, undefined);
    }
    return last;
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
    return this.producers.lastStableOffset(this.offsets.highWatermark);
  }

  /** Aborted transactions overlapping [fetchOffset, upperBoundOffset), from the segments' txn indexes. */
  abortedTransactions(
    fetchOffset: number,
    upperBoundOffset: number,
  ): Promise<Array<{ producerId: number; firstOffset: number }>> {
    return Promise.resolve(
      this.producers
        .aborted(fetchOffset, upperBoundOffset)
        .map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset })),
    );
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
    const result = await this.appends.append(records, options, marker);
    this.maybeAdvanceHw(result.lastOffset + 1);
    return result;
  }

  /** Start a new active segment at the log end offset. Caller holds the queue (append-queue.ts rolls through it). */
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

  /**
   * This replica leads from `epoch` on (Kafka's maybeAssignEpochStartOffset at makeLeader): the epoch starts at
   * the log end, recorded on the mutation queue ahead of every append queued after this call, so that the first
   * append of the epoch (one per partition) does not write the checkpoint on the produce path. Not written here:
   * the checkpoint is written before a recovery point past its start is (LogManager) and at close; until then
   * the epoch's batches lie above the recovery point, where a load re-learns it (leader-epoch-cache.ts). Creating
   * or restarting 10,000 partitions thus writes no 10,000 checkpoints. A newer epoch only; an append at an epoch
   * the cache lacks still records (and writes) it itself.
   */
  assignLeaderEpoch(epoch: number): Promise<void> {
    return this.enqueue(async () => {
      const cache = this.leaderEpochCache;
      if (epoch > cache.latestEpoch() && cache.assign(epoch, this.logEndOffset)) this.deps.onEpochRecorded?.();
    });
  }

  /**
   * Write the recorded leader epochs and flush the log (its data and directory entries, a fresh log's included),
   * the epoch checkpoint's rename sharing the flush's directory fsync: what close would otherwise do, done ahead
   * in the background (LogManager, after creations).
   */
  async persistEpochs(): Promise<void> {
    // On the mutation queue: a log closed (deleted: its directory may be recreated by a new topic of the same
    // name) before this runs writes nothing. An empty log needs nothing durable: a load cuts every epoch entry
    // at or past its end anyway.
    const wrote = await this.enqueue(async () =>
      this.logEndOffset === this.offsets.logStart ? false : this.leaderEpochCache.flush(false),
    );
    if (wrote) this.flusher.markDirDirty();
    if (!this.closed) await this.flusher.request();
  }

  /** Force a roll (e.g. for tests or admin tools). */
  async forceRoll(): Promise<void> {
    await this.enqueue(() => this.roll('forced'));
  }

  // ---- flush -----------------------------------------------------------------------------------

  /** Appends waiting for a flush (flush.messages) before they are acknowledged. */
  get flushWaiters(): number {
    return this.appends.flushWaiters;
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
  read(fetchOffset: number, maxBytes: number, options: ReadOptions = {}): Promise<ReadResult> {
    return this.reader.read(fetchOffset, maxBytes, options);
  }

  /**
   * ListOffsets: first record with timestamp >= ts (offset >= logStartOffset), or the special
   * LATEST / EARLIEST / MAX_TIMESTAMP lookups. Undefined if no record qualifies.
   */
  offsetForTimestamp(timestamp: number): Promise<RecordLocation | undefined> {
    return this.reader.offsetForTimestamp(timestamp);
  }

  /** The record with the largest timestamp (earliest such), or undefined if the log is empty. */
  maxTimestampOffset(): Promise<RecordLocation | undefined> {
    return this.reader.maxTimestampOffset();
  }

  // ---- compaction support (log-cleaner.ts) ------------------------------------------------------

  /** Snapshot of the closed (non-active) segments, oldest first. */
  closedSegments(): LogSegment[] {
    return this.segments.values().slice(0, -1);
  }

  /** Incremented by every truncation; the cleaner aborts a swap if it changed during a clean. */
  get truncationCount(): number {
    return this.offsets.truncations;
  }

  /** What the log cleaner writes its output with (cleaner-task.ts): this log's file system and segment settings. */
  get cleanerTarget(): { fs: FileSystem; segmentConfig: SegmentConfig } {
    return { fs: this.fs, segmentConfig: segmentConfigOf(this.config) };
  }

  /** Open the cleaner's `<base>.log.cleaned` output (+ indexes) as its writer left it (`tail`). */
  openCleanedSegment(baseOffset: number, tail: SegmentTail): Promise<LogSegment> {
    const config = segmentConfigOf(this.config);
    return LogSegment.openWritten(this.dir, baseOffset, config, this.segmentDeps(), CLEANED_SUFFIX, tail);
  }

  /**
   * Swap `cleaned` (a fsynced `.cleaned` segment covering exactly the offsets of `old`) in for the
   * consecutive closed segments `old`, on the mutation queue (segment-swap.ts). Returns false, touching
   * nothing, if the log changed under the cleaner (a segment of `old` left the log or became active, or
   * a truncation happened since `truncationCount` was `expectedTruncations`); the caller then deletes
   * `cleaned`. `afterSwapRename` is a test hook (crash injection) run after the first dir fsync.
   */
  replaceSegments(
    old: readonly LogSegment[],
    cleaned: LogSegment,
    expectedTruncations: number,
    afterSwapRename?: () => Promise<void> | void,
  ): Promise<boolean> {
    return this.enqueue(async () => {
      if (this.offsets.truncations !== expectedTruncations) return false;
      const ctx = {
        fs: this.fs,
        dir: this.dir,
        segments: this.segments,
        logger: this.logger,
        retire: (seg: LogSegment) => this.deletion.retire(seg),
      };
      return swapInCleanedSegment(ctx, old, cleaned, afterSwapRename);
    });
  }

  // ---- deletion: DeleteRecords, retention, truncation (log-deletion.ts) ----------------------------

  /** DeleteRecords: move the log start offset to `offset` (-1 = high watermark). */
  deleteRecordsBefore(offset: number): Promise<DeleteRecordsResult> {
    return this.enqueue(() => this.deletion.deleteRecordsBefore(offset));
  }

  /**
   * Retention: delete the oldest non-active segments that are wholly below the log start offset, whose
   * max timestamp is older than now - retention.ms, or while the log exceeds retention.bytes by at
   * least that segment's size. Returns the number of segments deleted.
   */
  deleteOldSegments(now = this.clock.now()): Promise<number> {
    return this.enqueue(() => this.deletion.deleteOldSegments(now));
  }

  /** Replication: remove every record at offset >= `offset` (whole batches). Returns true if anything changed. */
  truncateTo(offset: number): Promise<boolean> {
    return this.enqueue(() => this.deletion.truncateTo(offset));
  }

  /** Replication: drop everything and restart the log at `offset`. */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.enqueue(() => this.deletion.truncateFullyLocked(offset));
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
      // An epoch recorded since the last write (assignLeaderEpoch) is written now; its rename shares the close
      // flush's directory fsync. Not for an empty log: a load cuts every entry at or past its end anyway.
      const empty = this.logEndOffset === this.offsets.logStart;
      if (!empty && (await this.leaderEpochCache.flush(false))) this.flusher.markDirDirty();
      await this.flusher.flushAllForClose();
      await this.producers
        .snapshot()
        .catch((err: unknown) => this.logger?.warn({ err, dir: this.dir }, 'producer snapshot at close failed'));
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
