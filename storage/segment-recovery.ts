/**
 * Full recovery scan of a segment's `.log` file (LogSegment.recover, segment.ts), kept out of
 * segment.ts: used when nothing about a segment can be trusted (it reaches the recovery point, or its
 * indexes failed to load).
 *
 * The file is read from position 0 in chunks of up to 1 MiB (a batch larger than that is read whole).
 * Batches are accepted while each is valid: length bounds, magic 2 and CRC-32C (checkBatch,
 * batch-scan.ts), a base offset above the previous batch's last offset, and a last offset within int32
 * of the segment's base offset. The scan stops at the first invalid batch or at the end of the file; it
 * never modifies the file (the caller truncates the invalid tail and rebuilds the indexes).
 */

import type { FileHandle } from './fs.js';
import { readAt } from './fs.js';
import { baseOffsetNumber, entrySize, LOG_OVERHEAD, lastOffsetNumber } from '../protocol/records/batch-header.js';
import { checkBatch } from './batch-scan.js';

const INT32_MAX = 0x7fffffff;
const RECOVERY_CHUNK = 1024 * 1024;

export interface SegmentRecoveryResult {
  baseOffset: number;
  validBytes: number;
  truncatedBytes: number;
  batches: number;
  /** Why the tail was cut, if it was. */
  reason?: string;
}

export interface RecoverOptions {
  /** Called for every valid batch in order (leader epochs now; producer state later). */
  onBatch?: (buf: Buffer, pos: number) => void;
}

/** Where the valid prefix of a segment's log ends. */
export interface ValidPrefix {
  /** Bytes of whole valid batches from position 0. */
  validBytes: number;
  batches: number;
  /** Why the scan stopped before the end of the file, if it did. */
  reason?: string;
}

/**
 * Validate the batches of `log` (of `fileSize` bytes, segment base offset `baseOffset`) in order,
 * calling `onBatch` for each valid one with the chunk holding it, its offset `at` in the chunk, its
 * file position and its size.
 */
export async function scanValidBatches(
  log: FileHandle,
  fileSize: number,
  baseOffset: number,
  onBatch: (chunk: Buffer, at: number, position: number, size: number) => void,
): Promise<ValidPrefix> {
  let pos = 0;
  let batches = 0;
  let reason: string | undefined;
  let chunk: Buffer = Buffer.alloc(0);
  let chunkStart = 0;
  let prevLast = baseOffset - 1;
  while (pos < fileSize) {
    const remaining = fileSize - pos;
    let at = pos - chunkStart;
    let avail = chunk.length - at;
    const want = avail >= LOG_OVERHEAD ? entrySize(chunk, at) : LOG_OVERHEAD;
    const need = want >= 12 && want <= remaining ? want : Math.min(12, remaining);
    if (avail < need) {
      chunk = await readAt(log, pos, Math.min(remaining, Math.max(RECOVERY_CHUNK, need)));
      chunkStart = pos;
      at = 0;
      avail = chunk.length;
    }
    const bad = checkBatch(chunk, at, avail);
    if (bad) {
      reason = `${bad.reason} at position ${pos}`;
      break;
    }
    const base = baseOffsetNumber(chunk, at);
    const last = lastOffsetNumber(chunk, at);
    if (base <= prevLast || last - baseOffset > INT32_MAX) {
      reason = `offset ${base} out of order or range at position ${pos}`;
      break;
    }
    const size = entrySize(chunk, at);
    onBatch(chunk, at, pos, size);
    prevLast = last;
    pos += size;
    batches++;
  }
  return reason === undefined ? { validBytes: pos, batches } : { validBytes: pos, batches, reason };
}
