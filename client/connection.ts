/**
 * One TCP (or TLS) connection to a broker: Kafka framing, correlation ids, pipelining, timeouts and ApiVersions.
 *
 * - Requests are written as soon as they are sent (pipelining); the broker answers in order on a connection,
 *   so responses are matched to the oldest in-flight request, and the correlation id is checked against it
 *   (a mismatch is a protocol fault: the connection is closed and every in-flight request fails).
 * - Each request has a timeout (requestTimeoutMs, or the per-call one). As in Kafka's NetworkClient, a timed
 *   out request closes the connection: the others in flight fail with NETWORK_EXCEPTION (retriable) and the
 *   pool opens a new connection on the next call.
 * - open() connects and negotiates ApiVersions (v3, falling back to v0 when the broker answers
 *   UNSUPPORTED_VERSION); versionFor() picks the highest version both sides support for an API.
 * - Requests that get no response (Produce with acks=0) resolve once written.
 * - With `tls` the connection is a TLS one (SSL listeners); it is open once the handshake completed.
 * - With `sasl`, open() authenticates (SaslHandshake v1 + SaslAuthenticate, client/sasl.ts) after ApiVersions.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { encodeRequestFrame } from '../protocol/frame.js';
import { apiInfo, responseHeaderVersion } from '../protocol/generated/apis.js';
import { decodeApiVersionsResponse, type ApiVersionsResponse } from '../protocol/generated/api-versions-response.js';
import { encodeApiVersionsRequest } from '../protocol/generated/api-versions-request.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { Reader } from '../protocol/wire/reader.js';
import type { Writer } from '../protocol/wire/writer.js';
import { KafkaError, networkError, timeoutError } from './errors.js';
import { FrameReader } from './frame-reader.js';
import { authenticate, type SaslOptions } from './sasl.js';

export const CLIENT_SOFTWARE_NAME = 'runnel-client';
export const CLIENT_SOFTWARE_VERSION = '0.1.0';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  logger?: Logger;
  /** Connect over TLS (SSL / SASL_SSL listeners): trusted CAs, client certificate and key, servername. */
  tls?: TlsConnectionOptions;
  /** Authenticate with SASL (PLAIN, SCRAM-SHA-256/512; client/sasl.ts) right after ApiVersions. */
  sasl?: SaslOptions;
}

export interface SendOptions {
  /** Overrides requestTimeoutMs for this request (e.g. long-polling fetches add their max wait). */
  timeoutMs?: number;
  /** The broker sends no response (Produce acks=0): resolve once written. */
  noResponse?: boolean;
}

interface Pending {
  id: number;
  apiKey: number;
  version: number;
  decode: (r: Reader, v: number) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class Connection {
  readonly host: string;
  readonly port: number;
  /** Versions the broker offers, by API key (from ApiVersions). */
  readonly apiVersions = new Map<number, { min: number; max: number }>();
  /** Most requests seen in flight at once (for diagnostics and tests). */
  maxInFlight = 0;
  private readonly socket: Socket;
  private readonly opts: ConnectionOptions;
  private readonly inFlight: Pending[] = [];
  private readonly frames: FrameReader;
  private correlation = 0;
  private closedError: Error | null = null;
  private readonly closeListeners: (() => void)[] = [];

  private constructor(socket: Socket, frames: FrameReader, opts: ConnectionOptions) {
    this.socket = socket;
    this.frames = frames;
    this.opts = opts;
    this.host = opts.host;
    this.port = opts.port;
    socket.setNoDelay(true);
    frames.attach(
      (f) => this.onFrame(f),
      (msg) => this.fail(networkError(`connection to ${this.host}:${this.port}: ${msg}`)),
    );
    socket.on('error', (e) => this.fail(networkError(`connection to ${this.host}:${this.port}: ${e.message}`)));
    socket.on('close', () => this.fail(networkError(`connection to ${this.host}:${this.port} closed`)));
  }

  /** Connect and negotiate API versions. */
  static async open(opts: ConnectionOptions): Promise<Connection> {
    // Reads land in the reader's reusable buffer, or straight in a large frame being read (frame-reader.ts).
    const frames = new FrameReader();
    const callback = (n: number, buf: Uint8Array): boolean => {
      frames.push(buf as Buffer, n);
      return true;
    };
    const onread = { buffer: () => frames.nextBuffer(), callback };
    const socket = await new Promise<Socket>((resolve, reject) => {
      // TLS sockets do not take `onread`: their decrypted chunks are pushed into the frame reader instead.
      const s = opts.tls
        ? tlsConnect({ ...opts.tls, host: opts.host, port: opts.port }).on('data', (d: Buffer) =>
            frames.push(d, d.length),
          )
        : connect({ host: opts.host, port: opts.port, onread });
      const timer = setTimeout(() => {
        s.destroy();
        reject(timeoutError(`connecting to ${opts.host}:${opts.port} took longer than ${opts.connectTimeoutMs} ms`));
      }, opts.connectTimeoutMs);
      s.once(opts.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(networkError(`cannot connect to ${opts.host}:${opts.port}: ${e.message}`));
      });
    });
    const c = new Connection(socket, frames, opts);
    try {
      await c.negotiate();
      if (opts.sasl) await authenticate((k, v, body, decode) => c.send(k, v, body, decode), opts.sasl);
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  private async negotiate(): Promise<void> {
    // The error code leads every ApiVersions body; a broker that does not know v3 answers with a v0 body.
    const decode = (r: Reader, v: number): ApiVersionsResponse => {
      const code = r.buf.readInt16BE(r.pos);
      return decodeApiVersionsResponse(r, code === ErrorCode.UNSUPPORTED_VERSION ? 0 : v);
    };
    let res = await this.send(
      18,
      3,
      (w) =>
        encodeApiVersionsRequest(w, 3, {
          clientSoftwareName: CLIENT_SOFTWARE_NAME,
          clientSoftwareVersion: CLIENT_SOFTWARE_VERSION,
        }),
      decode,
    );
    if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION || res.errorCode === ErrorCode.INVALID_REQUEST) {
      res = await this.send(
        18,
        0,
        (w) => encodeApiVersionsRequest(w, 0, { clientSoftwareName: '', clientSoftwareVersion: '' }),
        decode,
      );
    }
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, 'ApiVersions');
    for (const k of res.apiKeys) this.apiVersions.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
  }

  /** Whether the broker offers this API at all. */
  supports(apiKey: number): boolean {
    return this.apiVersions.has(apiKey);
  }

  /**
   * The highest version of `apiKey` inside both the broker's range and [clientMin, clientMax] (clientMax is
   * also capped by what the codec knows). Throws UNSUPPORTED_VERSION when the ranges do not meet.
   */
  versionFor(apiKey: number, clientMin: number, clientMax: number): number {
    const b = this.apiVersions.get(apiKey);
    const info = apiInfo(apiKey);
    const max = Math.min(clientMax, b?.max ?? -1, info?.maxVersion ?? -1);
    const min = Math.max(clientMin, b?.min ?? 0);
    if (!b || max < min) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${info?.name ?? apiKey}: broker ${this.host}:${this.port} offers ${b ? `${b.min}-${b.max}` : 'none'}, ` +
          `client ${clientMin}-${clientMax}`,
      );
    }
    return max;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  onClose(f: () => void): void {
    if (this.closed) f();
    else this.closeListeners.push(f);
  }

  /**
   * The caller is done with a response whose data lives in `memory` (the `buffer` of a decoded records field):
   * this connection may read a later large response into it (frame-reader.ts). Only for a caller that keeps
   * nothing of that response (the replica fetcher, once its appends are written).
   */
  recycleFrame(memory: ArrayBufferLike): void {
    this.frames.recycle(memory);
  }

  /** Send one request; resolves with the decoded response body. */
  send<T>(
    apiKey: number,
    version: number,
    encode: (w: Writer) => void,
    decode: (r: Reader, v: number) => T,
    opts: SendOptions = {},
  ): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    this.correlation = (this.correlation + 1) & 0x7fffffff;
    const id = this.correlation;
    const frame = encodeRequestFrame(apiKey, version, id, this.opts.clientId, encode);
    this.opts.logger?.trace({ apiKey, version, correlationId: id, broker: `${this.host}:${this.port}` }, 'request');
    if (opts.noResponse) {
      return new Promise<T>((resolve, reject) => {
        this.socket.cork();
        for (let i = 0; i < frame.length; i++) {
          if (i < frame.length - 1) this.socket.write(frame[i]);
          else this.socket.write(frame[i], (e) => (e ? reject(networkError(e.message)) : resolve(undefined as T)));
        }
        this.socket.uncork();
      });
    }
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs;
      const p: Pending = {
        id,
        apiKey,
        version,
        decode,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: setTimeout(() => {
          const name = apiInfo(apiKey)?.name ?? String(apiKey);
          const err = timeoutError(
            `${name} v${version} to ${this.host}:${this.port}: no response within ${timeoutMs} ms`,
          );
          const i = this.inFlight.indexOf(p);
          if (i >= 0) this.inFlight.splice(i, 1);
          reject(err);
          this.fail(networkError(`connection to ${this.host}:${this.port} closed after a request timed out`));
        }, timeoutMs),
      };
      this.inFlight.push(p);
      if (this.inFlight.length > this.maxInFlight) this.maxInFlight = this.inFlight.length;
      this.socket.cork();
      for (const c of frame) this.socket.write(c);
      this.socket.uncork();
    });
  }

  private onFrame(frame: Buffer): void {
    const p = this.inFlight.shift();
    const r = new Reader(frame);
    const id = frame.length >= 4 ? r.readInt32() : -1;
    if (!p || p.id !== id) {
      if (p) this.inFlight.unshift(p);
      this.fail(
        networkError(
          `response with correlation id ${id} from ${this.host}:${this.port}, expected ${p ? p.id : 'none'}`,
        ),
      );
      return;
    }
    clearTimeout(p.timer);
    try {
      if (responseHeaderVersion(p.apiKey, p.version) === 1) r.skipTaggedFields();
      p.resolve(p.decode(r, p.version));
    } catch (e) {
      p.reject(e as Error);
    }
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    this.frames.stop();
    this.socket.destroy();
    for (const p of this.inFlight.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    for (const f of this.closeListeners.splice(0)) f();
  }

  close(): void {
    this.fail(networkError(`connection to ${this.host}:${this.port} closed by the client`));
  }
}
