/**
 * Batch-level scanning helpers for segment files (no record decoding on the hot path).
 *
 * Offsets and timestamps are handled as JS numbers (exact up to 2^53 - 1), through the `...Number` header
 * accessors of protocol/records/batch-header.ts (the one place that reads batch header fields).
 *
 * - `BatchHeaderScanner` walks record-batch v2 headers in a file region with chunked positional reads,
 *   stopping (with a `problem` description) at anything that cannot be a batch header: a length below
 *   the v2 header size, an entry running past the region end (torn tail), a magic other than 2.
 * - `checkBatch` fully validates one in-memory batch (bounds, magic 2, CRC-32C over [21, end)).
 * - `firstRecordAtOrAfter` walks the records of one batch (zig-zag varints) to find the first record
 *   whose timestamp is >= a target; compressed batches are decompressed by the caller (segment.ts, via
 *   protocol/records/compression) and their records section passed in.
 */

import { crc32c } from '../protocol/records/crc.js';
import {
  ATTRIBUTES_OFFSET,
  attributes,
  BATCH_HEADER_SIZE,
  baseOffsetNumber,
  baseTimestampNumber,
  COMPRESSION_CODEC_MASK,
  entrySize,
  LOG_OVERHEAD,
  lastOffsetDelta,
  magic as magicOf,
  maxTimestampNumber,
  partitionLeaderEpoch,
  RECORDS_OFFSET,
  recordsCount,
  setPartitionLeaderEpoch,
  storedCrc,
  TIMESTAMP_TYPE_MASK,
  writeInt64Number,
} from '../protocol/records/batch-header.js';
import type { FileHandle } from './fs.js';
import { readAt } from './fs.js';

/**
 * Validate the batch at `pos` given `available` bytes from `pos`. Returns a reason or undefined.
 * `torn` is true when the failure is only that the batch runs past the available bytes.
 */
export function checkBatch(buf: Buffer, pos: number, available: number): { reason: string; torn: boolean } | undefined {
  if (available < LOG_OVERHEAD) return { reason: `${available} trailing bytes`, torn: true };
  const size = entrySize(buf, pos);
  if (size < BATCH_HEADER_SIZE) return { reason: `batch length ${size} below header size`, torn: false };
  if (size > available) return { reason: `batch of ${size} bytes runs past end (${available} left)`, torn: true };
  const magic = magicOf(buf, pos);
  if (magic !== 2) return { reason: `magic ${magic}`, torn: false };
  if (lastOffsetDelta(buf, pos) < 0) return { reason: 'negative lastOffsetDelta', torn: false };
  const crc = crc32c(buf, pos + ATTRIBUTES_OFFSET, pos + size);
  if (crc >>> 0 !== storedCrc(buf, pos)) return { reason: 'CRC mismatch', torn: false };
  return undefined;
}

/** Walks batch headers of a file region [start, end) with chunked reads. */
export class BatchHeaderScanner {
  /** Fields of the current batch (valid after next() returned true). */
  position = 0;
  size = 0;
  baseOffset = 0;
  lastOffset = 0;
  maxTimestamp = -1;
  leaderEpoch = -1;
  /** Set when the scan stopped before `end` because of malformed data. */
  problem: string | undefined;

  private nextPos: number;
  private chunk: Buffer;
  private chunkStart = 0;
  private chunkLen = 0;

  constructor(
    private readonly file: FileHandle,
    start: number,
    private readonly end: number,
    chunkSize = 16 * 1024,
    /** The bytes of [start, start + preloaded.length), already read: scanned without reading the file. */
    preloaded?: Buffer,
  ) {
    this.nextPos = start;
    if (preloaded) {
      this.chunk = preloaded;
      this.chunkStart = start;
      this.chunkLen = preloaded.length;
    } else this.chunk = Buffer.allocUnsafe(chunkSize);
  }

  async next(): Promise<boolean> {
    const pos = this.nextPos;
    if (pos >= this.end) return false;
    const remaining = this.end - pos;
    if (remaining < BATCH_HEADER_SIZE) {
      this.problem = `${remaining} trailing bytes at ${pos}`;
      return false;
    }
    if (pos < this.chunkStart || pos + BATCH_HEADER_SIZE > this.chunkStart + this.chunkLen) {
      const data = await readAt(this.file, pos, Math.min(this.chunk.length, remaining), this.chunk);
      this.chunkStart = pos;
      this.chunkLen = data.length;
      if (data.length < BATCH_HEADER_SIZE) {
        this.problem = `short read at ${pos}`;
        return false;
      }
    }
    const c = this.chunk;
    const at = pos - this.chunkStart;
    const size = entrySize(c, at);
    if (size < BATCH_HEADER_SIZE) {
      this.problem = `batch length ${size} at ${pos}`;
      return false;
    }
    if (size > remaining) {
      this.problem = `batch of ${size} bytes at ${pos} runs past ${this.end}`;
      return false;
    }
    const magic = magicOf(c, at);
    if (magic !== 2) {
      this.problem = `magic ${magic} at ${pos}`;
      return false;
    }
    this.position = pos;
    this.size = size;
    this.baseOffset = baseOffsetNumber(c, at);
    this.lastOffset = this.baseOffset + lastOffsetDelta(c, at);
    this.maxTimestamp = maxTimestampNumber(c, at);
    this.leaderEpoch = partitionLeaderEpoch(c, at);
    this.nextPos = pos + size;
    return true;
  }
}

// ---- record walking (uncompressed batches) ------------------------------------------------------

let varEnd = 0;

function readVarint(buf: Buffer, pos: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new RangeError('varint past end');
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      varEnd = pos;
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
    mul *= 128;
  }
  throw new RangeError('varint too long');
}

export interface RecordLocation {
  offset: number;
  timestamp: number;
}

/** True if the records of the batch at `pos` are compressed and carry their own timestamps. */
export function needsDecompressionForTimestamps(buf: Buffer, pos: number): boolean {
  const attrs = attributes(buf, pos);
  return (attrs & COMPRESSION_CODEC_MASK) !== 0 && (attrs & TIMESTAMP_TYPE_MASK) === 0;
}

/**
 * First record (offset >= minOffset) of the batch at `buf[pos..]` whose timestamp >= target.
 * LogAppendTime batches: every record carries the batch max timestamp. Compressed CreateTime batches:
 * pass the decompressed records section as `records`; without it the answer is at batch granularity
 * (first offset >= minOffset, batch max timestamp). Malformed records: undefined.
 */
export function firstRecordAtOrAfter(
  buf: Buffer,
  pos: number,
  target: number,
  minOffset: number,
  records?: Buffer,
): RecordLocation | undefined {
  const base = baseOffsetNumber(buf, pos);
  const maxTs = maxTimestampNumber(buf, pos);
  if (maxTs < target) return undefined;
  const attrs = attributes(buf, pos);
  const first = Math.max(base, minOffset);
  if ((attrs & TIMESTAMP_TYPE_MASK) !== 0 || ((attrs & COMPRESSION_CODEC_MASK) !== 0 && records === undefined)) {
    return first <= base + lastOffsetDelta(buf, pos) ? { offset: first, timestamp: maxTs } : undefined;
  }
  const baseTs = baseTimestampNumber(buf, pos);
  const count = recordsCount(buf, pos);
  const view = records ?? buf.subarray(0, pos + entrySize(buf, pos));
  let p = records ? 0 : pos + RECORDS_OFFSET;
  try {
    for (let i = 0; i < count && p < view.length; i++) {
      const len = readVarint(view, p);
      const recStart = varEnd;
      const tsDelta = readVarint(view, recStart + 1); // skip attributes int8
      const offsetDelta = readVarint(view, varEnd);
      const ts = baseTs + tsDelta;
      const offset = base + offsetDelta;
      if (offset >= minOffset && ts >= target) return { offset, timestamp: ts };
      p = recStart + len;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

// ---- produce path --------------------------------------------------------------------------------

export interface AppendScan {
  batches: number;
  /** Offsets the batches will take (sum of lastOffsetDelta + 1). */
  offsets: number;
  maxTimestamp: number;
  /** Offset delta (from the first offset of the append) of the batch carrying maxTimestamp. */
  maxTimestampDelta: number;
}

/**
 * Structural check of a produce buffer (one or more v2 batches back to back), without CRC: lengths
 * tile the buffer exactly, magic 2, lastOffsetDelta >= 0. Full validation is the caller's job.
 * Returns a reason string on failure.
 */
export function scanAppend(buf: Buffer): AppendScan | string {
  if (buf.length === 0) return 'empty append';
  let pos = 0;
  let batches = 0;
  let offsets = 0;
  let maxTimestamp = -1;
  let maxTimestampDelta = 0;
  while (pos < buf.length) {
    if (buf.length - pos < BATCH_HEADER_SIZE) return `truncated batch at byte ${pos}`;
    const size = entrySize(buf, pos);
    if (size < BATCH_HEADER_SIZE || pos + size > buf.length) return `bad batch length ${size} at byte ${pos}`;
    if (magicOf(buf, pos) !== 2) return `unsupported magic at byte ${pos}`;
    const delta = lastOffsetDelta(buf, pos);
    if (delta < 0) return `negative lastOffsetDelta at byte ${pos}`;
    const ts = maxTimestampNumber(buf, pos);
    if (ts > maxTimestamp) {
      maxTimestamp = ts;
      maxTimestampDelta = offsets;
    }
    offsets += delta + 1;
    pos += size;
    batches++;
  }
  return { batches, offsets, maxTimestamp, maxTimestampDelta };
}

/** Stamp consecutive base offsets from `firstOffset` (and the leader epoch, if given) in place. */
export function stampAppend(buf: Buffer, firstOffset: number, leaderEpoch: number | undefined): void {
  let pos = 0;
  let offset = firstOffset;
  while (pos < buf.length) {
    writeInt64Number(buf, pos, offset);
    if (leaderEpoch !== undefined) setPartitionLeaderEpoch(buf, leaderEpoch, pos);
    offset += lastOffsetDelta(buf, pos) + 1;
    pos += entrySize(buf, pos);
  }
}

/** Consecutive batches of `records` grouped by their partition leader epoch. */
export function epochRuns(records: Buffer): Array<{ epoch: number; records: Buffer }> {
  const runs: Array<{ epoch: number; records: Buffer }> = [];
  let pos = 0;
  let start = 0;
  let epoch = Number.NaN;
  while (pos + BATCH_HEADER_SIZE <= records.length) {
    const size = entrySize(records, pos);
    if (size <= BATCH_HEADER_SIZE || pos + size > records.length) break;
    const e = partitionLeaderEpoch(records, pos);
    if (e !== epoch && pos > start) {
      runs.push({ epoch, records: records.subarray(start, pos) });
      start = pos;
    }
    epoch = e;
    pos += size;
  }
  if (pos > start) runs.push({ epoch, records: records.subarray(start, pos) });
  return runs;
}
