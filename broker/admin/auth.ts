/**
 * Authentication and authorization of the admin HTTP API (registered by app.ts).
 *
 * Security is on when the broker has an authorizer (`authorizer.class.name`) or any SASL listener. Then every
 * route but `/health` and `/ready` (probes that reveal nothing) requires credentials, and `/metrics` too unless
 * `admin.metrics.authentication.required=false`:
 * - `Authorization: Basic base64(user:password)`, checked against the SCRAM credentials of the metadata store
 *   (the salted password is recomputed with the stored salt and iterations and its StoredKey compared, so no
 *   password is kept) and against the PLAIN users of the broker's SASL listeners (credentials.ts);
 * - `Authorization: Bearer <token>`, one of `admin.bearer.tokens` (`User:name=token` pairs), else an OAUTHBEARER
 *   token (JWT) valid for the first SASL listener enabling OAUTHBEARER, checked as that listener does
 *   (credentials.ts); the principal is then the token's;
 * - on an https admin API (`admin.ssl.enabled`) without an Authorization header, a trusted client certificate:
 *   its principal as on an SSL listener (ssl.principal.mapping.rules); an untrusted or unmapped one is refused.
 * Missing or wrong credentials answer 401 with `WWW-Authenticate`, after a bounded delay for wrong ones.
 * The principal is then `User:<name>`, and each route asks the broker's authorizer for the same operation on the
 * same resource as the Kafka API that does the same thing (403 `<RESOURCE>_AUTHORIZATION_FAILED` otherwise).
 * Without security the principal is User:ANONYMOUS and, with no authorizer, everything is allowed.
 */
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Broker } from '../broker.js';
import { AclOperation, AclResourceType, type Action, CLUSTER_RESOURCE } from '../authorizer.js';
import { SCRAM_MECHANISMS } from '../../replication/metadata/scram-credentials.js';
import { ANONYMOUS } from '../security/session.js';
import { listenerPlan } from '../security/listeners.js';
import { HttpError } from './records.js';
import { type PasswordVerifier, oauthBearerValidator, plainPasswordVerifiers } from './credentials.js';
import type { TokenValidator } from '../security/sasl/oauthbearer.js';
import type { ListenerTls } from '../security/tls.js';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../config-model.js';

export type { PasswordVerifier } from './credentials.js';

/** The listener name admin requests are authorized under (ACLs may name hosts, never listeners). */
export const ADMIN_LISTENER = 'ADMIN';

/** Delay before a 401 for wrong credentials (as Kafka's connection.failed.authentication.delay.ms). */
const FAILED_AUTH_DELAY_MS = 100;

/** Routes that never require credentials. */
const OPEN_ROUTES = new Set(['/health', '/ready']);

const FAILED_CODE: Record<number, string> = {
  [AclResourceType.TOPIC]: 'TOPIC_AUTHORIZATION_FAILED',
  [AclResourceType.GROUP]: 'GROUP_AUTHORIZATION_FAILED',
  [AclResourceType.CLUSTER]: 'CLUSTER_AUTHORIZATION_FAILED',
  [AclResourceType.TRANSACTIONAL_ID]: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated KafkaPrincipal (User:ANONYMOUS when security is off). */
    principal: string;
  }
}

/** Whether the admin API requires credentials: an authorizer or a SASL listener is configured. */
export function adminSecurityEnabled(broker: Broker): boolean {
  return broker.authorizer !== undefined || hasSaslListener(broker);
}

function hasSaslListener(broker: Broker): boolean {
  try {
    return listenerPlan(broker.config).listeners.some((l) => l.securityProtocol.startsWith('SASL'));
  } catch {
    return false;
  }
}

/** true when `password` is `user`'s under any stored SCRAM mechanism. */
export function scramPasswordVerifier(broker: Pick<Broker, 'scramCredentials'>): PasswordVerifier {
  return (user, password) => {
    let ok = false;
    for (const m of SCRAM_MECHANISMS) {
      const c = broker.scramCredentials.credential(user, m.name);
      if (!c) continue;
      const digestLength = m.hash === 'sha256' ? 32 : 64;
      const salted = pbkdf2Sync(password.normalize('NFKC'), c.salt, c.iterations, digestLength, m.hash);
      const clientKey = createHmac(m.hash, salted).update('Client Key').digest();
      const storedKey = createHash(m.hash).update(clientKey).digest();
      if (storedKey.length === c.storedKey.length && timingSafeEqual(storedKey, c.storedKey)) ok = true;
    }
    return ok;
  };
}

/** `admin.bearer.tokens`: `User:name=token` pairs → token → principal. */
export function parseBearerTokens(entries: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries) {
    const i = e.indexOf('=');
    if (i <= 0 || i === e.length - 1) continue;
    const principal = e.slice(0, i).trim();
    out.set(e.slice(i + 1).trim(), principal.includes(':') ? principal : `User:${principal}`);
  }
  return out;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

export interface AdminAuth {
  /** Throws a 403 HttpError unless `operation` on the resource is allowed to the request's principal. */
  require(req: FastifyRequest, operation: number, resourceType: number, name: string): void;
  /** Throws a 403 unless `operation` on the CLUSTER is allowed. */
  requireCluster(req: FastifyRequest, operation: number): void;
  /** Whether `operation` on the resource is allowed (no log line when denied). */
  allowed(req: FastifyRequest, operation: number, resourceType: number, name: string): boolean;
  /** DESCRIBE on the CLUSTER for `/metrics`, unless `admin.metrics.authentication.required` is false. */
  requireMetrics(req: FastifyRequest): void;
  /** CREATE on the CLUSTER, or on the topic, as CreateTopics checks. */
  requireCreateTopic(req: FastifyRequest, name: string): void;
}

export interface AdminAuthOptions {
  /** Password checks besides the SCRAM credentials; default: the PLAIN users of the SASL listeners. */
  passwordVerifiers?: readonly PasswordVerifier[];
  /** OAUTHBEARER token check; default: that of the first SASL listener enabling OAUTHBEARER (null: none). */
  tokenValidator?: TokenValidator | null;
  /** The TLS of an https admin API: client certificates authenticate. */
  tls?: ListenerTls;
}

/** Registers the authentication hook on `app` and returns the per-route authorization checks. */
export function registerAdminAuth(app: FastifyInstance, broker: Broker, opts: AdminAuthOptions = {}): AdminAuth {
  const saslListener = hasSaslListener(broker);
  const metricsOpen = !broker.config.bool('admin.metrics.authentication.required');
  const log = broker.childLogger('admin');
  const verifiers = [scramPasswordVerifier(broker), ...(opts.passwordVerifiers ?? plainPasswordVerifiers(broker, log))];
  const tokens = parseBearerTokens((broker.config.get('admin.bearer.tokens') as string[] | null) ?? []);
  const validateToken =
    opts.tokenValidator === null ? undefined : (opts.tokenValidator ?? oauthBearerValidator(broker, log));

  app.decorateRequest('principal', ANONYMOUS);
  app.addHook('onRequest', async (req, reply) => {
    if (!saslListener && !broker.authorizer) return;
    const path = req.url.split('?', 1)[0];
    if (OPEN_ROUTES.has(path) || (metricsOpen && path === '/metrics')) return;
    const principal = req.headers.authorization
      ? await authenticate(req.headers.authorization)
      : certificatePrincipal(req.raw.socket as TLSSocket);
    if (principal === null) {
      reply.header('www-authenticate', 'Basic realm="runnel-admin", Bearer realm="runnel-admin"');
      return reply.code(401).send({ error: { code: 'UNAUTHORIZED', message: 'credentials required' } });
    }
    if (principal === undefined) {
      log.info({ ip: req.ip, url: path }, 'admin request with wrong credentials');
      await new Promise((r) => setTimeout(r, FAILED_AUTH_DELAY_MS));
      reply.header('www-authenticate', 'Basic realm="runnel-admin", Bearer realm="runnel-admin"');
      return reply
        .code(401)
        .send({ error: { code: 'SASL_AUTHENTICATION_FAILED', message: 'Authentication failed: invalid credentials' } });
    }
    req.principal = principal;
  });

  /** The principal of a trusted client certificate; null without one, undefined for a refused one. */
  function certificatePrincipal(socket: TLSSocket): string | null | undefined {
    if (!opts.tls || !socket.encrypted) return null;
    const peer = opts.tls.authenticate(socket);
    if ('refused' in peer) {
      log.info({ reason: peer.refused }, 'admin request with a refused client certificate');
      return undefined;
    }
    return peer.principal === ANONYMOUS ? null : peer.principal;
  }

  /** The principal of an Authorization header, undefined for wrong credentials. */
  async function authenticate(header: string): Promise<string | undefined> {
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) return undefined;
      const user = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      for (const v of verifiers) if (await v(user, password)) return `User:${user}`;
      return undefined;
    }
    if (scheme === 'bearer') {
      for (const [token, principal] of tokens) if (sameSecret(token, value)) return principal;
      return validateToken && value.split('.').length === 3 ? bearerPrincipal(value) : undefined;
    }
    return undefined;
  }

  /** The principal of a valid OAUTHBEARER token, undefined otherwise (the reason logged at debug). */
  async function bearerPrincipal(token: string): Promise<string | undefined> {
    try {
      return `User:${(await validateToken!(token)).principal}`;
    } catch (err) {
      if (err instanceof ConfigError) log.error({ err: err.message }, 'OAUTHBEARER is misconfigured');
      else log.debug({ reason: (err as Error).message }, 'admin bearer token refused');
      return undefined;
    }
  }

  function authorize(req: FastifyRequest, actions: readonly Action[]): boolean[] {
    const authorizer = broker.authorizer;
    if (!authorizer) return actions.map(() => true);
    return authorizer.authorize(
      {
        principal: req.principal,
        clientHost: req.ip,
        listenerName: ADMIN_LISTENER,
        securityProtocol: req.protocol === 'https' ? 'SSL' : 'PLAINTEXT',
        clientId: null,
        apiKey: -1,
      },
      actions,
    );
  }

  const allowed = (req: FastifyRequest, operation: number, resourceType: number, resourceName: string): boolean =>
    authorize(req, [{ operation, resourceType, resourceName, logIfDenied: false }])[0];

  const require = (req: FastifyRequest, operation: number, resourceType: number, resourceName: string): void => {
    if (!authorize(req, [{ operation, resourceType, resourceName }])[0]) {
      const code = FAILED_CODE[resourceType] ?? 'CLUSTER_AUTHORIZATION_FAILED';
      throw new HttpError(403, code, `${req.principal} may not do that on ${resourceName}`);
    }
  };

  return {
    require,
    allowed,
    requireCluster: (req, operation) => require(req, operation, AclResourceType.CLUSTER, CLUSTER_RESOURCE),
    requireMetrics(req) {
      if (!metricsOpen) require(req, AclOperation.DESCRIBE, AclResourceType.CLUSTER, CLUSTER_RESOURCE);
    },
    requireCreateTopic(req, name) {
      if (allowed(req, AclOperation.CREATE, AclResourceType.CLUSTER, CLUSTER_RESOURCE)) return;
      require(req, AclOperation.CREATE, AclResourceType.TOPIC, name);
    },
  };
}
