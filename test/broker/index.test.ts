/**
 * The embedded API: startBroker() with topics up front, createTopic/deleteTopic, isolation of several
 * instances in one process, and a real client (kafkajs) producing the moment a topic exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { startBroker } from '../../broker/index.js';
import { setRootLogger } from '../../broker/logger.js';

setRootLogger(pino({ level: 'silent' }));

test('topics up front, createTopic and deleteTopic, temp dir removed on stop', async () => {
  const b = await startBroker({ topics: ['a', { name: 'b', partitions: 3, configs: { 'retention.ms': 1000 } }] });
  try {
    assert.match(b.bootstrapServers, /^127\.0\.0\.1:\d+$/);
    assert.equal(b.broker.metadata.image.topic('a')!.partitions, 1);
    assert.equal(b.broker.metadata.image.topic('b')!.partitions, 3);
    assert.equal(b.broker.logs.getLog('b', 2)!.logConfig.retentionMs, 1000);
    const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'embedded-test', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await b.createTopic('fresh', 2);
    // No leaderless window: the produce right after createTopic succeeds.
    const res = await producer.send({ topic: 'fresh', acks: -1, messages: [{ key: 'k', value: 'v', partition: 1 }] });
    assert.equal(res[0].errorCode, 0);
    assert.equal(b.broker.logs.getLog('fresh', 1)!.logEndOffset, 1);
    await producer.disconnect();
    assert.equal(await b.deleteTopic('fresh'), true);
    assert.equal(b.broker.metadata.image.topic('fresh'), undefined);
  } finally {
    await b.stop();
  }
  assert.equal(existsSync(b.dataDir), false);
});

test('several brokers in one process are isolated', async () => {
  const [x, y] = await Promise.all([startBroker({ topics: ['only-x'] }), startBroker()]);
  try {
    assert.notEqual(x.port, y.port);
    assert.notEqual(x.dataDir, y.dataDir);
    assert.ok(x.broker.metadata.image.topic('only-x'));
    assert.equal(y.broker.metadata.image.topic('only-x'), undefined);
  } finally {
    await Promise.all([x.stop(), y.stop()]);
  }
});
