/**
 * startCluster(): a real etcd and three `runnel start` child processes, driven by kafkajs. Leader failover
 * after kill(), rejoining the ISR after restart(), pause()/resume() of a node, an etcd outage, close() leaving
 * no process behind, and the error without an etcd binary. Every wait is bounded; only 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { Consumer } from '../../client/index.js';
import { DevClusterError } from '../../protocol/errors.js';
import { startCluster, type RunningCluster } from '../../broker/index.js';

const TOPIC = 'dev-rf3';
let cluster: RunningCluster | undefined;

function kafka(brokers: string[]): Kafka {
  return new Kafka({
    clientId: 'dev-cluster-test',
    brokers,
    logLevel: logLevel.NOTHING,
    requestTimeout: 10_000,
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/** Whether a process with this pid exists (signal 0). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
}

/** Partition 0 of TOPIC as one broker sees it. */
async function partition0(address: string): Promise<{ leader: number; isr: number[]; replicas: number[] }> {
  const admin = kafka([address]).admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    const p = md.topics[0].partitions.find((x) => x.partitionId === 0)!;
    return { leader: p.leader, isr: [...p.isr].sort(), replicas: [...p.replicas].sort() };
  } finally {
    await admin.disconnect();
  }
}

/** The live broker ids as one broker sees them (DescribeCluster). */
async function brokerIds(address: string): Promise<number[]> {
  const admin = kafka([address]).admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort();
  } finally {
    await admin.disconnect();
  }
}

async function send(producer: Producer, values: string[]): Promise<void> {
  await producer.send({ topic: TOPIC, acks: -1, messages: values.map((value) => ({ value, partition: 0 })) });
}

test('without an etcd binary startCluster() fails with how to install etcd, and starts nothing', async () => {
  await assert.rejects(startCluster({ nodes: 1, etcdBinary: '/nonexistent/etcd' }), (err: Error) => {
    assert.ok(err instanceof DevClusterError, `${err.name}: ${err.message}`);
    assert.match(err.message, /\/nonexistent\/etcd/);
    assert.match(err.message, /apt-get install etcd-server/);
    return true;
  });
});

before(async () => {
  cluster = await startCluster({
    nodes: 3,
    sessionTimeoutMs: 3000,
    sets: {
      'min.insync.replicas': 2,
      'offsets.topic.num.partitions': 3,
      'transaction.state.log.num.partitions': 3,
      'replica.fetch.wait.max.ms': 100,
    },
  });
});

after(async () => {
  await cluster?.close();
});

test('acks=all on RF 3; kill() the leader, the next produce goes through a new one; restart() rejoins', async () => {
  const c = cluster!;
  assert.equal(c.nodes.length, 3);
  assert.deepEqual(
    c.nodes.map((n) => n.nodeId),
    [1, 2, 3],
  );
  assert.equal(c.bootstrapServers, c.nodes.map((n) => n.address).join(','));
  for (const n of c.nodes) assert.ok(n.running && n.pid !== undefined && alive(n.pid), `node ${n.nodeId} runs`);
  assert.deepEqual(await brokerIds(c.brokers[0]), [1, 2, 3]);

  const admin = kafka(c.brokers).admin();
  await admin.connect();
  try {
    assert.equal(
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3 }] }),
      true,
    );
  } finally {
    await admin.disconnect();
  }
  const before = await waitFor('the topic has a leader and a full ISR', 30_000, async () => {
    const p = await partition0(c.brokers[0]);
    return p.leader > 0 && p.isr.length === 3 ? p : undefined;
  });
  assert.deepEqual(before.replicas, [1, 2, 3]);

  const producer = kafka(c.brokers).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    await send(producer, ['a0', 'a1', 'a2']);
    const leader = c.node(before.leader);
    const pid = leader.pid!;
    await leader.kill();
    assert.equal(leader.running, false);
    assert.equal(alive(pid), false, 'the killed leader process is gone');
    await send(producer, ['b0', 'b1', 'b2']);
    const other = c.nodes.find((n) => n.nodeId !== before.leader)!;
    const moved = await partition0(other.address);
    assert.notEqual(moved.leader, before.leader, 'a new leader');
    assert.ok(moved.leader > 0);

    await leader.restart();
    assert.ok(leader.running && leader.pid !== pid);
    assert.equal(leader.port, Number(c.brokers[before.leader - 1].split(':')[1]), 'same port');
    await waitFor(`node ${before.leader} back in the ISR`, 60_000, async () => {
      const p = await partition0(other.address);
      return p.isr.length === 3 ? p : undefined;
    });
    await send(producer, ['c0']);
  } finally {
    await producer.disconnect();
  }

  // Read back without a group (group coordination is not what this test is about), through every node's view.
  const consumer = new Consumer({ bootstrap: c.bootstrapServers, requestTimeoutMs: 10_000 });
  const seen: string[] = [];
  try {
    consumer.assign([{ topic: TOPIC, partition: 0, offset: 0 }]);
    await waitFor('7 records consumed', 60_000, async () => {
      for (const r of await consumer.poll(500)) seen.push(r.value!.toString());
      return seen.length >= 7 ? true : undefined;
    });
  } finally {
    await consumer.close();
  }
  assert.deepEqual(seen, ['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'c0']);
});

test('pause() a node: it drops out of the cluster after its session timeout; resume() and it is back', async () => {
  const c = cluster!;
  const paused = c.node(3);
  const pid = paused.pid!;
  paused.pause();
  assert.equal(paused.paused, true);
  try {
    await waitFor('node 3 gone from DescribeCluster', 30_000, async () =>
      (await brokerIds(c.brokers[0])).includes(3) ? undefined : true,
    );
  } finally {
    paused.resume();
  }
  assert.equal(paused.paused, false);
  await waitFor('node 3 registered again', 30_000, async () =>
    (await brokerIds(c.brokers[0])).join() === '1,2,3' ? true : undefined,
  );
  assert.equal(paused.pid, pid, 'the same process');
  assert.ok(alive(pid));
});

test('etcd.stop()/start(): the nodes live through the outage and serve acks=all produce after it', async () => {
  const c = cluster!;
  const pids = c.nodes.map((n) => n.pid);
  const etcdPid = c.etcd.pid!;
  await c.etcd.stop();
  assert.equal(c.etcd.running, false);
  assert.equal(alive(etcdPid), false);
  // Longer than the session timeout: every node loses its lease and must register again.
  await new Promise((r) => setTimeout(r, 4000));
  await c.etcd.start();
  assert.ok(c.etcd.running && c.etcd.pid !== etcdPid);
  assert.deepEqual(
    c.nodes.map((n) => n.pid),
    pids,
  );
  assert.ok(c.nodes.every((n) => n.running));
  assert.deepEqual(await brokerIds(c.brokers[1]), [1, 2, 3]);
  const producer = kafka(c.brokers).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    await send(producer, ['d0']);
  } finally {
    await producer.disconnect();
  }
});

test('close() ends every process it started and removes the temp data; a second close() is a no-op', async () => {
  const c = cluster!;
  const pids = [...c.nodes.map((n) => n.pid!), c.etcd.pid!];
  assert.ok(pids.every(alive));
  assert.ok(existsSync(c.dataDir));
  await c.close();
  await c.close();
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
  assert.ok(c.nodes.every((n) => !n.running));
  assert.equal(existsSync(c.dataDir), false);
});
