/**
 * etcd restarted under a running cluster, with real processes (etcd + 3 `runnel start` processes,
 * test/helpers/process-cluster.ts; needs `npm run build`). etcd (the test's own process) stops for longer than
 * broker.session.timeout.ms and starts again on the same data dir and port. Meanwhile the brokers keep serving
 * the partitions they lead (acks=1 produce, Metadata, consume); afterwards they re-register, every partition
 * is led with a full ISR again, acks=all works, and killing a leader still fails over. Every acknowledged
 * record is then read back. Every wait is bounded; every process is ended by its handle in `after`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/broker-process.js';
import { ProcessCluster, until } from '../helpers/process-cluster.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/helpers/clients'));
const PY = '/usr/bin/python3';
const TOPIC = 'outage';
const PARTITIONS = 3;
let cluster: ProcessCluster;

before(async () => {
  cluster = await ProcessCluster.start(3, {
    'broker.session.timeout.ms': 3000,
    'replica.lag.time.max.ms': 3000,
  });
  await cluster.createTopic(TOPIC, PARTITIONS);
});

after(async () => {
  await cluster?.close();
});

async function consumeAll(partition: number): Promise<string[]> {
  const r = await run(PY, [join(clients, 'consume_all.py'), cluster.bootstrap().join(','), TOPIC, String(partition)]);
  assert.match(r.stdout, /END \d+/, `consumed ${TOPIC}-${partition}: ${r.stdout.slice(-300)} ${r.stderr.slice(-300)}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('REC '))
    .map((l) => l.split(' ')[3]!);
}

test('brokers serve through an etcd restart, re-register, and fail over afterwards', async () => {
  const acked = new Map<number, string[]>(Array.from({ length: PARTITIONS }, (_, p) => [p, []]));
  // No retries while etcd is down (no leader may move then); after, leaders move (the controller sees the
  // old registrations go) and the client refreshes its metadata on NOT_LEADER_OR_FOLLOWER.
  const steady = cluster.kafka(cluster.liveIds(), 0).producer({ allowAutoTopicCreation: false });
  const moving = cluster.kafka(cluster.liveIds(), 10).producer({ allowAutoTopicCreation: false });
  await steady.connect();
  await moving.connect();
  const send = async (tag: string, acks: number, producer = steady): Promise<void> => {
    for (let p = 0; p < PARTITIONS; p++) {
      const values = Array.from({ length: 5 }, (_, i) => `${tag}-${p}-${i}`);
      await producer.send({
        topic: TOPIC,
        acks,
        timeout: 10_000,
        messages: values.map((value) => ({ value, partition: p })),
      });
      acked.get(p)!.push(...values);
    }
  };
  try {
    await send('before', -1);
    await cluster.etcd.stop();
    const down = Date.now();
    // Past the session timeout with etcd down: every partition still takes acks=1 writes from its leader.
    let round = 0;
    while (Date.now() - down < 6000) {
      await send(`down${round++}`, 1).catch((err: Error) => {
        throw new Error(`acks=1 during the etcd outage (round ${round}, ${Date.now() - down} ms): ${err.message}`);
      });
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(round > 0);
    const md = await cluster.metadata(TOPIC);
    assert.equal(md.partitions.length, PARTITIONS, 'Metadata is served without etcd');
    const during = await consumeAll(0);
    for (const v of acked.get(0)!.filter((x) => x.startsWith('before'))) assert.ok(during.includes(v), v);

    await cluster.etcd.start();
    await until(async () => (await cluster.metadata()).brokers.length === 3, 60_000, 'all 3 brokers re-registered');
    const views = await cluster.waitIsr(TOPIC, 3, 90_000);
    await send('after', -1, moving);

    const victim = views[0]!;
    await cluster.kill(victim.leader);
    const moved = await until(
      async () => {
        const p = (await cluster.metadata(TOPIC)).partitions[0]!;
        return p.leader >= 0 && p.leader !== victim.leader ? p : undefined;
      },
      60_000,
      `a new leader for ${TOPIC}-0 after the etcd restart`,
    );
    assert.ok(cluster.liveIds().includes(moved.leader));
    let attempt = 0;
    await until(
      async () => {
        await send(`failover${attempt++}`, -1, moving);
        return true;
      },
      60_000,
      'acks=all through the new leaders',
      500,
    );
  } finally {
    await steady.disconnect();
    await moving.disconnect();
  }
  for (let p = 0; p < PARTITIONS; p++) {
    const got = await consumeAll(p);
    assert.equal(new Set(got).size, got.length, `no duplicate in ${p}`);
    for (const v of acked.get(p)!) assert.ok(got.includes(v), `acknowledged ${v} is in partition ${p}`);
  }
});
