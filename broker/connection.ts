/**
 * One client connection: Kafka framing (int32 size + frame) on a net.Socket. The frames come from a
 * RequestFrameReader (request-frames.ts): fed by the socket's `onread` on plaintext listeners (the socket reads
 * straight into the frames), by 'data' chunks otherwise (TLS). A handled Produce gives its frame's memory back
 * (protocol/frame-memory.ts): nothing keeps a view of it once its appends are written.
 *
 * Invariants:
 * - Requests on a connection are started in arrival order and answered in the same (correlation) order;
 *   clients may pipeline (they keep up to 5 in flight), later frames queue. A request is started only
 *   when the one before it has finished, or has called `ctx.release()`: a handler calls it once
 *   everything whose order matters has been done (Produce: every partition's append is queued on its
 *   log), so the next request overlaps with its wait for the write and fsync. At most MAX_OVERLAP
 *   released requests are unanswered at once; answers still leave strictly in order. Only a Produce starts
 *   while earlier answers are outstanding; any other request is handled once they are all out (as Kafka
 *   handles one request of a connection at a time): an answer computed early and held behind an acks=all
 *   Produce would leave stale (a Metadata naming a leader that moved meanwhile; issue #13).
 * - A frame larger than `socket.request.max.bytes` (or with a negative size) closes the connection before
 *   any of it is buffered: nothing is allocated from an attacker-chosen size.
 * - Back-pressure: while the socket holds more unsent response bytes than `maxPendingBytes`, or while too
 *   many frames are queued, the socket is paused; it resumes on 'drain'. Over `maxPendingBytes` no queued
 *   request starts either (a client that pipelines fetches and stops reading costs one response, not all).
 * - A malformed request, an unknown API key or version, or an unexpected throw in a handler closes this
 *   connection with a log line; the broker itself is never affected.
 * - Idle connections (no chunk read, no response sent, nothing left unsent) close after `connections.max.idle.ms`.
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
import { handlerFor, type RequestContext } from './handlers/registry.js';
import { plaintextSession, type Session } from './security/session.js';
import { SaslAuthenticator } from './security/sasl/authenticator.js';
import { RequestQuota } from './quotas/request-quota.js';
import type { TimerHandle } from '../storage/clock.js';
import { IdleTimer } from './idle-timer.js';
import { RequestFrameReader } from './request-frames.js';
import { requestFrameMemory } from '../protocol/frame-memory.js';
import type { ConnectionOptions } from './connection-types.js';

export type { ConnectionOptions, RequestEvent } from './connection-types.js';

const DEFAULT_MAX_PENDING = 16 * 1024 * 1024;
const DEFAULT_MAX_QUEUED = 64;
const MAX_OVERLAP = 16;
/** The one API whose requests may start before earlier answers are sent (its handler calls ctx.release). */
const PRODUCE_API_KEY = 0;
/** The longest one mute lasts. */
const MAX_MUTE_MS = 300_000;

export class Connection {
  readonly clientHost: string;
  /** Listener and principal of this connection (handlers see it as ctx.session). */
  readonly session: Session;
  /** SASL state on SASL listeners (connections that start unauthenticated). */
  private readonly sasl: SaslAuthenticator | undefined;
  private readonly log: Logger;
  /** Frames this connection's socket reads (fed by onread, or by 'data' chunks on sockets without it). */
  private readonly frames: RequestFrameReader;
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
  /** connections.max.idle.ms: touched by each chunk read and each response sent. */
  private readonly idleTimer: IdleTimer;
  /** The socket is corked until the next tick (send). */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
    /** The reader the socket's `onread` already feeds (request-frames.ts withUserBuffer); else 'data' does. */
    frames?: RequestFrameReader,
  ) {
    this.clientHost = socket.remoteAddress ?? 'unknown';
    this.session = opts.newSession?.() ?? plaintextSession();
    this.log = opts.log.child({ client: `${this.clientHost}:${socket.remotePort ?? 0}` });
    if (!this.session.authenticated) this.sasl = new SaslAuthenticator(this.session, opts.services, this.log);
    socket.setNoDelay(true);
    this.idleTimer = new IdleTimer(
      opts.idleMs,
      () => socket.writableLength > 0,
      () => {
        this.log.info('closing idle connection');
        this.close();
      },
    );
    this.frames = frames ?? new RequestFrameReader(opts.maxRequestBytes);
    this.frames.attach(
      (frame) => this.onFrame(frame),
      (size) => this.onBadSize(size),
    );
    if (!frames) socket.on('data', (chunk: Buffer) => this.frames.push(chunk, chunk.length));
    // A plaintext listener's sockets start paused (pauseOnConnect, server.ts) whichever way they are read.
    socket.resume();
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => {
      this.closed = true;
      this.idleTimer.stop();
      this.queue.length = 0;
      this.frames.stop();
      this.endMute();
      this.opts.onClose?.(this);
    });
  }

  /** Stop reading new requests; resolves once the request in flight (if any) has been answered. */
  async drain(): Promise<void> {
    // An ended connection reads on until the peer's FIN (`end`): with `onread` a paused socket reads nothing.
    if (!this.closed) this.socket.pause();
    this.queue.length = 0;
    this.endMute();
    await this.idle;
    await this.answered;
  }

  close(): void {
    this.idleTimer.stop();
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.frames.stop();
    this.endMute();
    // Answers corked earlier in this turn (send) leave before the destroy, as when each was written at once.
    if (this.corked) this.uncork();
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
    this.frames.stop();
    this.socket.end();
    // Read on (discarding: closed) so the peer's FIN is seen and the socket closes even if the peer never ends.
    this.socket.resume();
  }

  /** A complete frame (request-frames.ts): queue it, pause reading past maxQueuedFrames, start processing. */
  private onFrame(frame: Buffer): void {
    if (this.closed) return;
    this.idleTimer.touch();
    this.queue.push(frame);
    if (this.queue.length > (this.opts.maxQueuedFrames ?? DEFAULT_MAX_QUEUED)) this.socket.pause();
    if (!this.processing && !this.muted) void this.process();
  }

  private onBadSize(size: number): void {
    this.log.warn({ size, max: this.opts.maxRequestBytes }, 'request frame size out of bounds; closing connection');
    this.close();
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
        // One promise settled by whichever comes first, the release or the answer (no Promise.race per request).
        let step!: (how: 'released' | 'done') => void;
        const next = new Promise<'released' | 'done'>((resolve) => (step = resolve));
        const done = this.handleFrame(frame, () => step('released'), this.answered);
        this.answered = done;
        void done.then(() => step('done'));
        if ((await next) === 'released') {
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
    // Called after every request: a socket reading on (the usual case) needs nothing.
    if (this.closed || this.muted || !this.socket.isPaused()) return;
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
    let reusable = false;
    try {
      await this.handleRequest(
        frame,
        release,
        previous,
        () => {
          reusable = true;
        },
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
    // A handled Produce keeps nothing of its frame (every append is written): its memory takes the next frame.
    if (reusable) requestFrameMemory.recycle(frame);
  }

  private async handleRequest(
    frame: Buffer,
    release: () => void,
    previous: Promise<void>,
    handled: () => void,
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
      // Only Produce overlaps earlier answers (see the header); anything else sees the state after them.
      if (apiKey !== PRODUCE_API_KEY) await previous;
      const started = performance.now();
      const res = await handler.handle(req, ctx);
      if (apiKey === 0) handled();
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
        responseBytes: byteLength(out),
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
    this.idleTimer.touch();
    // Answers of one event-loop turn (pipelined produces written inline, several frames read at once) leave in
    // one vectored write: the socket stays corked until the turn's microtasks and ticks are done.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(chunks[i]);
    this.socket.write(chunks[last], written && (() => written()));
    if (this.socket.writableLength > (this.opts.maxPendingBytes ?? DEFAULT_MAX_PENDING)) this.socket.pause();
  }
}

function byteLength(chunks: Buffer[]): number {
  let n = 0;
  for (const b of chunks) n += b.length;
  return n;
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
