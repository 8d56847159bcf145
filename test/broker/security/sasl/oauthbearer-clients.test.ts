/**
 * SASL/OAUTHBEARER end to end with real clients (kafkajs) against a broker with a SASL_PLAINTEXT listener:
 * unsecured JWS tokens (Kafka's development default) and signed RS256 tokens checked against a JWKS file
 * (KIP-768). Skipped until the SASL handlers (SaslHandshake/SaslAuthenticate and the connection gate, branch
 * s7-sasl) serve SASL listeners and list OAUTHBEARER_MECHANISM among their mechanisms.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../../../broker/index.js';

const SIGNED = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowS = (): number => Math.floor(Date.now() / 1000);
const unsecured = (sub: string, expS = nowS() + 600): string =>
  `${b64({ alg: 'none' })}.${b64({ sub, iat: nowS(), exp: expS, scope: 'kafka' })}.`;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
function rs256(claims: Record<string, unknown>, kid = 'k1'): string {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;
}

function client(b: RunningBroker, listener: string, token: string): Kafka {
  const sasl: SASLOptions = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) };
  return new Kafka({
    clientId: 'oauth-test',
    brokers: [`127.0.0.1:${b.listeners[listener]!.port}`],
    sasl,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

describe('OAUTHBEARER with kafkajs', () => {
  let dir: string;
  let b: RunningBroker;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runnel-oauth-clients-'));
    const jwks = join(dir, 'jwks.json');
    await writeFile(jwks, JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1' }] }));
    b = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SIGNED://127.0.0.1:0',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SIGNED:SASL_PLAINTEXT',
        'sasl.enabled.mechanisms': 'OAUTHBEARER',
        'listener.name.signed.oauthbearer.sasl.server.callback.handler.class': SIGNED,
        'listener.name.signed.sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(jwks).href,
        'listener.name.signed.sasl.oauthbearer.expected.audience': 'runnel',
      },
    });
  });
  after(async () => {
    await b?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('kafkajs with an unsecured token: create a topic and produce on the SASL listener', async () => {
    const kafka = client(b, 'SASL_PLAINTEXT', unsecured('alice'));
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'oauth-t', numPartitions: 1 }] });
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'oauth-t', messages: [{ value: 'hello' }] });
    await producer.disconnect();
    assert.ok(b.broker.metadata.image.topic('oauth-t'));
  });

  test('kafkajs with an expired or unsigned token is refused', async () => {
    const expired = client(b, 'SASL_PLAINTEXT', unsecured('alice', nowS() - 60)).admin();
    await assert.rejects(
      (async () => {
        await expired.connect();
        await expired.listTopics();
      })(),
    );
    await expired.disconnect();
    const unsigned = client(b, 'SIGNED', unsecured('alice')).admin();
    await assert.rejects(
      (async () => {
        await unsigned.connect();
        await unsigned.listTopics();
      })(),
    );
    await unsigned.disconnect();
  });

  test('kafkajs with a signed RS256 token on the signed listener; wrong audience refused', async () => {
    const good = rs256({ sub: 'svc', aud: 'runnel', iat: nowS(), exp: nowS() + 600 });
    const admin = client(b, 'SIGNED', good).admin();
    await admin.connect();
    try {
      assert.ok(Array.isArray(await admin.listTopics()));
    } finally {
      await admin.disconnect();
    }
    const wrong = rs256({ sub: 'svc', aud: 'other', iat: nowS(), exp: nowS() + 600 });
    const bad = client(b, 'SIGNED', wrong).admin();
    await assert.rejects(
      (async () => {
        await bad.connect();
        await bad.listTopics();
      })(),
    );
    await bad.disconnect();
  });
});
