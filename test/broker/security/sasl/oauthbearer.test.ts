/**
 * SASL/OAUTHBEARER's server (broker/security/sasl/oauthbearer.ts) driven directly as the SASL handlers drive
 * it: RFC 7628 client messages, Kafka's unsecured validator with its JAAS options, and signed JWTs (RSA, EC,
 * EdDSA keys made here with node:crypto, tokens signed here) verified against a JWKS file and an HTTP JWKS on
 * 127.0.0.1, with the refresh rules; every refusal is the RFC 7628 error JSON, then SaslAuthenticationError.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign, constants } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { BrokerConfig } from '../../../../broker/config.js';
import type { SaslServer, SaslServerContext } from '../../../../broker/security/sasl/mechanism.js';
import {
  MAX_CLIENT_MESSAGE_BYTES,
  OAUTHBEARER_MECHANISM,
  createOAuthBearerMechanism,
  parseClientInitialResponse,
} from '../../../../broker/security/sasl/oauthbearer.js';
import { SaslAuthenticationError } from '../../../../protocol/errors.js';
import { FakeClock } from '../../../../storage/clock.js';

const SIGNED = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler';
const L = 'listener.name.sasl_plaintext.oauthbearer.';
const NOW_S = 1_800_000_000;

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

function unsecured(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'none' }): string {
  return `${b64(header)}.${b64(claims)}.`;
}

function signJwt(alg: string, key: KeyObject, kid: string | undefined, claims: Record<string, unknown>): string {
  const input = `${b64(kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid })}.${b64(claims)}`;
  const hash = `sha${alg.slice(2)}`;
  let sig: Buffer;
  if (alg.startsWith('RS')) sig = sign(hash, Buffer.from(input), key);
  else if (alg.startsWith('PS'))
    sig = sign(hash, Buffer.from(input), {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  else if (alg.startsWith('ES')) sig = sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else sig = sign(null, Buffer.from(input), key);
  return `${input}.${sig.toString('base64url')}`;
}

function clientMessage(token: string, authzid = '', extra = ''): Buffer {
  return Buffer.from(`n,${authzid ? `a=${authzid}` : ''},\x01auth=Bearer ${token}\x01${extra}\x01`);
}

const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'alice',
  iat: NOW_S - 10,
  exp: NOW_S + 3600,
  ...over,
});

const log = pino({ level: 'silent' });
let clock: FakeClock;

function ctxFor(overrides: Record<string, string> = {}, listenerName = 'SASL_PLAINTEXT'): SaslServerContext {
  const config = new BrokerConfig({ overrides });
  return {
    listenerName,
    services: { config, clock, scramCredentials: undefined as never },
    log,
  };
}

/** Runs one exchange: the outcome, and the server for its fields. */
async function authenticate(
  server: SaslServer,
  message: Buffer,
): Promise<{ ok: true } | { ok: false; challenge: string; error: SaslAuthenticationError }> {
  const r = await server.evaluate(message);
  if (r.complete) {
    assert.equal(r.response.length, 0);
    return { ok: true };
  }
  const challenge = r.response.toString('utf8');
  const error = await server.evaluate(Buffer.from('\x01')).then(
    () => assert.fail('the exchange must fail after the error challenge'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SaslAuthenticationError);
  assert.equal(error.message, challenge, 'the failure message is the RFC 7628 JSON, as Kafka sends it');
  return { ok: false, challenge, error };
}

function refused(server: SaslServer): string {
  return (server as unknown as { failureReason: string }).failureReason;
}

test('client message: authzid, extensions, and malformed messages fail at once', () => {
  const m = parseClientInitialResponse(clientMessage('a.b.c', 'ali=2Cce', 'traceId=abc 1\x01'));
  assert.equal(m.token, 'a.b.c');
  assert.equal(m.authorizationId, 'ali,ce');
  assert.deepEqual([...m.extensions], [['traceId', 'abc 1']]);
  const bad = [
    '',
    'y,,\x01auth=Bearer t\x01\x01',
    'n,,auth=Bearer t\x01\x01',
    'n,,\x01auth=Bearer t\x01',
    'n,,\x01\x01',
    'n,,\x01auth=Basic dXNlcg==\x01\x01',
    'n,,\x01auth=Bearer t\x01auth=Bearer u\x01\x01',
    'n,,\x01auth=Bearer t\x01x1=y\x01\x01',
    'n,,\x01auth=Bearer t\x01k=\x01\x01',
    'n,,\x01auth=Bearer t!\x01\x01',
    'n,a=x=y,\x01auth=Bearer t\x01\x01',
  ];
  for (const b of bad)
    assert.throws(() => parseClientInitialResponse(Buffer.from(b)), SaslAuthenticationError, JSON.stringify(b));
});

before(() => {
  clock = new FakeClock(NOW_S * 1000);
});

test('unsecured (default): a valid token authenticates its sub until exp', async () => {
  const server = OAUTHBEARER_MECHANISM.create(ctxFor());
  assert.equal(server.mechanism, 'OAUTHBEARER');
  assert.deepEqual(await authenticate(server, clientMessage(unsecured(claims()), 'alice', 'ext=v\x01')), { ok: true });
  assert.equal(server.authorizationId, 'alice');
  assert.equal(server.expiresAtMs, (NOW_S + 3600) * 1000);
  // A second message after completion is refused.
  await assert.rejects(server.evaluate(Buffer.from('\x01')), SaslAuthenticationError);
});

test('unsecured: expired, future iat, missing sub, alg other than none, a signature → invalid_token', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['expired', unsecured(claims({ exp: NOW_S - 1 })), /expired/],
    ['no exp', unsecured(claims({ exp: undefined })), /'exp'/],
    ['iat in the future', unsecured(claims({ iat: NOW_S + 60 })), /future/],
    ['no sub', unsecured(claims({ sub: undefined })), /'sub'/],
    ['sub not a string', unsecured(claims({ sub: 42 })), /'sub'/],
    ['alg HS256', unsecured(claims(), { alg: 'HS256' }), /alg "none"/],
    ['signature', `${unsecured(claims())}c2ln`, /signature/],
    ['not a JWS', 'abc', /3 dot-separated/],
    ['claims not JSON', `${b64({ alg: 'none' })}.bm90IGpzb24.`, /not JSON/],
  ];
  for (const [what, token, reason] of cases) {
    const server = OAUTHBEARER_MECHANISM.create(ctxFor());
    const r = await authenticate(server, clientMessage(token));
    assert.deepEqual(r.ok ? r : r.challenge, '{"status":"invalid_token"}', what);
    assert.match(refused(server), reason, what);
  }
});

test('unsecured: JAAS options — principal claim, required scope, clock skew', async () => {
  const jaas =
    'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ' +
    'unsecuredValidatorPrincipalClaimName="client_id" unsecuredValidatorScopeClaimName="scp" ' +
    'unsecuredValidatorRequiredScope="read write" unsecuredValidatorAllowableClockSkewMs="10000";';
  const ctx = ctxFor({ [`${L}sasl.jaas.config`]: jaas });
  const ok = OAUTHBEARER_MECHANISM.create(ctx);
  const token = unsecured(claims({ client_id: 'svc-1', scp: ['read', 'write', 'admin'], exp: NOW_S - 5 }));
  assert.deepEqual(await authenticate(ok, clientMessage(token)), { ok: true });
  assert.equal(ok.authorizationId, 'svc-1', 'the configured principal claim, not sub');

  const few = OAUTHBEARER_MECHANISM.create(ctx);
  const r = await authenticate(few, clientMessage(unsecured(claims({ client_id: 'svc-1', scp: 'read' }))));
  assert.equal(r.ok ? '' : r.challenge, '{"status":"insufficient_scope", "scope":"read write"}');

  const late = OAUTHBEARER_MECHANISM.create(ctx);
  const r2 = await authenticate(
    late,
    clientMessage(unsecured(claims({ client_id: 'x', scp: ['read', 'write'], exp: NOW_S - 11 }))),
  );
  assert.equal(r2.ok, false, 'beyond the 10 s skew');

  // Another listener without the JAAS config uses the defaults (sub, no scope required).
  const other = OAUTHBEARER_MECHANISM.create(ctxFor({ [`${L}sasl.jaas.config`]: jaas }, 'OTHER'));
  assert.deepEqual(await authenticate(other, clientMessage(unsecured(claims()))), { ok: true });
  assert.equal(other.authorizationId, 'alice');
});

test('an authzid other than the principal, an oversized or malformed message → SaslAuthenticationError', async () => {
  const s1 = OAUTHBEARER_MECHANISM.create(ctxFor());
  await assert.rejects(s1.evaluate(clientMessage(unsecured(claims()), 'bob')), /different from the token's principal/);
  const s2 = OAUTHBEARER_MECHANISM.create(ctxFor());
  const huge = unsecured(claims({ pad: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES) }));
  await assert.rejects(s2.evaluate(clientMessage(huge)), (e: unknown) => {
    return e instanceof SaslAuthenticationError && /larger than/.test(e.message);
  });
  const s3 = OAUTHBEARER_MECHANISM.create(ctxFor());
  await assert.rejects(s3.evaluate(Buffer.from('garbage')), SaslAuthenticationError);
});

// ---- signed tokens (KIP-768)

let dir: string;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaOther = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');

function jwks(entries: Array<[string, KeyObject, Record<string, unknown>?]>): string {
  return JSON.stringify({
    keys: entries.map(([kid, k, extra]) => ({ ...k.export({ format: 'jwk' }), kid, use: 'sig', ...extra })),
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runnel-oauth-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function jwksFile(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return pathToFileURL(p).href;
}

function signedCtx(url: string, extra: Record<string, string> = {}): SaslServerContext {
  return ctxFor({
    [`${L}sasl.server.callback.handler.class`]: SIGNED,
    'sasl.oauthbearer.jwks.endpoint.url': url,
    ...extra,
  });
}

test('signed: RS256, PS256, ES256 and EdDSA tokens verified with the JWKS file; aud/iss/sub claim', async () => {
  const url = await jwksFile(
    'keys.json',
    jwks([
      ['rsa-1', rsa.publicKey, { alg: 'RS256' }],
      ['rsa-pss', rsa.publicKey],
      ['ec-1', ec.publicKey],
      ['ed-1', ed.publicKey],
    ]),
  );
  const mech = createOAuthBearerMechanism();
  const ctx = signedCtx(url, {
    'sasl.oauthbearer.expected.audience': 'kafka,other',
    'sasl.oauthbearer.expected.issuer': 'https://idp.example',
    'sasl.oauthbearer.sub.claim.name': 'azp',
  });
  const good = claims({ aud: ['kafka'], iss: 'https://idp.example', azp: 'svc-orders' });
  const tokens: Array<[string, string]> = [
    ['RS256', signJwt('RS256', rsa.privateKey, 'rsa-1', good)],
    ['PS256', signJwt('PS256', rsa.privateKey, 'rsa-pss', good)],
    ['ES256', signJwt('ES256', ec.privateKey, 'ec-1', good)],
    ['EdDSA', signJwt('EdDSA', ed.privateKey, 'ed-1', good)],
  ];
  for (const [alg, token] of tokens) {
    const server = mech.create(ctx);
    assert.deepEqual(await authenticate(server, clientMessage(token)), { ok: true }, alg);
    assert.equal(server.authorizationId, 'svc-orders', alg);
    assert.equal(server.expiresAtMs, (NOW_S + 3600) * 1000, alg);
  }
});

test('signed: expired, wrong aud/iss, bad signature, unknown kid, alg none, HS256 → invalid_token', async () => {
  const url = await jwksFile(
    'keys2.json',
    jwks([
      ['k1', rsa.publicKey],
      ['e1', ec.publicKey],
    ]),
  );
  const mech = createOAuthBearerMechanism();
  const ctx = signedCtx(url, {
    'sasl.oauthbearer.expected.audience': 'kafka',
    'sasl.oauthbearer.expected.issuer': 'https://idp.example',
    'sasl.oauthbearer.clock.skew.seconds': '5',
  });
  const good = claims({ aud: 'kafka', iss: 'https://idp.example' });
  const cases: Array<[string, string, RegExp]> = [
    ['expired beyond skew', signJwt('RS256', rsa.privateKey, 'k1', { ...good, exp: NOW_S - 6 }), /expired/],
    ['not yet valid', signJwt('RS256', rsa.privateKey, 'k1', { ...good, nbf: NOW_S + 60 }), /not valid before/],
    ['wrong audience', signJwt('RS256', rsa.privateKey, 'k1', { ...good, aud: ['web'] }), /audience/],
    ['no audience', signJwt('RS256', rsa.privateKey, 'k1', { ...good, aud: undefined }), /audience/],
    ['wrong issuer', signJwt('RS256', rsa.privateKey, 'k1', { ...good, iss: 'https://evil' }), /issuer/],
    ['signed by another key', signJwt('RS256', rsaOther.privateKey, 'k1', good), /signature/],
    ['unknown kid', signJwt('RS256', rsa.privateKey, 'k9', good), /no key with kid "k9"/],
    ['kid of an EC key for RS256', signJwt('RS256', rsa.privateKey, 'e1', good), /cannot verify RS256/],
    ['alg none', unsecured(good), /algorithm "none"/],
    ['HS256', `${b64({ alg: 'HS256', kid: 'k1' })}.${b64(good)}.c2ln`, /algorithm "HS256"/],
    ['no sub', signJwt('RS256', rsa.privateKey, 'k1', { ...good, sub: undefined }), /'sub'/],
    ['blank sub', signJwt('RS256', rsa.privateKey, 'k1', { ...good, sub: '  ' }), /blank/],
  ];
  // Within the skew, the token is still good.
  const ok = mech.create(ctx);
  const withinSkew = signJwt('RS256', rsa.privateKey, 'k1', { ...good, exp: NOW_S - 4 });
  assert.deepEqual(await authenticate(ok, clientMessage(withinSkew)), { ok: true });
  for (const [what, token, reason] of cases) {
    const server = mech.create(ctx);
    const r = await authenticate(server, clientMessage(token));
    assert.equal(r.ok ? 'accepted' : r.challenge, '{"status":"invalid_token"}', what);
    assert.match(refused(server), reason, what);
  }
});

test('signed: a token without kid uses the only fitting key; ambiguous → refused', async () => {
  const mech = createOAuthBearerMechanism();
  const one = signedCtx(
    await jwksFile(
      'one.json',
      jwks([
        ['k1', rsa.publicKey],
        ['e1', ec.publicKey],
      ]),
    ),
  );
  const s = mech.create(one);
  assert.deepEqual(await authenticate(s, clientMessage(signJwt('ES256', ec.privateKey, undefined, claims()))), {
    ok: true,
  });
  const two = signedCtx(
    await jwksFile(
      'two.json',
      jwks([
        ['k1', rsa.publicKey],
        ['k2', rsaOther.publicKey],
      ]),
    ),
  );
  const s2 = mech.create(two);
  const r = await authenticate(s2, clientMessage(signJwt('RS256', rsa.privateKey, undefined, claims())));
  assert.equal(r.ok, false);
  assert.match(refused(s2), /more than one/);
});

test('signed: JWKS refresh — cached until refresh.ms, an unknown kid fetches at once (rotation)', async () => {
  const name = 'rotating.json';
  const url = await jwksFile(name, jwks([['old', rsa.publicKey]]));
  let reads = 0;
  const { readFile } = await import('node:fs/promises');
  const mech = createOAuthBearerMechanism({
    fetcher: async (u) => {
      reads++;
      return readFile(new URL(u), 'utf8');
    },
  });
  const ctx = signedCtx(url, { 'sasl.oauthbearer.jwks.endpoint.refresh.ms': '600000' });
  const tokenOld = signJwt('RS256', rsa.privateKey, 'old', claims());
  const tokenNew = signJwt('RS256', rsaOther.privateKey, 'new', claims());
  assert.deepEqual(await authenticate(mech.create(ctx), clientMessage(tokenOld)), { ok: true });
  assert.deepEqual(await authenticate(mech.create(ctx), clientMessage(tokenOld)), { ok: true });
  assert.equal(reads, 1, 'the set is cached');

  // The issuer rotates: the file now holds only the new key.
  await jwksFile(name, jwks([['new', rsaOther.publicKey]]));
  assert.deepEqual(await authenticate(mech.create(ctx), clientMessage(tokenNew)), { ok: true }, 'unknown kid → fetch');
  assert.equal(reads, 2);
  // An unknown kid fetches at most once a minute.
  const s = mech.create(ctx);
  assert.equal((await authenticate(s, clientMessage(signJwt('RS256', rsa.privateKey, 'gone', claims())))).ok, false);
  assert.equal(
    (await authenticate(mech.create(ctx), clientMessage(signJwt('RS256', rsa.privateKey, 'gone', claims())))).ok,
    false,
  );
  assert.equal(reads, 3);

  // Once refresh.ms passed, the set is fetched again before validating.
  clock.advance(600_000);
  assert.deepEqual(
    await authenticate(
      mech.create(ctx),
      clientMessage(signJwt('RS256', rsaOther.privateKey, 'new', claims({ exp: NOW_S + 7200 }))),
    ),
    { ok: true },
  );
  assert.equal(reads, 4);
});

test('signed: JWKS over HTTP from 127.0.0.1; unreachable JWKS and misconfiguration refuse', async () => {
  let hits = 0;
  const body = jwks([['h1', ec.publicKey]]);
  const server: Server = createServer((req, res) => {
    hits++;
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    const mech = createOAuthBearerMechanism();
    const s = mech.create(signedCtx(`http://127.0.0.1:${port}/jwks`));
    assert.deepEqual(await authenticate(s, clientMessage(signJwt('ES256', ec.privateKey, 'h1', claims()))), {
      ok: true,
    });
    assert.equal(hits, 1);
    const missing = mech.create(signedCtx(`http://127.0.0.1:${port}/nothing`));
    const r = await authenticate(missing, clientMessage(signJwt('ES256', ec.privateKey, 'h1', claims())));
    assert.equal(r.ok, false);
    assert.match(refused(missing), /unavailable/);
  } finally {
    await new Promise((r) => server.close(r));
  }

  const noUrl = OAUTHBEARER_MECHANISM.create(ctxFor({ [`${L}sasl.server.callback.handler.class`]: SIGNED }));
  await assert.rejects(noUrl.evaluate(clientMessage(unsecured(claims()))), /misconfigured/);
  const unknown = OAUTHBEARER_MECHANISM.create(ctxFor({ [`${L}sasl.server.callback.handler.class`]: 'com.Foo' }));
  await assert.rejects(unknown.evaluate(clientMessage(unsecured(claims()))), /misconfigured/);
  const badJaas = OAUTHBEARER_MECHANISM.create(ctxFor({ [`${L}sasl.jaas.config`]: 'Module required a="b"' }));
  await assert.rejects(badJaas.evaluate(clientMessage(unsecured(claims()))), /misconfigured/);
});
