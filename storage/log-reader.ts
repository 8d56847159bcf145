/**
 * LogReader: the read side of one PartitionLog (partition-log.ts), kept out of it: Fetch reads and
 * ListOffsets timestamp lookups over the partition's segments. It stores nothing on disk.
 *
 * Reads are not queued behind the log's mutations: they use the segment list, sizes and bounds (log
 * start offset, high watermark, log end offset, read live from the owner) as they are when they run.
 * A read returns whole batches from a single segment (Kafka semantics), starting at the floor segment
 * of the fetch offset and moving on only past segments with nothing at or after it.
 *
 * Invariant: the cached file position of the high watermark (`hwPosition`) is used only for the
 * segment and offset it was computed for; the owner calls `forget()` when the high watermark moves, a
 * segment leaves the log or the log is truncated.
 */

import type { SegmentSet } from './segment-set.js';
import type { LogSegment } from './segment.js';
import type { RecordLocation } from './batch-scan.js';
import {
  NONE,
  OFFSET_OUT_OF_RANGE,
  LATEST_TIMESTAMP,
  EARLIEST_TIMESTAMP,
  MAX_TIMESTAMP,
} from './partition-log-types.js';
import type { ReadOptions, ReadResult } from './partition-log-types.js';

const EMPTY = Buffer.alloc(0);

/** The owner's offsets, read at the moment they are needed. */
export interface LogBounds {
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly logEndOffset: number;
}

export class LogReader {
  private hwPosition: { offset: number; segment: LogSegment; position: number } | undefined;

  constructor(
    private readonly segments: SegmentSet,
    private readonly bounds: LogBounds,
  ) {}

  /** Drop the cached high-watermark position (all of it, or only if it lies in `seg`). */
  forget(seg?: LogSegment): void {
    if (seg === undefined || this.hwPosition?.segment === seg) this.hwPosition = undefined;
  }

  /** Read whole batches from fetchOffset, from a single segment (Kafka semantics). */
  async read(fetchOffset: number, maxBytes: number, options: ReadOptions = {}): Promise<ReadResult> {
    const leo = this.bounds.logEndOffset;
    const logStartOffset = this.bounds.logStartOffset;
    const base = { highWatermark: this.bounds.highWatermark, logStartOffset, logEndOffset: leo };
    if (fetchOffset < logStartOffset || fetchOffset > leo)
      return { errorCode: OFFSET_OUT_OF_RANGE, records: EMPTY, ...base };
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
    if (maxOffset === this.bounds.highWatermark) this.hwPosition = { offset: maxOffset, segment: seg, position };
    return position;
  }

  /**
   * ListOffsets: first record with timestamp >= ts (offset >= logStartOffset), or the special
   * LATEST / EARLIEST / MAX_TIMESTAMP lookups. Undefined if no record qualifies.
   */
  async offsetForTimestamp(timestamp: number): Promise<RecordLocation | undefined> {
    if (timestamp === LATEST_TIMESTAMP) return { offset: this.bounds.logEndOffset, timestamp: -1 };
    if (timestamp === EARLIEST_TIMESTAMP) return { offset: this.bounds.logStartOffset, timestamp: -1 };
    if (timestamp === MAX_TIMESTAMP) return this.maxTimestampOffset();
    for (const seg of this.segments.values().slice()) {
      if (seg.nextOffset <= this.bounds.logStartOffset || seg.maxTimestamp < timestamp) continue;
      const loc = await seg.findOffsetByTimestamp(timestamp, this.bounds.logStartOffset);
      if (loc) return loc;
    }
    return undefined;
  }

  /** The record with the largest timestamp (earliest such), or undefined if the log is empty. */
  async maxTimestampOffset(): Promise<RecordLocation | undefined> {
    let best: LogSegment | undefined;
    for (const seg of this.segments) {
      if (seg.nextOffset <= this.bounds.logStartOffset || seg.maxTimestamp < 0) continue;
      if (best === undefined || seg.maxTimestamp > best.maxTimestamp) best = seg;
    }
    if (best === undefined) return undefined;
    const loc = await best.maxTimestampRecord();
    const logStartOffset = this.bounds.logStartOffset;
    if (loc && loc.offset < logStartOffset) return { offset: logStartOffset, timestamp: loc.timestamp };
    return loc;
  }
}
