/**
 * Consumers at the log end are answered from the leader's tail cache (replication/leader-tail-cache.ts,
 * log.tail.cache.max.bytes): a kafkajs consumer reading while a producer writes gets every record in order, and
 * with the cache no read below the consumer's bound reaches the log file; with log.tail.cache.max.bytes=0 they do.
 * (The cache fills only while a consumer reads at the log end, so the producer starts after the first fetch.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partitioners } from 'kafkajs';
import { testBroker } from '../../helpers/test-broker.js';
import { quietKafkajs, waitUntil } from '../../helpers/kafkajs.js';
import { partitionOf } from '../../helpers/partitions.js';

const SENDS = 40;

/** Produce SENDS batches of 5 while a consumer reads them; returns the values consumed and the log reads. */
async function consumeWhileProducing(cacheBytes: number): Promise<{ got: string[]; logReads: number }> {
  const b = await testBroker({
    topics: [{ name: 'tail', partitions: 1 }],
    config: { 'log.tail.cache.max.bytes': cacheBytes },
  });
  const kafka = quietKafkajs(b, 3);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: 'g', maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
  const got: string[] = [];
  try {
    const log = partitionOf(b.broker, 'tail', 0).log;
    const read = log.read.bind(log);
    let logReads = 0;
    log.read = (offset, maxBytes, options) => {
      if (offset < (options?.maxOffset ?? log.logEndOffset)) logReads++;
      return read(offset, maxBytes, options);
    };
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: ['tail'], fromBeginning: true });
    // A partition caches its appends only while a consumer reads at its log end: produce once one does.
    let fetches = 0;
    consumer.on(consumer.events.FETCH, () => void fetches++);
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
    await waitUntil('the first fetch', () => fetches > 0);
    for (let i = 0; i < SENDS; i++) {
      const messages = Array.from({ length: 5 }, (_, j) => ({ value: `m${i * 5 + j}-${'x'.repeat(i * 7)}` }));
      await producer.send({ topic: 'tail', acks: -1, messages });
      if (i % 8 === 0) await waitUntil(`record ${i * 5 + 4}`, () => got.length >= i * 5 + 5);
    }
    await waitUntil('every record', () => got.length >= SENDS * 5);
    return { got, logReads };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await b.stop();
  }
}

test('a kafkajs consumer at the log end reads from the tail cache: every record, in order, no log read', async () => {
  const want = Array.from({ length: SENDS * 5 }, (_, n) => `m${n}-${'x'.repeat(Math.floor(n / 5) * 7)}`);
  const cached = await consumeWhileProducing(4 << 20);
  assert.deepEqual(cached.got, want);
  assert.equal(cached.logReads, 0, 'every fetch below the HW answered from memory');
  const uncached = await consumeWhileProducing(0);
  assert.deepEqual(uncached.got, want);
  assert.ok(uncached.logReads > 0, 'without the cache the log answers');
});
