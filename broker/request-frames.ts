/**
 * Kafka request framing for a broker connection (int32 size, then the frame), fed either from a socket's
 * `onread` option (plaintext listeners, `withUserBuffer`) or from its 'data' chunks (TLS sockets, which take no
 * `onread` of their own: `tlsUserBuffer` gives them the same). Issue #16: a produce request of ~1 MiB used to arrive
 * as ~16 chunks of 64 KiB, each a fresh
 * allocation, then copied into the assembled frame. With `onread` the socket reads into one reusable buffer,
 * and once a large frame's size is known the rest of it is read by the kernel straight into the frame's own
 * memory (`nextBuffer`): one allocation per frame and no copy in JavaScript.
 *
 * Invariants:
 * - A frame's size is checked from its 4 size bytes before anything is allocated for it: a negative size or
 *   one above `maxSize` stops the reader (`onBadSize`), and nothing after it is framed.
 * - Frames handed out own their memory (never a view of the reusable buffer); a large one is lent by
 *   protocol/frame-memory.ts and goes back there only when the connection recycles it (Produce, once handled).
 * - A read landing in the region `nextBuffer` lent out is never longer than the frame's missing bytes.
 */
import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { requestFrameMemory } from '../protocol/frame-memory.js';

/** Size of the reusable buffer the socket reads into. */
const READ_BUFFER_SIZE = 64 * 1024;
/** A frame with at least this much still to come is read straight into its own memory (nextBuffer). */
const DIRECT_MIN = 16 * 1024;

export class RequestFrameReader {
  /** The buffer the socket reads into when no frame region is lent out; reused for every read. */
  private readonly buffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);
  private readonly head = Buffer.alloc(4);
  private headHave = 0;
  private frame: Buffer | null = null;
  private frameHave = 0;
  private stopped = false;
  /** The region of the frame in progress that the socket reads into (nextBuffer), if any. */
  private direct: Buffer | null = null;
  private onFrame: (frame: Buffer) => void = () => {};
  private onBadSize: (size: number) => void = () => {};

  constructor(private readonly maxSize: number) {}

  /** Where frames go, and where a size out of bounds goes (the reader stops then). */
  attach(onFrame: (frame: Buffer) => void, onBadSize: (size: number) => void): void {
    this.onFrame = onFrame;
    this.onBadSize = onBadSize;
  }

  /** Stop framing (the connection is closed): later bytes are ignored. */
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
    if (f !== null && f.length - this.frameHave >= DIRECT_MIN) {
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
      const frame = this.frame!;
      this.frameHave += Math.min(n, frame.length - this.frameHave);
      if (this.frameHave === frame.length) this.deliver(frame);
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
        if (size < 0 || size > this.maxSize) {
          this.stop();
          this.onBadSize(size);
          return;
        }
        // Small frames come from Node's shared pool; large ones from reusable slabs (frame-memory.ts).
        frame = requestFrameMemory.alloc(size);
        this.frame = frame;
        this.frameHave = 0;
      }
      const take = Math.min(frame.length - this.frameHave, n - pos);
      buf.copy(frame, this.frameHave, pos, pos + take);
      this.frameHave += take;
      pos += take;
      if (this.frameHave === frame.length) this.deliver(frame);
    }
  }

  private deliver(frame: Buffer): void {
    this.frame = null;
    this.onFrame(frame);
  }
}

/**
 * The accepted plaintext `socket` (created paused: the server's `pauseOnConnect`) re-created on the same handle
 * with `onread` feeding `frames`, or undefined when that is not possible (no handle), the socket then being
 * left as it was. Node's net.Server takes no `onread` for the sockets it accepts; the new socket takes over the
 * handle, and the original one (which never read) is destroyed without a handle when the new one closes, so
 * the server's connection count and `close()` still see the connection end.
 */
export function withUserBuffer(socket: Socket, frames: RequestFrameReader): Socket | undefined {
  const original = socket as unknown as { _handle?: object | null };
  const handle = original._handle;
  if (!handle || socket.destroyed) return undefined;
  const adopted = new Socket({
    handle,
    onread: {
      buffer: () => frames.nextBuffer(),
      callback: (n: number, buf: Uint8Array) => void frames.push(buf as Buffer, n),
    },
  } as ConstructorParameters<typeof Socket>[0] & { handle: object });
  original._handle = null;
  adopted.once('close', () => socket.destroy());
  return adopted;
}

/** A stream's `onread` state as net.Socket keeps it (Node's own symbols, found by their descriptions). */
interface OnreadSymbols {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

function onreadSymbols(socket: object): OnreadSymbols | undefined {
  const own = Object.getOwnPropertySymbols(socket);
  const find = (d: string): symbol | undefined => own.find((s) => s.description === d);
  const [buffer, callback, generator] = [find('kBuffer'), find('kBufferCb'), find('kBufferGen')];
  return buffer && callback && generator ? { buffer, callback, generator } : undefined;
}

/**
 * A TLS `socket` (its handshake done) switched to reading its decrypted bytes into `frames`, as `onread` does
 * for plaintext sockets; undefined when this Node does not allow it (the socket is then left to 'data').
 * tls.Server takes no `onread`, and librdkafka writes ~3 KiB TLS records: each became a fresh Buffer pushed
 * through the stream machinery, hundreds per large produce request. Node's TLS stream supports a user buffer
 * (`useUserBuffer`, as net.Socket's `onread` uses on its handle); net.Socket reads its `onread` state from
 * three symbols (net.js), found here by description. Decrypted bytes the stream already holds go first.
 */
export function tlsUserBuffer(socket: TLSSocket, frames: RequestFrameReader): Socket | undefined {
  const s = socket as unknown as Record<symbol, unknown> & { _handle?: { useUserBuffer?: (b: Buffer) => void } };
  const handle = s._handle;
  const syms = onreadSymbols(socket);
  if (!handle || typeof handle.useUserBuffer !== 'function' || !syms || socket.destroyed) return undefined;
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
    frames.push(chunk, chunk.length);
  }
  const first = frames.nextBuffer();
  s[syms.buffer] = first;
  s[syms.generator] = () => frames.nextBuffer();
  s[syms.callback] = (n: number, buf: Buffer) => void frames.push(buf, n);
  handle.useUserBuffer(first);
  return socket;
}
