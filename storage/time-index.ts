/**
 * `.timeindex`: the sparse time index of one log segment.
 *
 * On-disk format: 12-byte big-endian entries `(timestamp int64, relativeOffset int32)`. An entry
 * (T, O) means: T is the largest batch max-timestamp seen in this segment up to and including the
 * batch whose base offset is O (O = base + relativeOffset). Append-only, not preallocated (see
 * index-file.ts).
 *
 * Entries are added alongside offset-index entries (every index.interval.bytes) and once more when the
 * segment is rolled or closed, so the last entry always carries the segment's max timestamp for
 * inactive segments. An entry is only added if its timestamp is strictly greater than the last one.
 *
 * Invariants (checked by `sanityCheck`): timestamps strictly increasing; relative offsets >= 0 and
 * non-decreasing; offsets below the segment's next offset.
 *
 * lookup(ts) returns the entry with the largest timestamp *strictly less than* ts (or (-1, base)):
 * every record at or before its offset has a timestamp < ts, so the first record with timestamp >= ts
 * lies after it. (Kafka uses <=, which can skip earlier records with a timestamp equal to ts.)
 */

import type { FileHandle, FileSystem } from './fs.js';
import { IndexFile, type IndexOpener } from './index-file.js';
import { StorageError } from '../protocol/errors.js';

export const TIME_INDEX_ENTRY_SIZE = 12;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends IndexFile {
  private constructor(fs: FileSystem, path: string, handle: FileHandle, baseOffset: number, maxIndexBytes: number) {
    super(fs, path, handle, baseOffset, TIME_INDEX_ENTRY_SIZE, maxIndexBytes);
  }

  /** Open (creating if missing) and load an index; see IndexOpener in index-file.ts. */
  static readonly open: IndexOpener<TimeIndex> = IndexFile.opener(
    (fs, path, handle, baseOffset, maxIndexBytes) => new TimeIndex(fs, path, handle, baseOffset, maxIndexBytes),
  );

  timestampAt(i: number): number {
    return Number(this.buf.readBigInt64BE(i * TIME_INDEX_ENTRY_SIZE));
  }

  relativeOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * TIME_INDEX_ENTRY_SIZE + 8);
  }

  entry(i: number): TimestampOffset {
    return { timestamp: this.timestampAt(i), offset: this.baseOffset + this.relativeOffsetAt(i) };
  }

  lastEntry(): TimestampOffset | undefined {
    return this.count === 0 ? undefined : this.entry(this.count - 1);
  }

  /** Append (timestamp, offset) if timestamp is greater than the last entry's. Returns true if added. */
  maybeAppend(timestamp: number, offset: number): boolean {
    if (timestamp < 0) return false;
    if (this.count > 0) {
      if (timestamp <= this.timestampAt(this.count - 1)) return false;
      if (offset - this.baseOffset < this.relativeOffsetAt(this.count - 1)) {
        throw new StorageError(`time index offset ${offset} goes backwards in ${this.path}`);
      }
    }
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff)
      throw new StorageError(`offset ${offset} out of range for time index at ${this.baseOffset}`);
    const at = this.nextSlot();
    this.buf.writeBigInt64BE(BigInt(timestamp), at);
    this.buf.writeInt32BE(rel, at + 8);
    return true;
  }

  /** Entry with the largest timestamp < ts, or (-1, baseOffset) if none. */
  lookup(timestamp: number): TimestampOffset {
    let lo = 0;
    let hi = this.count - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestampAt(mid) < timestamp) {
        ans = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return ans < 0 ? { timestamp: -1, offset: this.baseOffset } : this.entry(ans);
  }

  /** Remove every entry with offset >= `offset`. */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    let n = this.count;
    while (n > 0 && this.relativeOffsetAt(n - 1) >= rel) n--;
    this.truncateEntries(n);
  }

  sanityCheck(nextOffset: number): string | undefined {
    let prevTs = -Infinity;
    let prevRel = 0;
    for (let i = 0; i < this.count; i++) {
      const ts = this.timestampAt(i);
      const rel = this.relativeOffsetAt(i);
      if (ts <= prevTs) return `entry ${i}: timestamp ${ts} not increasing`;
      if (rel < prevRel) return `entry ${i}: relative offset ${rel} decreasing`;
      if (this.baseOffset + rel >= nextOffset)
        return `entry ${i}: offset ${this.baseOffset + rel} >= next offset ${nextOffset}`;
      prevTs = ts;
      prevRel = rel;
    }
    return undefined;
  }
}
