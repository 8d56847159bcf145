/**
 * File naming and shared types of log segments (segment.ts), kept out of segment.ts.
 *
 * On-disk naming: a segment with base offset B is the files `<B as 20 zero-padded digits><ext>` for
 * ext in `.log`, `.index`, `.timeindex` and `.txnindex` (txn-index.ts), all in the partition directory.
 * A further suffix marks files in transition: `.deleted` (awaiting unlink), `.cleaned` (log cleaner
 * output being written) and `.swap` (cleaner output accepted, to be renamed to its final names).
 */

import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { FileSystem } from './fs.js';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const DELETED_SUFFIX = '.deleted';
/** Log cleaner output being written (deleted at start-up). */
export const CLEANED_SUFFIX = '.cleaned';
/** Log cleaner output ready to replace its source segments (completed at start-up). */
export const SWAP_SUFFIX = '.swap';

export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix;
}

let lastDir = '';
let lastDirNormal = false;

/**
 * `path.join(dir, name)` for a plain file name: with a normalized `dir` (checked once per run of calls with the
 * same one, as the calls for one partition come) the two are concatenated, sparing the segment files of
 * 10,000 partitions a path normalization each at start-up. The same string as path.join in every case.
 */
export function segmentPath(dir: string, name: string): string {
  if (dir !== lastDir) {
    lastDir = dir;
    lastDirNormal = dir !== '.' && dir.length > 0 && !dir.endsWith(path.sep) && path.normalize(dir) === dir;
  }
  return lastDirNormal ? dir + path.sep + name : path.join(dir, name);
}

/** Base offset of a `<20 digits><suffix>` name, or undefined. */
export function parseSegmentFileName(name: string, suffix: string): number | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const stem = name.slice(0, -suffix.length);
  return /^\d{20}$/.test(stem) ? Number(stem) : undefined;
}

export interface SegmentConfig {
  /** index.interval.bytes */
  indexIntervalBytes: number;
  /** segment.index.bytes */
  maxIndexBytes: number;
}

export interface SegmentDeps {
  fs: FileSystem;
  clock: Clock;
  logger?: Logger;
}

/**
 * What the caller knows about an append (all batches already stamped). The segment re-derives the
 * per-batch values (positions, timestamps) while indexing; lastOffset and size are authoritative.
 */
export interface SegmentAppendInfo {
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  /** Base offset of the batch carrying maxTimestamp. */
  offsetOfMaxTimestamp: number;
  /** Total bytes of `buffers`. */
  size: number;
}

export interface SegmentReadResult {
  /** Whole batches; empty if the first batch exceeds maxBytes and minOneBatch is false. */
  records: Buffer;
  /** Base offset of the first batch in the range. */
  firstBatchOffset: number;
  position: number;
}

export interface BatchLocation {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
}

export interface RollCheck {
  appendBytes: number;
  /** Bytes already planned for this segment but not yet written (a write group being built). */
  pendingBytes?: number;
  lastOffset: number;
  now: number;
  segmentBytes: number;
  segmentMs: number;
}

/**
 * A segment as a clean shutdown left it (clean-shutdown.ts): its files' sizes and the tail state a header scan
 * would restore. LogSegment.open uses it instead of stating the indexes and scanning the log when the log
 * file still has `size` bytes.
 */
export interface SegmentTail {
  baseOffset: number;
  size: number;
  offsetIndexBytes: number;
  timeIndexBytes: number;
  nextOffset: number;
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
  bytesSinceLastIndexEntry: number;
}
