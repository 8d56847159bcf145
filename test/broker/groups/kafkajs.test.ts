/**
 * kafkajs 2.2.4 consumer groups against an in-process broker: two consumers split a 4-partition topic and
 * see every record exactly once; when one leaves the survivor takes every partition; a new member resumes
 * from the committed offsets with no re-delivery. Every wait is bounded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testBroker } from '../../helpers/test-broker.js';
import type { RunningBroker } from '../../../broker/index.js';
import { Kafka, logLevel } from 'kafkajs';

let b: RunningBroker;
before(async () => {
  b = await testBroker({ config: { 'group.initial.rebalance.delay.ms': 100, 'offsets.topic.num.partitions': 5 } });
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

interface Tracked {
  consumer: {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    subscribe(o: object): Promise<void>;
    run(o: object): Promise<void>;
    on(e: string, f: (ev: { payload: { memberAssignment: Record<string, number[]> } }) => void): void;
    events: Record<string, string>;
  };
  got: string[];
  assigned: number[];
}

function consumer(kafka: { consumer(o: object): Tracked['consumer'] }, groupId: string, topic: string): Tracked {
  const c = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 200,
    retry: { retries: 10 },
  });
  const t: Tracked = { consumer: c, got: [], assigned: [] };
  c.on(c.events.GROUP_JOIN, (ev) => {
    t.assigned = [...(ev.payload.memberAssignment[topic] ?? [])].sort();
  });
  return t;
}

async function start(t: Tracked, topic: string): Promise<void> {
  await t.consumer.connect();
  await t.consumer.subscribe({ topics: [topic], fromBeginning: true });
  await t.consumer.run({
    eachMessage: async ({ message }: { message: { value: Buffer } }) => {
      t.got.push(message.value.toString());
    },
  });
}

test('kafkajs: split, exactly once, survivor takes all, new member resumes from commits', {
  timeout: 120_000,
}, async () => {
  const kafka = new Kafka({ clientId: 'kjs', brokers: [b.bootstrapServers], logLevel: logLevel.NOTHING });
  const topic = 'groups-kjs';
  const group = 'kjs-group';
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const produce = async (from: number, n: number): Promise<void> => {
    const messages = Array.from({ length: n }, (_, i) => ({
      key: `k${from + i}`,
      value: `v${from + i}`,
      partition: (from + i) % 4,
    }));
    await producer.send({ topic, messages });
  };

  const a = consumer(kafka, group, topic);
  const c2 = consumer(kafka, group, topic);
  await Promise.all([start(a, topic), start(c2, topic)]);
  await waitFor('both members assigned two partitions', () => a.assigned.length === 2 && c2.assigned.length === 2);
  assert.deepEqual([...a.assigned, ...c2.assigned].sort(), [0, 1, 2, 3]);

  await produce(0, 200);
  await waitFor('200 records consumed', () => a.got.length + c2.got.length >= 200);
  await new Promise((r) => setTimeout(r, 500));
  const all = [...a.got, ...c2.got];
  assert.equal(all.length, 200, 'no duplicates');
  assert.equal(new Set(all).size, 200);
  assert.ok(a.got.length > 0 && c2.got.length > 0, 'both consumed');

  const described = await admin.describeGroups([group]);
  assert.equal(described.groups[0].state, 'Stable');
  assert.equal(described.groups[0].members.length, 2);

  // One leaves: the survivor takes every partition and sees only new records.
  await c2.consumer.disconnect();
  await waitFor('survivor assigned all four partitions', () => a.assigned.length === 4);
  const before2 = a.got.length;
  await produce(200, 100);
  await waitFor('100 more records', () => a.got.length - before2 >= 100);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(a.got.length - before2, 100);
  assert.deepEqual(new Set(a.got.slice(before2)), new Set(Array.from({ length: 100 }, (_, i) => `v${200 + i}`)));
  await a.consumer.disconnect();

  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const total = offsets[0].partitions.reduce((s: number, p: { offset: string }) => s + Number(p.offset), 0);
  assert.equal(total, 300, 'committed offsets cover all 300 records');

  // A new member resumes from the committed offsets: only the 50 records produced since.
  await produce(300, 50);
  const n = consumer(kafka, group, topic);
  await start(n, topic);
  await waitFor('50 new records', () => n.got.length >= 50);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(n.got.length, 50, 'no re-delivery');
  assert.deepEqual(new Set(n.got), new Set(Array.from({ length: 50 }, (_, i) => `v${300 + i}`)));
  await n.consumer.disconnect();

  const listed = await admin.listGroups();
  assert.ok(listed.groups.some((g: { groupId: string }) => g.groupId === group));
  await producer.disconnect();
  await admin.disconnect();
});
