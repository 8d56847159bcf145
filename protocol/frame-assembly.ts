/**
 * Size-prefixed frame assembly shared by the broker's request framing (broker/request-frames.ts) and the
 * client's response framing (client/frame-reader.ts): every Kafka message is an int32 big-endian size, then
 * that many bytes. Pure (bytes in, frames out, no I/O): the socket side feeds `push` from its `onread`
 * (reading into `buffer`, or into the region `nextBuffer` lends out) or from 'data' chunks.
 *
 * - The size prefix may arrive split across reads; once its 4 bytes are known the subclass's `allocate(size)`
 *   decides before anything is allocated: a Buffer of exactly `size` bytes for the frame, or null after it
 *   called `stop()` (a size out of bounds, an allocation failure): nothing after that is framed.
 * - Once a frame has at least `directMin` bytes still to come, `nextBuffer` lends the rest of the frame itself,
 *   so the kernel reads straight into it (one allocation per frame, no copy in JavaScript); a read landing
 *   there is never longer than the frame's missing bytes (the socket reads at most the buffer it is given).
 * - Frames are handed to `deliver` complete and in order, each owning its memory (never a view of `buffer`).
 */
export abstract class SizePrefixedFrames {
  /** The buffer the socket reads into when no frame region is lent out (pass as `onread.buffer`); reused. */
  readonly buffer: Buffer;
  private readonly head = Buffer.alloc(4);
  private headHave = 0;
  private frame: Buffer | null = null;
  private frameHave = 0;
  private stopped = false;
  /** The region of the frame in progress that the socket reads into (nextBuffer), if any. */
  private direct: Buffer | null = null;

  constructor(
    readBufferSize: number,
    private readonly directMin: number,
  ) {
    this.buffer = Buffer.allocUnsafe(readBufferSize);
  }

  /** The frame's memory for a size just read (see the header); null once `stop()` was called. */
  protected abstract allocate(size: number): Buffer | null;

  /** A complete frame, in order. */
  protected abstract deliver(frame: Buffer): void;

  /** Stop framing (a bad size, or the connection is closed): later bytes are ignored. */
  stop(): void {
    this.stopped = true;
    this.frame = null;
    this.direct = null;
  }

  /**
   * The `onread.buffer` function: where the socket's next read lands. While a large frame is being read, the
   * rest of that frame itself; otherwise the reusable buffer.
   */
  nextBuffer(): Buffer {
    const f = this.frame;
    if (f !== null && f.length - this.frameHave >= this.directMin) {
      this.direct = f.subarray(this.frameHave);
      return this.direct;
    }
    this.direct = null;
    return this.buffer;
  }

  /** The `onread.callback` (and the 'data' path): consume bytes [0, n) of `buf`. */
  push(buf: Buffer, n: number): void {
    if (this.stopped) return;
    if (buf === this.direct) {
      this.direct = null;
      const frame = this.frame;
      if (frame === null) return;
      this.frameHave += Math.min(n, frame.length - this.frameHave);
      if (this.frameHave === frame.length) this.complete(frame);
      return;
    }
    let pos = 0;
    while (pos < n && !this.stopped) {
      let frame = this.frame;
      if (frame === null) {
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
        if (frame === null) return;
        this.frame = frame;
        this.frameHave = 0;
      }
      const take = Math.min(frame.length - this.frameHave, n - pos);
      buf.copy(frame, this.frameHave, pos, pos + take);
      this.frameHave += take;
      pos += take;
      if (this.frameHave === frame.length) this.complete(frame);
    }
  }

  private complete(frame: Buffer): void {
    this.frame = null;
    this.deliver(frame);
  }
}
