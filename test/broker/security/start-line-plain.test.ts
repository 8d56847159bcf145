/**
 * `runnel start` as a process with SASL/PLAIN on a SASL_SSL and a SASL_PLAINTEXT listener, each with its own
 * users from `listener.name.<l>.plain.sasl.jaas.config`: kafkajs produces and consumes over SASL_SSL PLAIN,
 * kafka-python 2.0.2 over SASL_PLAINTEXT PLAIN; a user of one listener is refused on the other, and a wrong
 * password is refused. (PLAIN over SASL_PLAINTEXT with kafkajs and @platformatic/kafka's SCRAM are in
 * test/broker/security/sasl/clients-*.test.ts.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Partitioners, type SASLOptions } from 'kafkajs';
import { run } from '../../helpers/broker-process.js';
import { makeTestCerts, type TestCerts } from '../../helpers/certs.js';
import { saslSslKafkajs, startLine, type IssueBroker } from '../../helpers/start-line.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/helpers/clients'));
const jaas = (users: string) => `org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`;

let certs: TestCerts;
let dataDir: string;
let b: IssueBroker;
before(async () => {
  certs = makeTestCerts();
  dataDir = mkdtempSync(join(tmpdir(), 'runnel-start-plain-'));
  b = await startLine(([p1, p2]) => [
    'start',
    '--node-id',
    '1',
    '--data-dir',
    dataDir,
    '--set',
    `listeners=SASL_PLAINTEXT://127.0.0.1:${p1},SASL_SSL://127.0.0.1:${p2}`,
    '--set',
    'ssl.keystore.type=PEM',
    '--set',
    `ssl.keystore.location=${certs.broker.keystore}`,
    '--set',
    'sasl.enabled.mechanisms=PLAIN',
    '--set',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=${jaas('user_carol="carol-secret"')}`,
    '--set',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${jaas('user_dave="dave-secret"')}`,
  ]);
});
after(async () => {
  await b?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  certs.remove();
});

test('kafkajs over SASL_SSL PLAIN produces and consumes', async () => {
  const kafka = saslSslKafkajs(b, certs, { mechanism: 'plain', username: 'carol', password: 'carol-secret' }, 2);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'plain-ssl', numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic: 'plain-ssl', messages: ['one', 'two', 'three'].map((value) => ({ value })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'plain-ssl-g' });
  await consumer.connect();
  const got: string[] = [];
  try {
    await consumer.subscribe({ topic: 'plain-ssl', fromBeginning: true });
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`timed out; got ${got.join(',')}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(String(message.value));
          if (got.length === 3) {
            clearTimeout(t);
            res();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(got, ['one', 'two', 'three']);
});

test('kafka-python over SASL_PLAINTEXT PLAIN produces and consumes', async () => {
  const r = await run(
    '/usr/bin/python3',
    [join(clients, 'sasl_roundtrip.py'), 'kafka-python', b.saslPlaintext, 'py-plain', 'PLAIN', 'dave', 'dave-secret'],
    90_000,
  );
  assert.match(r.stdout, /^OK v0,v1,v2$/m, `${r.stdout}\n${r.stderr.slice(-1500)}`);
});

test('each listener has its own PLAIN users; a wrong password is refused', async () => {
  const bad: SASLOptions[] = [
    { mechanism: 'plain', username: 'dave', password: 'dave-secret' },
    { mechanism: 'plain', username: 'carol', password: 'wrong' },
  ];
  for (const sasl of bad) {
    const admin = saslSslKafkajs(b, certs, sasl).admin();
    const error = await admin.connect().then(
      () => new Error('connected'),
      (e: Error) => e,
    );
    await admin.disconnect();
    assert.match(error.message, /SASL .*authentication failed/i);
  }
  const r = await run(
    '/usr/bin/python3',
    [join(clients, 'sasl_roundtrip.py'), 'kafka-python', b.saslPlaintext, 'py-bad', 'PLAIN', 'carol', 'carol-secret'],
    90_000,
  );
  assert.match(r.stdout, /^FAIL /m, r.stdout);
  assert.doesNotMatch(r.stdout, /^OK/m);
});
