/**
 * Durability of group state: a real `runnel start` process is killed with SIGKILL after a kafkajs group
 * consumer committed; after a restart on the same data directory the committed offsets (with their
 * metadata) and the group's generation are intact, and a new member resumes exactly where the group left off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrokerProcess, waitExit } from '../../helpers/broker-process.js';
import { Kafka, logLevel } from 'kafkajs';

async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function consumeN(kafka: Kafka, group: string, topic: string, n: number): Promise<string[]> {
  const got: string[] = [];
  const c = kafka.consumer({
    groupId: group,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 200,
  });
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => void got.push(message.value!.toString()),
  });
  await waitFor(`${n} records`, () => got.length >= n);
  await new Promise((r) => setTimeout(r, 800));
  await c.disconnect();
  return got;
}

test('committed offsets and group metadata survive kill -9', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-groups-crash-'));
  const extra = ['--set', 'group.initial.rebalance.delay.ms=100', '--set', 'offsets.topic.num.partitions=7'];
  try {
    const b1 = await startBrokerProcess(dataDir, extra);
    const topic = 'crash-groups';
    const group = 'crash-group';
    let kafka = new Kafka({ clientId: 'crash', brokers: [b1.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 40 }, (_, i) => ({ value: `v${i}`, partition: i % 2 })),
    });
    const first = await consumeN(kafka, group, topic, 40);
    assert.equal(first.length, 40);
    // A simple (non-member) commit with metadata into another group.
    await admin.setOffsets({ groupId: 'simple-group', topic, partitions: [{ partition: 1, offset: '7' }] });
    const before = await admin.describeGroups([group]);
    await producer.disconnect();
    await admin.disconnect();

    b1.child.kill('SIGKILL');
    await waitExit(b1.child);

    const b2 = await startBrokerProcess(dataDir, extra);
    try {
      kafka = new Kafka({ clientId: 'crash2', brokers: [b2.bootstrap], logLevel: logLevel.NOTHING });
      const admin2 = kafka.admin();
      await admin2.connect();
      const offsets = await admin2.fetchOffsets({ groupId: group, topics: [topic] });
      assert.deepEqual(
        offsets[0].partitions.map((p: { partition: number; offset: string }) => [p.partition, p.offset]).sort(),
        [
          [0, '20'],
          [1, '20'],
        ],
      );
      const simple = await admin2.fetchOffsets({ groupId: 'simple-group', topics: [topic] });
      assert.deepEqual(
        simple[0].partitions.map((p: { partition: number; offset: string }) => [p.partition, p.offset]).sort(),
        [
          [0, '-1'],
          [1, '7'],
        ],
      );
      const after = await admin2.describeGroups([group]);
      assert.equal(after.groups[0].state, 'Empty');
      assert.equal(after.groups[0].protocolType, before.groups[0].protocolType);
      const producer2 = kafka.producer();
      await producer2.connect();
      await producer2.send({
        topic,
        messages: Array.from({ length: 10 }, (_, i) => ({ value: `w${i}`, partition: i % 2 })),
      });
      await producer2.disconnect();
      const second = await consumeN(kafka, group, topic, 10);
      assert.deepEqual(
        new Set(second),
        new Set(Array.from({ length: 10 }, (_, i) => `w${i}`)),
        'resumed from the committed offsets',
      );
      assert.equal(second.length, 10);
      await admin2.disconnect();
    } finally {
      b2.child.kill('SIGKILL');
      await waitExit(b2.child);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
