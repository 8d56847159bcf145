/**
 * The admin API over HTTPS (broker/admin/server.ts, `admin.ssl.enabled`): the ADMIN listener's ssl.* settings
 * (here only as `listener.name.admin.ssl.*` overrides, no Kafka listener uses TLS), certificates made at test time
 * (test/helpers/certs.ts). Requests go through node:https with the test CA; an untrusted server certificate and
 * plaintext HTTP are refused; a replaced keystore is picked up by new connections; with `ssl.client.auth`
 * requested a trusted client certificate authenticates as its DN (an untrusted one is refused, 401); a bad
 * admin TLS config refuses start-up.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { startBroker, type RunningBroker } from '../../../broker/index.js';
import { ConfigError } from '../../../broker/config.js';
import { AclOperation, AclResourceType } from '../../../broker/authorizer.js';
import { testBroker } from '../../helpers/test-broker.js';
import { makeTestCerts, type TestCerts } from '../../helpers/certs.js';
import { RuleAuthorizer } from '../../helpers/rule-authorizer.js';

const CLIENT = 'User:CN=client1,OU=eng,O=Acme';

let certs: TestCerts;
let b: RunningBroker;
let live: string;

before(async () => {
  certs = makeTestCerts();
  live = join(certs.dir, 'admin.keystore.pem');
  copyFileSync(certs.broker.keystore, live);
  b = await testBroker({
    storage: 'memory',
    topics: ['t', 'other'],
    config: {
      'admin.ssl.enabled': true,
      'listener.name.admin.ssl.keystore.location': live,
      'listener.name.admin.ssl.truststore.location': certs.ca,
      'listener.name.admin.ssl.client.auth': 'requested',
      'ssl.file.watch.interval.ms': 100,
      'admin.bearer.tokens': 'User:ops=ops-token',
    },
  });
});
after(async () => {
  await b?.stop();
  certs?.remove();
});

interface Answer {
  status: number;
  body: string;
  /** Serial of the server certificate the connection was shown. */
  serial: string;
}

/** One GET on a new connection (agent: false), bounded by a 10 s timeout. */
function get(path: string, opts: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${b.adminUrl}${path}`, { agent: false, timeout: 10_000, ...opts }, (res) => {
      let body = '';
      const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const ca = (): RequestOptions => ({ ca: readFileSync(certs.ca) });
const serialOf = (certPath: string): string => new X509Certificate(readFileSync(certPath)).serialNumber;

test('admin.ssl.enabled: https with the ADMIN listener keystore; untrusted and plaintext refused', async () => {
  assert.match(b.adminUrl ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
  const health = await get('/health', ca());
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
  assert.equal(health.serial, serialOf(certs.broker.cert));
  const topics = await get('/topics', ca());
  assert.equal(topics.status, 200, 'no authorizer, no SASL listener: open');
  // Without the CA the server certificate is not trusted.
  await assert.rejects(get('/health'), /self[- ]signed|unable to (get|verify)/i);
  // Plain HTTP to the https port gets no answer.
  const plain = b.adminUrl!.replace(/^https:/, 'http:');
  await assert.rejects(fetch(`${plain}/health`, { signal: AbortSignal.timeout(10_000) }));
  // The Kafka listener is still PLAINTEXT.
  assert.equal(b.listeners.PLAINTEXT.securityProtocol, 'PLAINTEXT');
});

test('a replaced admin keystore is used by new connections', async () => {
  const next = certs.brokerCert('admin2', 1102);
  writeFileSync(live, readFileSync(next.keystore));
  let seen = '';
  for (let i = 0; i < 100 && seen !== serialOf(next.cert); i++) {
    seen = (await get('/health', ca())).serial;
    if (seen !== serialOf(next.cert)) await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(seen, serialOf(next.cert));
  assert.notEqual(serialOf(next.cert), serialOf(certs.broker.cert));
});

test('with an authorizer a trusted client certificate authenticates as its DN; an untrusted one gets 401', async () => {
  const authz = new RuleAuthorizer([
    { principal: CLIENT, operation: AclOperation.DESCRIBE, resourceType: AclResourceType.TOPIC, name: 't' },
  ]);
  b.broker.authorizer = authz;
  try {
    const client = { ...ca(), cert: readFileSync(certs.client.cert), key: readFileSync(certs.client.key) };
    const mine = await get('/topics', client);
    assert.equal(mine.status, 200, mine.body);
    const names = (JSON.parse(mine.body) as { topics: { name: string }[] }).topics.map((t) => t.name);
    assert.deepEqual(names, ['t']);
    assert.ok(authz.asked.some((d) => d.principal === CLIENT));

    assert.equal((await get('/topics', ca())).status, 401, 'no certificate, no header');
    const intruder = { ...ca(), cert: readFileSync(certs.intruder.cert), key: readFileSync(certs.intruder.key) };
    const refused = await get('/topics', intruder);
    assert.equal(refused.status, 401);
    assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'SASL_AUTHENTICATION_FAILED');

    // An Authorization header still works over https (and wins over the certificate).
    const ops = await get('/topics', { ...client, headers: { authorization: 'Bearer ops-token' } });
    assert.equal(ops.status, 200);
    assert.deepEqual((JSON.parse(ops.body) as { topics: unknown[] }).topics, [], 'User:ops may describe nothing');
  } finally {
    b.broker.authorizer = undefined;
  }
});

test('a bad admin TLS config refuses start-up', async () => {
  await assert.rejects(
    startBroker({ storage: 'memory', config: { 'admin.port': 0, 'admin.ssl.enabled': true } }),
    (err: Error) => err instanceof ConfigError && /listener ADMIN: TLS needs ssl.keystore.location/.test(err.message),
  );
  await assert.rejects(
    startBroker({
      storage: 'memory',
      config: {
        'admin.port': 0,
        'admin.ssl.enabled': true,
        'listener.name.admin.ssl.keystore.location': join(certs.dir, 'missing.pem'),
      },
    }),
    (err: Error) => err instanceof ConfigError && /ADMIN/.test(err.message),
  );
});
