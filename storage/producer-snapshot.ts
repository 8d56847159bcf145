/**
 * Producer state snapshot files: `<20-digit offset>.snapshot` in the partition directory holds the
 * producer state (producer-state.ts) covering every offset below `offset`.
 *
 * Format (all big-endian):
 *   magic "RNPS" (4 bytes) | version int16 = 1 | crc uint32 = CRC-32C of every byte after this field |
 *   entryCount int32 | entries
 * entry:
 *   producerId int64 | epoch int16 | coordinatorEpoch int32 | txnFirstOffset int64 (-1: none) |
 *   lastTimestamp int64 | batchCount int8 (0-5) | batchCount x (firstSeq int32 | lastSeq int32 |
 *   firstOffset int64 | lastOffset int64 | timestamp int64)
 * Unlike Kafka's snapshot (last batch only) all five batches are kept, so duplicates of any of the
 * last five batches are still detected after a restart.
 *
 * Written atomically (tmp, fsync, rename, dir fsync) at segment roll (offset = the new segment's base),
 * at close and after recovery (offset = log end). A snapshot that fails its checks is ignored (and
 * removed) by the loader, which then falls back to an older one or to a full replay of the log.
 */

import path from 'node:path';
import type { FileSystem } from './fs.js';
import { writeFileAtomically } from './checkpoint.js';
import { readInt64Number, writeInt64Number } from '../protocol/records/batch-header.js';
import { crc32c } from '../protocol/records/crc.js';
import { segmentFileName, parseSegmentFileName } from './segment.js';
import type { ProducerEntry } from './producer-state.js';

export const SNAPSHOT_SUFFIX = '.snapshot';
const MAGIC = 0x524e5053; // "RNPS"
const VERSION = 1;
const HEADER = 14;
const ENTRY_FIXED = 8 + 2 + 4 + 8 + 8 + 1;
const BATCH = 4 + 4 + 8 + 8 + 8;

export function snapshotPath(dir: string, offset: number): string {
  return path.join(dir, segmentFileName(offset, SNAPSHOT_SUFFIX));
}

export function encodeSnapshot(entries: readonly ProducerEntry[]): Buffer {
  let size = HEADER;
  for (const e of entries) size += ENTRY_FIXED + e.batches.length * BATCH;
  const b = Buffer.alloc(size);
  b.writeUInt32BE(MAGIC, 0);
  b.writeInt16BE(VERSION, 4);
  b.writeInt32BE(entries.length, 10);
  let p = HEADER;
  for (const e of entries) {
    writeInt64Number(b, p, e.producerId);
    b.writeInt16BE(e.epoch, p + 8);
    b.writeInt32BE(e.coordinatorEpoch, p + 10);
    writeInt64Number(b, p + 14, e.txnFirstOffset);
    writeInt64Number(b, p + 22, e.lastTimestamp);
    b.writeInt8(e.batches.length, p + 30);
    p += ENTRY_FIXED;
    for (const m of e.batches) {
      b.writeInt32BE(m.firstSeq, p);
      b.writeInt32BE(m.lastSeq, p + 4);
      writeInt64Number(b, p + 8, m.firstOffset);
      writeInt64Number(b, p + 16, m.lastOffset);
      writeInt64Number(b, p + 24, m.timestamp);
      p += BATCH;
    }
  }
  b.writeUInt32BE(crc32c(b, 10), 6);
  return b;
}

/** Decode a snapshot; a string describes why it cannot be used. */
export function decodeSnapshot(b: Buffer): ProducerEntry[] | string {
  if (b.length < HEADER) return 'shorter than its header';
  if (b.readUInt32BE(0) !== MAGIC) return 'bad magic';
  if (b.readInt16BE(4) !== VERSION) return `unknown version ${b.readInt16BE(4)}`;
  if (b.readUInt32BE(6) !== crc32c(b, 10)) return 'CRC mismatch';
  const n = b.readInt32BE(10);
  const out: ProducerEntry[] = [];
  let p = HEADER;
  for (let i = 0; i < n; i++) {
    if (p + ENTRY_FIXED > b.length) return 'truncated entry';
    const count = b.readInt8(p + 30);
    const e: ProducerEntry = {
      producerId: readInt64Number(b, p),
      epoch: b.readInt16BE(p + 8),
      coordinatorEpoch: b.readInt32BE(p + 10),
      txnFirstOffset: readInt64Number(b, p + 14),
      lastTimestamp: readInt64Number(b, p + 22),
      batches: [],
    };
    p += ENTRY_FIXED;
    if (count < 0 || p + count * BATCH > b.length) return 'truncated batch list';
    for (let k = 0; k < count; k++, p += BATCH) {
      e.batches.push({
        firstSeq: b.readInt32BE(p),
        lastSeq: b.readInt32BE(p + 4),
        firstOffset: readInt64Number(b, p + 8),
        lastOffset: readInt64Number(b, p + 16),
        timestamp: readInt64Number(b, p + 24),
      });
    }
    out.push(e);
  }
  return p === b.length ? out : 'trailing bytes';
}

export function writeSnapshot(
  fs: FileSystem,
  dir: string,
  offset: number,
  entries: readonly ProducerEntry[],
): Promise<void> {
  return writeFileAtomically(fs, snapshotPath(dir, offset), encodeSnapshot(entries));
}

/** Offsets of the snapshot files in `dir`, ascending. */
/** Snapshot offsets, ascending, from `names` (the directory's file names) or else a listing. */
export async function listSnapshots(fs: FileSystem, dir: string, names?: Iterable<string>): Promise<number[]> {
  return [...(names ?? (await fs.readdir(dir)))]
    .map((n) => parseSegmentFileName(n, SNAPSHOT_SUFFIX))
    .filter((o): o is number => o !== undefined)
    .sort((a, b) => a - b);
}

/** Remove snapshots with offset < `below` or > `above`. */
export async function pruneSnapshots(
  fs: FileSystem,
  dir: string,
  below: number,
  above = Infinity,
  /** The snapshots that exist, when known; otherwise the directory is listed. */
  known?: readonly number[],
): Promise<number[]> {
  const removed: number[] = [];
  for (const o of known ?? (await listSnapshots(fs, dir))) {
    if (o < below || o > above) {
      await fs.rmrf(snapshotPath(dir, o));
      removed.push(o);
    }
  }
  return removed;
}
