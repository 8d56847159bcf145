/**
 * The broker under a small descriptor limit (`ulimit -n 256`, a child process): more partitions than the limit
 * could hold open (3 files per segment) are created, produced to and read back, and new connections are still
 * accepted — the bounded descriptor cache (storage/fd-cache.ts) at work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import { startBrokerProcess, waitExit } from '../helpers/broker-process.js';
import { quietKafkajs } from '../helpers/kafkajs.js';
import { RawClient } from '../helpers/raw-client.js';

const ULIMIT = 256;
const TOPICS = 40;
const PARTITIONS = 10;
const ROUNDS = 2;

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

test(`ulimit -n ${ULIMIT}: ${TOPICS * PARTITIONS} partitions created, produced, read back; connections accepted`, {
  timeout: 300_000,
}, async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runnel-fd-'));
  const b = await startBrokerProcess(dataDir, [], { ulimitFiles: ULIMIT });
  const pid = b.child.pid!;
  const kafka = quietKafkajs(b.bootstrap, 5);
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: 'fd-limits', maxWaitTimeInMs: 100 });
  const topics = Array.from({ length: TOPICS }, (_, i) => `fd-${i}`);
  try {
    await admin.connect();
    for (let i = 0; i < TOPICS; i += 10) {
      const batch = topics.slice(i, i + 10).map((topic) => ({ topic, numPartitions: PARTITIONS }));
      assert.equal(await admin.createTopics({ topics: batch, waitForLeaders: true, timeout: 60_000 }), true);
    }
    const logFiles = readdirSync(dataDir).filter((d) => d.startsWith('fd-')).length * 3;
    assert.ok(logFiles > ULIMIT, `${logFiles} segment files would not fit in ${ULIMIT} descriptors`);

    await producer.connect();
    for (let round = 0; round < ROUNDS; round++) {
      await producer.sendBatch({
        acks: -1,
        topicMessages: topics.map((topic) => ({
          topic,
          messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, value: `${topic}/${p}/${round}` })),
        })),
      });
    }
    assert.ok(openFds(pid) < ULIMIT, `${openFds(pid)} descriptors open`);
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      assert.deepEqual(
        offsets.map((o) => o.high),
        Array.from({ length: PARTITIONS }, () => String(ROUNDS)),
      );
    }

    // Every acknowledged record reads back.
    const seen = new Set<string>();
    const want = TOPICS * PARTITIONS * ROUNDS;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const v = message.value!.toString();
        assert.ok(v.startsWith(`${topic}/${partition}/`), v);
        seen.add(v);
        if (seen.size === want) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, 180_000)))]);
    clearTimeout(timer);
    assert.equal(seen.size, want);
    assert.ok(openFds(pid) < ULIMIT, `${openFds(pid)} descriptors open`);

    // New connections are still accepted and served.
    const clients: RawClient[] = [];
    try {
      for (let i = 0; i < 20; i++) clients.push(await RawClient.connect(b.port));
      for (const c of clients) {
        c.send(18, 0, () => undefined);
        assert.notEqual(await c.receive(10_000), null);
      }
    } finally {
      for (const c of clients) c.close();
    }
    const problems = b
      .output()
      .split('\n')
      .filter((l) => /EMFILE|ENFILE|STORAGE_ERROR|too many open files/i.test(l));
    assert.deepEqual(problems, []);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nbroker output (tail):\n${b.output().slice(-4000)}`);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    b.child.kill('SIGTERM');
    await waitExit(b.child, 30_000);
    if (b.child.exitCode === null) b.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
