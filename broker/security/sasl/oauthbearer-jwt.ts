/**
 * JSON Web Tokens for SASL/OAUTHBEARER: the compact JWS form parsed (RFC 7515), signatures verified with
 * node:crypto, and the claim checks of Kafka's two validators:
 * - unsecured (OAuthBearerUnsecuredValidatorCallbackHandler): header `alg` "none" and an empty signature part;
 *   the principal claim must be a string; `exp` is required and `iat` optional (numeric dates in seconds,
 *   fractions allowed), both within the allowed clock skew, `iat` <= `exp`; every required scope present.
 * - signed (OAuthBearerValidatorCallbackHandler, KIP-768): the signature verifies with the JWKS key (done by
 *   the caller with verifySignature); `exp` is required, `iat` and `nbf` are checked when present, with the
 *   clock skew; `aud` contains one of the expected audiences and `iss` equals the expected issuer when those
 *   are configured; the subject claim is a non-blank string.
 * A scope claim is a string (one scope, as Kafka reads it) or a list of strings.
 *
 * Invariants: every failure is a TokenValidationError whose `reason` is for the broker's log only (clients get
 * the RFC 7628 status JSON); nothing here logs or keeps the token.
 */
import { constants, type KeyObject, verify } from 'node:crypto';

/** RFC 7628 error status: why the server refused the token. */
export type TokenErrorStatus = 'invalid_token' | 'insufficient_scope';

export class TokenValidationError extends Error {
  constructor(
    readonly reason: string,
    readonly status: TokenErrorStatus = 'invalid_token',
    /** The scope that would have been needed (insufficient_scope). */
    readonly scope?: string,
  ) {
    super(reason);
    this.name = 'TokenValidationError';
  }
}

export interface Jws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  /** ASCII `<header>.<payload>`, what the signature signs. */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/** What a valid token authenticates. */
export interface ValidatedToken {
  readonly principal: string;
  readonly scope: readonly string[];
  /** `exp` in ms since the epoch. */
  readonly expiresAtMs: number;
  readonly issuedAtMs?: number;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodePart(part: string, what: string): Buffer {
  if (!BASE64URL.test(part) || part.length % 4 === 1)
    throw new TokenValidationError(`the ${what} is not Base64URL-encoded`);
  return Buffer.from(part, 'base64url');
}

function jsonObject(b: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(b.toString('utf8'));
  } catch {
    throw new TokenValidationError(`the ${what} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TokenValidationError(`the ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** A compact JWS (`header.payload.signature`, Base64URL parts; the signature may be empty). */
export function parseJws(token: string): Jws {
  const parts = token.split('.');
  if (parts.length !== 3)
    throw new TokenValidationError('a JWS compact serialization must have 3 dot-separated Base64URL values');
  const header = jsonObject(decodePart(parts[0]!, 'JOSE header'), 'JOSE header');
  const claims = jsonObject(decodePart(parts[1]!, 'JWT claims'), 'JWT claims');
  return {
    header,
    claims,
    signingInput: Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'),
    signature: decodePart(parts[2]!, 'signature'),
  };
}

/** A NumericDate claim (seconds since the epoch, fractions allowed) in ms; undefined when absent. */
function numericDateMs(claims: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new TokenValidationError(`the '${name}' claim is not a number`);
  return Math.round(v * 1000);
}

function stringClaim(claims: Readonly<Record<string, unknown>>, name: string): string {
  const v = claims[name];
  if (v === undefined) throw new TokenValidationError(`the required '${name}' claim is missing`);
  if (typeof v !== 'string') throw new TokenValidationError(`the '${name}' claim is not a string`);
  return v;
}

/** A scope claim: absent → none; a string → that one scope (as Kafka reads it); a list of strings. */
export function scopeOf(claims: Readonly<Record<string, unknown>>, name: string): string[] {
  const v = claims[name];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v.trim() === '' ? [] : [v.trim()];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return [...new Set(v.map((s) => s.trim()))];
  throw new TokenValidationError(`the '${name}' claim is neither a string nor a list of strings`);
}

/** A space-delimited scope list (unsecuredValidatorRequiredScope). */
export function parseScope(text: string | undefined): string[] {
  return (text ?? '').split(' ').filter((s) => s !== '');
}

function checkTimes(
  claims: Readonly<Record<string, unknown>>,
  nowMs: number,
  skewMs: number,
): ValidatedToken['expiresAtMs'] {
  const exp = numericDateMs(claims, 'exp');
  if (exp === undefined) throw new TokenValidationError("the required 'exp' claim is missing");
  if (nowMs >= exp + skewMs) throw new TokenValidationError(`the token expired at ${new Date(exp).toISOString()}`);
  const iat = numericDateMs(claims, 'iat');
  if (iat !== undefined && iat > nowMs + skewMs)
    throw new TokenValidationError(`the token is issued in the future (${new Date(iat).toISOString()})`);
  if (iat !== undefined && iat > exp) throw new TokenValidationError("the 'iat' claim is after the 'exp' claim");
  return exp;
}

export interface UnsecuredOptions {
  readonly principalClaimName: string;
  readonly scopeClaimName: string;
  readonly requiredScope: readonly string[];
  readonly allowableClockSkewMs: number;
  readonly nowMs: number;
}

/** Kafka's unsecured validator (see the header). */
export function validateUnsecured(token: string, opts: UnsecuredOptions): ValidatedToken {
  const jws = parseJws(token);
  if (jws.header.alg !== 'none')
    throw new TokenValidationError(`an unsecured JWS must have alg "none", not ${JSON.stringify(jws.header.alg)}`);
  if (jws.signature.length > 0) throw new TokenValidationError('an unsecured JWS must not carry a signature');
  const principal = stringClaim(jws.claims, opts.principalClaimName);
  const expiresAtMs = checkTimes(jws.claims, opts.nowMs, opts.allowableClockSkewMs);
  const scope = scopeOf(jws.claims, opts.scopeClaimName);
  const missing = opts.requiredScope.filter((s) => !scope.includes(s));
  if (missing.length > 0)
    throw new TokenValidationError(
      `the token lacks the required scope ${missing.join(' ')}`,
      'insufficient_scope',
      opts.requiredScope.join(' '),
    );
  return { principal, scope, expiresAtMs, issuedAtMs: numericDateMs(jws.claims, 'iat') };
}

export interface SignedClaimOptions {
  readonly subClaimName: string;
  readonly scopeClaimName: string;
  /** null or empty: `aud` is not checked. */
  readonly expectedAudience: readonly string[] | null;
  readonly expectedIssuer: string | null;
  readonly clockSkewMs: number;
  readonly nowMs: number;
}

/** The claim checks of Kafka's signed-token validator (the signature is verified separately). */
export function validateSignedClaims(jws: Jws, opts: SignedClaimOptions): ValidatedToken {
  const expiresAtMs = checkTimes(jws.claims, opts.nowMs, opts.clockSkewMs);
  const nbf = numericDateMs(jws.claims, 'nbf');
  if (nbf !== undefined && opts.nowMs + opts.clockSkewMs < nbf)
    throw new TokenValidationError(`the token is not valid before ${new Date(nbf).toISOString()}`);
  if (opts.expectedAudience && opts.expectedAudience.length > 0) {
    const aud = jws.claims.aud;
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!auds.some((a) => typeof a === 'string' && opts.expectedAudience!.includes(a)))
      throw new TokenValidationError(`the audience ${JSON.stringify(aud ?? null)} is not an expected one`);
  }
  if (opts.expectedIssuer !== null && jws.claims.iss !== opts.expectedIssuer)
    throw new TokenValidationError(`the issuer ${JSON.stringify(jws.claims.iss ?? null)} is not the expected one`);
  const principal = stringClaim(jws.claims, opts.subClaimName).trim();
  if (principal === '') throw new TokenValidationError(`the '${opts.subClaimName}' claim is blank`);
  return {
    principal,
    scope: scopeOf(jws.claims, opts.scopeClaimName),
    expiresAtMs,
    issuedAtMs: numericDateMs(jws.claims, 'iat'),
  };
}

interface AlgorithmSpec {
  /** JWK `kty` of a key that can verify it. */
  readonly kty: 'RSA' | 'EC' | 'OKP';
  /** Digest for node's verify (null for EdDSA). */
  readonly hash: string | null;
  readonly pss?: true;
  /** EC curve (`crv`) the algorithm requires. */
  readonly crv?: string;
}

/** The JWS algorithms the signed-token validator accepts (never "none", never HMAC). */
export const SIGNING_ALGORITHMS: Readonly<Record<string, AlgorithmSpec>> = {
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
  ES256: { kty: 'EC', hash: 'sha256', crv: 'P-256' },
  ES384: { kty: 'EC', hash: 'sha384', crv: 'P-384' },
  ES512: { kty: 'EC', hash: 'sha512', crv: 'P-521' },
  EdDSA: { kty: 'OKP', hash: null },
};

/** The algorithm named in a signed token's header, or a TokenValidationError. */
export function signingAlgorithm(jws: Jws): { name: string; spec: AlgorithmSpec } {
  const alg = jws.header.alg;
  if (typeof alg !== 'string' || !Object.hasOwn(SIGNING_ALGORITHMS, alg))
    throw new TokenValidationError(`the JWS algorithm ${JSON.stringify(alg ?? null)} is not accepted`);
  if (jws.header.crit !== undefined)
    throw new TokenValidationError('critical JOSE header parameters are not supported');
  return { name: alg, spec: SIGNING_ALGORITHMS[alg]! };
}

/** true when `jws.signature` is a valid signature of its signing input by `key` under `alg`. */
export function verifySignature(jws: Jws, spec: AlgorithmSpec, key: KeyObject): boolean {
  try {
    if (spec.kty === 'RSA') {
      return verify(
        spec.hash,
        jws.signingInput,
        spec.pss
          ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
          : { key, padding: constants.RSA_PKCS1_PADDING },
        jws.signature,
      );
    }
    if (spec.kty === 'EC')
      return verify(spec.hash, jws.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
    return verify(null, jws.signingInput, key, jws.signature);
  } catch {
    return false;
  }
}
