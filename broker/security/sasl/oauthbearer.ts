/**
 * SASL/OAUTHBEARER on the broker (RFC 7628, KIP-255; signed tokens KIP-768), as Kafka's OAuthBearerSaslServer
 * runs it. The client's one message is `n,[a=<authzid>],\x01auth=Bearer <token>\x01[<key>=<value>\x01]...\x01`
 * (GS2 header without channel binding, then kvpairs; other keys are SASL extensions, which Kafka's validators
 * accept as they are). The token is checked by the listener's validator:
 * - unsecured JWS (the default, Kafka's OAuthBearerUnsecuredValidatorCallbackHandler), options from the JAAS
 *   config `listener.name.<l>.oauthbearer.sasl.jaas.config`: unsecuredValidatorPrincipalClaimName (sub),
 *   unsecuredValidatorScopeClaimName (scope), unsecuredValidatorRequiredScope (space-delimited, none),
 *   unsecuredValidatorAllowableClockSkewMs (0);
 * - signed JWTs when `listener.name.<l>.oauthbearer.sasl.server.callback.handler.class` names Kafka's
 *   OAuthBearerValidatorCallbackHandler: keys from `sasl.oauthbearer.jwks.endpoint.url` (./jwks.ts), claims
 *   per the `sasl.oauthbearer.*` rows (broker/config/oauth.ts). The JWKS URL alone does not select it (Kafka).
 *
 * Exchange: a valid token completes at once (empty response; principal `User:<sub>`, expiresAtMs = `exp`, for
 * KIP-368 re-authentication); an `a=` authzid other than the principal fails. An invalid token is answered
 * with RFC 7628's error JSON (`{"status":"invalid_token"}`, or insufficient_scope with the scope) as a challenge;
 * the client's next message (RFC 7628: a lone \x01) then fails the exchange with that JSON as the message, as
 * Kafka does. The reason stays in the broker's log (debug) and in `failureReason`.
 * A malformed or oversized (> 512 KiB, Kafka's sasl.server.max.receive.size default) message fails at once.
 */
import { ConfigError } from '../../config-model.js';
import type { Logger } from '../../logger.js';
import { SaslAuthenticationError } from '../../../protocol/errors.js';
import { parseJaasConfig } from './jaas.js';
import { type JwksFetcher, JwksSource } from './jwks.js';
import {
  TokenValidationError,
  type ValidatedToken,
  parseJws,
  parseScope,
  signingAlgorithm,
  validateSignedClaims,
  validateUnsecured,
  verifySignature,
} from './oauthbearer-jwt.js';
import type { SaslMechanismFactory, SaslServer, SaslServerContext, SaslServerResult } from './mechanism.js';

export const OAUTHBEARER = 'OAUTHBEARER';
/** Largest client message accepted (Kafka's sasl.server.max.receive.size default). */
export const MAX_CLIENT_MESSAGE_BYTES = 524_288;

const SIGNED_HANDLERS = [
  'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
  'org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler',
];
const UNSECURED_HANDLER =
  'org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler';
const MECHANISM_PREFIX = 'oauthbearer';

export interface ClientInitialResponse {
  /** The `a=` authzid, '' when absent. */
  readonly authorizationId: string;
  readonly token: string;
  /** SASL extensions: every kvpair but `auth`. */
  readonly extensions: ReadonlyMap<string, string>;
}

const SEP = String.fromCharCode(1);
const SASLNAME = /^(?:[^=,]|=2C|=3D)+$/;
const KEY = /^[A-Za-z]+$/;
const VALUE = /^[!-~ \t\r\n]+$/;
const AUTH = /^([A-Za-z0-9_]+) +([-_.A-Za-z0-9]+=*)$/;

function malformed(): SaslAuthenticationError {
  return new SaslAuthenticationError('Invalid OAUTHBEARER client first message');
}

/** A GS2 saslname: US-ASCII without NUL, `,` and `=` written =2C and =3D. */
function isSaslName(s: string): boolean {
  return SASLNAME.test(s) && [...s].every((c) => c.charCodeAt(0) >= 1 && c.charCodeAt(0) <= 0x7f);
}

/** The client's message (see the header), or a SaslAuthenticationError. */
export function parseClientInitialResponse(message: Buffer): ClientInitialResponse {
  const text = message.toString('utf8');
  const comma = text.indexOf(',', 2);
  if (!text.startsWith('n,') || comma < 0) throw malformed();
  const gs2 = text.slice(2, comma);
  if (gs2 !== '' && !(gs2.startsWith('a=') && isSaslName(gs2.slice(2)))) throw malformed();
  const rest = text.slice(comma + 1);
  if (rest.length < 2 || !rest.startsWith(SEP) || !rest.endsWith(SEP)) throw malformed();
  // The kvpairs, each ending with SEP; the last split element is the empty string after the last one.
  const pairs = rest.slice(1, -1).split(SEP);
  if (pairs.pop() !== '') throw malformed();
  const extensions = new Map<string, string>();
  let auth: string | undefined;
  for (const kv of pairs) {
    const eq = kv.indexOf('=');
    const key = kv.slice(0, eq);
    const value = kv.slice(eq + 1);
    if (eq <= 0 || !KEY.test(key) || !VALUE.test(value)) throw malformed();
    if (key === 'auth' ? auth !== undefined : extensions.has(key)) throw malformed();
    if (key === 'auth') auth = value;
    else extensions.set(key, value);
  }
  const a = auth === undefined ? null : AUTH.exec(auth);
  if (!a || a[1]!.toLowerCase() !== 'bearer') throw malformed();
  return {
    authorizationId: gs2.slice(2).replaceAll('=2C', ',').replaceAll('=3D', '='),
    token: a[2]!,
    extensions,
  };
}

/** RFC 7628's error JSON, formatted as Kafka's OAuthBearerSaslServer writes it. */
export function errorJson(e: TokenValidationError): string {
  return e.scope === undefined ? `{"status":"${e.status}"}` : `{"status":"${e.status}", "scope":"${e.scope}"}`;
}

/** Checks a token for one listener. */
export type TokenValidator = (token: string) => Promise<ValidatedToken>;

function int(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(`sasl.jaas.config: ${name} must be a non-negative integer`);
  return Number(text.trim());
}

interface ValidatorDeps {
  readonly ctx: SaslServerContext;
  readonly jwks: (url: string, refreshMs: number) => JwksSource;
}

/** The validator a listener's configuration selects (see the header); ConfigError when it is misconfigured. */
export function listenerValidator({ ctx, jwks }: ValidatorDeps): TokenValidator {
  const { config, clock } = ctx.services;
  const l = ctx.listenerName;
  const handler = config.listenerValue(l, 'sasl.server.callback.handler.class', MECHANISM_PREFIX) as string | null;
  if (handler === null || handler === UNSECURED_HANDLER) {
    const jaas = config.listenerValue(l, 'sasl.jaas.config', MECHANISM_PREFIX) as string | null;
    const o = jaas === null ? new Map<string, string>() : parseJaasConfig(jaas).options;
    const principalClaimName = o.get('unsecuredValidatorPrincipalClaimName')?.trim() || 'sub';
    const scopeClaimName = o.get('unsecuredValidatorScopeClaimName')?.trim() || 'scope';
    const requiredScope = parseScope(o.get('unsecuredValidatorRequiredScope'));
    const skew = int(o.get('unsecuredValidatorAllowableClockSkewMs'), 'unsecuredValidatorAllowableClockSkewMs', 0);
    return async (token) =>
      validateUnsecured(token, {
        principalClaimName,
        scopeClaimName,
        requiredScope,
        allowableClockSkewMs: skew,
        nowMs: clock.now(),
      });
  }
  if (!SIGNED_HANDLERS.includes(handler))
    throw new ConfigError(`OAUTHBEARER on listener ${l}: unsupported sasl.server.callback.handler.class ${handler}`);
  const url = config.listenerValue(l, 'sasl.oauthbearer.jwks.endpoint.url') as string | null;
  if (!url) throw new ConfigError(`OAUTHBEARER on listener ${l}: sasl.oauthbearer.jwks.endpoint.url is required`);
  const source = jwks(url, config.listenerValue(l, 'sasl.oauthbearer.jwks.endpoint.refresh.ms') as number);
  const claimOpts = {
    subClaimName: config.listenerValue(l, 'sasl.oauthbearer.sub.claim.name') as string,
    scopeClaimName: config.listenerValue(l, 'sasl.oauthbearer.scope.claim.name') as string,
    expectedAudience: config.listenerValue(l, 'sasl.oauthbearer.expected.audience') as string[] | null,
    expectedIssuer: config.listenerValue(l, 'sasl.oauthbearer.expected.issuer') as string | null,
    clockSkewMs: (config.listenerValue(l, 'sasl.oauthbearer.clock.skew.seconds') as number) * 1000,
  };
  return async (token) => {
    const jws = parseJws(token);
    const { name, spec } = signingAlgorithm(jws);
    const kid = typeof jws.header.kid === 'string' ? jws.header.kid : undefined;
    const key = await source.key(kid, name, spec);
    if (!verifySignature(jws, spec, key.key)) throw new TokenValidationError('the signature does not verify');
    return validateSignedClaims(jws, { ...claimOpts, nowMs: clock.now() });
  };
}

class OAuthBearerServer implements SaslServer {
  readonly mechanism = OAUTHBEARER;
  authorizationId = '';
  expiresAtMs: number | undefined;
  /** Why the token was refused (for logs and tests; never sent to the client). */
  failureReason: string | undefined;
  /** SASL extensions the client sent with a valid token. */
  extensions: ReadonlyMap<string, string> = new Map();
  private state: 'initial' | 'failed' | 'complete' = 'initial';
  private errorMessage = '';

  constructor(
    private readonly validator: () => TokenValidator,
    private readonly log: Logger,
  ) {}

  async evaluate(token: Buffer): Promise<SaslServerResult> {
    if (this.state === 'failed') throw new SaslAuthenticationError(this.errorMessage);
    if (this.state === 'complete') throw new SaslAuthenticationError('OAUTHBEARER authentication already completed');
    if (token.length > MAX_CLIENT_MESSAGE_BYTES)
      throw new SaslAuthenticationError(`OAUTHBEARER client message larger than ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
    const msg = parseClientInitialResponse(token);
    let validated: ValidatedToken;
    try {
      validated = await this.validator()(msg.token);
    } catch (e) {
      if (e instanceof ConfigError) {
        this.log.error({ err: e }, 'OAUTHBEARER is misconfigured on this listener');
        throw new SaslAuthenticationError('Authentication failed: OAUTHBEARER is misconfigured on the broker');
      }
      if (!(e instanceof TokenValidationError)) throw e;
      this.state = 'failed';
      this.failureReason = e.reason;
      this.errorMessage = errorJson(e);
      this.log.debug({ reason: e.reason }, 'OAUTHBEARER token refused');
      return { response: Buffer.from(this.errorMessage, 'utf8'), complete: false };
    }
    if (msg.authorizationId !== '' && msg.authorizationId !== validated.principal)
      throw new SaslAuthenticationError(
        "Authentication failed: Client requested an authorization id that is different from the token's " +
          'principal name',
      );
    this.authorizationId = validated.principal;
    this.expiresAtMs = validated.expiresAtMs;
    this.extensions = msg.extensions;
    this.state = 'complete';
    return { response: Buffer.alloc(0), complete: true };
  }
}

export interface OAuthBearerMechanismOptions {
  /** How JWKS URLs are read (tests); default: file:// from disk, http(s) with fetch. */
  readonly fetcher?: JwksFetcher;
}

/** An OAUTHBEARER factory with its own JWKS caches (one per URL and refresh interval). */
export function createOAuthBearerMechanism(opts: OAuthBearerMechanismOptions = {}): SaslMechanismFactory {
  const sources = new Map<string, JwksSource>();
  return {
    name: OAUTHBEARER,
    create(ctx: SaslServerContext): SaslServer {
      const jwks = (url: string, refreshMs: number): JwksSource => {
        const k = `${refreshMs} ${url}`;
        let s = sources.get(k);
        if (!s) {
          s = new JwksSource({
            url,
            refreshMs,
            now: () => ctx.services.clock.now(),
            log: ctx.log,
            fetcher: opts.fetcher,
          });
          sources.set(k, s);
        }
        return s;
      };
      return new OAuthBearerServer(() => listenerValidator({ ctx, jwks }), ctx.log);
    },
  };
}

/** The broker's OAUTHBEARER mechanism (the SASL handlers' mechanism list includes it). */
export const OAUTHBEARER_MECHANISM: SaslMechanismFactory = createOAuthBearerMechanism();
