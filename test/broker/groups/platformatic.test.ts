/**
 * @platformatic/kafka 1.x (flexible versions: JoinGroup 9, SyncGroup 5, OffsetCommit/OffsetFetch 8+,
 * FindCoordinator 6 batched) consumes through a classic group in "committed" mode, commits, and a second
 * consumer of the same group resumes from the committed offsets. Every wait is bounded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { testBroker } from '../../helpers/test-broker.js';
import type { RunningBroker } from '../../../broker/index.js';
import { fetchOffsets } from '../../../broker/groups/offsets.js';

let b: RunningBroker;
before(async () => {
  b = await testBroker({ config: { 'group.initial.rebalance.delay.ms': 100, 'offsets.topic.num.partitions': 3 } });
  await b.broker.metadata.createTopic('groups-plt', { partitions: 2 });
});
after(async () => {
  await b.stop();
});

async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function consume(groupId: string, n: number): Promise<string[]> {
  const consumer = new Consumer({
    groupId,
    clientId: 'plt',
    bootstrapBrokers: [b.bootstrapServers],
    deserializers: stringDeserializers,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    rebalanceTimeout: 10_000,
    maxWaitTime: 200,
  });
  const got: string[] = [];
  try {
    const stream = await consumer.consume({
      topics: ['groups-plt'],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    });
    stream.on('data', (m) => {
      got.push(String(m.value));
      void m.commit();
    });
    await waitFor(`${n} records`, () => got.length >= n);
    await new Promise((r) => setTimeout(r, 800));
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return got;
}

test('@platformatic/kafka: consume through a group, commit, resume from the committed offsets', {
  timeout: 90_000,
}, async () => {
  const producer = new Producer({
    clientId: 'plt-p',
    bootstrapBrokers: [b.bootstrapServers],
    serializers: stringSerializers,
  });
  try {
    await producer.send({
      messages: Array.from({ length: 30 }, (_, i) => ({ topic: 'groups-plt', value: `v${i}`, partition: i % 2 })),
    });
    const first = await consume('plt-group', 30);
    assert.equal(first.length, 30);
    assert.equal(new Set(first).size, 30);
    const committed = fetchOffsets(b.broker.groups, 'plt-group', null).offsets;
    assert.equal(
      committed.reduce((s, o) => s + o.offset, 0),
      30,
      JSON.stringify(committed),
    );
    await producer.send({
      messages: Array.from({ length: 10 }, (_, i) => ({ topic: 'groups-plt', value: `w${i}`, partition: i % 2 })),
    });
    const second = await consume('plt-group', 10);
    assert.deepEqual(new Set(second), new Set(Array.from({ length: 10 }, (_, i) => `w${i}`)));
    assert.equal(second.length, 10);
  } finally {
    await producer.close();
  }
});
