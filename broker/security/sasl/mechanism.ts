/**
 * The server side of one SASL mechanism (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER), as the SASL handlers drive it:
 * a connection creates one `SaslServer` per authentication (and per re-authentication, KIP-368) and feeds it the
 * client's tokens in order until `complete`.
 *
 * Invariants:
 * - `evaluate` either returns the server's next token or throws SaslAuthenticationError (protocol/errors.ts);
 *   after a throw the exchange is over and the connection is closed by the caller.
 * - `authorizationId` and `expiresAtMs` are read only once `complete` is true.
 */
import type { Logger } from '../../logger.js';
import type { BrokerServices } from '../../services.js';

export interface SaslServerResult {
  /** The server's token for the client (may be empty). */
  readonly response: Buffer;
  /** true once the client is authenticated (no more tokens expected). */
  readonly complete: boolean;
}

export interface SaslServer {
  readonly mechanism: string;
  /** Feed the client's next token. */
  evaluate(token: Buffer): Promise<SaslServerResult>;
  /** The authenticated user; the session's principal becomes `User:<authorizationId>`. */
  readonly authorizationId: string;
  /** When the credential expires (OAUTHBEARER's `exp`), ms since the epoch; undefined when it does not. */
  readonly expiresAtMs?: number;
}

/** What a mechanism may use to build its server for one connection. */
export interface SaslServerContext {
  /** The listener the connection came in on (per-listener configs: config.listenerValue). */
  readonly listenerName: string;
  readonly services: Pick<BrokerServices, 'config' | 'scramCredentials' | 'clock'>;
  readonly log: Logger;
}

export interface SaslMechanismFactory {
  /** The IANA mechanism name, e.g. `SCRAM-SHA-512`. */
  readonly name: string;
  create(ctx: SaslServerContext): SaslServer;
}
