/**
 * Group and transaction coordinators of a replicated cluster: a real etcd, three in-process brokers started with
 * `etcd.endpoints` (test/helpers/cluster.ts), kafkajs clients. The coordinator of a group / transactional id is the
 * leader of its `__consumer_offsets` / `__transaction_state` partition; stopping that broker moves the partition,
 * and the new leader loads it: committed offsets and transaction state survive. Every wait is bounded; everything
 * listens on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Consumer, type Kafka, Partitioners } from 'kafkajs';
import type { RunningBroker } from '../../broker/index.js';
import { offsetsPartitionFor } from '../../broker/groups/records.js';
import { TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/etcd-nodes.js';

let cluster: TestCluster;
const INTERNAL_PARTITIONS = 3;

const live = (): RunningBroker[] => cluster.live();
const kafka = (clientId: string): Kafka => cluster.kafka({ clientId });
const image = () => cluster.image();

/** The leader of `topic`'s partition for `key` (as every live broker sees it). */
function coordinatorOf(topic: string, key: string): { partition: number; leader: number; replicas: number[] } {
  const p = image().partition(topic, offsetsPartitionFor(key, INTERNAL_PARTITIONS))!;
  return { partition: p.partition, leader: p.leader, replicas: [...p.replicas] };
}

/** Stop broker `nodeId` and wait until `topic`-`partition` has another live leader on every live broker. */
async function stopAndWaitForNewLeader(nodeId: number, topic: string, partition: number): Promise<number> {
  await cluster.stopNode(nodeId);
  return cluster.waitNewLeader(topic, partition, nodeId);
}

before(async () => {
  cluster = await TestCluster.start({
    name: 'coordinators-test',
    config: {
      'broker.session.timeout.ms': 3000,
      'offsets.topic.num.partitions': INTERNAL_PARTITIONS,
      'transaction.state.log.num.partitions': INTERNAL_PARTITIONS,
      'group.initial.rebalance.delay.ms': 0,
    },
    retries: 15,
    maxRetryTime: 2000,
  });
});

after(async () => {
  await cluster?.close();
});

test('a consumer group re-forms on the new coordinator and resumes from its committed offsets', async () => {
  const TOPIC = 'orders';
  const GROUP = 'coordinated-group';
  const admin = kafka('admin').admin();
  await admin.connect();
  const producer = kafka('producer').producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const consumers: Consumer[] = [];
  try {
    assert.equal(
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }] }),
      true,
    );
    const send = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += 10) {
        await producer.send({
          topic: TOPIC,
          acks: -1,
          messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i + j}`, value: `v${i + j}` })),
        });
      }
    };
    await send(0, 30);

    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      const c = kafka(`consumer-${i}`).consumer({
        groupId: GROUP,
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        // kafkajs retries its cached coordinator connection this often before it re-finds the coordinator.
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      consumers.push(c);
      await c.connect();
      await c.subscribe({ topic: TOPIC, fromBeginning: true });
      await c.run({
        autoCommitThreshold: 1,
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
        },
      });
    }
    const committed = async (): Promise<number> => {
      const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
      return t!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    };
    const deadline = Date.now() + 60_000;
    while ((await committed()) < 30) {
      assert.ok(Date.now() < deadline, `30 offsets committed within 60 s (seen ${seen.length})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let i = 0; i < 30; i++) assert.ok(seen.includes(`v${i}`), `v${i} consumed before the failover`);
    const before = seen.length;

    const old = coordinatorOf('__consumer_offsets', GROUP);
    assert.ok(cluster.broker(old.leader).broker.groups.groups.has(GROUP), 'the group lives on its coordinator');
    for (const b of live())
      if (b.broker.started.nodeId !== old.leader) assert.equal(b.broker.groups.groups.has(GROUP), false);
    const leader = await stopAndWaitForNewLeader(old.leader, '__consumer_offsets', old.partition);

    // The new coordinator loaded the commits made through the old one (acks=all: every ISR member had them).
    assert.equal(await committed(), 30, 'committed offsets survive the coordinator failover');
    await send(30, 60);
    const deadline2 = Date.now() + 120_000;
    for (;;) {
      const got = new Set(seen.slice(before));
      let all = true;
      for (let i = 30; i < 60; i++) if (!got.has(`v${i}`)) all = false;
      if (all) break;
      if (Date.now() >= deadline2) {
        const missing = Array.from({ length: 30 }, (_, i) => `v${i + 30}`).filter((v) => !got.has(v));
        const offsets = await admin.fetchTopicOffsets(TOPIC);
        const g = cluster.brokers.get(leader)?.broker.groups.groups.get(GROUP);
        assert.fail(
          `records after the failover consumed within 120 s: missing ${missing.join(',')}; ends ` +
            `${JSON.stringify(offsets)}; committed ${await committed()}; group ${g?.state} ${g?.members.size}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const reread = seen.slice(before).filter((v) => Number(v.slice(1)) < 30);
    assert.deepEqual(reread, [], 'nothing before the committed offsets is read again');
    const coordinator = cluster.broker(leader).broker.groups;
    assert.ok(coordinator.groups.get(GROUP)!.members.size > 0, 'the group re-formed on the new coordinator');
  } finally {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
  }
});

test('a transactional producer goes on at the new transaction coordinator; read_committed sees commits', async () => {
  const TOPIC = 'txn-data';
  const TXN_ID = 'coordinated-txn';
  const admin = kafka('txn-admin').admin();
  await admin.connect();
  const producer = kafka('txn-producer').producer({
    transactionalId: TXN_ID,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let consumer: Consumer | undefined;
  try {
    // InitProducerId creates __transaction_state; its partition's leader coordinates the id.
    await producer.connect();
    // kafkajs finds its transaction coordinator at the first transaction; create the topic now, as that would.
    await live()[0]!.broker.transactions.stateLog.ensureTopic();
    await waitFor(() => image().topic('__transaction_state') !== undefined, 20_000, '__transaction_state exists');
    await waitFor(
      () =>
        image()
          .partitions('__transaction_state')
          .every((p) => p.isr.length === p.replicas.length),
      20_000,
      '__transaction_state is in sync',
    );
    const txnPart = coordinatorOf('__transaction_state', TXN_ID);
    const old = txnPart.leader;
    // Markers to partitions led by other brokers are WriteTxnMarkers' (not here): the data partition is led by
    // the coordinator, before the stop and after it (the controller elects the first live ISR replica).
    const next = txnPart.replicas.find((id) => id !== old)!;
    const others = live()
      .map((b) => b.broker.started.nodeId)
      .filter((id) => id !== old && id !== next);
    const replicas = [old, next, ...others];
    await admin.createTopics({ topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas }] }] });
    await waitFor(
      () => image().partition(TOPIC, 0)?.isr.length === replicas.length,
      20_000,
      'the data partition is in sync',
    );

    const txn = async (values: string[], commit: boolean): Promise<void> => {
      const t = await producer.transaction();
      await t.send({ topic: TOPIC, acks: -1, messages: values.map((value) => ({ value })) });
      if (commit) await t.commit();
      else await t.abort();
    };
    await txn(['a1', 'a2', 'a3'], true);

    const leader = await stopAndWaitForNewLeader(old, '__transaction_state', txnPart.partition);
    assert.equal(leader, next);
    await waitFor(() => image().partition(TOPIC, 0)?.leader === next, 30_000, 'the data partition moved too');
    await txn(['b1', 'b2'], true);
    await txn(['x1', 'x2'], false);
    await txn(['c1'], true);
    // The new coordinator holds the id; EndTxn answered once the commit was decided, its markers follow.
    const txns = cluster.broker(leader).broker.transactions.txns;
    assert.match(
      txns.get(TXN_ID)?.state ?? 'missing',
      /^(PrepareCommit|CompleteCommit)$/,
      'the new coordinator holds the id',
    );
    await waitFor(() => txns.get(TXN_ID)?.state === 'CompleteCommit', 30_000, 'the last commit completes');

    consumer = kafka('txn-reader').consumer({ groupId: 'txn-reader', readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const got: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value!.toString());
      },
    });
    await waitFor(() => got.length >= 6, 60_000, 'the committed records are read');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(got, ['a1', 'a2', 'a3', 'b1', 'b2', 'c1'], 'exactly the committed records, in order');
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect();
  }
});
