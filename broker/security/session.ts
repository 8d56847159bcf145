/**
 * The security state of one client connection: which listener it came in on, with which security protocol,
 * and who the peer is (Kafka's KafkaChannel principal). Handlers read it as `ctx.session`; the authorizer and
 * quotas key on `principal`.
 *
 * Invariants:
 * - `principal` is a KafkaPrincipal string `<type>:<name>`. It is `User:ANONYMOUS` on PLAINTEXT listeners and
 *   on SSL listeners without a client certificate, as in Kafka; TLS client auth sets it from the certificate
 *   (`User:` + subject DN after `ssl.principal.mapping.rules`), SASL from the authenticated user.
 * - `authenticated` is false only on a SASL listener before authentication completed; the connection then
 *   answers nothing but ApiVersions and the SASL APIs.
 */

/** Kafka's security protocols (listener.security.protocol.map values). */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/** The principal of every connection that has not authenticated as someone (Kafka's KafkaPrincipal.ANONYMOUS). */
export const ANONYMOUS = 'User:ANONYMOUS';

export interface Session {
  /** The listener's name, e.g. `PLAINTEXT`, `SASL_SSL`, or a custom one mapped in listener.security.protocol.map. */
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  /** The KafkaPrincipal, `User:<name>` (see the header). */
  principal: string;
  /** false on a SASL listener until authentication completed. */
  authenticated: boolean;
}

/** The session of a connection on a PLAINTEXT listener named `listenerName`. */
export function plaintextSession(listenerName = 'PLAINTEXT'): Session {
  return { listenerName, securityProtocol: 'PLAINTEXT', principal: ANONYMOUS, authenticated: true };
}

/**
 * What each new connection of a listener starts with: PLAINTEXT and SSL connections are ANONYMOUS and may send
 * any request (TLS client auth replaces the principal once the handshake is done); SASL ones must authenticate.
 */
export function sessionFactory(listenerName: string, securityProtocol: SecurityProtocol): () => Session {
  const sasl = securityProtocol === 'SASL_PLAINTEXT' || securityProtocol === 'SASL_SSL';
  return () => ({ listenerName, securityProtocol, principal: ANONYMOUS, authenticated: !sasl });
}

/** `User:alice` → `alice`; the name part of any KafkaPrincipal string. */
export function principalName(principal: string): string {
  const i = principal.indexOf(':');
  return i < 0 ? principal : principal.slice(i + 1);
}
