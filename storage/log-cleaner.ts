/**
 * LogCleaner: compaction of partition logs whose cleanup.policy contains `compact`.
 *
 * One clean of one log (`cleanLog`):
 * 1. Plan (cleaner-plan.ts): closed segments before the first uncleanable offset (the active segment's
 *    base, the first segment not wholly below the high watermark, or the first segment younger than
 *    min.compaction.lag.ms); due by dirty ratio,
 *    max.compaction.lag.ms or a passed delete horizon.
 * 2. Offset map (offset-map.ts): key -> latest offset over the dirty section [firstDirty, end), where
 *    `end` is the end of the last dirty segment that fit in the map. Control batches are not indexed.
 * 3. Rewrite: the cleanable segments below `end` are grouped (consecutive, total size <= segment.bytes,
 *    offset range in int32, index entries within segment.index.bytes) and each group is rewritten
 *    batch by batch (batch-filter.ts) into ONE new segment `<first base>.log.cleaned` (+ `.index.cleaned`,
 *    `.timeindex.cleaned`), which is fsynced. The last batch of every group is always written (empty if
 *    all its records went), so a cleaned segment ends exactly where its group ended and segments stay
 *    contiguous (the loader relies on that).
 * 4. Swap (PartitionLog.replaceSegments, the only step on the partition's mutation queue):
 *    `.cleaned` -> `.swap`, dir fsync (commit point), old segments -> `.deleted` (unlinked after
 *    file.delete.delay.ms, so readers holding them finish), `.swap` -> final names, dir fsync.
 *    Crash before the commit point: the loader deletes `.cleaned` (old segments intact). After it: the
 *    loader completes the swap (deletes the old segments in the `.swap`'s offset range, renames it).
 *    If the log changed under the cleaner (truncation, retention removed a segment) the swap is refused
 *    and the `.cleaned` files are deleted.
 * 5. The cleaner checkpoint for the log becomes `end` (kept in memory here; the LogManager persists it
 *    in `cleaner-offset-checkpoint` in the data directory). A crash before the checkpoint is written only
 *    means the next clean redoes work.
 *
 * Steps 2 and 3 (the offset map, the rewrite with its CRCs and the `.cleaned` files) are a CleanTask
 * (cleaner-task.ts) run by a CleanerRunner (cleaner-runner.ts): in the cleaner's worker thread when the log's
 * files are the OS's (as Kafka's cleaner threads), which opens its own read-only descriptors for the closed
 * segments and writes, fsyncs and closes the output itself; inline on the event loop otherwise (MemoryFileSystem),
 * in slices of `sliceMs` (2 ms; checked per batch and per 512 records). The main thread keeps step 1, opening the
 * finished output (PartitionLog.openCleanedSegment, from the tail state the task returns), step 4 and step 5.
 * Nothing holds the partition's queue but the swap, so appends and fetches proceed during a clean. Closed segments
 * are immutable except by truncation, which the swap detects through `truncationCount`; a closed segment
 * retention removed before the task opened it makes the clean end as "log changed". Cleaner I/O is throttled to
 * log.cleaner.io.max.bytes.per.second (`ioMaxBytesPerSecond`, unlimited by default as in Kafka; see
 * cleaner-pacing.ts; the worker counts its own).
 *
 * Transactions: only segments below the last stable offset are cleaned; records of aborted
 * transactions (from the `.txnindex` entries) are dropped and never enter the offset map, so they can
 * neither survive nor displace committed values. COMMIT/ABORT markers are removed as Kafka does
 * (KIP-534): every clean rewrites all closed segments from the log start up to `end`, in offset order,
 * tracking per producer whether its current transaction has a retained data batch (cleaned-txns.ts;
 * an empty batch kept as the last of its group counts as data). A marker whose transaction has none
 * left is removable: the first clean that finds it stamps a delete horizon in the batch (now +
 * delete.retention.ms, attributes bit 6 + baseTimestamp, as for tombstones) and keeps it; a clean after
 * the horizon drops it (batch-filter.ts `filterMarker`). A marker is always kept when it is the last
 * batch of its group (the group must end at its offset, and an empty control batch has no marker
 * record for readers), or when the rewrite did not start at the first segment of the log (its
 * transaction's data could lie in a segment not read). Data batches of a transaction precede its
 * marker, so they lie in the rewritten range. Rewritten segments get an empty `.txnindex`: all
 * aborted data below `end` is gone (at most empty batches remain), so read_committed fetches have
 * nothing to filter there, whether or not the ABORT markers stay.
 *
 * Not done (documented limits): the last batch of each producer is not specially retained
 * (the last batch of each cleaned segment is); the active segment is not rolled for
 * max.compaction.lag.ms; pending delete horizons (of tombstones and of removable markers; the horizon
 * itself is stored in the batch) are remembered in memory only (after a restart they are acted on at
 * the next clean that is due for another reason). Marker removal does not consult producer snapshots
 * (nor does Kafka's): should every snapshot newer than a removed marker be lost, recovery from an older
 * one taken while that transaction was open would see the transaction stay open.
 */

import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { PartitionLog } from './partition-log.js';
import type { LogSegment, SegmentTail } from './segment.js';
import { planClean } from './cleaner-plan.js';
import type { CleanReason } from './cleaner-plan.js';
import { RecordBatch } from '../protocol/records/batch.js';
import { BATCH_HEADER_SIZE } from '../protocol/records/batch-header.js';
import { IoThrottler, TimeSlicer } from './cleaner-pacing.js';
import { CleanerAbortedError } from './cleaner-task.js';
import type { CleanJob, RewriteStats } from './cleaner-task.js';
import { InlineRunner, WorkerRunner, WorkerUnavailableError } from './cleaner-runner.js';
import type { CleanerRunner, TaskHandle } from './cleaner-runner.js';

export { CleanerAbortedError } from './cleaner-task.js';

const INT32_MAX = 0x7fffffff;
const TIME_INDEX_ENTRY = 12;

export interface CleanerHooks {
  /** Test hook: the `.cleaned` segment was written and fsynced, before the swap is attempted. */
  afterCleaned?: (log: PartitionLog, cleaned: LogSegment) => Promise<void> | void;
  /** Test hook: the output was renamed `.swap` and the directory fsynced (the commit point). */
  afterSwapRename?: (log: PartitionLog) => Promise<void> | void;
}

export interface LogCleanerOptions {
  clock: Clock;
  logger?: Logger;
  /** Distinct keys the offset map holds before the dirty section is cut (default 1,000,000). */
  offsetMapMaxEntries?: number;
  /** Bytes read from a segment at a time (default 1 MiB). */
  readChunkBytes?: number;
  /** Bytes buffered before each write to the cleaned segment (default 1 MiB). */
  writeChunkBytes?: number;
  /** Longest run of cleaning work before the event loop gets a turn, in ms (default 2). */
  sliceMs?: number;
  /** log.cleaner.io.max.bytes.per.second: read + write rate limit (default unlimited). */
  ioMaxBytesPerSecond?: number;
  /** How often the throttle compares the rate with the limit, in ms (default 300, as Kafka's Throttler). */
  ioCheckIntervalMs?: number;
  /**
   * Run the heavy work in a worker thread (cleaner-runner.ts). Default: when the log's files are the OS's
   * (FileSystem.osFiles); otherwise (MemoryFileSystem) on the calling event loop.
   */
  worker?: boolean;
  /** The worker thread's script (tests; default: storage/cleaner-worker.js). */
  workerScript?: URL;
  hooks?: CleanerHooks;
}

export interface CleanResult {
  cleaned: boolean;
  reason?: CleanReason;
  /** Why nothing was swapped although a clean was due (log changed, aborted). */
  skipped?: string;
  firstDirty: number;
  /** New cleaner checkpoint (== firstDirty if nothing was cleaned). */
  endOffset: number;
  dirtyRatio: number;
  segmentsReplaced: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  /** COMMIT/ABORT markers removed (their transaction had no data left and their horizon had passed). */
  markersRemoved: number;
}

interface GroupOutcome extends RewriteStats {
  bytesAfter: number;
}

function emptyResult(firstDirty: number, dirtyRatio: number): CleanResult {
  return {
    cleaned: false,
    firstDirty,
    endOffset: firstDirty,
    dirtyRatio,
    segmentsReplaced: 0,
    bytesBefore: 0,
    bytesAfter: 0,
    recordsRemoved: 0,
    tombstonesRemoved: 0,
    markersRemoved: 0,
  };
}

interface LogState {
  /** Cleaner checkpoint: offsets below are clean. */
  checkpoint?: number;
  truncations?: number;
  /** Earliest delete horizon of retained tombstones. */
  deleteHorizon?: number;
}

export class LogCleaner {
  private readonly state = new Map<string, LogState>();
  private stopped = false;
  private readonly busy = new Set<PartitionLog>();
  private readonly mapMax: number;
  private readonly readChunk: number;
  private readonly writeChunk: number;
  private readonly inline: InlineRunner;
  private threaded: WorkerRunner | undefined;
  /** The worker thread could not start: every clean runs inline. */
  private workerUnavailable = false;

  constructor(private readonly opts: LogCleanerOptions) {
    this.mapMax = opts.offsetMapMaxEntries ?? 1_000_000;
    this.readChunk = opts.readChunkBytes ?? 1024 * 1024;
    this.writeChunk = opts.writeChunkBytes ?? 1024 * 1024;
    const slicer = new TimeSlicer(opts.sliceMs ?? 2);
    const throttler = new IoThrottler(opts.clock, this.ioMax(), opts.ioCheckIntervalMs ?? 300);
    this.inline = new InlineRunner(opts.clock, slicer, throttler);
  }

  private ioMax(): number {
    return this.opts.ioMaxBytesPerSecond ?? Number.POSITIVE_INFINITY;
  }

  /** Where cleans of `log` run (see LogCleanerOptions.worker). */
  runnerKind(log: PartitionLog): 'worker' | 'inline' {
    if (this.workerUnavailable) return 'inline';
    return (this.opts.worker ?? log.cleanerTarget.fs.osFiles === true) ? 'worker' : 'inline';
  }

  /** The runner for `log`; the worker is started on first use. */
  private runnerFor(log: PartitionLog): CleanerRunner {
    if (this.runnerKind(log) === 'inline') return this.inline;
    const logger = this.opts.logger;
    const io = { ioMaxBytesPerSecond: this.ioMax(), ioCheckIntervalMs: this.opts.ioCheckIntervalMs ?? 300 };
    const script = this.opts.workerScript;
    this.threaded ??= new WorkerRunner({ ...io, ...(logger ? { logger } : {}), ...(script ? { script } : {}) });
    return this.threaded;
  }

  private key(log: PartitionLog): string {
    return `${log.topic}-${log.partition}`;
  }

  private stateOf(log: PartitionLog): LogState {
    const k = this.key(log);
    let s = this.state.get(k);
    if (s === undefined) {
      s = {};
      this.state.set(k, s);
    }
    return s;
  }

  /** Seed the checkpoint of `topic-partition` (from cleaner-offset-checkpoint). */
  setCheckpoint(tp: string, offset: number): void {
    const s = this.state.get(tp) ?? {};
    s.checkpoint = offset;
    this.state.set(tp, s);
  }

  /** Current checkpoints by `topic-partition` key. */
  checkpoints(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [k, s] of this.state) if (s.checkpoint !== undefined) out.set(k, s.checkpoint);
    return out;
  }

  /** Forget a partition (its topic was deleted). */
  forget(tp: string): void {
    this.state.delete(tp);
  }

  /** Make running and future cleans stop at their next step. */
  stop(): void {
    this.stopped = true;
    this.inline.stop();
    this.threaded?.stop();
  }

  private checkStopped(): void {
    if (this.stopped) throw new CleanerAbortedError();
  }

  /** First offset not known to be clean (the checkpoint, corrected for the log's current bounds). */
  firstDirtyOffset(log: PartitionLog): number {
    const s = this.stateOf(log);
    let first = s.checkpoint ?? log.logStartOffset;
    if (s.truncations !== undefined && s.truncations !== log.truncationCount) first = log.logStartOffset;
    if (first < log.logStartOffset || first > log.logEndOffset) first = log.logStartOffset;
    return first;
  }

  /** Clean `log` if a clean is due (see the header). Concurrent calls for one log: the later one skips. */
  async cleanLog(log: PartitionLog, now = this.opts.clock.now()): Promise<CleanResult> {
    this.checkStopped();
    if (this.busy.has(log)) {
      const first = this.firstDirtyOffset(log);
      return { ...emptyResult(first, 0), skipped: 'a clean of this log is in progress' };
    }
    this.busy.add(log);
    try {
      return await this.cleanLogOnce(log, now);
    } finally {
      this.busy.delete(log);
    }
  }

  private async cleanLogOnce(log: PartitionLog, now: number): Promise<CleanResult> {
    const config = log.logConfig;
    const st = this.stateOf(log);
    const truncations = log.truncationCount;
    const firstDirty = this.firstDirtyOffset(log);
    // Closed segments above the log start and wholly below the last stable offset (never clean what a
    // follower or consumer could not have seen yet, nor data of undecided transactions).
    const hw = log.lastStableOffset;
    const closed = log.closedSegments().filter((s) => s.nextOffset > log.logStartOffset);
    const belowHw = closed.findIndex((s) => s.nextOffset > hw);
    if (belowHw >= 0) closed.length = belowHw;
    const firstDirtySeg = closed.find((s) => s.nextOffset > firstDirty && s.size > 0);
    const firstDirtyTimestamp = firstDirtySeg ? await this.firstBatchTimestamp(firstDirtySeg, firstDirty) : undefined;
    const plan = planClean({
      closed,
      firstDirty,
      now,
      config,
      ...(firstDirtyTimestamp !== undefined ? { firstDirtyTimestamp } : {}),
      ...(st.deleteHorizon !== undefined ? { pendingDeleteHorizon: st.deleteHorizon } : {}),
    });
    const result = emptyResult(firstDirty, plan.dirtyRatio);
    if (plan.reason === undefined) return result;
    result.reason = plan.reason;

    // Aborted transactions with data in the cleanable range (their markers may lie further on).
    const cleanable = plan.cleanable;
    const aborted = cleanable.length
      ? log.abortedTransactionRanges(cleanable[0]!.baseOffset, plan.firstUncleanable)
      : [];
    const target = log.cleanerTarget;
    const job: CleanJob = {
      dir: log.dir,
      firstDirty,
      now,
      deleteRetentionMs: config.deleteRetentionMs,
      aborted,
      segmentConfig: target.segmentConfig,
      mapMaxEntries: this.mapMax,
      readChunkBytes: this.readChunk,
      writeChunkBytes: this.writeChunk,
      segments: cleanable.map((s) => ({
        path: s.path,
        baseOffset: s.baseOffset,
        nextOffset: s.nextOffset,
        size: s.size,
        dirtyPosition: s.nextOffset > firstDirty ? s.offsetIndex.lookup(firstDirty).position : 0,
      })),
    };
    this.checkStopped(); // (a runner made after stop() would not know)
    const task = await this.startTask(log, job);
    try {
      return await this.runTask(log, task, plan.cleanable, closed, result, truncations);
    } finally {
      await task.close();
    }
  }

  /** Start the clean's task where it runs; a worker that cannot start sends this and later cleans inline. */
  private async startTask(log: PartitionLog, job: CleanJob): Promise<TaskHandle> {
    const fs = log.cleanerTarget.fs;
    try {
      return await this.runnerFor(log).start(job, fs);
    } catch (err) {
      if (!(err instanceof WorkerUnavailableError)) throw err;
      this.opts.logger?.warn({ err }, 'log cleaner worker thread unavailable; cleaning on the event loop');
      this.workerUnavailable = true;
      return this.inline.start(job, fs);
    }
  }

  /** Steps 2-5 with `task` doing the heavy work (cleaner-task.ts). */
  private async runTask(
    log: PartitionLog,
    task: TaskHandle,
    cleanable: LogSegment[],
    closed: LogSegment[],
    result: CleanResult,
    truncations: number,
  ): Promise<CleanResult> {
    const config = log.logConfig;
    const st = this.stateOf(log);
    // 2. Offset map over the dirty section (aborted records never count as the latest value of a key).
    const end = await task.buildMap();
    if (end === undefined) return this.changed(log, result);

    // 3 + 4. Rewrite and swap, group by group.
    const toClean = cleanable.filter((s) => s.nextOffset <= end);
    const markersRemovable = toClean.length > 0 && toClean[0] === closed[0];
    let horizon: number | undefined;
    let index = 0;
    for (const group of this.groups(
      toClean,
      config.segmentBytes,
      config.indexIntervalBytes,
      config.segmentIndexBytes,
    )) {
      const first = index;
      index += group.length;
      this.checkStopped();
      if (group.every((s) => s.size === 0)) continue;
      const written = await task.rewrite(first, group.length, markersRemovable);
      const outcome = written.changed ? undefined : await this.cleanGroup(log, group, written, truncations);
      if (outcome === undefined) return this.changed(log, result);
      result.segmentsReplaced += group.length;
      result.bytesBefore += outcome.bytesBefore;
      result.bytesAfter += outcome.bytesAfter;
      result.recordsRemoved += outcome.recordsRemoved;
      result.tombstonesRemoved += outcome.tombstonesRemoved;
      result.markersRemoved += outcome.markersRemoved;
      if (outcome.deleteHorizon !== undefined) horizon = Math.min(horizon ?? Infinity, outcome.deleteHorizon);
    }
    result.cleaned = true;
    result.endOffset = end;
    st.checkpoint = end;
    st.truncations = truncations;
    if (horizon === undefined) delete st.deleteHorizon;
    else st.deleteHorizon = horizon;
    this.opts.logger?.info({ dir: log.dir, ...result }, 'cleaned log');
    return result;
  }

  private changed(log: PartitionLog, result: CleanResult): CleanResult {
    result.skipped = 'log changed during the clean';
    this.opts.logger?.info({ dir: log.dir }, 'log changed during clean; swap skipped');
    return result;
  }

  /** Max timestamp of the first batch at or after `from` in `seg` (undefined if none). */
  private async firstBatchTimestamp(seg: LogSegment, from: number): Promise<number | undefined> {
    const r = await seg.read(Math.max(from, seg.baseOffset), BATCH_HEADER_SIZE, seg.size, true);
    if (!r || r.records.length < BATCH_HEADER_SIZE) return undefined;
    return Number(RecordBatch.at(r.records, 0).maxTimestamp);
  }

  /** Split consecutive segments into groups that fit one segment (size, offsets, index capacity). */
  private groups(segs: LogSegment[], segmentBytes: number, indexInterval: number, indexBytes: number): LogSegment[][] {
    const out: LogSegment[][] = [];
    let cur: LogSegment[] = [];
    let bytes = 0;
    const entries = (b: number): number => Math.ceil(b / Math.max(BATCH_HEADER_SIZE, indexInterval)) + 1;
    for (const seg of segs) {
      const first = cur[0];
      const fits =
        first !== undefined &&
        bytes + seg.size <= segmentBytes &&
        seg.nextOffset - 1 - first.baseOffset <= INT32_MAX &&
        entries(bytes + seg.size) * TIME_INDEX_ENTRY <= indexBytes;
      if (!fits && cur.length > 0) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(seg);
      bytes += seg.size;
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  /** Swap in the `.cleaned` segment `written` (the task's rewrite of `group`). Undefined if refused. */
  private async cleanGroup(
    log: PartitionLog,
    group: LogSegment[],
    r: { tail: SegmentTail; stats: RewriteStats },
    truncations: number,
  ): Promise<GroupOutcome | undefined> {
    const cleaned = await log.openCleanedSegment(group[0]!.baseOffset, r.tail);
    try {
      await this.opts.hooks?.afterCleaned?.(log, cleaned);
      this.checkStopped();
      const hook = this.opts.hooks?.afterSwapRename;
      const ok = await log.replaceSegments(group, cleaned, truncations, hook ? () => hook(log) : undefined);
      if (!ok) {
        await cleaned.delete();
        return undefined;
      }
    } catch (err) {
      // Before the `.swap` rename the output is ours to remove; after it, the swap must complete.
      if (cleaned.path.endsWith('.cleaned')) await cleaned.delete().catch(() => undefined);
      throw err;
    }
    return { ...r.stats, bytesAfter: r.tail.size };
  }
}
