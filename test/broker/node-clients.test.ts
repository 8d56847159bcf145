/**
 * kafkajs 2.2.4 and @platformatic/kafka against an in-process broker: create a topic, produce 10,000 keyed
 * records with headers in every codec the client supports (kafkajs: none and gzip built in; platformatic
 * on Node 20: none, gzip, snappy, lz4), consume them all from the beginning through a consumer group, in
 * order with keys, values and headers intact, look an offset up by time, delete the topic.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { testBroker } from '../helpers/test-broker.js';
import type { RunningBroker } from '../../broker/index.js';

const TOTAL = 10_000;
const T0 = Date.now() - 3600_000;

let b: RunningBroker;
before(async () => {
  b = await testBroker({ config: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 2 } });
});
after(async () => {
  await b.stop();
});

function expected(codecs: string[]): { key: string; value: string; ts: number }[] {
  const per = TOTAL / codecs.length;
  const out = [];
  for (let n = 0; n < TOTAL; n++)
    out.push({ key: `k${n % 97}`, value: `v${n}-${codecs[Math.floor(n / per)]}`, ts: T0 + n });
  return out;
}

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('kafkajs: 10,000 records (none, gzip), group consume in order with headers, offset by time, delete', {
  timeout: 120_000,
}, async () => {
  const topic = 'node-kafkajs';
  const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'e2e-kafkajs', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const codecs = ['none', 'gzip'];
  const want = expected(codecs);
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }), true);
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < TOTAL; i += 500) {
      const chunk = want.slice(i, i + 500);
      await producer.send({
        topic,
        acks: -1,
        compression: chunk[0].value.endsWith('gzip') ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: chunk.map((m) => ({
          key: m.key,
          value: m.value,
          timestamp: String(m.ts),
          headers: { idx: m.value, src: 'kafkajs' },
        })),
      });
    }
    await producer.disconnect();
    const got: { key: string; value: string; ts: number; headers: string }[] = [];
    const consumer = kafka.consumer({ groupId: 'node-kafkajs-group', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({
          key: message.key!.toString(),
          value: message.value!.toString(),
          ts: Number(message.timestamp),
          headers: `${message.headers!.idx}|${message.headers!.src}`,
        });
      },
    });
    await until(`${TOTAL} records`, () => got.length >= TOTAL);
    await consumer.disconnect();
    assert.equal(got.length, TOTAL);
    got.forEach((g, i) => {
      assert.deepEqual({ key: g.key, value: g.value, ts: g.ts }, want[i], `record ${i}`);
      assert.equal(g.headers, `${want[i].value}|kafkajs`);
    });
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, T0 + 4321);
    assert.equal(byTime[0].offset, '4321');
    await admin.deleteTopics({ topics: [topic] });
    assert.equal(b.broker.metadata.image.topic(topic), undefined);
  } finally {
    await admin.disconnect();
  }
});

test('@platformatic/kafka: 10,000 records (none, gzip, snappy, lz4), group consume in order, headers, by time', {
  timeout: 120_000,
}, async () => {
  const topic = 'node-platformatic';
  const codecs = ['none', 'gzip', 'snappy', 'lz4'] as const;
  const want = expected([...codecs]);
  const admin = new Admin({ clientId: 'e2e-plt-admin', bootstrapBrokers: [b.bootstrapServers] });
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    const producer = new Producer({
      clientId: 'e2e-plt',
      bootstrapBrokers: [b.bootstrapServers],
      serializers: stringSerializers,
    });
    try {
      for (let i = 0; i < TOTAL; i += 500) {
        const chunk = want.slice(i, i + 500);
        const codec = codecs[Math.floor(i / (TOTAL / codecs.length))];
        await producer.send({
          compression: codec,
          acks: -1,
          messages: chunk.map((m) => ({
            topic,
            partition: 0,
            key: m.key,
            value: m.value,
            timestamp: BigInt(m.ts),
            headers: { idx: m.value, src: 'platformatic' },
          })),
        });
      }
    } finally {
      await producer.close();
    }
    const got: { key: string; value: string; ts: number; headers: string }[] = [];
    const consumer = new Consumer({
      groupId: 'node-plt-group',
      clientId: 'e2e-plt-c',
      bootstrapBrokers: [b.bootstrapServers],
      deserializers: stringDeserializers,
      maxWaitTime: 200,
    });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
      stream.on('data', (m) => {
        const h = m.headers as Map<string, string>;
        got.push({
          key: String(m.key),
          value: String(m.value),
          ts: Number(m.timestamp),
          headers: `${h.get('idx')}|${h.get('src')}`,
        });
      });
      await until(`${TOTAL} records`, () => got.length >= TOTAL);
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    assert.equal(got.length, TOTAL);
    got.forEach((g, i) => {
      assert.deepEqual({ key: g.key, value: g.value, ts: g.ts }, want[i], `record ${i}`);
      assert.equal(g.headers, `${want[i].value}|platformatic`);
    });
    const listed = await admin.listOffsets({
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: BigInt(T0 + 7777) }] }],
    });
    assert.equal(listed[0].partitions[0].offset, 7777n);
    await admin.deleteTopics({ topics: [topic] });
    assert.equal(b.broker.metadata.image.topic(topic), undefined);
  } finally {
    await admin.close();
  }
});
