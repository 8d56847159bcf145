/**
 * Reads of one segment's `.log` file (segment.ts), kept out of it: finding the batch holding an offset,
 * cutting a byte range of whole batches, and finding the first record at or after a timestamp. The caller
 * (LogSegment) gives the start position its indexes yield and the end position to stop at (its `size` as
 * observed when the read started, so a concurrent append is never seen half-written). A fetch's read does both
 * steps in one file read from the index position (`readFromIndexPosition`), falling back to the two steps
 * when that read does not hold what it needs; a caller's `alloc` gives the memory read into (reused slabs).
 *
 * Invariants: reads never go past `end`; a returned range holds whole batches only (never a partial one);
 * only timestamp lookups decode a batch (decompressing it if needed), a batch that cannot be decompressed
 * being looked at with its header timestamps only.
 */
import type { FileHandle } from './fs.js';
import { readAt } from './fs.js';
import { BatchHeaderScanner, firstRecordAtOrAfter, needsDecompressionForTimestamps } from './batch-scan.js';
import type { RecordLocation } from './batch-scan.js';
import {
  attributes,
  BATCH_HEADER_SIZE,
  baseOffsetNumber,
  COMPRESSION_CODEC_MASK,
  entrySize,
  lastOffsetNumber,
  magic,
} from '../protocol/records/batch-header.js';
import { decompress } from '../protocol/records/compression.js';
import type { BatchLocation, SegmentReadResult } from './segment-types.js';

/** First batch at or after `start` (and below `end`) whose lastOffset >= offset. */
export async function locateBatch(
  log: FileHandle,
  start: number,
  end: number,
  offset: number,
): Promise<BatchLocation | undefined> {
  const scan = new BatchHeaderScanner(log, start, end);
  while (await scan.next()) {
    if (scan.lastOffset >= offset) {
      return { position: scan.position, size: scan.size, baseOffset: scan.baseOffset, lastOffset: scan.lastOffset };
    }
  }
  return undefined;
}

/**
 * Whole batches from `hit` up to maxBytes (at least that first batch if minOneBatch), below `limit`, and only
 * batches with lastOffset < maxOffset. The range is read into `alloc(length)` if given (reused memory).
 */
export async function readWholeBatches(
  log: FileHandle,
  hit: BatchLocation,
  limit: number,
  maxBytes: number,
  minOneBatch: boolean,
  maxOffset: number,
  alloc?: (length: number) => Buffer,
): Promise<SegmentReadResult> {
  const want = Math.min(limit - hit.position, minOneBatch ? Math.max(maxBytes, hit.size) : maxBytes);
  if (want < hit.size || hit.lastOffset >= maxOffset) {
    return { records: Buffer.alloc(0), firstBatchOffset: hit.baseOffset, position: hit.position };
  }
  const buf = await readAt(log, hit.position, want, alloc?.(want));
  return { records: wholeBatches(buf, maxOffset), firstBatchOffset: hit.baseOffset, position: hit.position };
}

/** Bytes read past maxBytes so that the batch holding the offset is usually found in the same read. */
const LOCATE_SLACK = 16 * 1024;

/**
 * `locateBatch` then `readWholeBatches` in one file read (issue #16: one thread-pool round trip per partition,
 * not two): reads from the index position `start` maxBytes plus some slack, finds the batch holding `offset` in
 * memory and cuts the whole batches from it. When that read does not hold all it needs (the batch lies further
 * than the slack, a first batch larger than what was read, anything malformed), it does the two steps instead,
 * so the answer is always theirs. Undefined: no batch at or after `offset` below `limit`.
 */
export async function readFromIndexPosition(
  log: FileHandle,
  start: number,
  limit: number,
  offset: number,
  maxBytes: number,
  minOneBatch: boolean,
  maxOffset: number,
  alloc?: (length: number) => Buffer,
): Promise<SegmentReadResult | undefined> {
  // The fallback: locate the batch with header reads, then read the whole batches from it.
  const twoSteps = async (): Promise<SegmentReadResult | undefined> => {
    const found = await locateBatch(log, start, limit, offset);
    return found && readWholeBatches(log, found, limit, maxBytes, minOneBatch, maxOffset, alloc);
  };
  const len = Math.min(limit - start, maxBytes + LOCATE_SLACK);
  if (len < BATCH_HEADER_SIZE) return twoSteps();
  const buf = await readAt(log, start, len, alloc?.(len));
  let pos = 0;
  for (;;) {
    if (pos + BATCH_HEADER_SIZE > buf.length) {
      if (start + pos >= limit) return undefined; // every batch below the limit ends before the offset
      return twoSteps();
    }
    const size = entrySize(buf, pos);
    if (size < BATCH_HEADER_SIZE || size > limit - start - pos || magic(buf, pos) !== 2) {
      return twoSteps();
    }
    if (lastOffsetNumber(buf, pos) >= offset) break;
    pos += size;
  }
  const hit: BatchLocation = {
    position: start + pos,
    size: entrySize(buf, pos),
    baseOffset: baseOffsetNumber(buf, pos),
    lastOffset: lastOffsetNumber(buf, pos),
  };
  const want = Math.min(limit - hit.position, minOneBatch ? Math.max(maxBytes, hit.size) : maxBytes);
  if (want < hit.size || hit.lastOffset >= maxOffset) {
    return { records: Buffer.alloc(0), firstBatchOffset: hit.baseOffset, position: hit.position };
  }
  if (pos + want > buf.length) return readWholeBatches(log, hit, limit, maxBytes, minOneBatch, maxOffset, alloc);
  return {
    records: wholeBatches(buf.subarray(pos, pos + want), maxOffset),
    firstBatchOffset: hit.baseOffset,
    position: hit.position,
  };
}

/** The leading whole batches of `buf` with lastOffset < maxOffset. */
function wholeBatches(buf: Buffer, maxOffset: number): Buffer {
  let end = 0;
  while (end + BATCH_HEADER_SIZE <= buf.length) {
    const size = entrySize(buf, end);
    if (size < BATCH_HEADER_SIZE || end + size > buf.length || lastOffsetNumber(buf, end) >= maxOffset) break;
    end += size;
  }
  return buf.subarray(0, end);
}

/**
 * First record with timestamp >= `timestamp` and offset >= `from`, scanning batches from `start` to `end`.
 * `onUndecompressable` hears of a batch that cannot be decompressed (its records are then not looked into).
 */
export async function findRecordByTimestamp(
  log: FileHandle,
  start: number,
  end: number,
  timestamp: number,
  from: number,
  onUndecompressable: (err: unknown, position: number) => void,
): Promise<RecordLocation | undefined> {
  const scan = new BatchHeaderScanner(log, start, end);
  while (await scan.next()) {
    if (scan.lastOffset < from || scan.maxTimestamp < timestamp) continue;
    const batch = await readAt(log, scan.position, scan.size);
    if (batch.length < scan.size) return undefined;
    let records: Buffer | undefined;
    if (needsDecompressionForTimestamps(batch, 0)) {
      const codec = attributes(batch) & COMPRESSION_CODEC_MASK;
      try {
        records = await decompress(codec, batch.subarray(BATCH_HEADER_SIZE));
      } catch (err) {
        onUndecompressable(err, scan.position);
      }
    }
    const loc = firstRecordAtOrAfter(batch, 0, timestamp, from, records);
    if (loc) return loc;
  }
  return undefined;
}
