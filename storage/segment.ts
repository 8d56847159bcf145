/**
 * LogSegment: one `<20-digit zero-padded base offset>.log` file plus its `.index` and `.timeindex`, and
 * `.txnindex` (aborted transactions, txn-index.ts; created only when needed). File naming (including
 * the `.deleted` / `.cleaned` / `.swap` suffixes) and the shared types live in segment-types.ts.
 *
 * On-disk format: the `.log` file is the concatenation of record batches (v2) exactly as appended —
 * the broker's buffers with baseOffset and partitionLeaderEpoch stamped in place — with no framing of
 * its own. Offsets inside a segment are >= its base offset, strictly increasing from batch to batch
 * (gaps allowed), and lastOffset - baseOffset of the segment fits in an int32. The file is at most
 * 2^31 - 1 bytes (index positions are int32). See offset-index.ts and time-index.ts for the indexes.
 *
 * Invariants:
 * - `size` is the number of bytes of whole, successfully written batches; bytes past it (a failed
 *   partial write) are ignored by reads and overwritten by the next append.
 * - Appends are serialised by the owner (PartitionLog); reads may run concurrently with an append and
 *   only see bytes below the `size` they observed. An append is written into the page cache by a blocking call
 *   where the file handle takes it (`writevNow`, as Kafka's handler threads write; NodeFileSystem's up to
 *   log.append.inline.max.bytes), else through the thread pool (`writev`).
 * - Index entries are added in memory on append and persisted by `flush()` (full), on roll and close.
 *   A segment whose content is entirely below the recovery point has a trustworthy index on disk (a
 *   prefix at worst, and the two files may lag differently); `open()` sanity-checks both and scans
 *   batch headers from the last time-index entry (from the start if there is none) to the end, adding
 *   missing entries and restoring the next offset and the max timestamp (or, a clean shutdown having
 *   recorded this log file's size, takes the recorded state: segment-sizes.ts).
 * - `recover()` trusts nothing: it validates every batch (length bounds, magic 2, CRC-32C, increasing
 *   offsets; the scan is in segment-recovery.ts), truncates at the first invalid one and rebuilds both
 *   indexes from scratch.
 * - The log cleaner builds segments under temporary names (`createWithSuffix`: `<base>.log.cleaned`
 *   etc., then `changeSuffix('.swap')` and `changeSuffix('')`); such segments are never appended to
 *   after they join a log. Batches written by the cleaner may leave offset gaps and may be empty
 *   (no records, header kept to preserve the segment's end offset).
 * - `read()` returns a byte range of whole batches, never decoding records. Only timestamp lookups
 *   look inside a batch (decompressing it if needed) to find the exact record. The reads: segment-read.ts.
 */

import path from 'node:path';
import type { FileHandle } from './fs.js';
import { isNotFound } from './fs.js';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';
import { TxnIndex, TXN_INDEX_SUFFIX } from './txn-index.js';
import type { TimestampOffset } from './time-index.js';
import { BatchHeaderScanner } from './batch-scan.js';
import type { RecordLocation } from './batch-scan.js';
import { baseOffsetNumber, entrySize, lastOffsetNumber, maxTimestampNumber } from '../protocol/records/batch-header.js';
import { findRecordByTimestamp, locateBatch, readFromIndexPosition } from './segment-read.js';
import {
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  TIME_INDEX_SUFFIX,
  segmentFileName,
  segmentPath,
} from './segment-types.js';
import type {
  BatchLocation,
  RollCheck,
  SegmentAppendInfo,
  SegmentConfig,
  SegmentDeps,
  SegmentReadResult,
  SegmentTail,
} from './segment-types.js';
import { segmentSizes } from './segment-sizes.js';
import { scanValidBatches } from './segment-recovery.js';
import { StorageError } from '../protocol/errors.js';
import type { RecoverOptions, SegmentRecoveryResult } from './segment-recovery.js';

export * from './segment-types.js';
export type { RecoverOptions, SegmentRecoveryResult } from './segment-recovery.js';

const INT32_MAX = 0x7fffffff;
/** Largest segment tail (bytes after its last index entry) loadTail reads by one blocking call at start-up. */
const MAX_TAIL_READ_NOW = 1 << 20;

export class LogSegment {
  private _size: number;
  private _nextOffset: number;
  private _maxTimestamp = -1;
  private _offsetOfMaxTimestamp: number;
  private bytesSinceLastIndexEntry = 0;
  private flushedSize: number;
  private _firstAppendTime: number | undefined;
  private closed = false;
  private logPath: string;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly log: FileHandle,
    readonly offsetIndex: OffsetIndex,
    readonly timeIndex: TimeIndex,
    /** Aborted transactions whose ABORT marker is in this segment (txn-index.ts). */
    readonly txnIndex: TxnIndex,
    private readonly config: SegmentConfig,
    private readonly deps: SegmentDeps,
    size: number,
    suffix = '',
  ) {
    this.logPath = segmentPath(dir, segmentFileName(baseOffset, LOG_SUFFIX)) + suffix;
    this._size = size;
    this.flushedSize = size;
    this._nextOffset = baseOffset;
    this._offsetOfMaxTimestamp = baseOffset;
    /** Age for segment.ms is measured from the first append seen by this process (clock time). */
    this._firstAppendTime = size > 0 ? deps.clock.now() : undefined;
  }

  /** Create a new, empty segment (existing files with these names are truncated). */
  static async create(dir: string, baseOffset: number, config: SegmentConfig, deps: SegmentDeps): Promise<LogSegment> {
    return LogSegment.createWithSuffix(dir, baseOffset, config, deps, '');
  }

  /**
   * Create a new, empty segment whose three files carry an extra `suffix` (e.g. `.cleaned` for the log
   * cleaner's output): `<base>.log<suffix>`, `<base>.index<suffix>`, `<base>.timeindex<suffix>`.
   * `changeSuffix('')` later gives them their final names.
   */
  static async createWithSuffix(
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    deps: SegmentDeps,
    suffix: string,
  ): Promise<LogSegment> {
    const fs = deps.fs;
    const at = (sfx: string): string => path.join(dir, segmentFileName(baseOffset, sfx)) + suffix;
    const opts = { create: true, truncate: true };
    const log = await fs.open(at(LOG_SUFFIX), opts);
    const oi = await OffsetIndex.open(fs, at(INDEX_SUFFIX), baseOffset, config.maxIndexBytes, opts);
    const ti = await TimeIndex.open(fs, at(TIME_INDEX_SUFFIX), baseOffset, config.maxIndexBytes, opts);
    await fs.rmrf(at(TXN_INDEX_SUFFIX));
    const txn = TxnIndex.create(fs, at(TXN_INDEX_SUFFIX));
    return new LogSegment(dir, baseOffset, log, oi.index, ti.index, txn, config, deps, 0, suffix);
  }

  /**
   * Open a segment the log cleaner wrote under `suffix` (cleaner-task.ts), with the state its writer left
   * (`tail`, its tailState() once flushed and closed): nothing is scanned; the files' sizes are the tail's.
   */
  static async openWritten(
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    deps: SegmentDeps,
    suffix: string,
    tail: SegmentTail,
  ): Promise<LogSegment> {
    const fs = deps.fs;
    const at = (sfx: string): string => segmentPath(dir, segmentFileName(baseOffset, sfx)) + suffix;
    const log = await fs.open(at(LOG_SUFFIX), { lazy: true });
    const max = config.maxIndexBytes;
    const oi = await OffsetIndex.open(fs, at(INDEX_SUFFIX), baseOffset, max, { size: tail.offsetIndexBytes });
    const ti = await TimeIndex.open(fs, at(TIME_INDEX_SUFFIX), baseOffset, max, { size: tail.timeIndexBytes });
    const txn = await TxnIndex.load(fs, at(TXN_INDEX_SUFFIX), false);
    const seg = new LogSegment(dir, baseOffset, log, oi.index, ti.index, txn, config, deps, tail.size, suffix);
    seg.restoreTail(tail);
    const problem = oi.corruption ?? ti.corruption;
    if (problem) {
      await seg.close();
      throw new StorageError(`${seg.path}: ${problem}`);
    }
    return seg;
  }

  /**
   * Open an existing segment. Loads the indexes, sanity-checks them against the log and extends them by
   * a header scan of the tail. Returns `problem` if the segment cannot be trusted (missing or corrupt
   * index, malformed tail); the caller then runs `recover()`.
   */
  static async open(
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    deps: SegmentDeps,
    /** The directory's file names when known (log-loader.ts): saves an existence probe per file. */
    files?: ReadonlySet<string>,
    /** The segment's clean-shutdown tail, if any (segment-sizes.ts). */
    tail?: SegmentTail,
  ): Promise<{ segment: LogSegment; problem?: string }> {
    const fs = deps.fs;
    const has = async (p: string): Promise<boolean> => (files ? files.has(path.basename(p)) : fs.exists(p));
    // Files just listed are sized without a descriptor and opened lazily: 10,000 partitions x 3 files would
    // otherwise hold (or churn) 30,000 descriptors at start-up.
    const sizes = await segmentSizes(fs, dir, baseOffset, files, tail);
    const sized = (n: number | undefined): { size?: number } => (n === undefined ? {} : { size: n });
    const at = (sfx: string): string => segmentPath(dir, segmentFileName(baseOffset, sfx));
    const log = await fs.open(at(LOG_SUFFIX), { lazy: sizes.log !== undefined });
    const size = sizes.log ?? (await log.size());
    const problems: string[] = [];
    const indexPath = at(INDEX_SUFFIX);
    const timePath = at(TIME_INDEX_SUFFIX);
    if (!(await has(indexPath))) problems.push('offset index missing');
    if (!(await has(timePath))) problems.push('time index missing');
    const oi = await OffsetIndex.open(fs, indexPath, baseOffset, config.maxIndexBytes, sized(sizes.index));
    const ti = await TimeIndex.open(fs, timePath, baseOffset, config.maxIndexBytes, sized(sizes.time));
    if (oi.corruption) problems.push(`offset index: ${oi.corruption}`);
    if (ti.corruption) problems.push(`time index: ${ti.corruption}`);
    const txn = await TxnIndex.load(fs, at(TXN_INDEX_SUFFIX), await has(at(TXN_INDEX_SUFFIX)));
    const seg = new LogSegment(dir, baseOffset, log, oi.index, ti.index, txn, config, deps, size);
    if (problems.length === 0) {
      const p =
        oi.index.sanityCheck(size, Infinity) ??
        ti.index.sanityCheck(Infinity) ??
        (sizes.tail ? seg.restoreTail(sizes.tail) : await seg.loadTail()) ??
        seg.checkIndexRange();
      if (p) problems.push(p);
    }
    return problems.length ? { segment: seg, problem: problems.join('; ') } : { segment: seg };
  }

  get size(): number {
    return this._size;
  }
  /** One past the last offset in this segment (base offset if empty). */
  get nextOffset(): number {
    return this._nextOffset;
  }
  get maxTimestamp(): number {
    return this._maxTimestamp;
  }
  get offsetOfMaxTimestamp(): number {
    return this._offsetOfMaxTimestamp;
  }
  get firstAppendTime(): number | undefined {
    return this._firstAppendTime;
  }
  /** Timestamp retention.ms compares against: max timestamp, or first append time if none. */
  get largestTimestamp(): number {
    return this._maxTimestamp >= 0 ? this._maxTimestamp : (this._firstAppendTime ?? this.deps.clock.now());
  }
  get isEmpty(): boolean {
    return this._size === 0;
  }
  get path(): string {
    return this.logPath;
  }
  /** True if an index file may still hold entries cut by a truncation (flush it with the log). */
  get indexesStale(): boolean {
    return this.offsetIndex.hasStaleEntriesOnDisk || this.timeIndex.hasStaleEntriesOnDisk;
  }
  /** True if bytes were appended since the last flush. */
  get hasUnflushed(): boolean {
    return this.flushedSize !== this._size;
  }

  // ---- append ----------------------------------------------------------------------------------

  /** Append whole batches (each Buffer holds whole batches) with one positional writev. */
  async append(buffers: Buffer[], info: SegmentAppendInfo): Promise<void> {
    const start = this._size;
    try {
      if (this.log.writevNow?.(buffers, start) !== true) await this.log.writev(buffers, start);
    } catch (err) {
      // Bytes past `size` are invisible and get overwritten; trimming them is best effort.
      await this.log
        .truncate(start)
        .catch((e: unknown) => this.deps.logger?.warn({ err: e, path: this.logPath }, 'could not trim failed write'));
      throw err;
    }
    let pos = start;
    for (const b of buffers) {
      let p = 0;
      while (p < b.length) {
        const size = entrySize(b, p);
        this.indexBatch(baseOffsetNumber(b, p), maxTimestampNumber(b, p), pos, size);
        p += size;
        pos += size;
      }
    }
    this._size = start + info.size;
    this._nextOffset = info.lastOffset + 1;
    if (this._firstAppendTime === undefined) this._firstAppendTime = this.deps.clock.now();
  }

  private indexBatch(baseOffset: number, maxTimestamp: number, position: number, size: number): void {
    if (maxTimestamp > this._maxTimestamp) {
      this._maxTimestamp = maxTimestamp;
      this._offsetOfMaxTimestamp = baseOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
      this.offsetIndex.append(baseOffset, position);
      this.timeIndex.maybeAppend(this._maxTimestamp, this._offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
  }

  // ---- read ------------------------------------------------------------------------------------

  /** First batch at or after `position` (and below maxPosition) whose lastOffset >= offset. */
  async translateOffset(offset: number, maxPosition = this._size): Promise<BatchLocation | undefined> {
    return locateBatch(this.log, this.offsetIndex.lookup(offset).position, Math.min(maxPosition, this._size), offset);
  }

  /**
   * Read whole batches starting with the first batch whose lastOffset >= startOffset, up to maxBytes
   * (at least that first batch if minOneBatch), below maxPosition, and only batches with
   * lastOffset < maxOffset. Undefined if no batch at or after startOffset lies below maxPosition.
   */
  async read(
    startOffset: number,
    maxBytes: number,
    maxPosition = this._size,
    minOneBatch = true,
    maxOffset = Infinity,
    alloc?: (length: number) => Buffer,
  ): Promise<SegmentReadResult | undefined> {
    const limit = Math.min(maxPosition, this._size);
    const start = this.offsetIndex.lookup(startOffset).position;
    return readFromIndexPosition(this.log, start, limit, startOffset, maxBytes, minOneBatch, maxOffset, alloc);
  }

  /** First record with timestamp >= ts and offset >= startingOffset, via the time and offset indexes. */
  async findOffsetByTimestamp(
    timestamp: number,
    startingOffset = this.baseOffset,
  ): Promise<RecordLocation | undefined> {
    if (this._maxTimestamp < timestamp) return undefined;
    const te = this.timeIndex.lookup(timestamp);
    const from = Math.max(te.offset, startingOffset);
    const start = this.offsetIndex.lookup(from).position;
    return findRecordByTimestamp(this.log, start, this._size, timestamp, from, (err, position) =>
      this.deps.logger?.warn({ err, path: this.logPath, position }, 'cannot decompress batch for a timestamp lookup'),
    );
  }

  /** Exact record carrying the segment's max timestamp (batch granularity for compressed batches). */
  async maxTimestampRecord(): Promise<RecordLocation | undefined> {
    if (this._maxTimestamp < 0) return undefined;
    return this.findOffsetByTimestamp(this._maxTimestamp, this._offsetOfMaxTimestamp);
  }

  // ---- load / recovery -------------------------------------------------------------------------

  /** Scan headers from the last index entries to the end, restoring tail state and missing entries. */
  private async loadTail(): Promise<string | undefined> {
    const lastOff = this.offsetIndex.lastEntry();
    const lastTime: TimestampOffset | undefined = this.timeIndex.lastEntry();
    // Batches before the last time entry's offset are covered by its timestamp; everything after it
    // (or everything, if the time index is empty) is scanned. The offset index may lag or lead.
    let start = 0;
    if (lastTime)
      start = this.offsetIndex.lookup(lastOff ? Math.min(lastTime.offset, lastOff.offset) : lastTime.offset).position;
    this._maxTimestamp = lastTime?.timestamp ?? -1;
    this._offsetOfMaxTimestamp = lastTime?.offset ?? this.baseOffset;
    this._nextOffset = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    const lastIndexed = lastOff?.position ?? -1;
    // At start-up (FileSystem.setStartupMode) a tail of bounded size is read by one blocking call.
    const tailBytes = this._size - start;
    const preloaded =
      tailBytes <= MAX_TAIL_READ_NOW ? this.deps.fs.readNow?.(this.log.path, start, tailBytes) : undefined;
    const scan = new BatchHeaderScanner(this.log, start, this._size, undefined, preloaded);
    let prevLast = this.baseOffset - 1;
    while (await scan.next()) {
      if (scan.baseOffset <= prevLast) return `offset ${scan.baseOffset} out of order at position ${scan.position}`;
      if (scan.position > lastIndexed) {
        this.indexBatch(scan.baseOffset, scan.maxTimestamp, scan.position, scan.size);
      } else {
        if (scan.maxTimestamp > this._maxTimestamp) {
          this._maxTimestamp = scan.maxTimestamp;
          this._offsetOfMaxTimestamp = scan.baseOffset;
        }
        if (scan.position === lastIndexed) this.bytesSinceLastIndexEntry = scan.size;
        else this.bytesSinceLastIndexEntry += scan.size;
      }
      prevLast = scan.lastOffset;
      this._nextOffset = scan.lastOffset + 1;
    }
    return scan.problem;
  }

  /** Take the tail state a clean shutdown recorded (segment-sizes.ts) instead of scanning for it. */
  private restoreTail(t: SegmentTail): undefined {
    this._nextOffset = t.nextOffset;
    this._maxTimestamp = t.maxTimestamp;
    this._offsetOfMaxTimestamp = t.offsetOfMaxTimestamp;
    this.bytesSinceLastIndexEntry = t.bytesSinceLastIndexEntry;
    return undefined;
  }

  /** What a clean shutdown records of this segment (clean-shutdown.ts); taken once flushed and closed. */
  tailState(): SegmentTail {
    return {
      baseOffset: this.baseOffset,
      size: this._size,
      offsetIndexBytes: this.offsetIndex.entries * this.offsetIndex.entryWidth,
      timeIndexBytes: this.timeIndex.entries * this.timeIndex.entryWidth,
      nextOffset: this._nextOffset,
      maxTimestamp: this._maxTimestamp,
      offsetOfMaxTimestamp: this._offsetOfMaxTimestamp,
      bytesSinceLastIndexEntry: this.bytesSinceLastIndexEntry,
    };
  }

  private checkIndexRange(): string | undefined {
    const o = this.offsetIndex.lastEntry();
    if (o && o.offset >= this._nextOffset)
      return `offset index entry ${o.offset} beyond next offset ${this._nextOffset}`;
    const t = this.timeIndex.lastEntry();
    if (t && t.offset >= this._nextOffset) return `time index entry ${t.offset} beyond next offset ${this._nextOffset}`;
    return undefined;
  }

  /** Validate every batch from the start, truncate an invalid tail and rebuild both indexes. */
  async recover(options: RecoverOptions = {}): Promise<SegmentRecoveryResult> {
    const fileSize = await this.log.size();
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this._maxTimestamp = -1;
    this._offsetOfMaxTimestamp = this.baseOffset;
    this._nextOffset = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    const scan = await scanValidBatches(this.log, fileSize, this.baseOffset, (chunk, at, position, size) => {
      this.indexBatch(baseOffsetNumber(chunk, at), maxTimestampNumber(chunk, at), position, size);
      options.onBatch?.(chunk, at);
      this._nextOffset = lastOffsetNumber(chunk, at) + 1;
    });
    const pos = scan.validBytes;
    if (pos < fileSize) await this.log.truncate(pos);
    this._size = pos;
    this.flushedSize = -1; // recovered bytes came from the page cache at best: force the next fsync
    if (pos === 0) this._firstAppendTime = undefined;
    else this._firstAppendTime ??= this.deps.clock.now();
    const result: SegmentRecoveryResult = {
      baseOffset: this.baseOffset,
      validBytes: pos,
      truncatedBytes: fileSize - pos,
      batches: scan.batches,
    };
    if (scan.reason) result.reason = scan.reason;
    return result;
  }

  /** Remove every batch containing offsets >= offset (whole batches). Returns bytes removed. */
  async truncateTo(offset: number): Promise<number> {
    const hit = await this.translateOffset(offset);
    if (hit === undefined) return 0;
    const removed = this._size - hit.position;
    this.offsetIndex.truncateToPosition(hit.position);
    this.timeIndex.truncateTo(hit.baseOffset);
    await this.log.truncate(hit.position);
    this._size = hit.position;
    this.flushedSize = Math.min(this.flushedSize, hit.position);
    if (this._size === 0) this._firstAppendTime = undefined;
    const problem = await this.loadTail();
    if (problem) this.deps.logger?.warn({ path: this.logPath, problem }, 'unexpected data after truncation');
    // Persist the shorter indexes now: stale on-disk entries past the cut could point at new data.
    await this.offsetIndex.flush();
    await this.timeIndex.flush();
    await this.txnIndex.truncateFrom(offset);
    return removed;
  }

  // ---- roll / flush / lifecycle ----------------------------------------------------------------

  /** Why this segment should be rolled before an append, or undefined. */
  shouldRoll(c: RollCheck): 'size' | 'time' | 'index-full' | 'offset-overflow' | undefined {
    const size = this._size + (c.pendingBytes ?? 0);
    const firstAppend = this._firstAppendTime ?? (size > 0 ? c.now : undefined);
    if (size > 0 && size + c.appendBytes > c.segmentBytes) return 'size';
    if (size > 0 && firstAppend !== undefined && c.now - firstAppend > c.segmentMs) return 'time';
    if (this.offsetIndex.isFull || this.timeIndex.isFull) return 'index-full';
    if (c.lastOffset - this.baseOffset > INT32_MAX) return 'offset-overflow';
    if (size + c.appendBytes > INT32_MAX) return 'size';
    return undefined;
  }

  /** Called when the segment stops being active: the time index gets a final max-timestamp entry. */
  seal(): void {
    this.timeIndex.maybeAppend(this._maxTimestamp, this._offsetOfMaxTimestamp);
  }

  /** fdatasync the log if it grew; with `full`, also write and fsync the indexes. */
  async flush(full = true): Promise<void> {
    const size = this._size;
    if (this.flushedSize !== size) {
      await this.log.datasync();
      if (this._size >= size) this.flushedSize = size;
    }
    await this.txnIndex.flush();
    if (full) {
      await this.offsetIndex.flush();
      await this.timeIndex.flush();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.log.close();
    await this.offsetIndex.close();
    await this.timeIndex.close();
    await this.txnIndex.close();
  }

  /**
   * Rename the three files to `<base>.<ext><suffix>` (open handles stay valid). The indexes are renamed
   * before the log, so a crash in between never shows the new log name with old index names.
   * Not durable until the caller fsyncs the directory.
   */
  async changeSuffix(suffix: string): Promise<void> {
    const fs = this.deps.fs;
    const idxTargets: Array<[{ path: string; renameTo(p: string): Promise<void> }, string]> = [
      [this.offsetIndex, path.join(this.dir, segmentFileName(this.baseOffset, INDEX_SUFFIX)) + suffix],
      [this.timeIndex, path.join(this.dir, segmentFileName(this.baseOffset, TIME_INDEX_SUFFIX)) + suffix],
    ];
    for (const [idx, target] of idxTargets) {
      if (idx.path !== target) await idx.renameTo(target);
    }
    await this.txnIndex.renameTo(path.join(this.dir, segmentFileName(this.baseOffset, TXN_INDEX_SUFFIX)) + suffix);
    const newLog = path.join(this.dir, segmentFileName(this.baseOffset, LOG_SUFFIX)) + suffix;
    if (newLog !== this.logPath) {
      await fs.rename(this.logPath, newLog);
      this.logPath = newLog;
    }
  }

  /** Rename all three files with a `.deleted` suffix (open handles stay valid). */
  async renameToDeleted(): Promise<void> {
    const fs = this.deps.fs;
    const newLog = this.logPath + DELETED_SUFFIX;
    await fs.rename(this.logPath, newLog);
    this.logPath = newLog;
    for (const idx of [this.offsetIndex, this.timeIndex, this.txnIndex]) {
      try {
        await idx.renameTo(idx.path + DELETED_SUFFIX);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** Close and unlink the files (under whatever names they have now). */
  async delete(): Promise<void> {
    await this.close();
    const fs = this.deps.fs;
    await fs.rmrf(this.logPath);
    await fs.rmrf(this.offsetIndex.path);
    await fs.rmrf(this.timeIndex.path);
    await fs.rmrf(this.txnIndex.path);
  }
}
