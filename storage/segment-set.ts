/**
 * SegmentSet: the segments of one partition log, ordered by base offset.
 *
 * In-memory only (the directory listing is the on-disk truth). Backed by a sorted array: segments are
 * added at the end (rolls) and removed from the front (retention), and a partition has few segments, so
 * binary search for lookups plus array splices for the rare middle edits are enough.
 *
 * Invariants: base offsets are unique and strictly increasing; the last segment is the active one.
 */

import type { LogSegment } from './segment.js';
import { StorageError } from '../protocol/errors.js';

export class SegmentSet {
  private segs: LogSegment[] = [];

  get count(): number {
    return this.segs.length;
  }

  get isEmpty(): boolean {
    return this.segs.length === 0;
  }

  first(): LogSegment | undefined {
    return this.segs[0];
  }

  /** The active segment (highest base offset). */
  last(): LogSegment | undefined {
    return this.segs[this.segs.length - 1];
  }

  /** Insert keeping order; replaces nothing (duplicate base offsets are a bug). */
  add(seg: LogSegment): void {
    const i = this.ceilIndex(seg.baseOffset);
    if (i < this.segs.length && this.segs[i]!.baseOffset === seg.baseOffset) {
      throw new StorageError(`duplicate segment base offset ${seg.baseOffset}`);
    }
    this.segs.splice(i, 0, seg);
  }

  remove(seg: LogSegment): boolean {
    const i = this.segs.indexOf(seg);
    if (i < 0) return false;
    this.segs.splice(i, 1);
    return true;
  }

  clear(): LogSegment[] {
    const all = this.segs;
    this.segs = [];
    return all;
  }

  /** Index of the first segment with baseOffset >= offset. */
  private ceilIndex(offset: number): number {
    let lo = 0;
    let hi = this.segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segs[mid]!.baseOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the last segment with baseOffset <= offset, or -1. */
  private floorIndex(offset: number): number {
    const i = this.ceilIndex(offset);
    if (i < this.segs.length && this.segs[i]!.baseOffset === offset) return i;
    return i - 1;
  }

  /** The segment that would contain `offset`: largest baseOffset <= offset. */
  floor(offset: number): LogSegment | undefined {
    const i = this.floorIndex(offset);
    return i < 0 ? undefined : this.segs[i];
  }

  /** The segment following `seg` in order. */
  next(seg: LogSegment): LogSegment | undefined {
    const i = this.floorIndex(seg.baseOffset);
    return i >= 0 && this.segs[i] === seg ? this.segs[i + 1] : this.segs[this.ceilIndex(seg.baseOffset + 1)];
  }

  /** Segments from the floor segment of `offset` (or the first) to the end. */
  from(offset: number): LogSegment[] {
    return this.segs.slice(Math.max(0, this.floorIndex(offset)));
  }

  /** Segments with baseOffset > offset. */
  above(offset: number): LogSegment[] {
    return this.segs.slice(this.ceilIndex(offset + 1));
  }

  values(): readonly LogSegment[] {
    return this.segs;
  }

  [Symbol.iterator](): Iterator<LogSegment> {
    return this.segs[Symbol.iterator]();
  }
}
