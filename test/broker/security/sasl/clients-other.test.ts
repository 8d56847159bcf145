/**
 * Real non-kafkajs clients over SASL_PLAINTEXT (broker/security/sasl/): kafka-python 2.0.2 PLAIN (handshake v0,
 * raw tokens), confluent-kafka (librdkafka 2.0.2) SCRAM-SHA-256, kcat SCRAM-SHA-512, @platformatic/kafka
 * SCRAM-SHA-512; each produces and consumes, and a wrong password fails.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import type { RunningBroker } from '../../../../broker/index.js';
import { run } from '../../../helpers/broker-process.js';
import { saslBroker } from '../../../helpers/sasl.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../test/helpers/clients'));
const PY = '/usr/bin/python3';

let b: RunningBroker;
let bootstrap: string;
before(async () => {
  b = await saslBroker({ topics: ['py-kp', 'py-cf', 'py-bad', 'kcat-scram', 'plt-scram'] });
  bootstrap = `127.0.0.1:${b.listeners.SASL_PLAINTEXT.port}`;
});
after(async () => {
  await b.stop();
});

const py = (args: string[]) => run(PY, [join(clients, 'sasl_roundtrip.py'), ...args], 90_000);

test('kafka-python PLAIN: produce and consume', async () => {
  const r = await py(['kafka-python', bootstrap, 'py-kp', 'PLAIN', 'alice', 'alice-secret']);
  assert.match(r.stdout, /^OK v0,v1,v2$/m, `${r.stdout}\n${r.stderr.slice(-1500)}`);
});

test('confluent-kafka SCRAM-SHA-256: produce and consume; a wrong password fails', async () => {
  const r = await py(['confluent', bootstrap, 'py-cf', 'SCRAM-SHA-256', 'admin', 'admin-secret']);
  assert.match(r.stdout, /^OK v0,v1,v2$/m, `${r.stdout}\n${r.stderr.slice(-1500)}`);
  const bad = await py(['confluent', bootstrap, 'py-bad', 'SCRAM-SHA-256', 'admin', 'wrong']);
  assert.match(bad.stdout, /^FAIL .*(Authentication failed|not delivered)/m, bad.stdout);
  assert.equal(b.broker.logs.getLog('py-bad', 0)?.logEndOffset ?? 0, 0, 'nothing written by the refused client');
});

test('kcat SCRAM-SHA-512: produce and consume', async () => {
  const sasl = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=SCRAM-SHA-512'];
  const creds = ['-X', 'sasl.username=admin', '-X', 'sasl.password=admin-secret'];
  const { spawn } = await import('node:child_process');
  const code = await new Promise<number | null>((res) => {
    const p = spawn('kcat', ['-P', '-b', bootstrap, '-t', 'kcat-scram', '-p', '0', ...sasl, ...creds], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.once('exit', (c) => {
      clearTimeout(t);
      res(c);
    });
    p.stdin!.end('k1\nk2\nk3\n');
  });
  assert.equal(code, 0);
  const r = await run(
    'kcat',
    ['-C', '-b', bootstrap, '-t', 'kcat-scram', '-p', '0', '-o', 'beginning', '-e', '-c', '3', ...sasl, ...creds],
    30_000,
  );
  assert.deepEqual(r.stdout.trim().split('\n'), ['k1', 'k2', 'k3']);
});

test('@platformatic/kafka SCRAM-SHA-512: produce and consume', async () => {
  const sasl = { mechanism: 'SCRAM-SHA-512', username: 'admin', password: 'admin-secret' } as const;
  const brokers = [b.listeners.SASL_PLAINTEXT.bootstrapServers];
  const producer = new Producer({ clientId: 'plt', bootstrapBrokers: brokers, sasl, serializers: stringSerializers });
  try {
    await producer.send({ acks: -1, messages: ['a', 'b', 'c'].map((value) => ({ topic: 'plt-scram', value })) });
  } finally {
    await producer.close();
  }
  const consumer = new Consumer({
    groupId: 'plt-sasl',
    clientId: 'plt-c',
    bootstrapBrokers: brokers,
    sasl,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  const got: string[] = [];
  try {
    const stream = await consumer.consume({ topics: ['plt-scram'], mode: 'earliest', autocommit: true });
    stream.on('data', (m) => got.push(String(m.value)));
    const end = Date.now() + 20_000;
    while (got.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  assert.deepEqual(got.sort(), ['a', 'b', 'c']);
  const admin = new Admin({ clientId: 'plt-bad', bootstrapBrokers: brokers, sasl: { ...sasl, password: 'nope' } });
  try {
    await assert.rejects(admin.listTopics());
  } finally {
    await admin.close();
  }
});
