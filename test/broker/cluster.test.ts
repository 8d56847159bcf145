/**
 * A replicated cluster end to end: a real etcd (test/helpers/etcd.ts) and three in-process brokers started with
 * `etcd.endpoints`, driven by kafkajs. Every wait is bounded; everything listens on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { startEtcd, type EtcdProcess } from '../helpers/etcd.js';
import { waitFor } from '../helpers/etcd-nodes.js';
import '../helpers/test-broker.js';

const TOPIC = 'replicated';
const PARTITIONS = 3;

let etcd: EtcdProcess;
const brokers = new Map<number, RunningBroker>();

function kafka(bootstrap: RunningBroker[]): Kafka {
  return new Kafka({
    clientId: 'cluster-test',
    brokers: bootstrap.map((b) => b.bootstrapServers),
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

function live(): RunningBroker[] {
  return [...brokers.values()];
}

/** The bytes of a partition's log on one broker, from its log start to its log end. */
async function logBytes(b: RunningBroker, partition: number): Promise<{ end: number; bytes: Buffer }> {
  const p = b.broker.replicaManager.getPartition(TOPIC, partition);
  assert.notEqual(typeof p, 'number', `broker ${b.broker.started.nodeId} hosts ${TOPIC}-${partition}`);
  if (typeof p === 'number') throw new Error('unreachable');
  const end = p.logEndOffset;
  const chunks: Buffer[] = [];
  let offset = p.logStartOffset;
  for (let i = 0; i < 10_000 && offset < end; i++) {
    const r = await p.readLocal(offset, 1 << 20);
    if (r.records.length === 0) break;
    chunks.push(r.records);
    // Next batch: base offset (int64 at 0) + last offset delta (int32 at 23) + 1, for the last batch read.
    let pos = 0;
    let next = offset;
    while (pos + 61 <= r.records.length) {
      const base = Number(r.records.readBigInt64BE(pos));
      const size = r.records.readInt32BE(pos + 8);
      next = base + r.records.readInt32BE(pos + 23) + 1;
      pos += 12 + size;
    }
    offset = next;
  }
  return { end, bytes: Buffer.concat(chunks) };
}

/** Waits until every live broker's log of every partition has the same end and the same bytes. */
async function waitReplicated(what: string): Promise<number[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ends: number[] = [];
    let same = true;
    for (let p = 0; p < PARTITIONS; p++) {
      const logs = await Promise.all(live().map((b) => logBytes(b, p)));
      ends.push(logs[0].end);
      if (!logs.every((l) => l.end === logs[0].end && l.bytes.equals(logs[0].bytes))) same = false;
    }
    if (same) return ends;
    if (Date.now() > deadline) throw new Error(`${what}: logs not identical within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function leaders(b: RunningBroker): number[] {
  return b.broker.metadata.image.partitions(TOPIC).map((p) => p.leader);
}

before(async () => {
  etcd = await startEtcd();
  for (const nodeId of [1, 2, 3]) {
    const b = await startBroker({
      config: {
        'node.id': nodeId,
        'etcd.endpoints': etcd.endpoint,
        'cluster.name': 'cluster-test',
        'broker.session.timeout.ms': 2000,
        'replica.fetch.wait.max.ms': 100,
        'replica.fetch.backoff.ms': 100,
        'offsets.topic.num.partitions': 3,
        'transaction.state.log.num.partitions': 3,
      },
    });
    brokers.set(nodeId, b);
  }
  await waitFor(
    () => live().every((b) => b.broker.metadata.image.liveBrokers().length === 3),
    20_000,
    'every broker sees 3 live brokers',
  );
});

after(async () => {
  for (const b of live()) await b.stop();
  await etcd?.cleanup();
});

test('3 brokers on etcd: RF 3, acks=all writes replicated byte for byte and kept across a leader stop', async () => {
  const admin = kafka(live()).admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    assert.deepEqual(cluster.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
    assert.equal(
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }] }),
      true,
    );
  } finally {
    await admin.disconnect();
  }
  await waitFor(
    () => live().every((b) => b.broker.metadata.image.partitions(TOPIC).length === PARTITIONS),
    20_000,
    'every broker sees the topic',
  );
  const first = leaders(brokers.get(1)!);
  for (const b of live()) assert.deepEqual(leaders(b), first, 'every broker has the same leaders');
  for (const p of brokers.get(1)!.broker.metadata.image.partitions(TOPIC)) {
    assert.deepEqual([...p.replicas].sort(), [1, 2, 3]);
  }
  // Metadata from each broker lists the 3 brokers and the same leaders.
  for (const b of live()) {
    const a = kafka([b]).admin();
    await a.connect();
    try {
      const md = await a.fetchTopicMetadata({ topics: [TOPIC] });
      const got = md.topics[0].partitions.sort((x, y) => x.partitionId - y.partitionId).map((p) => p.leader);
      assert.deepEqual(got, first);
      assert.deepEqual((await a.describeCluster()).brokers.map((x) => x.nodeId).sort(), [1, 2, 3]);
    } finally {
      await a.disconnect();
    }
  }

  const k = kafka(live());
  const producer = k.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < 100; i += 10) {
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i + j}`, value: `v${i + j}` })),
      });
    }
    const ends = await waitReplicated('after 100 records');
    assert.equal(
      ends.reduce((a, b) => a + b, 0),
      100,
    );

    // Stop the leader of partition 0: another replica leads, the producer goes on, nothing acknowledged is lost.
    const old = first[0];
    const oldEpoch = brokers.get(1)!.broker.metadata.image.partition(TOPIC, 0)!.leaderEpoch;
    await brokers.get(old)!.stop();
    brokers.delete(old);
    await waitFor(
      () =>
        live().every((b) => {
          const p = b.broker.metadata.image.partition(TOPIC, 0)!;
          return p.leader !== old && p.leader !== -1 && p.leaderEpoch > oldEpoch;
        }),
      20_000,
      'a new leader for partition 0',
    );
    for (let i = 100; i < 130; i += 10) {
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i + j}`, value: `v${i + j}` })),
      });
    }
    const after = await waitReplicated('after the leader stop');
    assert.equal(
      after.reduce((a, b) => a + b, 0),
      130,
    );
  } finally {
    await producer.disconnect();
  }
});
