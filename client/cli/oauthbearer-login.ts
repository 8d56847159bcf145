/**
 * SASL/OAUTHBEARER login from Kafka client properties (`--command-config`), as Kafka's Java client logs in:
 * - `sasl.oauthbearer.token.endpoint.url` set (with Kafka's OAuthBearerLoginCallbackHandler, KIP-768): an
 *   `http(s)://` URL is the identity provider's token endpoint, asked with the OAuth 2 client credentials grant
 *   (HTTP Basic of the URL-encoded `clientId`:`clientSecret` from the JAAS config, or
 *   `sasl.oauthbearer.client.credentials.client.id`/`.secret`; `scope` likewise or `sasl.oauthbearer.scope`),
 *   whose JSON answer's `access_token` is the token; a `file://` URL names a file holding the token.
 * - otherwise an unsecured token (Kafka's OAuthBearerUnsecuredLoginCallbackHandler, development only): an
 *   `"alg":"none"` JWT of the JAAS options `unsecuredLoginStringClaim_<name>="value"`,
 *   `unsecuredLoginNumberClaim_<name>`, `unsecuredLoginListClaim_<name>` (first character the delimiter), with
 *   `iat` and `exp` (`unsecuredLoginLifetimeSeconds`, 3600); the principal claim
 *   (`unsecuredLoginPrincipalClaimName`, `sub`) must be given.
 * A token is obtained at each authentication (each new connection). Bad options are UsageErrors; an identity
 * provider that refuses is a KafkaError (SASL_AUTHENTICATION_FAILED), as a refused login is.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { KafkaError } from '../errors.js';
import type { OAuthBearerSaslOptions } from '../sasl.js';
import { UsageError } from './common.js';

/** The `key=value` options of a JAAS config line (after the login module and its flag), quotes removed. */
export function jaasOptions(jaas: string): Map<string, string> {
  const out = new Map<string, string>();
  const body = jaas.replace(/^\s*\S+\s+(required|requisite|sufficient|optional)\b/, '');
  for (const m of body.matchAll(/([A-Za-z0-9_.]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/g))
    out.set(m[1]!, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
  return out;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

function unsecuredToken(options: ReadonlyMap<string, string>, nowMs: number): string {
  const claims: Record<string, unknown> = {};
  for (const [key, value] of options) {
    const m = /^unsecuredLogin(String|Number|List)Claim_(.+)$/.exec(key);
    if (!m) continue;
    if (m[1] === 'String') claims[m[2]!] = value;
    else if (m[1] === 'Number') {
      if (!/^-?\d+(\.\d+)?$/.test(value)) throw new UsageError(`--command-config: ${key} is not a number`);
      claims[m[2]!] = Number(value);
    } else claims[m[2]!] = value.length === 0 ? [] : value.slice(1).split(value[0]!);
  }
  const principalClaim = options.get('unsecuredLoginPrincipalClaimName') ?? 'sub';
  if (typeof claims[principalClaim] !== 'string')
    throw new UsageError(`--command-config: OAUTHBEARER needs unsecuredLoginStringClaim_${principalClaim}`);
  const lifetime = Number(options.get('unsecuredLoginLifetimeSeconds') ?? 3600);
  if (!Number.isInteger(lifetime) || lifetime <= 0)
    throw new UsageError('--command-config: unsecuredLoginLifetimeSeconds must be a positive integer');
  const iat = Math.floor(nowMs / 1000);
  return `${b64({ alg: 'none' })}.${b64({ iat, exp: iat + lifetime, ...claims })}.`;
}

function refused(message: string): KafkaError {
  return new KafkaError(ErrorCode.SASL_AUTHENTICATION_FAILED, `OAUTHBEARER login: ${message}`);
}

async function clientCredentialsToken(url: string, id: string, secret: string, scope: string | undefined) {
  const basic = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw refused(`cannot reach ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw refused(`${url} answered ${res.status}: ${text.slice(0, 200)}`);
  let token: unknown;
  try {
    token = (JSON.parse(text) as { access_token?: unknown }).access_token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') throw refused(`${url} gave no access_token`);
  return token;
}

/** The OAUTHBEARER options of a properties file (its `sasl.jaas.config` and `sasl.oauthbearer.*` keys). */
export function oauthBearerFromProperties(
  props: ReadonlyMap<string, string>,
  now: () => number = Date.now,
): OAuthBearerSaslOptions {
  const options = jaasOptions(props.get('sasl.jaas.config') ?? '');
  const endpoint = props.get('sasl.oauthbearer.token.endpoint.url');
  if (endpoint === undefined || endpoint === '') {
    unsecuredToken(options, now()); // options checked now, not at the first connection
    return { mechanism: 'OAUTHBEARER', token: async () => unsecuredToken(options, now()) };
  }
  if (endpoint.startsWith('file:')) {
    const file = fileURLToPath(endpoint);
    return { mechanism: 'OAUTHBEARER', token: async () => (await readFile(file, 'utf8')).trim() };
  }
  if (!/^https?:\/\//.test(endpoint))
    throw new UsageError(`--command-config: sasl.oauthbearer.token.endpoint.url ${endpoint} is not http(s) or file`);
  const id = options.get('clientId') ?? props.get('sasl.oauthbearer.client.credentials.client.id');
  const secret = options.get('clientSecret') ?? props.get('sasl.oauthbearer.client.credentials.client.secret');
  if (id === undefined || secret === undefined)
    throw new UsageError('--command-config: OAUTHBEARER with a token endpoint needs clientId and clientSecret');
  const scope = options.get('scope') ?? props.get('sasl.oauthbearer.scope');
  return { mechanism: 'OAUTHBEARER', token: () => clientCredentialsToken(endpoint, id, secret, scope) };
}
