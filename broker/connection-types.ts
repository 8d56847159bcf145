/**
 * The options a Connection (connection.ts) is made with and what its `onRequest` observer sees of each handled
 * request. Types only.
 */
import type { Logger } from './logger.js';
import type { BrokerServices } from './services.js';
import type { Session } from './security/session.js';
import type { Connection } from './connection.js';

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
