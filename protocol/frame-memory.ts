/**
 * Reused memory for large request frames (issue #16). A producer's ~1 MiB Produce request used to be a fresh
 * 1 MiB allocation each: V8 accounts it as external memory and, at produce-1k's rate, ran a scavenge or a full
 * mark-compact for "external memory pressure" every few hundred milliseconds (a sixth of the broker's CPU). A
 * frame of at least RECYCLE_MIN bytes is now cut from a slab that goes back to a small free list once its
 * request is done, so the same few slabs carry the whole stream.
 *
 * - `alloc(size)`: a Buffer of `size` bytes (contents undefined); from a slab (lent) when size >= RECYCLE_MIN.
 * - `recycle(frame)`: the caller guarantees nothing reads or keeps any view of the frame any more (the connection
 *   calls it for Produce requests once their handler returned: every append is written by then). Only lent
 *   memory is taken, once; at most MAX_FREE slabs are kept.
 * - `owned(buf)`: what keeps bytes past their request (a leader's tail cache) takes a copy of lent memory.
 * - Invariant: a slab is free in the list or lent to exactly one frame.
 */

/** Frames from this size on are cut from reusable slabs (below, Node's own pool is cheaper). */
const RECYCLE_MIN = 64 * 1024;
/** Slabs are sized in steps of this, so frames of similar sizes share them. */
const STEP = 256 * 1024;
/** Free slabs kept. */
const MAX_FREE = 16;

export class FrameMemory {
  private readonly free: ArrayBuffer[] = [];
  private readonly lent = new WeakSet<ArrayBuffer>();

  /** Slabs free now (tests). */
  get idle(): number {
    return this.free.length;
  }

  alloc(size: number): Buffer {
    if (size < RECYCLE_MIN) return Buffer.allocUnsafe(size);
    // The smallest free slab that fits.
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i]!.byteLength;
      if (len >= size && (best < 0 || len < this.free[best]!.byteLength)) best = i;
    }
    let memory: ArrayBuffer;
    if (best >= 0) {
      memory = this.free[best]!;
      this.free[best] = this.free[this.free.length - 1]!;
      this.free.pop();
    } else {
      memory = Buffer.allocUnsafeSlow(Math.ceil(size / STEP) * STEP).buffer as ArrayBuffer;
    }
    this.lent.add(memory);
    return Buffer.from(memory, 0, size);
  }

  /** Give a frame's memory back (see the header); anything not lent by `alloc`, or given back already, is ignored. */
  recycle(frame: Buffer): void {
    const memory = frame.buffer;
    if (!(memory instanceof ArrayBuffer) || !this.lent.delete(memory)) return;
    if (this.free.length < MAX_FREE) {
      this.free.push(memory);
      return;
    }
    // Full: keep the larger slabs (they fit every frame).
    let smallest = 0;
    for (let i = 1; i < this.free.length; i++)
      if (this.free[i]!.byteLength < this.free[smallest]!.byteLength) smallest = i;
    if (this.free[smallest]!.byteLength < memory.byteLength) this.free[smallest] = memory;
  }

  /** `buf`, or a copy of it when its memory is a frame's that goes back to the free list after its request. */
  owned(buf: Buffer): Buffer {
    return buf.buffer instanceof ArrayBuffer && this.lent.has(buf.buffer) ? Buffer.from(buf) : buf;
  }
}

/** The process's request frame memory (brokers in one process share it; slabs are interchangeable). */
export const requestFrameMemory = new FrameMemory();
