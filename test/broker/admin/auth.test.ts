/**
 * The admin API's authentication and authorization (broker/admin/auth.ts) over real HTTP: open without security;
 * with an authorizer, 401 without or with wrong credentials, Basic against SCRAM users and bearer tokens, and
 * each route checked with the same ACL operation as the Kafka API (nothing created or deleted when denied).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
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
