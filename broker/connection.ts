/**
 * One client connection: Kafka framing (int32 size + frame) on a net.Socket.
 *
 * Invariants:
 * - Requests on a connection are started in arrival order and answered in the same (correlation) order;
 *   clients may pipeline (they keep up to 5 in flight), later frames queue. A request is started only
 *   when the one before it has finished, or has called `ctx.release()`: a handler calls it once
 *   everything whose order matters has been done (Produce: every partition's append is queued on its
 *   log), so the next request overlaps with its wait for the write and fsync. At most MAX_OVERLAP
 *   released requests are unanswered at once; answers still leave strictly in order.
 * - A frame larger than `socket.request.max.bytes` (or with a negative size) closes the connection before
 *   any of it is buffered: nothing is allocated from an attacker-chosen size.
 * - Back-pressure: while the socket holds more unsent response bytes than `maxPendingBytes`, or while too
 *   many frames are queued, the socket is paused; it resumes on 'drain'. Over `maxPendingBytes` no queued
 *   request starts either (a client that pipelines fetches and stops reading costs one response, not all).
 * - A malformed request, an unknown API key or version, or an unexpected throw in a handler closes this
 *   connection with a log line; the broker itself is never affected.
 * - Idle connections close after `connections.max.idle.ms`.
 * - On a SASL listener the connection's SaslAuthenticator (security/sasl/authenticator.ts) decides which
 *   requests are admitted before (and after) authentication and reads raw SASL token frames; a refused
 *   request, a failed raw exchange, or an answer to a failed authentication ends the connection.
 * - Client quotas (broker/quotas/, KIP-219): a throttled request's response carries throttle_time_ms and is sent
 *   at once; the connection is then muted for that time (`mute`): the socket is not read and no queued request
 *   starts until it ends. Only this connection waits; a mute is bounded (MAX_MUTE_MS) and ends on close.
 */
import type { Socket } from 'node:net';
import { encodeResponseFrame, parseRequestHeader } from '../protocol/frame.js';
import { BrokerFault, RunnelError } from '../protocol/errors.js';
import type { Logger } from './logger.js';
import type { BrokerServices } from './services.js';
import { handlerFor, type RequestContext } from './handlers/registry.js';
import { plaintextSession, type Session } from './security/session.js';
import { SaslAuthenticator } from './security/sasl/authenticator.js';
import { RequestQuota } from './quotas/request-quota.js';
import type { TimerHandle } from '../storage/clock.js';

export interface ConnectionOptions {
  maxRequestBytes: number;
  idleMs: number;
  /** Unsent response bytes above which reading pauses. */
  maxPendingBytes?: number;
  /** Queued, not yet handled frames above which reading pauses. */
  maxQueuedFrames?: number;
  /** The session each new connection starts with (default: a PLAINTEXT listener named PLAINTEXT). */
  newSession?: () => Session;
  /** What handlers use (ctx.services). */
  services: BrokerServices;
  log: Logger;
  /** Called once the connection is gone. */
  onClose?: (c: Connection) => void;
  /** Called after each handled request (admin metrics); must not throw. */
  onRequest?: (e: RequestEvent) => void;
}

/** What `onRequest` sees of one handled request. */
export interface RequestEvent {
  apiKey: number;
  api: string;
  apiVersion: number;
  /** The request header's client id ('' when null) and the connection's principal. */
  clientId: string;
  principal: string;
  durationMs: number;
  /** How long the client was throttled for after this response (client quotas), 0 when not. */
  throttleMs: number;
  request: unknown;
  /**
   * null when no response is sent (Produce acks=0). A Fetch's record buffers may be reused memory: read them
   * during the callback only (storage/read-buffers.ts).
   */
  response: unknown;
  responseBytes: number;
}

const DEFAULT_MAX_PENDING = 16 * 1024 * 1024;
const DEFAULT_MAX_QUEUED = 64;
const MAX_OVERLAP = 16;
/** The longest one mute lasts. */
const MAX_MUTE_MS = 300_000;

export class Connection {
  readonly clientHost: string;
  /** Listener and principal of this connection (handlers see it as ctx.session). */
  readonly session: Session;
  /** SASL state on SASL listeners (connections that start unauthenticated). */
  private readonly sasl: SaslAuthenticator | undefined;
  private readonly log: Logger;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** pendingBytes needed before the next frame can be complete: 4 (its size), or 4 + its size once known. */
  private needed = 4;
  private readonly queue: Buffer[] = [];
  private processing = false;
  /** Settles once the last started request has been answered (or dropped); answers chain on it. */
  private answered: Promise<void> = Promise.resolve();
  /** Answers of released requests not yet known to be sent, oldest first. */
  private readonly overlapping: Promise<void>[] = [];
  private closed = false;
  /** Resolves when the request being handled (if any) is answered; used for graceful shutdown. */
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  /** While muted (throttled): settles when the mute ends. */
  private muted: Promise<void> | undefined;
  private unmute: (() => void) | undefined;
  private muteTimer: TimerHandle | undefined;
  private mutedUntil = 0;

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.clientHost = socket.remoteAddress ?? 'unknown';
    this.session = opts.newSession?.() ?? plaintextSession();
    this.log = opts.log.child({ client: `${this.clientHost}:${socket.remotePort ?? 0}` });
    if (!this.session.authenticated) this.sasl = new SaslAuthenticator(this.session, opts.services, this.log);
    socket.setNoDelay(true);
    socket.setTimeout(opts.idleMs, () => {
      this.log.info('closing idle connection');
      this.close();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => {
      this.closed = true;
      this.queue.length = 0;
      this.endMute();
      this.opts.onClose?.(this);
    });
  }

  /** Stop reading new requests; resolves once the request in flight (if any) has been answered. */
  async drain(): Promise<void> {
    this.socket.pause();
    this.queue.length = 0;
    this.endMute();
    await this.idle;
    await this.answered;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.endMute();
    this.socket.destroy();
  }

  /** Whether this connection is muted (throttled) right now. */
  get isMuted(): boolean {
    return this.muted !== undefined;
  }

  /**
   * Throttle this connection: stop reading the socket and starting queued requests for `ms` (at most MAX_MUTE_MS;
   * a longer mute in progress is kept). Answers of requests already started still go out.
   */
  mute(ms: number): void {
    if (this.closed || !(ms > 0)) return;
    const { clock } = this.opts.services;
    const until = clock.now() + Math.min(ms, MAX_MUTE_MS);
    if (this.muted && this.mutedUntil >= until) return;
    if (!this.muted) this.muted = new Promise((resolve) => (this.unmute = resolve));
    this.mutedUntil = until;
    clock.clearTimeout(this.muteTimer);
    this.muteTimer = clock.setTimeout(() => {
      this.endMute();
      this.maybeResume();
      if (!this.processing && this.queue.length > 0) void this.process();
    }, until - clock.now());
    this.socket.pause();
  }

  private endMute(): void {
    this.opts.services.clock.clearTimeout(this.muteTimer);
    this.muteTimer = undefined;
    const unmute = this.unmute;
    this.muted = undefined;
    this.unmute = undefined;
    unmute?.();
  }

  /** Close after what has been written is flushed. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.socket.end();
    // Read on (discarding: closed) so the peer's FIN is seen and the socket closes even if the peer never ends.
    this.socket.resume();
  }

  /**
   * Called for every chunk the socket reads: on a TLS listener one per TLS record, often a few KiB (librdkafka
   * writes ~3 KiB records), hundreds per large produce request. So a chunk that does not complete the frame
   * being received costs two additions and a comparison: its size was checked once, from its first 4 bytes.
   */
  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.needed) return;
    const before = this.queue.length;
    while (this.pendingBytes >= 4) {
      const size = this.peekSize();
      if (size < 0 || size > this.opts.maxRequestBytes) {
        this.log.warn({ size, max: this.opts.maxRequestBytes }, 'request frame size out of bounds; closing connection');
        this.close();
        return;
      }
      if (this.pendingBytes < 4 + size) {
        this.needed = 4 + size;
        break;
      }
      this.needed = 4;
      this.queue.push(this.take(4 + size).subarray(4));
    }
    if (this.queue.length === before) return;
    if (this.queue.length > (this.opts.maxQueuedFrames ?? DEFAULT_MAX_QUEUED)) this.socket.pause();
    if (!this.processing && !this.muted) void this.process();
  }

  private peekSize(): number {
    const first = this.pending[0];
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.pending, Math.min(this.pendingBytes, 4 + 64)).subarray(0, 4);
    return head.readInt32BE(0);
  }

  /** Remove exactly n bytes from the front of the pending chunks (zero-copy when they sit in one chunk). */
  private take(n: number): Buffer {
    const first = this.pending[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.pending[0];
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.pending.shift();
        else this.pending[0] = c.subarray(k);
      }
    }
    this.pendingBytes -= n;
    return out;
  }

  private async process(): Promise<void> {
    this.processing = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    try {
      while (!this.closed && this.queue.length > 0) {
        // Throttled: queued requests wait until the mute ends.
        if (this.muted) await this.muted;
        // Back-pressure (Kafka mutes a channel until its response is sent): no request starts while more than
        // maxPendingBytes of answers wait for the peer to read them, so an unread connection holds one response's
        // worth of memory past that bound, not one per pipelined request.
        while (!this.closed && this.socket.writableLength > (this.opts.maxPendingBytes ?? DEFAULT_MAX_PENDING)) {
          await this.writable();
        }
        if (this.closed || this.queue.length === 0) break;
        const frame = this.queue.shift()!;
        let release!: () => void;
        const released = new Promise<'released'>((resolve) => (release = () => resolve('released')));
        const done = this.handleFrame(frame, release, this.answered);
        this.answered = done;
        if ((await Promise.race([released, done.then(() => 'done' as const)])) === 'released') {
          // Bound the overlap: past MAX_OVERLAP unanswered requests, wait for the oldest answer.
          this.overlapping.push(done);
          if (this.overlapping.length >= MAX_OVERLAP) await this.overlapping.shift();
        } else {
          // Everything before this one has been answered too (answers chain).
          this.overlapping.length = 0;
        }
        this.maybeResume();
      }
      // Released requests may still be unanswered: frames arriving meanwhile start a new loop at once.
    } finally {
      this.processing = false;
      this.markIdle();
    }
  }

  /** Settles once the socket has flushed what it held ('drain') or is gone. */
  private writable(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private maybeResume(): void {
    if (this.closed || this.muted) return;
    if (
      this.socket.writableLength <= (this.opts.maxPendingBytes ?? DEFAULT_MAX_PENDING) &&
      this.queue.length <= (this.opts.maxQueuedFrames ?? DEFAULT_MAX_QUEUED)
    ) {
      this.socket.resume();
    }
  }

  /**
   * Handle one frame; its answer is sent only after `previous` (the answer of the request before it) has
   * settled. `release` lets the next request start early (see the header). Never rejects.
   */
  private async handleFrame(frame: Buffer, release: () => void, previous: Promise<void>): Promise<void> {
    // Callbacks for when the response is in the socket (RequestContext.afterResponse); run at once otherwise.
    let afterSent: (() => void)[] | undefined;
    let handedOff = false;
    try {
      await this.handleRequest(
        frame,
        release,
        previous,
        (fn) => {
          afterSent ??= [];
          afterSent.push(fn);
        },
        (out) => {
          handedOff = true;
          const fns = afterSent;
          afterSent = undefined;
          this.send(out, fns && (() => runAll(fns, this.log)));
        },
      );
    } finally {
      if (!handedOff && afterSent) runAll(afterSent, this.log);
    }
  }

  private async handleRequest(
    frame: Buffer,
    release: () => void,
    previous: Promise<void>,
    afterResponse: (fn: () => void) => void,
    sendResponse: (out: Buffer[]) => void,
  ): Promise<void> {
    let apiKey = -1;
    let apiVersion = -1;
    try {
      if (this.sasl?.rawTokens) {
        const answer = await this.sasl.rawToken(frame);
        await previous;
        if (answer === null) return this.close();
        const size = Buffer.alloc(4);
        size.writeInt32BE(answer.length);
        this.send([size, answer]);
        return;
      }
      const { header, body, known } = parseRequestHeader(frame);
      apiKey = header.requestApiKey;
      apiVersion = header.requestApiVersion;
      const refused = this.sasl?.admit(apiKey, frame.length);
      if (refused !== undefined) {
        this.log.warn(
          { apiKey, apiVersion, clientId: header.clientId, reason: refused },
          `closing connection: ${refused}`,
        );
        await previous;
        this.close();
        return;
      }
      const handler = handlerFor(apiKey);
      if (!handler) {
        this.log.warn({ apiKey, apiVersion, clientId: header.clientId }, 'unsupported API key; closing connection');
        await previous;
        this.close();
        return;
      }
      if (!known || apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
        if (handler.unsupportedVersion && apiVersion > handler.maxVersion) {
          const { version, response } = handler.unsupportedVersion(apiVersion);
          await previous;
          this.send(
            encodeResponseFrame(apiKey, version, header.correlationId, (w) => handler.encode(w, version, response)),
          );
          return;
        }
        this.log.warn(
          { api: handler.name, apiVersion, clientId: header.clientId },
          'unsupported API version; closing connection',
        );
        await previous;
        this.close();
        return;
      }
      const req = handler.decode(body, apiVersion);
      if (body.remaining() !== 0)
        this.log.debug({ api: handler.name, extra: body.remaining() }, 'trailing bytes after request body');
      const quota = new RequestQuota(
        this.opts.services.quotas,
        this.session.principal,
        header.clientId ?? '',
        frame.length,
      );
      let closeRequested = false;
      const ctx: RequestContext = {
        header,
        apiVersion,
        clientHost: this.clientHost,
        session: this.session,
        sasl: this.sasl,
        log: this.log,
        services: this.opts.services,
        release,
        quota,
        afterResponse,
        closeConnection: () => {
          closeRequested = true;
        },
      };
      const started = performance.now();
      const res = await handler.handle(req, ctx);
      const throttleMs = quota.finish(apiKey, performance.now() - started);
      if (throttleMs > 0 && res !== null && typeof (res as { throttleTimeMs?: unknown }).throttleTimeMs === 'number') {
        const r = res as { throttleTimeMs: number };
        r.throttleTimeMs = Math.max(r.throttleTimeMs, throttleMs);
      }
      await previous;
      if (closeRequested) {
        this.close();
        return;
      }
      const out =
        res === null || this.closed
          ? []
          : encodeResponseFrame(apiKey, apiVersion, header.correlationId, (w) => handler.encode(w, apiVersion, res));
      if (out.length > 0) sendResponse(out);
      if (this.sasl?.closeAfterResponse) this.end();
      // KIP-219: answer first, then stop reading for the throttle time (also for acks=0 produces).
      if (throttleMs > 0) this.mute(throttleMs);
      this.opts.onRequest?.({
        apiKey,
        api: handler.name,
        apiVersion,
        clientId: header.clientId ?? '',
        principal: this.session.principal,
        durationMs: performance.now() - started,
        throttleMs,
        request: req,
        response: res,
        responseBytes: out.reduce((n, b) => n + b.length, 0),
      });
    } catch (err) {
      await previous;
      // Faults of the input are warnings; Runnel's own (BrokerFault) and uncoded ones are errors, with the stack.
      const coded = err instanceof RunnelError && !(err instanceof BrokerFault);
      this.log[coded ? 'warn' : 'error'](
        {
          apiKey,
          apiVersion,
          err: err instanceof Error ? err.message : String(err),
          stack: coded ? undefined : (err as Error)?.stack,
        },
        coded ? 'malformed request; closing connection' : 'request handling failed; closing connection',
      );
      this.close();
    }
  }

  /** Write a frame's chunks as one vectored write; `written` runs once the socket is done with them. */
  private send(chunks: Buffer[], written?: () => void): void {
    if (this.closed) {
      written?.();
      return;
    }
    const last = chunks.length - 1;
    if (last === 0) {
      this.socket.write(chunks[0], written && (() => written()));
    } else {
      this.socket.cork();
      for (let i = 0; i < last; i++) this.socket.write(chunks[i]);
      this.socket.write(chunks[last], written && (() => written()));
      this.socket.uncork();
    }
    if (this.socket.writableLength > (this.opts.maxPendingBytes ?? DEFAULT_MAX_PENDING)) this.socket.pause();
  }
}

/** Run each callback once; one that throws is logged and does not stop the others. */
function runAll(fns: (() => void)[], log: Logger): void {
  for (const fn of fns) {
    try {
      fn();
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'after-response callback failed');
    }
  }
}
