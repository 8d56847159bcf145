/**
 * The admin API's authentication and authorization (broker/admin/auth.ts) over real HTTP: open without security;
 * with an authorizer, 401 without or with wrong credentials, Basic against SCRAM users and bearer tokens, and
 * each route checked with the same ACL operation as the Kafka API (nothing created or deleted when denied);
 * Basic against the PLAIN users of the SASL listeners (JAAS and plain.users.file); bearer OAUTHBEARER tokens
 * checked as the first OAUTHBEARER listener does (signed JWTs against a JWKS file, or unsecured JWS).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, pbkdf2Sync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuleAuthorizer } from '../../helpers/rule-authorizer.js';
import { PLAIN_JAAS } from '../../helpers/sasl.js';
import { testBroker } from '../../helpers/test-broker.js';
import type { Action, AuthorizableRequestContext, Authorizer } from '../../../broker/authorizer.js';
import { AclOperation, AclResourceType } from '../../../broker/authorizer.js';
import { scramKeys, scramMechanism } from '../../../replication/metadata/scram-credentials.js';
import type { RunningBroker } from '../../../broker/index.js';

/** A test authorizer: User:admin may do anything; User:alice may DESCRIBE and READ the topic `visible`. */
function ruleAuthorizer(seen: AuthorizableRequestContext[]): Authorizer {
  const allow = (ctx: AuthorizableRequestContext, a: Action): boolean => {
    seen.push(ctx);
    if (ctx.principal === 'User:admin') return true;
    return (
      ctx.principal === 'User:alice' &&
      a.resourceType === AclResourceType.TOPIC &&
      a.resourceName === 'visible' &&
      (a.operation === AclOperation.DESCRIBE || a.operation === AclOperation.READ)
    );
  };
  return {
    authorize: (ctx, actions) => actions.map((a) => allow(ctx, a)),
    acls: () => [],
    createAcls: async () => [],
    deleteAcls: async () => [],
  };
}

async function addScramUser(b: RunningBroker, user: string, password: string): Promise<void> {
  const mechanism = scramMechanism('SCRAM-SHA-512')!;
  const salt = randomBytes(16);
  const saltedPassword = pbkdf2Sync(password, salt, 4096, 64, 'sha512');
  const [r] = await b.broker.scramCredentials.alter(
    [],
    [{ name: user, mechanism: mechanism.type, iterations: 4096, salt, saltedPassword }],
  );
  assert.equal(r.code, 0);
  assert.ok(scramKeys(mechanism, saltedPassword).storedKey.length > 0);
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

test('without an authorizer or SASL listener the admin API needs no credentials', async () => {
  const b = await testBroker({ topics: ['t'] });
  try {
    const r = await fetch(`${b.adminUrl}/topics`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { topics: unknown[] }).topics.length, 1);
  } finally {
    await b.stop();
  }
});

test('with an authorizer: 401 without/with wrong credentials, Basic (SCRAM) and bearer, ACLs per route', async () => {
  const b = await testBroker({
    topics: ['visible', 'hidden'],
    config: { 'admin.bearer.tokens': 'User:admin=s3cret-token' },
  });
  const seen: AuthorizableRequestContext[] = [];
  b.broker.authorizer = ruleAuthorizer(seen);
  const url = b.adminUrl!;
  try {
    await addScramUser(b, 'alice', 'alice-secret');

    // Probes stay open.
    assert.equal((await fetch(`${url}/health`)).status, 200);
    assert.equal((await fetch(`${url}/ready`)).status, 200);

    const none = await fetch(`${url}/topics`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /Basic/);
    const wrong = await fetch(`${url}/topics`, { headers: basic('alice', 'nope') });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'SASL_AUTHENTICATION_FAILED');
    assert.equal((await fetch(`${url}/topics`, { headers: basic('mallory', 'alice-secret') })).status, 401);
    assert.equal((await fetch(`${url}/topics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(`${url}/metrics`)).status, 401, '/metrics requires credentials by default');

    // alice sees only what she may DESCRIBE.
    const listed = await fetch(`${url}/topics`, { headers: basic('alice', 'alice-secret') });
    assert.equal(listed.status, 200);
    const names = ((await listed.json()) as { topics: { name: string }[] }).topics.map((t) => t.name);
    assert.deepEqual(names, ['visible']);
    assert.equal(seen.at(-1)?.principal, 'User:alice');
    assert.equal(seen.at(-1)?.listenerName, 'ADMIN');
    const hidden = await fetch(`${url}/topics/hidden`, { headers: basic('alice', 'alice-secret') });
    assert.equal(hidden.status, 403);
    assert.equal(((await hidden.json()) as { error: { code: string } }).error.code, 'TOPIC_AUTHORIZATION_FAILED');
    // Not allowed to create, delete or write: nothing changes.
    const create = await fetch(`${url}/topics`, {
      method: 'POST',
      headers: { ...basic('alice', 'alice-secret'), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'new-one' }),
    });
    assert.equal(create.status, 403);
    assert.equal(b.broker.metadata.image.topic('new-one'), undefined);
    const del = await fetch(`${url}/topics/visible`, { method: 'DELETE', headers: basic('alice', 'alice-secret') });
    assert.equal(del.status, 403);
    assert.ok(b.broker.metadata.image.topic('visible'));
    const write = await fetch(`${url}/topics/visible/records`, {
      method: 'POST',
      headers: { ...basic('alice', 'alice-secret'), 'content-type': 'application/json' },
      body: JSON.stringify([{ value: 'x' }]),
    });
    assert.equal(write.status, 403);
    const read = await fetch(`${url}/topics/visible/partitions/0/records`, { headers: basic('alice', 'alice-secret') });
    assert.equal(read.status, 200);
    assert.deepEqual(((await read.json()) as { records: unknown[] }).records, [], 'the denied write wrote nothing');
    assert.equal((await fetch(`${url}/metrics`, { headers: basic('alice', 'alice-secret') })).status, 403);

    // The bearer token runs as User:admin, who may do anything.
    const admin = { authorization: 'Bearer s3cret-token' };
    const created = await fetch(`${url}/topics`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'new-one' }),
    });
    assert.equal(created.status, 201);
    assert.equal((await fetch(`${url}/metrics`, { headers: admin })).status, 200);
  } finally {
    await b.stop();
  }
});

test('admin.metrics.authentication.required=false leaves /metrics open', async () => {
  const b = await testBroker({ config: { 'admin.metrics.authentication.required': false } });
  b.broker.authorizer = ruleAuthorizer([]);
  try {
    assert.equal((await fetch(`${b.adminUrl}/metrics`)).status, 200);
    assert.equal((await fetch(`${b.adminUrl}/topics`)).status, 401);
  } finally {
    await b.stop();
  }
});

const SIGNED = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler';
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowS = (): number => Math.floor(Date.now() / 1000);
const unsecuredJwt = (claims: Record<string, unknown>): string => `${b64({ alg: 'none' })}.${b64(claims)}.`;

test('Basic against PLAIN users of SASL listeners; bearer JWTs checked as the first OAUTHBEARER listener', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-admin-auth-'));
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwksPath = join(dir, 'jwks.json');
  writeFileSync(jwksPath, JSON.stringify({ keys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'k1' }] }));
  const usersFile = join(dir, 'users.txt');
  writeFileSync(usersFile, 'dave=dave-pw\n');
  const signed = (claims: Record<string, unknown>): string => {
    const input = `${b64({ alg: 'ES256', typ: 'JWT', kid: 'k1' })}.${b64(claims)}`;
    const sig = sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  };
  const b = await testBroker({
    storage: 'memory',
    topics: ['t'],
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,OAUTH://127.0.0.1:0,OAUTH2://127.0.0.1:0',
      'listener.security.protocol.map':
        'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,OAUTH:SASL_PLAINTEXT,OAUTH2:SASL_PLAINTEXT',
      'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
      'listener.name.sasl_plaintext.plain.users.file': usersFile,
      // The first OAUTHBEARER listener validates signed JWTs; OAUTH2's (unsecured) is not the one used.
      'listener.name.oauth.sasl.enabled.mechanisms': 'OAUTHBEARER',
      'listener.name.oauth.oauthbearer.sasl.server.callback.handler.class': SIGNED,
      'listener.name.oauth.sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(jwksPath).href,
      'listener.name.oauth.sasl.oauthbearer.expected.audience': 'kafka',
      'listener.name.oauth2.sasl.enabled.mechanisms': 'OAUTHBEARER',
    },
  });
  const authz = new RuleAuthorizer([], ['User:alice', 'User:dave', 'User:svc-orders']);
  b.broker.authorizer = authz;
  const topics = (headers: Record<string, string>) => fetch(`${b.adminUrl}/topics`, { headers });
  try {
    // PLAIN users: JAAS user_alice, and dave from plain.users.file.
    assert.equal((await topics(basic('alice', 'alice-secret'))).status, 200);
    assert.equal(authz.asked.at(-1)?.principal, 'User:alice');
    assert.equal((await topics(basic('dave', 'dave-pw'))).status, 200);
    assert.equal(authz.asked.at(-1)?.principal, 'User:dave');
    assert.equal((await topics(basic('alice', 'bob-pw'))).status, 401);
    assert.equal((await topics(basic('nobody', 'alice-secret'))).status, 401);

    // A signed JWT with the expected audience: the principal is its sub.
    const good = { sub: 'svc-orders', aud: 'kafka', iat: nowS() - 5, exp: nowS() + 600 };
    const ok = await topics({ authorization: `Bearer ${signed(good)}` });
    assert.equal(ok.status, 200);
    assert.equal(authz.asked.at(-1)?.principal, 'User:svc-orders');
    assert.deepEqual(
      ((await ok.json()) as { topics: { name: string }[] }).topics.map((t) => t.name),
      ['t'],
    );
    // Expired, wrong audience, unsecured (the first OAUTHBEARER listener wants signatures), tampered: 401.
    const refused = [
      signed({ ...good, exp: nowS() - 60 }),
      signed({ ...good, aud: 'other' }),
      unsecuredJwt(good),
      `${signed(good).slice(0, -4)}AAAA`,
    ];
    for (const token of refused) {
      const r = await topics({ authorization: `Bearer ${token}` });
      assert.equal(r.status, 401, token);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'SASL_AUTHENTICATION_FAILED');
    }
  } finally {
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bearer unsecured JWS when the OAUTHBEARER listener uses the default (unsecured) validator', async () => {
  const b = await testBroker({
    storage: 'memory',
    topics: ['t'],
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'OAUTHBEARER',
      'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config':
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ' +
        'unsecuredValidatorRequiredScope="admin";',
    },
  });
  const authz = new RuleAuthorizer([], ['User:carol']);
  b.broker.authorizer = authz;
  const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });
  try {
    const claims = { sub: 'carol', scope: ['admin', 'read'], iat: nowS() - 5, exp: nowS() + 600 };
    assert.equal((await fetch(`${b.adminUrl}/topics`, bearer(unsecuredJwt(claims)))).status, 200);
    assert.equal(authz.asked.at(-1)?.principal, 'User:carol');
    const noScope = unsecuredJwt({ ...claims, scope: ['read'] });
    assert.equal((await fetch(`${b.adminUrl}/topics`, bearer(noScope))).status, 401, 'required scope missing');
    assert.equal((await fetch(`${b.adminUrl}/topics`, bearer('not-a-jwt'))).status, 401);
  } finally {
    await b.stop();
  }
});
