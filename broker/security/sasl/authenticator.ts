/**
 * The SASL state machine of one connection on a SASL listener (Kafka's SaslServerAuthenticator), driven by the
 * connection (which frames it admits, raw tokens) and by the SaslHandshake / SaslAuthenticate handlers.
 *
 * States and rules (Kafka's):
 * - Before authentication only ApiVersions and SaslHandshake are admitted, then (handshake v1) only
 *   SaslAuthenticate until the exchange completes; anything else closes the connection (Kafka's
 *   IllegalSaslStateException). Every frame before authentication is at most `sasl.server.max.receive.size`.
 * - A v0 handshake switches the connection to raw SASL tokens (int32 size + bytes, no Kafka header) until the
 *   exchange completes; a failed raw exchange closes the connection without an answer.
 * - A mechanism not enabled on the listener: UNSUPPORTED_SASL_MECHANISM with the enabled list, then close.
 * - A failed exchange (SaslAuthenticationError from the mechanism) is answered SASL_AUTHENTICATION_FAILED with
 *   the mechanism's message after `connection.failed.authentication.delay.ms`, then the connection closes.
 * - Success sets the session's principal (`User:<authorizationId>`) and `authenticated`; the session lives
 *   `connections.max.reauth.ms` (0: unlimited), or less when the credential expires sooner (KIP-368), and
 *   SaslAuthenticate v1+ tells the client so.
 * - Re-authentication (KIP-368): an authenticated connection may send SaslHandshake v1 + SaslAuthenticate again,
 *   with the same mechanism and ending in the same principal (else the connection closes); other requests keep
 *   being served under the current session meanwhile. Once the session has expired, any request but those of a
 *   re-authentication closes the connection.
 */
import { SaslAuthenticationError } from '../../../protocol/errors.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import type { Logger } from '../../logger.js';
import type { BrokerServices } from '../../services.js';
import type { Session } from '../session.js';
import type { SaslServer } from './mechanism.js';
import { enabledMechanisms, saslMechanism } from './mechanisms.js';

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

export interface HandshakeResult {
  errorCode: number;
  mechanisms: string[];
}

export interface AuthenticateResult {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  sessionLifetimeMs: bigint;
}

interface Exchange {
  readonly server: SaslServer;
  /** Tokens come as raw frames (handshake v0), not in SaslAuthenticate. */
  readonly raw: boolean;
}

const EMPTY = Buffer.alloc(0);

export class SaslAuthenticator {
  private exchange: Exchange | undefined;
  /** The mechanism of the last successful authentication (re-authentication must keep it). */
  private mechanism: string | undefined;
  /** When the authenticated session ends (ms since the epoch); null: never. */
  private expiresAtMs: number | null = null;
  private failed = false;
  /** Set when the answer being sent must be the connection's last (failed or refused authentication). */
  closeAfterResponse = false;

  constructor(
    private readonly session: Session,
    private readonly services: BrokerServices,
    private readonly log: Logger,
  ) {}

  /** true while the next frame is a raw SASL token rather than a Kafka request (after a v0 handshake). */
  get rawTokens(): boolean {
    return this.exchange?.raw === true;
  }

  /** When the current session expires (ms since the epoch), null when it does not. */
  get sessionExpiresAtMs(): number | null {
    return this.expiresAtMs;
  }

  /**
   * Whether the connection may serve a request of `apiKey` (a frame of `size` bytes) now: undefined if so, else
   * why the connection must close.
   */
  admit(apiKey: number, size: number): string | undefined {
    if (this.failed) return 'request after failed authentication';
    if (!this.session.authenticated) {
      const max = this.services.config.int('sasl.server.max.receive.size');
      if (size > max) return `SASL request of ${size} bytes exceeds sasl.server.max.receive.size ${max}`;
      if (this.exchange === undefined) {
        if (apiKey === API_VERSIONS || apiKey === SASL_HANDSHAKE) return undefined;
        return `Unexpected Kafka request of API key ${apiKey} during SASL handshake`;
      }
      return apiKey === SASL_AUTHENTICATE
        ? undefined
        : `Unexpected Kafka request of API key ${apiKey} during SASL authentication`;
    }
    if (apiKey === SASL_HANDSHAKE) {
      return this.exchange === undefined ? undefined : 'SaslHandshake during re-authentication';
    }
    if (apiKey === SASL_AUTHENTICATE) {
      return this.exchange === undefined ? 'SaslAuthenticate after successful authentication' : undefined;
    }
    if (this.expiresAtMs !== null && this.services.clock.now() >= this.expiresAtMs)
      return 'SASL session expired (connections.max.reauth.ms) without re-authentication';
    return undefined;
  }

  /** SaslHandshake: start an exchange with `mechanism`. */
  handshake(mechanism: string, version: number): HandshakeResult {
    const enabled = enabledMechanisms(this.services.config, this.session.listenerName);
    const factory = enabled.includes(mechanism) ? saslMechanism(mechanism) : undefined;
    const reauth = this.session.authenticated;
    if (!factory || (reauth && (mechanism !== this.mechanism || version < 1))) {
      this.log.info(
        { mechanism, enabled, reauth },
        reauth ? 'SASL mechanism not allowed for re-authentication; closing connection' : 'unsupported SASL mechanism',
      );
      this.failed = true;
      this.closeAfterResponse = true;
      return {
        errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
        mechanisms: reauth && this.mechanism ? [this.mechanism] : enabled,
      };
    }
    const server = factory.create({
      listenerName: this.session.listenerName,
      services: this.services,
      log: this.log,
    });
    this.exchange = { server, raw: version === 0 };
    return { errorCode: ErrorCode.NONE, mechanisms: enabled };
  }

  /** SaslAuthenticate: feed one token; `version` 1+ answers the session lifetime. */
  async authenticate(token: Buffer): Promise<AuthenticateResult> {
    const out: AuthenticateResult = { errorCode: 0, errorMessage: null, authBytes: EMPTY, sessionLifetimeMs: 0n };
    try {
      const r = await this.step(token);
      out.authBytes = r.response;
      if (r.lifetimeMs !== undefined) out.sessionLifetimeMs = BigInt(r.lifetimeMs);
      return out;
    } catch (err) {
      if (!(err instanceof SaslAuthenticationError)) throw err;
      await this.failureDelay(err);
      this.closeAfterResponse = true;
      return { ...out, errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: err.message };
    }
  }

  /** One raw token (after a v0 handshake): the raw answer, or null when the connection must close. */
  async rawToken(frame: Buffer): Promise<Buffer | null> {
    const max = this.services.config.int('sasl.server.max.receive.size');
    if (frame.length > max) {
      this.log.warn({ size: frame.length, max }, 'SASL token exceeds sasl.server.max.receive.size; closing connection');
      this.failed = true;
      return null;
    }
    try {
      return (await this.step(frame)).response;
    } catch (err) {
      if (!(err instanceof SaslAuthenticationError)) throw err;
      await this.failureDelay(err);
      return null;
    }
  }

  private async step(token: Buffer): Promise<{ response: Buffer; lifetimeMs?: number }> {
    const exchange = this.exchange;
    if (!exchange) throw new SaslAuthenticationError('SASL token without a handshake');
    const r = await exchange.server.evaluate(token);
    if (!r.complete) return { response: r.response };
    const user = exchange.server.authorizationId;
    const principal = `User:${user}`;
    if (this.session.authenticated && principal !== this.session.principal)
      throw new SaslAuthenticationError(
        `Cannot change principals during re-authentication from ${this.session.principal}: ${principal}`,
      );
    const now = this.services.clock.now();
    const { config } = this.services;
    const maxReauth = config.listenerValue(
      this.session.listenerName,
      'connections.max.reauth.ms',
      exchange.server.mechanism,
    ) as number;
    const credentialMs =
      exchange.server.expiresAtMs === undefined ? undefined : Math.max(0, exchange.server.expiresAtMs - now);
    let lifetimeMs: number | undefined;
    if (credentialMs !== undefined && maxReauth > 0) lifetimeMs = Math.min(credentialMs, maxReauth);
    else if (credentialMs !== undefined) lifetimeMs = credentialMs;
    else if (maxReauth > 0) lifetimeMs = maxReauth;
    const reauth = this.session.authenticated;
    this.session.principal = principal;
    this.session.authenticated = true;
    this.mechanism = exchange.server.mechanism;
    this.expiresAtMs = lifetimeMs === undefined ? null : now + lifetimeMs;
    this.exchange = undefined;
    this.log.info(
      { principal, mechanism: this.mechanism, sessionLifetimeMs: lifetimeMs ?? 0 },
      reauth ? 'SASL re-authentication succeeded' : 'SASL authentication succeeded',
    );
    return { response: r.response, lifetimeMs: lifetimeMs ?? 0 };
  }

  private async failureDelay(err: SaslAuthenticationError): Promise<void> {
    const mechanism = this.exchange?.server.mechanism;
    this.failed = true;
    this.exchange = undefined;
    this.log.info(
      { mechanism, listener: this.session.listenerName, err: err.message },
      'failed authentication; closing connection',
    );
    const ms = this.services.config.int('connection.failed.authentication.delay.ms');
    if (ms > 0) await new Promise<void>((resolve) => this.services.clock.setTimeout(resolve, ms));
  }
}
