/**
 * A raw Kafka-protocol test client: sends request frames built with the generated codec and reads
 * response frames in order. Every wait is bounded.
 */
import { connect, type Socket } from 'node:net';
import { encodeRequestFrame } from '../../protocol/frame.js';
import { responseHeaderVersion } from '../../protocol/generated/apis.js';
import { Reader } from '../../protocol/wire/reader.js';
import type { Writer } from '../../protocol/wire/writer.js';

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  private correlation = 0;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Send one request; returns the correlation id used. */
  send(apiKey: number, apiVersion: number, body: (w: Writer) => void, clientId: string | null = 'raw-test'): number {
    const id = ++this.correlation;
    for (const c of encodeRequestFrame(apiKey, apiVersion, id, clientId, body)) this.socket.write(c);
    return id;
  }

  writeRaw(b: Buffer): void {
    this.socket.write(b);
  }

  /** Next response frame (without its size prefix), or null if the connection closed first. */
  async receive(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 4) {
        const size = this.buf.readInt32BE(0);
        if (this.buf.length >= 4 + size) {
          const frame = this.buf.subarray(4, 4 + size);
          this.buf = this.buf.subarray(4 + size);
          return frame;
        }
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Next response: correlation id and a reader over the body (header v0, or v1 with tagged fields). */
  async response(headerVersion: 0 | 1, timeoutMs = 5000): Promise<{ correlationId: number; body: Reader } | null> {
    const f = await this.receive(timeoutMs);
    if (!f) return null;
    const r = new Reader(f);
    const correlationId = r.readInt32();
    if (headerVersion === 1) r.skipTaggedFields();
    return { correlationId, body: r };
  }

  /**
   * Send one request and decode its response; fails when the connection closes, the correlation id is
   * not this request's, or bytes are left after the body.
   */
  async request<T>(
    apiKey: number,
    version: number,
    body: (w: Writer) => void,
    decode: (r: Reader, v: number) => T,
    timeoutMs = 10_000,
  ): Promise<T> {
    const id = this.send(apiKey, version, body);
    const res = await this.response(responseHeaderVersion(apiKey, version), timeoutMs);
    if (!res) throw new Error(`connection closed before the response to API ${apiKey} v${version}`);
    if (res.correlationId !== id) throw new Error(`correlation id ${res.correlationId}, expected ${id}`);
    const out = decode(res.body, version);
    if (res.body.remaining() !== 0) throw new Error(`${res.body.remaining()} bytes left after the response body`);
    return out;
  }

  /** Resolves true once the server has closed the connection (bounded wait). */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
