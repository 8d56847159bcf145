/**
 * The controller and min.insync.replicas under failures, with real processes (etcd + 3 `runnel start`
 * processes, test/helpers/process-cluster.ts; needs `npm run build`). The tests run in order on one cluster:
 * - the controller process is killed (SIGKILL): another node becomes controller (DescribeCluster's
 *   controllerId, as every live node answers) and partition changes go on: killing a partition leader
 *   afterwards elects a new leader at a higher leader epoch;
 * - with those 2 of 3 nodes down, an RF 3 topic with min.insync.replicas=2 refuses acks=all with
 *   NOT_ENOUGH_REPLICAS and writes nothing (the leader's log end is unchanged), while acks=1 still works.
 * Every wait is bounded; every process is ended by its handle in `after`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCluster, until } from '../helpers/process-cluster.js';

const TOPIC = 'ctl';
let cluster: ProcessCluster;

before(async () => {
  cluster = await ProcessCluster.start(3, {
    'broker.session.timeout.ms': 3000,
    'replica.lag.time.max.ms': 3000,
  });
  await cluster.createTopic(TOPIC, 3, { 'min.insync.replicas': '2' });
});

after(async () => {
  await cluster?.close();
});

/** The controller id once every live node reports the same live one (other than `not`). */
async function controller(not = -1): Promise<number> {
  return until(
    async () => {
      const ids = await Promise.all(
        cluster.liveIds().map(async (id) => (await cluster.metadata(undefined, id)).controller),
      );
      const c = ids[0]!;
      return ids.every((x) => x === c) && c !== not && cluster.liveIds().includes(c) ? c : undefined;
    },
    60_000,
    `every live node names one live controller other than ${not}`,
  );
}

test('the controller is killed: another node takes over and a leader kill still fails over', async () => {
  const old = await controller();
  await cluster.kill(old);
  const next = await controller(old);
  assert.notEqual(next, old);
  // Partitions that old led move too (the new controller acted on its loss).
  const after1 = await until(
    async () => {
      const md = await cluster.metadata(TOPIC);
      return md.partitions.every((p) => p.leader >= 0 && p.leader !== old && !p.isr.includes(old))
        ? md.partitions
        : undefined;
    },
    60_000,
    `no partition led by or in sync on ${old}`,
  );
  const victim = after1.find((p) => p.leader !== next) ?? after1[0]!;
  await cluster.kill(victim.leader);
  const moved = await until(
    async () => {
      const p = (await cluster.metadata(TOPIC)).partitions[victim.partition]!;
      return p.leader >= 0 && p.leader !== victim.leader ? p : undefined;
    },
    60_000,
    `a new leader for ${TOPIC}-${victim.partition}`,
  );
  assert.ok(cluster.liveIds().includes(moved.leader));
  if (victim.leaderEpoch >= 0) assert.ok(moved.leaderEpoch > victim.leaderEpoch, 'the leader epoch moved on');
});

test('with 2 of 3 nodes down acks=all gets NOT_ENOUGH_REPLICAS and writes nothing; acks=1 works', async () => {
  assert.equal(cluster.liveIds().length, 1, 'the previous test left one node');
  const [survivor] = cluster.liveIds();
  await until(
    async () => (await cluster.metadata(TOPIC)).partitions.every((p) => p.leader === survivor && p.isr.length === 1),
    60_000,
    `${survivor} leads every partition alone`,
  );
  const admin = cluster.kafka().admin();
  await admin.connect();
  const producer = cluster.kafka(cluster.liveIds(), 0).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const before = Number((await admin.fetchTopicOffsets(TOPIC)).find((o) => o.partition === 0)!.high);
    const diskBefore = cluster.readLog(survivor!, TOPIC, 0).length;
    const err = await producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'refused', partition: 0 }] }).then(
      () => undefined,
      (e: Error & { type?: string }) => e,
    );
    assert.ok(err, 'acks=all is refused');
    assert.match(`${err.type ?? ''} ${err.message}`, /NOT_ENOUGH_REPLICAS|not enough replicas|fewer in-sync/i);
    assert.doesNotMatch(`${err.type ?? ''}`, /AFTER_APPEND/);
    const after = Number((await admin.fetchTopicOffsets(TOPIC)).find((o) => o.partition === 0)!.high);
    assert.equal(after, before, 'nothing was written');
    assert.equal(cluster.readLog(survivor!, TOPIC, 0).length, diskBefore, 'no batch on disk');

    const [r] = await producer.send({ topic: TOPIC, acks: 1, messages: [{ value: 'accepted', partition: 0 }] });
    assert.equal(Number(r!.baseOffset), before);
    const end = Number((await admin.fetchTopicOffsets(TOPIC)).find((o) => o.partition === 0)!.high);
    assert.equal(end, before + 1);
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});
