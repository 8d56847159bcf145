/**
 * Kafka response framing for a client connection (4-byte big-endian size, then the frame), fed from the
 * socket's `onread` option: the socket reads into one reusable buffer, and each frame is copied out of it into
 * a buffer of its own, allocated once when its size prefix is known; once a large frame has begun, the socket
 * reads the rest of it straight into that buffer (`nextBuffer`, onread's buffer function). So a large
 * response (a ~1 MiB replica Fetch) costs one allocation and no copy in JavaScript, not a chunk per socket
 * read plus the assembled frame. Frames handed out own their memory: slices of them (records written to the
 * log, kept in a cache) stay valid after the read.
 */

/** Size of the reusable buffer the socket reads into. */
export const READ_BUFFER_SIZE = 64 * 1024;
/** Frames of at least this size are recyclable; their memory is allocated in steps of RECYCLE_STEP. */
export const RECYCLE_MIN = 64 * 1024;
const RECYCLE_STEP = 256 * 1024;
/** A frame with at least this much still to come is read straight into its own memory (nextBuffer). */
const DIRECT_MIN = 16 * 1024;

export class FrameReader {
  /** The buffer the socket reads into (pass as `onread.buffer`); reused for every read. */
  readonly buffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);
  private readonly head = Buffer.alloc(4);
  private headHave = 0;
  private frame: Buffer | null = null;
  private frameHave = 0;
  private failed = false;
  private readonly early: Buffer[] = [];
  private sink: ((frame: Buffer) => void) | null = null;
  private onError: ((message: string) => void) | null = null;
  private earlyError: string | null = null;
  /** Memory of large frames handed out and not handed back (the only memory `recycle` takes). */
  private readonly lent = new WeakSet<ArrayBuffer>();
  /** Memory handed back, for the next large frame that fits. */
  private spare: ArrayBuffer | null = null;
  /** The region of the frame in progress that the socket reads into (nextBuffer), if any. */
  private direct: Buffer | null = null;

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
   * The `onread.buffer` function: where the socket's next read lands. While a large frame is being read, the
   * rest of that frame itself (the kernel copies straight into it, no copy out of the reusable buffer, and one
   * read is never longer than the frame); otherwise the reusable buffer.
   */
  nextBuffer(): Buffer {
    const f = this.frame;
    if (f && !this.failed && f.length - this.frameHave >= DIRECT_MIN) {
      this.direct = f.subarray(this.frameHave);
      return this.direct;
    }
    this.direct = null;
    return this.buffer;
  }

  /**
   * The `onread.callback`: consumes bytes [0, n) of `buf` (the reusable buffer, the frame region `nextBuffer`
   * handed out, or any buffer in tests).
   */
  push(buf: Buffer, n: number): void {
    if (buf === this.direct) {
      this.direct = null;
      const frame = this.frame;
      if (!frame || this.failed) return;
      this.frameHave += Math.min(n, frame.length - this.frameHave);
      if (this.frameHave === frame.length) {
        this.frame = null;
        this.deliver(frame);
      }
      return;
    }
    let pos = 0;
    while (pos < n && !this.failed) {
      let frame = this.frame;
      if (!frame) {
        let size: number;
        if (this.headHave === 0 && n - pos >= 4) {
          size = buf.readInt32BE(pos);
          pos += 4;
        } else {
          const take = Math.min(4 - this.headHave, n - pos);
          buf.copy(this.head, this.headHave, pos, pos + take);
          this.headHave += take;
          pos += take;
          if (this.headHave < 4) return;
          this.headHave = 0;
          size = this.head.readInt32BE(0);
        }
        frame = this.allocate(size);
        if (!frame) return;
        this.frame = frame;
        this.frameHave = 0;
      }
      const take = Math.min(frame.length - this.frameHave, n - pos);
      buf.copy(frame, this.frameHave, pos, pos + take);
      this.frameHave += take;
      pos += take;
      if (this.frameHave === frame.length) {
        this.frame = null;
        this.deliver(frame);
      }
    }
  }

  /**
   * The caller is done with a frame this reader delivered (`frame.buffer`, or the `buffer` of any slice of it):
   * nothing reads or keeps any part of it any more. Its memory may hold the next large frame.
   */
  recycle(memory: ArrayBufferLike): void {
    if (!(memory instanceof ArrayBuffer) || !this.lent.delete(memory)) return;
    if (!this.spare || this.spare.byteLength < memory.byteLength) this.spare = memory;
  }

  private allocate(size: number): Buffer | null {
    try {
      if (size < 0) throw new RangeError(`negative response size ${size}`);
      if (size < RECYCLE_MIN) return Buffer.allocUnsafe(size);
      let memory = this.spare;
      if (memory && memory.byteLength >= size) this.spare = null;
      else memory = Buffer.allocUnsafeSlow(Math.ceil(size / RECYCLE_STEP) * RECYCLE_STEP).buffer as ArrayBuffer;
      this.lent.add(memory);
      return Buffer.from(memory, 0, size);
    } catch (e) {
      this.failed = true;
      const message = `bad response frame: ${(e as Error).message}`;
      if (this.onError) this.onError(message);
      else this.earlyError = message;
      return null;
    }
  }

  private deliver(frame: Buffer): void {
    if (this.sink) this.sink(frame);
    else this.early.push(frame);
  }

  /** Stops delivering (the connection is closed). */
  stop(): void {
    this.failed = true;
  }
}
