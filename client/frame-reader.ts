/**
 * Kafka response framing for a client connection (4-byte big-endian size, then the frame), fed from the
 * socket's `onread` option: the socket reads into one reusable buffer, and each frame is copied out of it into
 * a buffer of its own, allocated once when its size prefix is known; once a large frame has begun, the socket
 * reads the rest of it straight into that buffer (`nextBuffer`, onread's buffer function). So a large
 * response (a ~1 MiB replica Fetch) costs one allocation and no copy in JavaScript, not a chunk per socket
 * read plus the assembled frame. Frames handed out own their memory: slices of them (records written to the
 * log, kept in a cache) stay valid after the read. The framing itself is protocol/frame-assembly.ts (shared
 * with the broker); this reader adds the frame memory (recycled large frames) and early delivery.
 */
import { SizePrefixedFrames } from '../protocol/frame-assembly.js';

/** Size of the reusable buffer the socket reads into. */
export const READ_BUFFER_SIZE = 64 * 1024;
/** Frames of at least this size are recyclable; their memory is allocated in steps of RECYCLE_STEP. */
export const RECYCLE_MIN = 64 * 1024;
const RECYCLE_STEP = 256 * 1024;
/** A frame with at least this much still to come is read straight into its own memory (nextBuffer). */
const DIRECT_MIN = 16 * 1024;

export class FrameReader extends SizePrefixedFrames {
  private readonly early: Buffer[] = [];
  private sink: ((frame: Buffer) => void) | null = null;
  private onError: ((message: string) => void) | null = null;
  private earlyError: string | null = null;
  /** Memory of large frames handed out and not handed back (the only memory `recycle` takes). */
  private readonly lent = new WeakSet<ArrayBuffer>();
  /** Memory handed back, for the next large frame that fits. */
  private spare: ArrayBuffer | null = null;

  constructor() {
    super(READ_BUFFER_SIZE, DIRECT_MIN);
  }

  /**
   * Where frames go, and where a framing fault goes (a negative or unallocatable size: nothing after it can
   * be framed, so the reader stops). Frames that arrived before are delivered now.
   */
  attach(sink: (frame: Buffer) => void, onError: (message: string) => void): void {
    this.sink = sink;
    this.onError = onError;
    for (const f of this.early.splice(0)) sink(f);
    if (this.earlyError !== null) onError(this.earlyError);
  }

  /**
   * The caller is done with a frame this reader delivered (`frame.buffer`, or the `buffer` of any slice of it):
   * nothing reads or keeps any part of it any more. Its memory may hold the next large frame.
   */
  recycle(memory: ArrayBufferLike): void {
    if (!(memory instanceof ArrayBuffer) || !this.lent.delete(memory)) return;
    if (!this.spare || this.spare.byteLength < memory.byteLength) this.spare = memory;
  }

  protected allocate(size: number): Buffer | null {
    try {
      if (size < 0) throw new RangeError(`negative response size ${size}`);
      if (size < RECYCLE_MIN) return Buffer.allocUnsafe(size);
      let memory = this.spare;
      if (memory && memory.byteLength >= size) this.spare = null;
      else memory = Buffer.allocUnsafeSlow(Math.ceil(size / RECYCLE_STEP) * RECYCLE_STEP).buffer as ArrayBuffer;
      this.lent.add(memory);
      return Buffer.from(memory, 0, size);
    } catch (e) {
      this.stop();
      const message = `bad response frame: ${(e as Error).message}`;
      if (this.onError) this.onError(message);
      else this.earlyError = message;
      return null;
    }
  }

  protected deliver(frame: Buffer): void {
    if (this.sink) this.sink(frame);
    else this.early.push(frame);
  }
}
