/**
 * Removing data from a PartitionLog (partition-log.ts), kept out of it: DeleteRecords (moving the log start
 * offset), retention (deleting old segments), replication truncation (dropping a divergent tail, or the whole
 * log to restart it at an offset) and the retirement of segments leaving the log.
 *
 * Every method runs on the log's mutation queue (the PartitionLog enqueues it). The log's offsets are kept in
 * the LogOffsets object the log shares with this class.
 *
 * Invariants:
 * - logStartOffset <= highWatermark <= logEndOffset after every operation (truncation lowers the high
 *   watermark to the new log end; retention raises it to the new log start).
 * - A segment leaving the log is taken out of the segment list, the flusher and the reader's cached position
 *   at once; its files are renamed `*.deleted` and unlinked after file.delete.delay.ms (segment-deleter.ts).
 * - A moved log start is persisted (`persistLogStartOffset`) before the segments below it are deleted, and the
 *   leader-epoch cache and producer state follow every deletion and truncation.
 * - `truncations` counts truncations, so the cleaner can refuse a swap that raced with one.
 */
import type { Logger } from 'pino';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import type { LogFlusher } from './log-flusher.js';
import { segmentConfigOf } from './log-loader.js';
import type { LogReader } from './log-reader.js';
import { NONE, OFFSET_OUT_OF_RANGE, type DeleteRecordsResult } from './partition-log-types.js';
import type { PartitionProducers } from './partition-producers.js';
import { selectDeletableSegments } from './retention.js';
import type { SegmentDeleter } from './segment-deleter.js';
import type { SegmentSet } from './segment-set.js';
import { LogSegment, type SegmentDeps } from './segment.js';

/** The offsets of a log, shared (mutable) by the PartitionLog and its LogDeletion. */
export interface LogOffsets {
  logStart: number;
  highWatermark: number;
  /** Incremented by every truncation. */
  truncations: number;
}

/** What LogDeletion needs from its PartitionLog. */
export interface LogDeletionDeps {
  dir: string;
  segments: SegmentSet;
  offsets: LogOffsets;
  leaderEpochCache: LeaderEpochCache;
  producers: PartitionProducers;
  flusher: LogFlusher;
  reader: LogReader;
  deleter: SegmentDeleter;
  logger: Logger | undefined;
  config(): LogConfig;
  segmentDeps(): SegmentDeps;
  persistLogStartOffset(): Promise<void> | undefined;
}

export class LogDeletion {
  constructor(private readonly d: LogDeletionDeps) {}

  private get logEndOffset(): number {
    return this.d.segments.last()!.nextOffset;
  }

  /** DeleteRecords: move the log start offset to `offset` (-1 = high watermark). */
  async deleteRecordsBefore(offset: number): Promise<DeleteRecordsResult> {
    const o = this.d.offsets;
    const target = offset === -1 ? o.highWatermark : offset;
    if (target < 0 || target > o.highWatermark) return { errorCode: OFFSET_OUT_OF_RANGE, lowWatermark: o.logStart };
    if (target > o.logStart) {
      o.logStart = target;
      if (this.d.leaderEpochCache.truncateFromStart(target)) await this.d.leaderEpochCache.flush();
      await this.d.persistLogStartOffset();
      await this.deleteSegments(selectDeletableSegments(this.d.segments.values(), o.logStart, undefined, 0));
    }
    return { errorCode: NONE, lowWatermark: o.logStart };
  }

  /**
   * Retention: delete the oldest non-active segments that are wholly below the log start offset, whose
   * max timestamp is older than now - retention.ms, or while the log exceeds retention.bytes by at
   * least that segment's size. Returns the number of segments deleted.
   */
  async deleteOldSegments(now: number): Promise<number> {
    const o = this.d.offsets;
    const doomed = selectDeletableSegments(this.d.segments.values(), o.logStart, this.d.config(), now);
    if (doomed.length === 0) return 0;
    await this.deleteSegments(doomed);
    const first = this.d.segments.first()!;
    if (first.baseOffset > o.logStart) {
      o.logStart = first.baseOffset;
      if (o.highWatermark < o.logStart) o.highWatermark = o.logStart;
      if (this.d.leaderEpochCache.truncateFromStart(o.logStart)) await this.d.leaderEpochCache.flush();
    }
    return doomed.length;
  }

  /** Remove segments from the log now; their files go `.deleted` and are unlinked later. */
  private async deleteSegments(segs: LogSegment[]): Promise<void> {
    for (const seg of segs) await this.retire(seg);
    if (segs.length) {
      this.d.logger?.info({ dir: this.d.dir, segments: segs.map((s) => s.baseOffset) }, 'deleted segments');
      await this.d.producers.afterDeleteSegments();
    }
  }

  /** Take `seg` out of the log now; its files go `.deleted` and are unlinked after file.delete.delay.ms. */
  async retire(seg: LogSegment): Promise<void> {
    this.d.segments.remove(seg);
    this.d.flusher.forget(seg);
    this.d.reader.forget(seg);
    await this.d.deleter.retire(seg, this.d.config().fileDeleteDelayMs);
  }

  /** Replication: remove every record at offset >= `offset` (whole batches). Returns true if anything changed. */
  async truncateTo(offset: number): Promise<boolean> {
    const o = this.d.offsets;
    if (offset >= this.logEndOffset) return false;
    o.truncations++;
    if (offset < this.d.segments.first()!.baseOffset) {
      await this.truncateFullyLocked(offset);
      return true;
    }
    try {
      await this.deleteSegments(this.d.segments.above(offset));
      await this.d.segments.floor(offset)!.truncateTo(offset);
    } finally {
      // Whole batches go, so the log end may land below `offset` (and below the log start).
      o.logStart = Math.min(o.logStart, this.logEndOffset);
      this.afterTruncation();
    }
    if (this.d.leaderEpochCache.truncateFromEnd(this.logEndOffset)) await this.d.leaderEpochCache.flush();
    await this.d.producers.afterTruncation();
    return true;
  }

  /** Replication: drop everything and restart the log at `offset`. */
  async truncateFullyLocked(offset: number): Promise<void> {
    this.d.offsets.truncations++;
    const all = this.d.segments.values().slice();
    const seg = await LogSegment.create(this.d.dir, offset, segmentConfigOf(this.d.config()), this.d.segmentDeps());
    await this.deleteSegments(all.filter((s) => s.baseOffset !== offset));
    if (all.some((s) => s.baseOffset === offset)) {
      const same = all.find((s) => s.baseOffset === offset)!;
      this.d.segments.remove(same);
      await same.close();
    }
    this.d.segments.add(seg);
    this.d.flusher.markDirDirty();
    this.d.offsets.logStart = offset;
    this.afterTruncation();
    this.d.leaderEpochCache.clear();
    await this.d.leaderEpochCache.flush();
    await this.d.producers.clear();
    await this.d.persistLogStartOffset();
  }

  private afterTruncation(): void {
    const o = this.d.offsets;
    const leo = this.logEndOffset;
    this.d.reader.forget();
    if (o.highWatermark > leo) o.highWatermark = leo;
    if (o.highWatermark < o.logStart) o.highWatermark = o.logStart;
    this.d.flusher.truncatedTo(leo);
  }
}
