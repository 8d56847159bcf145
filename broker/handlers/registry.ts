/**
 * The API registry. Each handler file (`broker/handlers/NN-name.ts`, NN = API key) registers itself here
 * with the version range it implements; ApiVersions answers from this registry and nothing else, and the
 * connection layer routes requests through it. A request for an unregistered key or a version outside the
 * range cannot be parsed and closes the connection, as Kafka does — except where a handler supplies
 * `unsupportedVersion` (ApiVersions, KIP-511).
 */
import type { Reader } from '../../protocol/wire/reader.js';
import type { Writer } from '../../protocol/wire/writer.js';
import type { RequestHeader } from '../../protocol/generated/request-header.js';
import type { Logger } from '../logger.js';
import type { BrokerServices } from '../services.js';
import type { Session } from '../security/session.js';
import type { SaslAuthenticator } from '../security/sasl/authenticator.js';
import { InternalError } from '../../protocol/errors.js';
import type { RequestQuota } from '../quotas/request-quota.js';

/** What a handler sees of the request it serves. */
export interface RequestContext {
  readonly header: RequestHeader;
  readonly apiVersion: number;
  /** Remote address of the client. */
  readonly clientHost: string;
  /** The connection's listener and principal (broker/security/session.ts). */
  readonly session: Session;
  /** The connection's SASL state machine, on SASL listeners only (SaslHandshake / SaslAuthenticate use it). */
  readonly sasl?: SaslAuthenticator;
  readonly log: Logger;
  /** The services a handler may use (broker/services.ts); destructure what the handler needs. */
  readonly services: BrokerServices;
  /**
   * Let the connection start its next request before this one is answered; call it once everything
   * whose order matters is done (connection.ts). Optional to call; calling it twice is harmless.
   */
  readonly release?: () => void;
  /**
   * Close the connection instead of answering, once the responses of earlier requests are sent (Kafka's
   * requestChannel.closeConnection; Produce with acks=0 uses it to tell the client something failed).
   */
  readonly closeConnection?: () => void;
  /**
   * This request's client quotas (broker/quotas/request-quota.ts): throttled APIs record what they use; the
   * connection fills throttle_time_ms and mutes the connection for it after the response.
   */
  readonly quota: RequestQuota;
  /**
   * Run `fn` once this request's response has been handed to the socket (its write callback), or at once when
   * none is sent (no response, a closed connection, a failure). A consumer Fetch gives its reused read
   * buffers back there (storage/read-buffers.ts). Absent: the handler must not answer with reused memory.
   */
  readonly afterResponse?: (fn: () => void) => void;
}

export interface ApiHandler<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * Lowest version advertised in ApiVersions when it differs from minVersion. Produce advertises 0 while
   * implementing 3+: librdkafka turns compression off unless Produce v0 is in the advertised range.
   */
  readonly advertisedMinVersion?: number;
  decode(r: Reader, version: number): Req;
  encode(w: Writer, version: number, res: Res): void;
  /** Returns the response, or null when none is sent (Produce with acks=0). */
  handle(req: Req, ctx: RequestContext): Res | null | Promise<Res | null>;
  /** Answer for a version above maxVersion, encoded at the version returned (only ApiVersions has one). */
  unsupportedVersion?(requestedVersion: number): { version: number; response: Res };
}

const handlers: (ApiHandler | undefined)[] = [];

export function registerHandler<Req, Res>(h: ApiHandler<Req, Res>): ApiHandler<Req, Res> {
  if (handlers[h.apiKey]) throw new InternalError(`API key ${h.apiKey} registered twice`);
  handlers[h.apiKey] = h as unknown as ApiHandler;
  return h;
}

export function handlerFor(apiKey: number): ApiHandler | undefined {
  return apiKey >= 0 ? handlers[apiKey] : undefined;
}

export interface AdvertisedApi {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** The ranges ApiVersions advertises, ordered by key. */
export function advertisedApis(): AdvertisedApi[] {
  const out: AdvertisedApi[] = [];
  for (const h of handlers) {
    if (h) out.push({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion });
  }
  return out;
}
