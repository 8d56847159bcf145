/**
 * `.index`: the sparse offset index of one log segment.
 *
 * On-disk format: 8-byte big-endian entries `(relativeOffset int32, position int32)`, where
 * relativeOffset = offset - segment base offset and position is the byte position in the `.log` file of
 * the record batch whose *base offset* is that offset. Append-only, not preallocated (see
 * index-file.ts); the file is exactly entries * 8 bytes once flushed.
 *
 * An entry is added for a batch when more than `index.interval.bytes` of log were appended since the
 * previous entry, so entries are sparse; the first batch of a segment (position 0) needs no entry.
 *
 * Invariants (checked by `sanityCheck` when a segment is loaded without recovery):
 * - relative offsets are >= 0 and strictly increasing;
 * - positions are strictly increasing and < the log file size;
 * - every entry's offset is below the segment's next offset (checked by the segment).
 *
 * lookup(target) returns the entry with the largest offset <= target, or (baseOffset, 0) if none:
 * every batch before that position ends before target, so a forward scan from there finds it.
 */

import type { FileHandle, FileSystem } from './fs.js';
import { IndexFile, type IndexOpener } from './index-file.js';
import { StorageError } from '../protocol/errors.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends IndexFile {
  private constructor(fs: FileSystem, path: string, handle: FileHandle, baseOffset: number, maxIndexBytes: number) {
    super(fs, path, handle, baseOffset, OFFSET_INDEX_ENTRY_SIZE, maxIndexBytes);
  }

  /** Open (creating if missing) and load an index; see IndexOpener in index-file.ts. */
  static readonly open: IndexOpener<OffsetIndex> = IndexFile.opener(
    (fs, path, handle, baseOffset, maxIndexBytes) => new OffsetIndex(fs, path, handle, baseOffset, maxIndexBytes),
  );

  relativeOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE);
  }

  positionAt(i: number): number {
    return this.buf.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE + 4);
  }

  entry(i: number): OffsetPosition {
    return { offset: this.baseOffset + this.relativeOffsetAt(i), position: this.positionAt(i) };
  }

  lastEntry(): OffsetPosition | undefined {
    return this.count === 0 ? undefined : this.entry(this.count - 1);
  }

  /** Add an entry; offsets and positions must strictly increase. */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff)
      throw new StorageError(`offset ${offset} out of range for index at ${this.baseOffset}`);
    if (
      this.count > 0 &&
      (rel <= this.relativeOffsetAt(this.count - 1) || position <= this.positionAt(this.count - 1))
    ) {
      throw new StorageError(`non-increasing offset index entry (${offset}, ${position}) in ${this.path}`);
    }
    const at = this.nextSlot();
    this.buf.writeInt32BE(rel, at);
    this.buf.writeInt32BE(position, at + 4);
  }

  /** Index of the last entry with offset <= target, or -1. */
  private floorSlot(target: number): number {
    const rel = target - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relativeOffsetAt(mid) <= rel) {
        ans = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return ans;
  }

  /** Largest entry with offset <= target, or (baseOffset, 0). */
  lookup(target: number): OffsetPosition {
    const i = this.floorSlot(target);
    return i < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(i);
  }

  /** Remove every entry with offset >= `offset`. */
  truncateTo(offset: number): void {
    const i = this.floorSlot(offset - 1);
    this.truncateEntries(i + 1);
  }

  /** Remove every entry whose position is >= `position` (used when the log is cut at a byte position). */
  truncateToPosition(position: number): void {
    let n = this.count;
    while (n > 0 && this.positionAt(n - 1) >= position) n--;
    this.truncateEntries(n);
  }

  /** Return a description of the first violated invariant, or undefined if the index is sane. */
  sanityCheck(logSize: number, nextOffset: number): string | undefined {
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < this.count; i++) {
      const rel = this.relativeOffsetAt(i);
      const pos = this.positionAt(i);
      if (rel < 0 || rel <= prevRel) return `entry ${i}: relative offset ${rel} not increasing`;
      if (pos <= prevPos) return `entry ${i}: position ${pos} not increasing`;
      if (pos >= logSize) return `entry ${i}: position ${pos} beyond log size ${logSize}`;
      if (this.baseOffset + rel >= nextOffset)
        return `entry ${i}: offset ${this.baseOffset + rel} >= next offset ${nextOffset}`;
      prevRel = rel;
      prevPos = pos;
    }
    return undefined;
  }
}
