/**
 * @platformatic/kafka 1.x with `groupProtocol: 'consumer'` (KIP-848: ConsumerGroupHeartbeat) consumes
 * every record of a topic through a server-assigned group. Every wait is bounded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { testBroker } from '../../helpers/test-broker.js';
import type { RunningBroker } from '../../../broker/index.js';

let b: RunningBroker;
before(async () => {
  b = await testBroker({ config: { 'offsets.topic.num.partitions': 3, 'group.consumer.heartbeat.interval.ms': 500 } });
  await b.broker.metadata.createTopic('plt-848', { partitions: 3 });
});
after(async () => {
  await b.stop();
});

test('@platformatic/kafka groupProtocol consumer: consumes every record', { timeout: 60_000 }, async () => {
  const producer = new Producer({
    clientId: 'plt848-p',
    bootstrapBrokers: [b.bootstrapServers],
    serializers: stringSerializers,
  });
  await producer.send({
    messages: Array.from({ length: 12 }, (_, i) => ({ topic: 'plt-848', value: `v${i}`, partition: i % 3 })),
  });
  await producer.close();
  const consumer = new Consumer({
    groupId: 'plt-848-g',
    clientId: 'plt848',
    bootstrapBrokers: [b.bootstrapServers],
    deserializers: stringDeserializers,
    groupProtocol: 'consumer',
    maxWaitTime: 200,
  });
  const got: string[] = [];
  try {
    const stream = await consumer.consume({ topics: ['plt-848'], mode: 'earliest', autocommit: false });
    stream.on('data', (m) => got.push(String(m.value)));
    const end = Date.now() + 30_000;
    while (got.length < 12 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  assert.deepEqual(new Set(got), new Set(Array.from({ length: 12 }, (_, i) => `v${i}`)));
  assert.equal(b.broker.groups.consumer?.groups.has('plt-848-g'), true);
});
