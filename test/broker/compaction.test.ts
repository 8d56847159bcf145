/**
 * Log compaction end to end: a broker whose cleaner runs every 100 ms (log.cleaner.backoff.ms), a topic
 * created by kafkajs with cleanup.policy=compact and a small segment.ms/segment.bytes, records produced by
 * kafkajs one request at a time while segments roll, then read back from the beginning by kafkajs (a group
 * consumer) and kcat: only the latest record per key is left, plus the active segment.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { testBroker } from '../helpers/test-broker.js';
import { run } from '../helpers/broker-process.js';
import type { RunningBroker } from '../../broker/index.js';

const TOPIC = 'compacted';
const N = 120;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Record i: key `same`, except every 10th (k0, k1, k2 in turn). */
const keyOf = (i: number): string => (i % 10 === 0 ? `k${(i / 10) % 3}` : 'same');

const EXPECTED = ['90:k0=v90', '100:k1=v100', '110:k2=v110', `${N - 1}:same=v${N - 1}`, `${N}:roll=last`];

let b: RunningBroker;
before(async () => {
  b = await testBroker({ config: { 'log.cleaner.backoff.ms': 100 } });
});
after(async () => {
  await b.stop();
});

test('kafkajs: N records of one key on rolled segments shrink to the latest per key; kafkajs and kcat read them back', {
  timeout: 120_000,
}, async () => {
  const kafka = new Kafka({ clientId: 'compaction', brokers: [b.bootstrapServers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic: TOPIC,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.ms', value: '100' },
            { name: 'segment.bytes', value: '2048' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
            { name: 'delete.retention.ms', value: '100' },
          ],
        },
      ],
    });
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < N; i++) {
      await producer.send({ topic: TOPIC, messages: [{ key: keyOf(i), value: `v${i}` }] });
      await sleep(15);
    }
    // Older than segment.ms by now: this append rolls, closing the segment holding the last records.
    await sleep(150);
    await producer.send({ topic: TOPIC, messages: [{ key: 'roll', value: 'last' }] });
    await producer.disconnect();

    // The broker's own cleaner schedule does the work (segments rolled every 100 ms meanwhile).
    await until('the cleaner to cover every closed segment', () => {
      return (b.broker.logs.cleaner.checkpoints().get(`${TOPIC}-0`) ?? 0) >= N;
    });

    const got: string[] = [];
    const consumer = kafka.consumer({ groupId: 'compaction-readers', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push(`${message.offset}:${message.key}=${message.value}`);
      },
    });
    try {
      await until('kafkajs to reach the last record', () => got.some((g) => g.startsWith(`${N}:`)));
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(got, EXPECTED);
    assert.equal(b.broker.logs.getLog(TOPIC, 0)!.segmentsInfo().at(-1)!.baseOffset, N, 'the last record rolled');

    const kcat = await run(
      'kcat',
      ['-C', '-b', b.bootstrapServers, '-t', TOPIC, '-o', 'beginning', '-e', '-f', '%o:%k=%s\\n'],
      30_000,
    );
    assert.deepEqual(kcat.stdout.trim().split('\n'), EXPECTED, kcat.stderr);
  } finally {
    await admin.disconnect();
  }
});
