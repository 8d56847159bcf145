/**
 * Reads of one segment's `.log` file (segment.ts), kept out of it: finding the batch holding an offset,
 * cutting a byte range of whole batches, and finding the first record at or after a timestamp. The caller
 * (LogSegment) gives the start position its indexes yield and the end position to stop at (its `size` as
 * observed when the read started, so a concurrent append is never seen half-written).
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
  COMPRESSION_CODEC_MASK,
  entrySize,
  lastOffsetNumber,
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
  // Keep whole batches only, below maxOffset.
  let end = 0;
  while (end + BATCH_HEADER_SIZE <= buf.length) {
    const size = entrySize(buf, end);
    if (size < BATCH_HEADER_SIZE || end + size > buf.length || lastOffsetNumber(buf, end) >= maxOffset) break;
    end += size;
  }
  return { records: buf.subarray(0, end), firstBatchOffset: hit.baseOffset, position: hit.position };
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
