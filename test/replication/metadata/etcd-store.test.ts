import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RunnelError } from '../../../protocol/errors.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { get } from '../../../replication/etcd/kv.js';
import { startEtcd, type EtcdProcess } from '../../helpers/etcd.js';
import { EtcdNodes, describeChange, waitFor } from '../../helpers/etcd-nodes.js';

let etcd: EtcdProcess;
const clusters: EtcdNodes[] = [];

const coded = (kafkaCode: number) => (e: unknown) => e instanceof RunnelError && e.kafkaCode === kafkaCode;

async function cluster(name: string, racks: (string | undefined)[] = [undefined, undefined, undefined]) {
  const c = new EtcdNodes(etcd, name);
  clusters.push(c);
  for (let i = 0; i < racks.length; i++) await c.add(i + 1, { rack: racks[i] });
  const all = racks.length;
  await waitFor(() => c.nodes.every((n) => n.store.image.liveBrokers().length === all), 5000, 'all brokers seen');
  return c;
}

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  for (const c of clusters) await c.closeAll();
  await etcd?.cleanup();
});

test('topics created, grown, re-configured and deleted on any node reach every node in one order', async () => {
  const c = await cluster('store-order');
  const [n1, n2, n3] = c.nodes;
  assert.equal(n1.store.image.clusterId, n3.store.image.clusterId);
  assert.equal(n1.store.image.clusterId.length, 22);
  for (const n of c.nodes) n.seen.length = 0;
  const made = await Promise.all([
    n1.store.createTopic('a', { partitions: 2 }),
    n2.store.createTopic('b', { partitions: 1, configs: { 'retention.ms': '1000' } }),
    n3.store.createTopic('c', { partitions: 3 }),
  ]);
  // Each writer sees its own change in its image once the write resolves.
  assert.equal(n1.store.image.topic('a')?.topicId, made[0].topicId);
  assert.equal(n2.store.image.topic('b')?.configs['retention.ms'], '1000');
  await n2.store.createPartitions('a', 4);
  assert.equal(n2.store.image.topic('a')?.partitions, 4);
  await n3.store.alterTopicConfigs('b', { 'cleanup.policy': 'compact' });
  assert.deepEqual(n3.store.image.topic('b')?.configs, { 'cleanup.policy': 'compact' });
  assert.equal(await n1.store.deleteTopic('c'), true);
  assert.equal(await n2.store.deleteTopic('c'), false);
  await waitFor(() => c.nodes.every((n) => n.seen.length === 6), 10_000, 'every node sees six changes');
  const order = n1.seen.map(describeChange);
  assert.deepEqual(order.slice(3), ['partitions-created a 2,3', 'topic-configs-changed b', 'topic-deleted c']);
  assert.deepEqual(new Set(order.slice(0, 3)), new Set(['topic-created a', 'topic-created b', 'topic-created c']));
  for (const n of [n2, n3]) assert.deepEqual(n.seen.map(describeChange), order);
  assert.deepEqual(
    n3.store.image.topics().map((t) => t.name),
    n1.store.image.topics().map((t) => t.name),
  );
  // A node that opens later reads the same image from the prefix.
  const late = await c.add(4);
  assert.deepEqual(
    late.store.image.topics().map((t) => [t.name, t.topicId, t.partitions]),
    n1.store.image.topics().map((t) => [t.name, t.topicId, t.partitions]),
  );
  await assert.rejects(n3.store.createTopic('a', { partitions: 1 }), coded(ErrorCode.TOPIC_ALREADY_EXISTS));
  await assert.rejects(n3.store.createTopic('bad/name', { partitions: 1 }), coded(ErrorCode.INVALID_TOPIC_EXCEPTION));
  await assert.rejects(n3.store.createPartitions('a', 2), coded(ErrorCode.INVALID_PARTITIONS));
});

test('RF 3 over 3 brokers: distinct replicas, leaders spread; RF 4 is refused and writes nothing', async () => {
  const c = await cluster('store-rf');
  const [n1, n2] = c.nodes;
  const t = await n1.store.createTopic('rf3', { partitions: 6, replicationFactor: 3 });
  const leaders = new Map<number, number>();
  for (const p of t.partitionStates) {
    assert.equal(p.replicas.length, 3);
    assert.equal(new Set(p.replicas).size, 3);
    assert.deepEqual([...p.isr], [...p.replicas]);
    assert.equal(p.leader, p.replicas[0]);
    assert.equal(p.leaderEpoch, 0);
    leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
  }
  assert.deepEqual([...leaders.values()], [2, 2, 2], 'each broker leads two of six partitions');
  const grown = await n2.store.createPartitions('rf3', 9);
  for (const p of grown.partitionStates.slice(6)) assert.equal(new Set(p.replicas).size, 3);
  await assert.rejects(
    n2.store.createTopic('rf4', { partitions: 1, replicationFactor: 4 }),
    coded(ErrorCode.INVALID_REPLICATION_FACTOR),
  );
  await assert.rejects(
    n2.store.createTopic('manual', { partitions: 1, replicas: [[1, 7]] }),
    coded(ErrorCode.INVALID_REPLICA_ASSIGNMENT),
  );
  assert.equal(await get(n1.conn, n1.conn.key('topics', 'rf4')), undefined);
  assert.equal(n1.store.image.topic('rf4'), undefined);
  const manual = await n2.store.createTopic('manual', {
    partitions: 2,
    replicas: [
      [3, 1],
      [2, 3],
    ],
  });
  assert.deepEqual(
    manual.partitionStates.map((p) => [p.leader, [...p.replicas]]),
    [
      [3, [3, 1]],
      [2, [2, 3]],
    ],
  );
});

test('racks: with two racks every RF 2 partition has a replica on each', async () => {
  const c = await cluster('store-racks', ['r1', 'r1', 'r2', 'r2']);
  const t = await c.nodes[0].store.createTopic('racked', { partitions: 8, replicationFactor: 2 });
  const rack = (id: number) => c.nodes[0].store.image.broker(id)?.rack;
  for (const p of t.partitionStates) assert.deepEqual(new Set(p.replicas.map(rack)), new Set(['r1', 'r2']));
});

test('alterPartition: CAS on the partition epoch; of two racing writers one gets INVALID_UPDATE_VERSION', async () => {
  const c = await cluster('store-cas');
  const [n1, n2, n3] = c.nodes;
  await n1.store.createTopic('t', { partitions: 1, replicas: [[1, 2, 3]] });
  await waitFor(() => n2.store.image.topic('t') !== undefined, 5000, 'n2 sees t');
  const results = await Promise.allSettled([
    n1.store.alterPartition('t', 0, 0, { isr: [1, 2] }),
    n2.store.alterPartition('t', 0, 0, { isr: [1, 3] }),
  ]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r) => r.status === 'rejected');
  assert.equal(won.length, 1);
  assert.equal(lost.length, 1);
  assert.ok(coded(ErrorCode.INVALID_UPDATE_VERSION)((lost[0] as PromiseRejectedResult).reason));
  const after = (won[0] as PromiseFulfilledResult<{ isr: readonly number[]; partitionEpoch: number }>).value;
  assert.equal(after.partitionEpoch, 1);
  await waitFor(() => n3.store.image.partition('t', 0)?.partitionEpoch === 1, 5000, 'n3 sees epoch 1');
  assert.deepEqual(n3.store.image.partition('t', 0)?.isr, after.isr);
  // A leader change bumps the leader epoch too; a stale epoch is refused.
  const moved = await n3.store.alterPartition('t', 0, 1, { leader: after.isr[1], isr: after.isr });
  assert.deepEqual([moved.leader, moved.leaderEpoch, moved.partitionEpoch], [after.isr[1], 1, 2]);
  await assert.rejects(n1.store.alterPartition('t', 0, 1, { isr: [1] }), coded(ErrorCode.INVALID_UPDATE_VERSION));
  await assert.rejects(n1.store.alterPartition('t', 0, 2, { leader: 9 }), coded(ErrorCode.INVALID_REQUEST));
});

test('alterPartitionsGuarded: one transaction, delivered to every node as one delta; all or nothing', async () => {
  const c = await cluster('store-batch');
  const [n1, n2, n3] = c.nodes;
  const t = await n1.store.createTopic('b', { partitions: 6, replicationFactor: 3 });
  await waitFor(() => n2.store.image.topic('b') !== undefined, 5000, 'n2 sees b');
  const deltas: number[][] = [];
  n2.store.subscribe((d) => {
    const parts = d.changes.flatMap((ch) => (ch.type === 'partition-changed' ? [ch.partition.partition] : []));
    if (parts.length) deltas.push(parts);
  });
  // Node 3 is "lost": it leaves every ISR and its leaderships move to the next replica in the ISR.
  const writes = t.partitionStates.map((p) => {
    const isr = p.isr.filter((id) => id !== 3);
    const leader = p.leader === 3 ? p.replicas.find((id) => isr.includes(id)) : undefined;
    return { topic: 'b', partition: p.partition, partitionEpoch: 0, change: { isr, leader } };
  });
  // A refused change (stale epoch) and one that changes nothing settle on their own.
  const refused = { topic: 'b', partition: 0, partitionEpoch: 7, change: { isr: [1] } };
  const results = await n1.store.alterPartitionsGuarded([...writes.slice(1), refused]);
  assert.equal(results.length, 6);
  assert.ok(coded(ErrorCode.INVALID_UPDATE_VERSION)((results[5] as PromiseRejectedResult).reason));
  for (const r of results.slice(0, 5)) {
    assert.equal(r.status, 'fulfilled');
    assert.equal(r.value.partitionEpoch, 1);
    assert.ok(!r.value.isr.includes(3));
    assert.notEqual(r.value.leader, 3);
  }
  await waitFor(() => deltas.length > 0, 5000, 'n2 sees the batch');
  assert.deepEqual(deltas, [[1, 2, 3, 4, 5]], 'the five changes arrive on n2 as one delta');
  const same = await n1.store.alterPartitionsGuarded([writes[1]].map((w) => ({ ...w, partitionEpoch: 1 })));
  assert.equal(same[0].status === 'fulfilled' && same[0].value.partitionEpoch, 1, 'no change, no write');
  // A failing guard writes nothing.
  const guard = { key: n1.conn.key('no-such-controller'), createRevision: 12345 };
  const deposed = await n1.store.alterPartitionsGuarded([writes[0]], guard);
  assert.equal((deposed[0] as PromiseRejectedResult).reason.code, 'ERR_NOT_CONTROLLER');
  assert.equal(n1.store.image.partition('b', 0)?.partitionEpoch, 0);
  // Two nodes racing with the same batch: one writes all of it, the other none (INVALID_UPDATE_VERSION each).
  await waitFor(() => n3.store.image.partition('b', 5)?.partitionEpoch === 1, 5000, 'n3 sees the batch');
  const next = [0, 1, 2, 3, 4, 5].map((p) => ({
    topic: 'b',
    partition: p,
    partitionEpoch: p === 0 ? 0 : 1,
    change: { isr: [...(n1.store.image.partition('b', p)?.isr ?? [])].reverse() },
  }));
  const raced = await Promise.all([n1.store.alterPartitionsGuarded(next), n3.store.alterPartitionsGuarded(next)]);
  const wins = raced.map((rs) => rs.filter((r) => r.status === 'fulfilled').length);
  assert.deepEqual([...wins].sort(), [0, 6]);
  for (const r of raced[wins.indexOf(0)])
    assert.ok(coded(ErrorCode.INVALID_UPDATE_VERSION)((r as PromiseRejectedResult).reason));
});

test('producer id blocks from racing nodes never overlap', async () => {
  const c = await cluster('store-pids');
  const blocks = await Promise.all(
    c.nodes.flatMap((n) => [
      n.store.allocateProducerIdBlock(n.nodeId, 1000),
      n.store.allocateProducerIdBlock(n.nodeId, 1000),
    ]),
  );
  const firsts = blocks.map((b) => b.firstProducerId).sort((a, b) => a - b);
  assert.deepEqual(firsts, [0, 1000, 2000, 3000, 4000, 5000]);
  await waitFor(() => c.nodes.every((n) => n.store.image.nextProducerId === 6000), 5000, 'all see 6000');
});

test('brokers: a lost lease fences the broker on every node; it registers again with its new lease', async () => {
  const c = await cluster('store-brokers');
  const [n1, , n3] = c.nodes;
  assert.deepEqual(
    n1.store.image.liveBrokers().map((b) => b.nodeId),
    [1, 2, 3],
  );
  assert.equal(n1.store.image.endpoint(3)?.port, 9003);
  await n3.session.revokeLease();
  await waitFor(() => n1.store.image.broker(3)?.fenced === true, 5000, 'n1 sees broker 3 fenced');
  assert.ok(n1.seen.some((ch) => ch.type === 'broker-fenced' && ch.broker.nodeId === 3));
  await waitFor(() => n1.store.image.broker(3)?.fenced === false, 10_000, 'broker 3 back');
  // Re-registering with a new listener updates in place (no fencing seen).
  n1.seen.length = 0;
  await n3.store.registerBroker({
    nodeId: 3,
    rack: null,
    fenced: false,
    listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 19003, securityProtocol: 'PLAINTEXT' }],
  });
  await waitFor(() => n1.store.image.endpoint(3)?.port === 19003, 5000, 'n1 sees the new port');
  assert.deepEqual(n1.seen.map(describeChange), ['broker-registered 3']);
});

test('etcd restarted under the stores: they resume their watches and keep going', async () => {
  const c = await cluster('store-restart');
  const [n1, n2, n3] = c.nodes;
  await n1.store.createTopic('before', { partitions: 1 });
  await etcd.restart();
  const t = await n2.store.createTopic('after', { partitions: 2, replicationFactor: 2 });
  await waitFor(
    () => c.nodes.every((n) => n.store.image.topic('after')?.topicId === t.topicId),
    10_000,
    'every node sees the topic created after the restart',
  );
  assert.deepEqual(
    n3.store.image.topics().map((x) => x.name),
    ['before', 'after'],
  );
  await n3.store.alterPartition('after', 0, 0, { isr: [t.partitionStates[0].leader] });
  await waitFor(() => n1.store.image.partition('after', 0)?.partitionEpoch === 1, 10_000, 'n1 sees the ISR change');
});
