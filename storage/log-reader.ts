/**
 * LogReader: the read side of one PartitionLog (partition-log.ts), kept out of it: Fetch reads and
 * ListOffsets timestamp lookups over the partition's segments. It stores nothing on disk.
 *
 * Reads are not queued behind the log's mutations: they use the segment list, sizes and bounds (log
 * start offset, high watermark, log end offset, read live from the owner) as they are when they run.
 * A read returns whole batches from a single segment (Kafka semantics), starting at the floor segment
 * of the fetch offset and moving on only past segments with nothing at or after it, or, when all it
 * found there are record-less batches up to the segment's end (the log cleaner leaves them), prefixing
 * them to what the next segments hold (see `onlyEmptyBatchesUpTo`).
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
import {
  BASE_OFFSET_OFFSET,
  BATCH_HEADER_SIZE,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  RECORDS_COUNT_OFFSET,
} from '../protocol/records/batch-header.js';

const EMPTY = Buffer.alloc(0);

/**
 * Whether `records` (whole batches) holds no record at all and its last batch ends at `nextOffset`.
 * The log cleaner keeps the last batch of each cleaned segment, emptied if its records went; a read that
 * found only such batches continues into the next segment: some clients (kafkajs) do not move past a
 * fetch that returns batches without records, and would stop there for good.
 */
function onlyEmptyBatchesUpTo(records: Buffer, nextOffset: number): boolean {
  let pos = 0;
  let last = -1;
  while (pos + BATCH_HEADER_SIZE <= records.length) {
    if (records.readInt32BE(pos + RECORDS_COUNT_OFFSET) !== 0) return false;
    last =
      Number(records.readBigInt64BE(pos + BASE_OFFSET_OFFSET)) + records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
    pos += LOG_OVERHEAD + records.readInt32BE(pos + LENGTH_OFFSET);
  }
  return pos === records.length && last + 1 === nextOffset;
}

/** A read's result, spelled out (not spread): one object shape for every read (monomorphic code downstream). */
function readResult(
  errorCode: number,
  records: Buffer,
  highWatermark: number,
  logStartOffset: number,
  logEndOffset: number,
): ReadResult {
  return { errorCode, records, highWatermark, logStartOffset, logEndOffset };
}

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
    const hw = this.bounds.highWatermark;
    if (fetchOffset < logStartOffset || fetchOffset > leo)
      return readResult(OFFSET_OUT_OF_RANGE, EMPTY, hw, logStartOffset, leo);
    const maxOffset = Math.min(options.maxOffset ?? leo, leo);
    if (fetchOffset >= maxOffset) return readResult(NONE, EMPTY, hw, logStartOffset, leo);
    const minOne = options.minOneBatch ?? true;
    let seg = this.segments.floor(fetchOffset) ?? this.segments.first();
    // Record-less batches that end a segment (left by the log cleaner): sent with what follows them.
    const emptyPrefix: Buffer[] = [];
    let prefixBytes = 0;
    let from = fetchOffset;
    const answer = (records: Buffer): ReadResult => {
      const all = emptyPrefix.length === 0 ? records : Buffer.concat([...emptyPrefix, records]);
      return readResult(NONE, all, hw, logStartOffset, leo);
    };
    while (seg !== undefined) {
      if (seg.baseOffset >= maxOffset) break;
      const maxPosition = await this.positionLimit(seg, maxOffset);
      const room = Math.max(0, maxBytes - prefixBytes);
      const r = await seg.read(from, room, maxPosition, minOne, maxOffset, options.alloc);
      if (r !== undefined) {
        const next = seg.nextOffset;
        if (r.records.length === 0 || next >= maxOffset || !onlyEmptyBatchesUpTo(r.records, next)) {
          return answer(r.records);
        }
        emptyPrefix.push(r.records);
        prefixBytes += r.records.length;
        from = next;
      }
      seg = this.segments.next(seg);
    }
    return answer(EMPTY);
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
