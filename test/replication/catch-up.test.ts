/**
 * Followers falling behind, with real processes and real files (etcd + 3 `runnel start` processes,
 * test/helpers/process-cluster.ts; needs `npm run build`):
 * - catch-up from far behind: a follower is killed, the leader rolls small segments and retention deletes the
 *   old ones, the follower restarts: its fetch offset is below the leader's log start, so (as Kafka) its log
 *   restarts at the leader's log start; it catches up, rejoins the ISR, and its files equal the leader's.
 * - ISR shrink and expand: a follower paused (SIGSTOP) for longer than replica.lag.time.max.ms (but less
 *   than the session timeout, so only the lag can drop it) leaves the ISR while the leader takes writes, and
 *   is back in it once resumed and caught up to the high watermark.
 * Every wait is bounded; every process is ended by its handle in `after`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCluster, until } from '../helpers/process-cluster.js';

let cluster: ProcessCluster;

before(async () => {
  cluster = await ProcessCluster.start(3, {
    'broker.session.timeout.ms': 15_000,
    'replica.lag.time.max.ms': 1500,
    'log.retention.check.interval.ms': 300,
  });
});

after(async () => {
  await cluster?.close();
});

/** A topic of one partition on all three nodes, all in sync. */
const createTopic = (topic: string, configs: Record<string, string> = {}) => cluster.createTopic(topic, 1, configs);

/** Produce `count` records to partition 0, through `via` only when given (a paused node must not be a seed). */
async function produce(topic: string, count: number, acks: number, size = 100, via?: number[]): Promise<void> {
  const p = cluster.kafka(via).producer({ allowAutoTopicCreation: false });
  await p.connect();
  try {
    for (let i = 0; i < count; i += 20) {
      const n = Math.min(20, count - i);
      await p.send({
        topic,
        acks,
        messages: Array.from({ length: n }, (_, j) => ({ value: `${i + j}:`.padEnd(size, 'x'), partition: 0 })),
      });
    }
  } finally {
    await p.disconnect();
  }
}

async function offsets(topic: string): Promise<{ low: number; high: number }> {
  const admin = cluster.kafka().admin();
  await admin.connect();
  try {
    const [o] = await admin.fetchTopicOffsets(topic);
    return { low: Number(o!.low), high: Number(o!.high) };
  } finally {
    await admin.disconnect();
  }
}

test('a follower far behind restarts at the leader log start, catches up and rejoins the ISR', async () => {
  const TOPIC = 'far-behind';
  await createTopic(TOPIC, { 'segment.bytes': '4096', 'retention.bytes': '8192' });
  await produce(TOPIC, 100, -1);
  const [p0] = (await cluster.metadata(TOPIC)).partitions;
  const leader = p0!.leader;
  const follower = p0!.replicas.find((id) => id !== leader)!;
  await cluster.kill(follower);
  await until(
    async () => (await cluster.metadata(TOPIC)).partitions[0]!.isr.length === 2,
    30_000,
    'the killed follower leaves the ISR',
  );
  // Enough for many 4 KiB segments; retention keeps about 8 KiB on the leader.
  await produce(TOPIC, 2000, 1);
  const before = await until(
    async () => {
      const o = await offsets(TOPIC);
      return o.low > 150 ? o : undefined;
    },
    30_000,
    'retention moves the leader log start past what the follower has',
  );
  await until(async () => !(await cluster.metadata()).brokers.includes(follower), 30_000, 'the old lease expires');
  await cluster.restart(follower);
  await cluster.waitIsr(TOPIC, 3, 60_000);
  await produce(TOPIC, 20, -1);
  const end = (await offsets(TOPIC)).high;
  assert.equal(end, 2120);
  await until(
    () => {
      const f = cluster.readLog(follower, TOPIC, 0);
      return f.length > 0 && f[f.length - 1]!.lastOffset === end - 1;
    },
    30_000,
    'the follower reaches the log end',
  );
  const f = cluster.readLog(follower, TOPIC, 0);
  assert.ok(f[0]!.baseOffset >= before.low, `follower log starts at ${f[0]!.baseOffset}, past ${before.low}`);
  const l = cluster.readLog(leader, TOPIC, 0);
  const common = l.filter((b) => b.baseOffset >= f[0]!.baseOffset);
  const mine = f.filter((b) => b.baseOffset >= common[0]!.baseOffset);
  assert.deepEqual(
    mine.map((b) => b.baseOffset),
    common.map((b) => b.baseOffset),
  );
  for (const [i, b] of mine.entries()) assert.ok(b.bytes.equals(common[i]!.bytes), `same batch at ${b.baseOffset}`);
});

test('a lagging follower leaves the ISR after replica.lag.time.max.ms and returns once caught up', async () => {
  const TOPIC = 'isr';
  await createTopic(TOPIC);
  await produce(TOPIC, 40, -1);
  const [p0] = (await cluster.metadata(TOPIC)).partitions;
  const leader = p0!.leader;
  const follower = p0!.replicas.find((id) => id !== leader)!;
  cluster.pause(follower);
  try {
    // Writes the paused follower cannot fetch: it lags, and leaves the ISR before its session expires.
    const shrunk = await until(
      async () => {
        // Through the leader alone: a paused follower as the client's seed broker would time the request out.
        await produce(TOPIC, 20, 1, 100, [leader]);
        const p = (await cluster.metadata(TOPIC, leader)).partitions[0]!;
        return p.isr.includes(follower) ? undefined : p;
      },
      12_000,
      'the paused follower leaves the ISR',
      300,
    );
    assert.equal(shrunk.leader, leader);
    assert.deepEqual(
      shrunk.isr,
      p0!.isr.filter((id) => id !== follower),
    );
    assert.ok((await cluster.metadata()).brokers.includes(follower), 'its session is still alive');
  } finally {
    cluster.resume(follower);
  }
  const back = await until(
    async () => {
      const p = (await cluster.metadata(TOPIC, leader)).partitions[0]!;
      return p.isr.includes(follower) ? p : undefined;
    },
    30_000,
    'the resumed follower rejoins the ISR',
  );
  assert.equal(back.leader, leader, 'the leader did not change');
  await produce(TOPIC, 20, -1);
});
