/**
 * kafkajs over SASL_PLAINTEXT (broker/security/sasl/): SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN produce and
 * consume; a wrong password and an unknown user fail with kafkajs's authentication error.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners, type SASLOptions } from 'kafkajs';
import type { RunningBroker } from '../../../../broker/index.js';
import { saslBroker } from '../../../helpers/sasl.js';

let b: RunningBroker;
before(async () => {
  b = await saslBroker();
});
after(async () => {
  await b.stop();
});

function client(sasl: SASLOptions): Kafka {
  return new Kafka({
    clientId: 'sasl-test',
    brokers: [b.listeners.SASL_PLAINTEXT.bootstrapServers],
    sasl,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

async function roundTrip(kafka: Kafka, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'one' }, { value: 'two' }, { value: 'three' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `g-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; got ${got.join(',')}`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value!.toString());
        if (got.length === 3) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return got;
}

const cases: Array<[string, SASLOptions]> = [
  ['SCRAM-SHA-256', { mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' }],
  ['SCRAM-SHA-512', { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' }],
  ['PLAIN', { mechanism: 'plain', username: 'alice', password: 'alice-secret' }],
];
for (const [name, sasl] of cases) {
  test(`kafkajs ${name}: produce and consume over SASL_PLAINTEXT`, async () => {
    assert.deepEqual(await roundTrip(client(sasl), `kjs-${name.toLowerCase()}`), ['one', 'two', 'three']);
  });
}

test('kafkajs: wrong password and unknown user are refused with SASL_AUTHENTICATION_FAILED', async () => {
  const bad: SASLOptions[] = [
    { mechanism: 'scram-sha-256', username: 'admin', password: 'nope' },
    { mechanism: 'scram-sha-512', username: 'nobody', password: 'admin-secret' },
    { mechanism: 'plain', username: 'alice', password: 'wrong' },
    { mechanism: 'plain', username: 'nobody', password: 'alice-secret' },
  ];
  for (const sasl of bad) {
    const admin = client(sasl).admin();
    await assert.rejects(admin.connect(), (e: Error) => {
      assert.match(e.message, /SASL .*authentication failed/i, `${sasl.mechanism}: ${e.message}`);
      return true;
    });
  }
  // The broker still serves good clients.
  const admin = client({ mechanism: 'plain', username: 'bob', password: 'bob-pw' }).admin();
  await admin.connect();
  assert.ok(Array.isArray(await admin.listTopics()));
  await admin.disconnect();
});
