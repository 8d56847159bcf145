/**
 * Verification keys of signed OAUTHBEARER tokens: a JSON Web Key Set (RFC 7517) read from a `file://` URL or
 * fetched from an `http(s)://` URL (`sasl.oauthbearer.jwks.endpoint.url`), as Kafka's RefreshingHttpsJwks
 * keeps it: the set is fetched on first use, fetched again before a validation once it is older than
 * `sasl.oauthbearer.jwks.endpoint.refresh.ms`, and at once when a token names a `kid` the set does not hold (at
 * most once a minute per `kid`, remembering at most 16 such kids, as Kafka does) so a rotated key is picked up.
 *
 * Key selection: a token with a `kid` uses the key with that `kid`; a token without one uses the only key that
 * fits its algorithm. A key fits when its `kty` (and EC `crv`) suits the algorithm, its `use` (if any) is
 * "sig" and its `alg` (if any) is the token's. Keys that node:crypto cannot import are skipped (logged).
 *
 * Invariants: at most one fetch of a set is in flight; a failed fetch keeps the previous keys (if any) and is
 * logged; JwksSource holds no timers, so nothing outlives the broker.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../logger.js';
import { ConfigError } from '../../config-model.js';
import { TokenValidationError } from './oauthbearer-jwt.js';

/** How to read the text of a JWKS URL (injectable for tests; default: file:// from disk, http(s) with fetch). */
export type JwksFetcher = (url: string) => Promise<string>;

const FETCH_TIMEOUT_MS = 10_000;
const MISSING_KID_INTERVAL_MS = 60_000;
const MISSING_KID_MAX = 16;

export const defaultJwksFetcher: JwksFetcher = async (url) => {
  const u = new URL(url);
  if (u.protocol === 'file:') return readFile(fileURLToPath(u), 'utf8');
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new ConfigError(`unsupported JWKS URL scheme ${u.protocol} (file:, http: or https:)`);
  const res = await fetch(u, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
  if (!res.ok) throw new ConfigError(`GET ${url} answered HTTP ${res.status}`);
  return res.text();
};

export interface VerificationKey {
  readonly kid: string | undefined;
  readonly kty: string;
  readonly crv: string | undefined;
  readonly use: string | undefined;
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

/** The keys of a JWKS document; keys node cannot import (or private-only ones) are reported in `skipped`. */
export function parseJwks(text: string): { keys: VerificationKey[]; skipped: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ConfigError('the JWKS is not JSON');
  }
  const list = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new ConfigError('the JWKS has no "keys" array');
  const keys: VerificationKey[] = [];
  const skipped: string[] = [];
  for (const jwk of list as Array<Record<string, unknown>>) {
    const str = (k: string): string | undefined => (typeof jwk?.[k] === 'string' ? (jwk[k] as string) : undefined);
    const kty = str('kty');
    if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') {
      skipped.push(`${str('kid') ?? '(no kid)'}: key type ${kty ?? '(none)'} cannot verify signatures`);
      continue;
    }
    try {
      // Only the public members: a JWKS that also lists private parts still yields public keys.
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = jwk;
      const key = createPublicKey({ key: pub as import('node:crypto').JsonWebKey, format: 'jwk' });
      keys.push({ kid: str('kid'), kty, crv: str('crv'), use: str('use'), alg: str('alg'), key });
    } catch (e) {
      skipped.push(`${str('kid') ?? '(no kid)'}: ${(e as Error).message}`);
    }
  }
  return { keys, skipped };
}

/** The key that verifies a token with this `kid` (or none) and algorithm, or a TokenValidationError. */
export function selectKey(
  keys: readonly VerificationKey[],
  kid: string | undefined,
  alg: string,
  spec: { kty: string; crv?: string },
): VerificationKey {
  const fits = (k: VerificationKey): boolean =>
    k.kty === spec.kty &&
    (spec.crv === undefined || k.crv === spec.crv) &&
    (k.use === undefined || k.use === 'sig') &&
    (k.alg === undefined || k.alg === alg);
  if (kid !== undefined) {
    const k = keys.find((x) => x.kid === kid);
    if (!k) throw new TokenValidationError(`no key with kid ${JSON.stringify(kid)} in the JWKS`);
    if (!fits(k)) throw new TokenValidationError(`the key ${JSON.stringify(kid)} cannot verify ${alg} signatures`);
    return k;
  }
  const candidates = keys.filter(fits);
  if (candidates.length !== 1)
    throw new TokenValidationError(
      `the token has no kid and ${candidates.length === 0 ? 'no' : 'more than one'} JWKS key fits ${alg}`,
    );
  return candidates[0]!;
}

export interface JwksSourceOptions {
  readonly url: string;
  readonly refreshMs: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly fetcher?: JwksFetcher;
}

/** One JWKS URL's keys, refreshed as the header says. */
export class JwksSource {
  private keys: VerificationKey[] = [];
  private fetchedAtMs: number | undefined;
  private inFlight: Promise<void> | undefined;
  /** kid → when a refresh was last made for it. */
  private readonly missingKids = new Map<string, number>();

  constructor(private readonly opts: JwksSourceOptions) {}

  /** The key for a token (see selectKey), refreshing the set first when it is stale or lacks the `kid`. */
  async key(kid: string | undefined, alg: string, spec: { kty: string; crv?: string }): Promise<VerificationKey> {
    const now = this.opts.now();
    if (this.fetchedAtMs === undefined || now - this.fetchedAtMs >= this.opts.refreshMs) await this.refresh();
    if (kid !== undefined && !this.keys.some((k) => k.kid === kid) && this.mayRefreshFor(kid, now)) {
      await this.refresh();
    }
    if (this.fetchedAtMs === undefined) throw new TokenValidationError(`the JWKS at ${this.opts.url} is unavailable`);
    return selectKey(this.keys, kid, alg, spec);
  }

  private mayRefreshFor(kid: string, now: number): boolean {
    const last = this.missingKids.get(kid);
    if (last !== undefined && now - last < MISSING_KID_INTERVAL_MS) return false;
    this.missingKids.delete(kid);
    if (this.missingKids.size >= MISSING_KID_MAX) this.missingKids.delete(this.missingKids.keys().next().value!);
    this.missingKids.set(kid, now);
    return true;
  }

  /** Fetch the set now (joining a fetch in flight). */
  refresh(): Promise<void> {
    this.inFlight ??= this.fetchNow().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchNow(): Promise<void> {
    const fetcher = this.opts.fetcher ?? defaultJwksFetcher;
    try {
      const { keys, skipped } = parseJwks(await fetcher(this.opts.url));
      for (const s of skipped) this.opts.log.warn({ url: this.opts.url }, `JWKS key skipped: ${s}`);
      this.keys = keys;
      this.fetchedAtMs = this.opts.now();
      this.opts.log.debug({ url: this.opts.url, keys: keys.length }, 'JWKS fetched');
    } catch (err) {
      this.opts.log.error({ err, url: this.opts.url }, 'fetching the JWKS failed');
    }
  }
}
