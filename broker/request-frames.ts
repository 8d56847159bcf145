/**
 * Kafka request framing for a broker connection (int32 size, then the frame), fed either from a socket's
 * `onread` option (plaintext listeners, `withUserBuffer`) or from its 'data' chunks (TLS sockets, which take no
 * `onread` of their own: `tlsUserBuffer` gives them the same). Issue #16: a produce request of ~1 MiB used to arrive
 * as ~16 chunks of 64 KiB, each a fresh
 * allocation, then copied into the assembled frame. With `onread` the socket reads into one reusable buffer,
 * and once a large frame's size is known the rest of it is read by the kernel straight into the frame's own
 * memory (`nextBuffer`): one allocation per frame and no copy in JavaScript. The framing itself is
 * protocol/frame-assembly.ts (shared with the client); this reader adds the size check and the frame memory.
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
import { SizePrefixedFrames } from '../protocol/frame-assembly.js';

/** Size of the reusable buffer the socket reads into. */
const READ_BUFFER_SIZE = 64 * 1024;
/** A frame with at least this much still to come is read straight into its own memory (nextBuffer). */
const DIRECT_MIN = 16 * 1024;

export class RequestFrameReader extends SizePrefixedFrames {
  private onFrame: (frame: Buffer) => void = () => {};
  private onBadSize: (size: number) => void = () => {};

  constructor(private readonly maxSize: number) {
    super(READ_BUFFER_SIZE, DIRECT_MIN);
  }

  /** Where frames go, and where a size out of bounds goes (the reader stops then). */
  attach(onFrame: (frame: Buffer) => void, onBadSize: (size: number) => void): void {
    this.onFrame = onFrame;
    this.onBadSize = onBadSize;
  }

  protected allocate(size: number): Buffer | null {
    if (size < 0 || size > this.maxSize) {
      this.stop();
      this.onBadSize(size);
      return null;
    }
    // Small frames come from Node's shared pool; large ones from reusable slabs (frame-memory.ts).
    return requestFrameMemory.alloc(size);
  }

  protected deliver(frame: Buffer): void {
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
