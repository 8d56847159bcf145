/**
 * TLS listeners (broker/security/tls.ts) against real clients: one in-process broker with a PLAINTEXT, an SSL
 * and an mTLS listener (`MTLS:SSL`, `listener.name.mtls.ssl.client.auth=required`), certificates made at test
 * time (test/helpers/certs.ts). kcat (librdkafka) produces and consumes over SSL and mTLS; without a client
 * certificate or with one from an untrusted CA the mTLS listener refuses it and keeps serving others; the
 * principal of an mTLS connection is its certificate's DN; confluent-kafka and kafkajs round-trip over SSL;
 * plaintext bytes on a TLS port are closed; bad TLS configs refuse start-up.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../../broker/index.js';
import { BrokerConfig, ConfigError } from '../../../broker/config.js';
import { describeBrokerConfigs } from '../../../broker/broker-configs.js';
import { opensslCipherName } from '../../../broker/security/tls-material.js';
import { testBroker } from '../../helpers/test-broker.js';
import { run } from '../../helpers/broker-process.js';
import { makeTestCerts, type TestCerts } from '../../helpers/certs.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/helpers/clients'));
const CLIENT_DN = 'CN=client1,OU=eng,O=Acme';

let certs: TestCerts;
let b: RunningBroker;

before(async () => {
  certs = makeTestCerts();
  b = await testBroker({
    storage: 'memory',
    topics: ['tls-kcat', 'mtls-kcat', 'tls-py', 'mtls-py', 'tls-js'],
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,MTLS://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SSL',
      'ssl.keystore.location': certs.broker.keystore,
      'ssl.truststore.location': certs.ca,
      'listener.name.mtls.ssl.client.auth': 'required',
    },
  });
});
after(async () => {
  await b?.stop();
  certs?.remove();
});

const bootstrap = (l: string): string => `127.0.0.1:${b.listeners[l].port}`;

function kcatTls(extra: string[] = []): string[] {
  return ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs.ca}`, ...extra];
}

function clientCert(files = certs.client): string[] {
  return ['-X', `ssl.certificate.location=${files.cert}`, '-X', `ssl.key.location=${files.key}`];
}

/** kcat -P of `lines` (bounded), then kcat -C of the whole partition; returns what was consumed. */
async function kcatRoundTrip(listener: string, topic: string, tls: string[]): Promise<string[]> {
  const { spawn } = await import('node:child_process');
  const args = ['-P', '-b', bootstrap(listener), '-t', topic, '-p', '0', '-X', 'acks=all', ...tls];
  const code = await new Promise<number | null>((res) => {
    const p = spawn('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.once('exit', (c) => {
      clearTimeout(t);
      if (c !== 0) console.error(err);
      res(c);
    });
    p.stdin.end('one\ntwo\nthree\n');
  });
  assert.equal(code, 0, 'kcat produce');
  const r = await run('kcat', ['-C', '-b', bootstrap(listener), '-t', topic, '-o', 'beginning', '-e', '-q', ...tls]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** kcat -L with a bounded metadata timeout: whether it got metadata. */
async function kcatMetadata(listener: string, tls: string[]): Promise<boolean> {
  const r = await run('kcat', ['-L', '-b', bootstrap(listener), '-m', '5', ...tls], 30_000);
  return r.code === 0 && /broker/.test(r.stdout);
}

test('kcat produces and consumes over SSL (server certificate verified against the CA)', async () => {
  assert.deepEqual(await kcatRoundTrip('SSL', 'tls-kcat', kcatTls()), ['one', 'two', 'three']);
});

test('mTLS: kcat with a client certificate works; without one or from an untrusted CA it is refused', async () => {
  assert.deepEqual(await kcatRoundTrip('MTLS', 'mtls-kcat', kcatTls(clientCert())), ['one', 'two', 'three']);
  assert.equal(await kcatMetadata('MTLS', kcatTls()), false, 'no client certificate');
  assert.equal(await kcatMetadata('MTLS', kcatTls(clientCert(certs.intruder))), false, 'untrusted client CA');
  // The broker is still up and serves the others.
  assert.equal(await kcatMetadata('MTLS', kcatTls(clientCert())), true);
  assert.equal(await kcatMetadata('SSL', kcatTls()), true);
  assert.equal(await kcatMetadata('PLAINTEXT', []), true);
});

test('the principal of an mTLS connection is User: + the certificate subject DN (RFC 2253)', async () => {
  const kafka = new Kafka({
    brokers: [bootstrap('MTLS')],
    logLevel: logLevel.NOTHING,
    ssl: {
      ca: [readFileSync(certs.ca, 'utf8')],
      cert: readFileSync(certs.client.cert, 'utf8'),
      key: readFileSync(certs.client.key, 'utf8'),
    },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.describeCluster();
    const sessions = b.broker.connectionSessions().filter((s) => s.listenerName === 'MTLS');
    assert.ok(sessions.length > 0);
    for (const s of sessions) {
      assert.equal(s.principal, `User:${CLIENT_DN}`);
      assert.equal(s.securityProtocol, 'SSL');
    }
  } finally {
    await admin.disconnect();
  }
  // SSL without client auth: anonymous.
  const anon = new Kafka({
    brokers: [bootstrap('SSL')],
    logLevel: logLevel.NOTHING,
    ssl: { ca: [readFileSync(certs.ca)] },
  });
  const a2 = anon.admin();
  await a2.connect();
  try {
    await a2.describeCluster();
    const ssl = b.broker.connectionSessions().filter((s) => s.listenerName === 'SSL');
    assert.ok(ssl.length > 0 && ssl.every((s) => s.principal === 'User:ANONYMOUS'));
  } finally {
    await a2.disconnect();
  }
});

test('confluent-kafka produces and consumes over SSL and mTLS', async () => {
  const py = (listener: string, topic: string, extra: string[]) =>
    run('/usr/bin/python3', [join(clients, 'tls_roundtrip.py'), bootstrap(listener), topic, '50', certs.ca, ...extra]);
  const ssl = await py('SSL', 'tls-py', []);
  assert.match(ssl.stdout, /^OK 50$/m, ssl.stdout + ssl.stderr.slice(-1500));
  const mtls = await py('MTLS', 'mtls-py', [certs.client.cert, certs.client.key]);
  assert.match(mtls.stdout, /^OK 50$/m, mtls.stdout + mtls.stderr.slice(-1500));
});

test('kafkajs produces and consumes over SSL', async () => {
  const kafka = new Kafka({
    brokers: [bootstrap('SSL')],
    logLevel: logLevel.NOTHING,
    ssl: { ca: [readFileSync(certs.ca, 'utf8')] },
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'tls-js', messages: [{ key: 'a', value: 'x' }, { value: 'y' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'tls-js' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'tls-js', fromBeginning: true });
  const got: string[] = [];
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`timed out, got ${got.join(',')}`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push(String(message.value));
        if (got.length === 2) {
          clearTimeout(t);
          res();
        }
      },
    });
  });
  await consumer.disconnect();
  assert.deepEqual(got, ['x', 'y']);
});

test('plaintext Kafka bytes on a TLS port: the connection is closed, the listener keeps serving', async () => {
  const closed = await new Promise<{ kafkaAnswer: boolean }>((res, rej) => {
    const s = connect({ host: '127.0.0.1', port: b.listeners.SSL.port });
    let got = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      rej(new Error('not closed within 10 s'));
    }, 10_000);
    s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      // A Kafka response would start with a size and correlation id 7.
      res({ kafkaAnswer: got.length >= 8 && got.readInt32BE(4) === 7 });
    });
    // ApiVersions v0, correlation id 7, client id "x".
    const body = Buffer.from([0, 18, 0, 0, 0, 0, 0, 7, 0, 1, 0x78]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    s.write(Buffer.concat([size, body]));
  });
  assert.equal(closed.kafkaAnswer, false);
  assert.equal(await kcatMetadata('SSL', kcatTls()), true);
});

test('bad TLS configs refuse start-up with a ConfigError', async () => {
  const ssl = { listeners: 'SSL://127.0.0.1:0', 'listener.security.protocol.map': 'SSL:SSL' };
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /needs ssl.keystore.location/],
    [{ 'ssl.keystore.location': join(certs.dir, 'missing.pem') }, /cannot be read/],
    [{ 'ssl.keystore.location': certs.broker.keystore, 'ssl.keystore.type': 'JKS' }, /JKS is not supported/],
    [{ 'ssl.keystore.location': certs.broker.cert }, /exactly one private key/],
    [{ 'ssl.keystore.certificate.chain': readFileSync(certs.broker.cert, 'utf8') }, /go together/],
    [
      {
        'ssl.keystore.certificate.chain': readFileSync(certs.broker.cert, 'utf8'),
        'ssl.keystore.key': readFileSync(certs.client.key, 'utf8'),
      },
      /does not match/,
    ],
    [{ 'ssl.keystore.location': certs.broker.keystore, 'ssl.truststore.location': certs.broker.key }, /no certif/],
    [{ 'ssl.keystore.location': certs.broker.keystore, 'ssl.principal.mapping.rules': 'RULE:x' }, /invalid rule/],
  ];
  for (const [config, why] of cases) {
    await assert.rejects(
      startBroker({ storage: 'memory', config: { ...ssl, ...config } }),
      (e: Error) => e instanceof ConfigError && why.test(e.message),
      JSON.stringify(config).slice(0, 200),
    );
  }
});

test('an encrypted key with ssl.key.password, and inline PEM keystore and truststore', async () => {
  const encrypted = certs.encryptedKey(certs.broker, 'pw-1');
  const ssl = { listeners: 'SSL://127.0.0.1:0', 'listener.security.protocol.map': 'SSL:SSL' };
  const chain = readFileSync(certs.broker.cert, 'utf8');
  const key = readFileSync(encrypted, 'utf8');
  await assert.rejects(
    startBroker({
      storage: 'memory',
      config: { ...ssl, 'ssl.keystore.certificate.chain': chain, 'ssl.keystore.key': key },
    }),
    /ssl.key.password/,
  );
  const x = await startBroker({
    storage: 'memory',
    config: {
      ...ssl,
      'ssl.keystore.certificate.chain': chain,
      'ssl.keystore.key': key,
      'ssl.key.password': 'pw-1',
      'ssl.truststore.certificates': readFileSync(certs.ca, 'utf8'),
      'ssl.client.auth': 'required',
    },
  });
  try {
    const r = await run('kcat', ['-L', '-b', `127.0.0.1:${x.port}`, '-m', '5', ...kcatTls(clientCert())], 30_000);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await x.stop();
  }
});

test('protocol mismatch: a TLSv1.2-only client on a TLSv1.3-only listener fails, a TLSv1.3 one works', async () => {
  const x = await startBroker({
    storage: 'memory',
    config: {
      listeners: 'SSL://127.0.0.1:0',
      'listener.security.protocol.map': 'SSL:SSL',
      'ssl.keystore.location': certs.broker.keystore,
      'ssl.enabled.protocols': 'TLSv1.3',
    },
  });
  try {
    const attempt = (maxVersion: 'TLSv1.2' | 'TLSv1.3') =>
      new Promise<string>((res) => {
        const s = tlsConnect({ host: '127.0.0.1', port: x.port, ca: readFileSync(certs.ca), maxVersion }, () => {
          const v = s.getProtocol() ?? 'none';
          s.destroy();
          res(v);
        });
        s.once('error', (e) => res(`error: ${e.message}`));
      });
    assert.match(await attempt('TLSv1.2'), /^error/);
    assert.equal(await attempt('TLSv1.3'), 'TLSv1.3');
  } finally {
    await x.stop();
  }
});

test("ssl.cipher.suites takes Kafka's IANA names (translated for OpenSSL)", async () => {
  assert.equal(opensslCipherName('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'), 'ECDHE-ECDSA-AES128-GCM-SHA256');
  assert.equal(opensslCipherName('TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'), 'ECDHE-RSA-CHACHA20-POLY1305');
  assert.equal(opensslCipherName('TLS_RSA_WITH_AES_256_CBC_SHA'), 'AES256-SHA');
  assert.equal(opensslCipherName('TLS_AES_128_GCM_SHA256'), 'TLS_AES_128_GCM_SHA256');
  const x = await startBroker({
    storage: 'memory',
    config: {
      listeners: 'SSL://127.0.0.1:0',
      'listener.security.protocol.map': 'SSL:SSL',
      'ssl.keystore.location': certs.broker.keystore,
      'ssl.enabled.protocols': 'TLSv1.2',
      'ssl.cipher.suites': 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
    },
  });
  try {
    const cipher = await new Promise<string>((res, rej) => {
      const s = tlsConnect({ host: '127.0.0.1', port: x.port, ca: readFileSync(certs.ca) }, () => {
        const c = s.getCipher().name;
        s.destroy();
        res(c);
      });
      s.once('error', rej);
    });
    assert.equal(cipher, 'ECDHE-ECDSA-AES256-GCM-SHA384');
  } finally {
    await x.stop();
  }
});

test('keys and inline PEM are sensitive: DescribeConfigs shows no value', () => {
  const config = new BrokerConfig({ overrides: { 'ssl.key.password': 'hunter2', 'ssl.keystore.location': '/k.pem' } });
  const described = describeBrokerConfigs({ config }, 'broker', ['ssl.key.password', 'ssl.keystore.location']);
  const pw = described.find((c) => c.name === 'ssl.key.password')!;
  const location = described.find((c) => c.name === 'ssl.keystore.location')!;
  assert.equal(pw.value, null);
  assert.equal(pw.isSensitive, true);
  assert.ok(pw.synonyms.every((s) => s.value === null));
  assert.equal(location.value, '/k.pem');
  assert.equal(location.isSensitive, false);
});
