/**
 * Batch-level scanning helpers for segment files (no record decoding on the hot path).
 *
 * Offsets and timestamps are handled as JS numbers (exact up to 2^53 - 1), read from the int64 header
 * fields as two int32 halves; the protocol layer converts at its boundary.
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
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  COMPRESSION_CODEC_MASK,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
} from '../protocol/records/batch-header.js';
import type { FileHandle } from './fs.js';
import { readAt } from './fs.js';

const TWO_32 = 4294967296;

/** Read a big-endian int64 as a JS number. */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_32, pos + 4);
}

export function batchBaseOffset(buf: Buffer, pos: number): number {
  return readInt64(buf, pos);
}

export function batchLastOffset(buf: Buffer, pos: number): number {
  return readInt64(buf, pos) + buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
}

export function batchMaxTimestamp(buf: Buffer, pos: number): number {
  return readInt64(buf, pos + MAX_TIMESTAMP_OFFSET);
}

export function batchSize(buf: Buffer, pos: number): number {
  return LOG_OVERHEAD + buf.readInt32BE(pos + LENGTH_OFFSET);
}

/**
 * Validate the batch at `pos` given `available` bytes from `pos`. Returns a reason or undefined.
 * `torn` is true when the failure is only that the batch runs past the available bytes.
 */
export function checkBatch(buf: Buffer, pos: number, available: number): { reason: string; torn: boolean } | undefined {
  if (available < LOG_OVERHEAD) return { reason: `${available} trailing bytes`, torn: true };
  const size = batchSize(buf, pos);
  if (size < BATCH_HEADER_SIZE) return { reason: `batch length ${size} below header size`, torn: false };
  if (size > available) return { reason: `batch of ${size} bytes runs past end (${available} left)`, torn: true };
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic !== 2) return { reason: `magic ${magic}`, torn: false };
  if (buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) < 0) return { reason: 'negative lastOffsetDelta', torn: false };
  const crc = crc32c(buf, pos + ATTRIBUTES_OFFSET, pos + size);
  if (crc >>> 0 !== buf.readUInt32BE(pos + CRC_OFFSET)) return { reason: 'CRC mismatch', torn: false };
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
  ) {
    this.nextPos = start;
    this.chunk = Buffer.allocUnsafe(chunkSize);
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
    const size = batchSize(c, at);
    if (size < BATCH_HEADER_SIZE) {
      this.problem = `batch length ${size} at ${pos}`;
      return false;
    }
    if (size > remaining) {
      this.problem = `batch of ${size} bytes at ${pos} runs past ${this.end}`;
      return false;
    }
    const magic = c.readInt8(at + MAGIC_OFFSET);
    if (magic !== 2) {
      this.problem = `magic ${magic} at ${pos}`;
      return false;
    }
    this.position = pos;
    this.size = size;
    this.baseOffset = readInt64(c, at);
    this.lastOffset = this.baseOffset + c.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    this.maxTimestamp = readInt64(c, at + MAX_TIMESTAMP_OFFSET);
    this.leaderEpoch = c.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET);
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
  const attrs = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
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
  const base = readInt64(buf, pos);
  const maxTs = readInt64(buf, pos + MAX_TIMESTAMP_OFFSET);
  if (maxTs < target) return undefined;
  const attrs = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const first = Math.max(base, minOffset);
  if ((attrs & TIMESTAMP_TYPE_MASK) !== 0 || ((attrs & COMPRESSION_CODEC_MASK) !== 0 && records === undefined)) {
    return first <= base + buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)
      ? { offset: first, timestamp: maxTs }
      : undefined;
  }
  const baseTs = readInt64(buf, pos + BASE_TIMESTAMP_OFFSET);
  const count = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET);
  const view = records ?? buf.subarray(0, pos + batchSize(buf, pos));
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
    const size = batchSize(buf, pos);
    if (size < BATCH_HEADER_SIZE || pos + size > buf.length) return `bad batch length ${size} at byte ${pos}`;
    if (buf.readInt8(pos + MAGIC_OFFSET) !== 2) return `unsupported magic at byte ${pos}`;
    const delta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
    if (delta < 0) return `negative lastOffsetDelta at byte ${pos}`;
    const ts = readInt64(buf, pos + MAX_TIMESTAMP_OFFSET);
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
    writeInt64(buf, pos, offset);
    if (leaderEpoch !== undefined) buf.writeInt32BE(leaderEpoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
    offset += buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += batchSize(buf, pos);
  }
}
