/**
 * A replicated cluster end to end: a real etcd and three in-process brokers started with `etcd.endpoints`
 * (test/helpers/cluster.ts), driven by kafkajs. Every wait is bounded; everything listens on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Partitioners } from 'kafkajs';
import type { RunningBroker } from '../../broker/index.js';
import { TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/etcd-nodes.js';

const TOPIC = 'replicated';
const PARTITIONS = 3;

let cluster: TestCluster;

function leaders(b: RunningBroker): number[] {
  return b.broker.metadata.image.partitions(TOPIC).map((p) => p.leader);
}

before(async () => {
  cluster = await TestCluster.start({
    name: 'cluster-test',
    config: {
      'broker.session.timeout.ms': 2000,
      'offsets.topic.num.partitions': 3,
      'transaction.state.log.num.partitions': 3,
    },
  });
});

after(async () => {
  await cluster?.close();
});

test('3 brokers on etcd: RF 3, acks=all writes replicated byte for byte and kept across a leader stop', async () => {
  const admin = cluster.kafka().admin();
  await admin.connect();
  try {
    const described = await admin.describeCluster();
    assert.deepEqual(described.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
    assert.equal(
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }] }),
      true,
    );
  } finally {
    await admin.disconnect();
  }
  await waitFor(
    () => cluster.live().every((b) => b.broker.metadata.image.partitions(TOPIC).length === PARTITIONS),
    20_000,
    'every broker sees the topic',
  );
  const first = leaders(cluster.broker(1));
  for (const b of cluster.live()) assert.deepEqual(leaders(b), first, 'every broker has the same leaders');
  for (const p of cluster.broker(1).broker.metadata.image.partitions(TOPIC)) {
    assert.deepEqual([...p.replicas].sort(), [1, 2, 3]);
  }
  // Metadata from each broker lists the 3 brokers and the same leaders.
  for (const b of cluster.live()) {
    const a = cluster.kafka({ bootstrap: [b] }).admin();
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

  const k = cluster.kafka();
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
    const ends = await cluster.waitReplicated(TOPIC, PARTITIONS, 'after 100 records');
    assert.equal(
      ends.reduce((a, b) => a + b, 0),
      100,
    );

    // Stop the leader of partition 0: another replica leads, the producer goes on, nothing acknowledged is lost.
    const old = first[0];
    const oldEpoch = cluster.broker(1).broker.metadata.image.partition(TOPIC, 0)!.leaderEpoch;
    await cluster.stopNode(old);
    await cluster.waitNewLeader(TOPIC, 0, old, oldEpoch);
    for (let i = 100; i < 130; i += 10) {
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i + j}`, value: `v${i + j}` })),
      });
    }
    const after = await cluster.waitReplicated(TOPIC, PARTITIONS, 'after the leader stop');
    assert.equal(
      after.reduce((a, b) => a + b, 0),
      130,
    );
  } finally {
    await producer.disconnect();
  }
});
