/**
 * Re-authentication (KIP-368, broker/security/sasl/authenticator.ts): SaslAuthenticate v1+ answers the session
 * lifetime (connections.max.reauth.ms); a connection re-authenticates in place with the same principal; a
 * different principal, or a session left to expire, closes the connection; kafkajs with a short lifetime keeps
 * producing past it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { RunningBroker } from '../../../../broker/index.js';
import { encodeMetadataRequest, defaultMetadataRequest } from '../../../../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../../../../protocol/generated/metadata-response.js';
import type { RawClient } from '../../../helpers/raw-client.js';
import { rawAuthenticate, saslBroker, saslRaw } from '../../../helpers/sasl.js';

const LIFETIME = 1500;
let b: RunningBroker;
before(async () => {
  b = await saslBroker({ config: { 'connections.max.reauth.ms': LIFETIME } });
});
after(async () => {
  await b.stop();
});

const metadata = (c: RawClient) =>
  c.request(
    3,
    9,
    (w) => encodeMetadataRequest(w, 9, { ...defaultMetadataRequest(), topics: [] }),
    decodeMetadataResponse,
  );
const alice = { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' } as const;

test('the session lifetime is answered; re-authenticating renews it; an expired session is closed', async () => {
  const c = await saslRaw(b);
  assert.equal(await rawAuthenticate(c, alice), LIFETIME);
  assert.equal((await metadata(c)).brokers.length, 1);
  assert.equal(await rawAuthenticate(c, alice, 2), LIFETIME, 're-authentication on the same connection');
  assert.equal((await metadata(c)).brokers.length, 1);
  await sleep(LIFETIME + 300);
  c.send(3, 9, (w) => encodeMetadataRequest(w, 9, { ...defaultMetadataRequest(), topics: [] }));
  assert.equal(await c.receive(), null, 'closed: the session expired');
});

test('an expired session may still re-authenticate before anything else', async () => {
  const c = await saslRaw(b);
  await rawAuthenticate(c, { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' });
  await sleep(LIFETIME + 300);
  await rawAuthenticate(c, { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' });
  assert.equal((await metadata(c)).brokers.length, 1);
  c.close();
});

test('re-authentication as someone else, or with another mechanism, closes the connection', async () => {
  const c = await saslRaw(b);
  await rawAuthenticate(c, alice);
  await assert.rejects(
    rawAuthenticate(c, { mechanism: 'PLAIN', username: 'bob', password: 'bob-pw' }),
    /SASL_AUTHENTICATION_FAILED: Cannot change principals during re-authentication from User:alice: User:bob/,
  );
  assert.ok(await c.waitClosed());
  const d = await saslRaw(b);
  await rawAuthenticate(d, alice);
  await assert.rejects(
    rawAuthenticate(d, { mechanism: 'SCRAM-SHA-512', username: 'admin', password: 'admin-secret' }),
    /UNSUPPORTED_SASL_MECHANISM/,
  );
  assert.ok(await d.waitClosed());
});

test('kafkajs with a short session lifetime keeps producing past it', async () => {
  const kafka = new Kafka({
    clientId: 'reauth',
    brokers: [b.listeners.SASL_PLAINTEXT.bootstrapServers],
    sasl: { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    // Re-authenticate once less than this is left of the session (kafkajs's default is 10 s).
    reauthenticationThreshold: 500,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'reauth', numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const deadline = Date.now() + 3 * LIFETIME + 500;
  let sent = 0;
  for (let i = 0; i < 100 && Date.now() < deadline; i++) {
    await producer.send({ topic: 'reauth', messages: [{ value: `m${i}` }] });
    sent++;
    await sleep(100);
  }
  await producer.disconnect();
  assert.ok(sent >= 10, `sent ${sent}`);
  const offsets = await (async () => {
    const a = kafka.admin();
    await a.connect();
    try {
      return await a.fetchTopicOffsets('reauth');
    } finally {
      await a.disconnect();
    }
  })();
  assert.equal(offsets[0].high, String(sent), 'every record written');
});
