/**
 * Idempotent producers against an in-process broker whose Produce responses are dropped now and then
 * (the test hook `broker.dropProduceResponse` closes the connection after the append, so the client
 * retries a batch that was already written): kafkajs 2.2.4 (`idempotent: true`), librdkafka 2.0.2 via
 * confluent_kafka (`enable.idempotence`) and @platformatic/kafka (`idempotent: true`). The log must hold
 * every record exactly once, with contiguous sequence numbers per producer. kafkajs also sees a broker
 * restart between an append and its retry: the duplicate is still recognised from the recovered state.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { testBroker } from '../helpers/test-broker.js';
import { run } from '../helpers/broker-process.js';
import type { RunningBroker } from '../../broker/index.js';
import { iterateBatches } from '../../protocol/records/batch.js';
import { Kafka, logLevel } from 'kafkajs';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/helpers/clients'));
const PY = '/usr/bin/python3';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

/** Drop the response of every `every`-th produce to `topic`, at most `max` times; counts drops. */
function dropEvery(b: RunningBroker, topic: string, every: number, max: number): { dropped: number; produces: number } {
  const s = { dropped: 0, produces: 0 };
  b.broker.dropProduceResponse = (t) => {
    if (t !== topic) return false;
    s.produces++;
    if (s.dropped < max && s.produces % every === 0) {
      s.dropped++;
      return true;
    }
    return false;
  };
  return s;
}

interface LogContent {
  values: string[];
  /** Per producer id: its batches' [baseSequence, record count] in log order. */
  sequences: Map<number, Array<[number, number]>>;
}

async function logContent(b: RunningBroker, topic: string): Promise<LogContent> {
  const log = b.broker.logs.getLog(topic, 0)!;
  const values: string[] = [];
  const sequences = new Map<number, Array<[number, number]>>();
  let next = log.logStartOffset;
  for (let i = 0; i < 100_000 && next < log.logEndOffset; i++) {
    const r = await log.read(next, 1 << 20);
    if (r.records.length === 0) break;
    for (const batch of iterateBatches(r.records)) {
      next = Number(batch.lastOffset) + 1;
      const pid = Number(batch.producerId);
      if (!sequences.has(pid)) sequences.set(pid, []);
      sequences.get(pid)!.push([batch.baseSequence, batch.lastOffsetDelta + 1]);
      for await (const rec of batch.records()) values.push(rec.value!.toString());
    }
  }
  return { values, sequences };
}

/** Every expected value once, in order, and each producer's sequences contiguous from 0. */
function assertExactlyOnce(c: LogContent, expected: string[]): void {
  const dupes = c.values.filter((v, i) => c.values.indexOf(v) !== i);
  assert.deepEqual(dupes, [], 'no record written twice');
  assert.deepEqual(c.values, expected);
  for (const [pid, seqs] of c.sequences) {
    assert.ok(pid >= 0, 'every batch carries a producer id');
    let want = 0;
    for (const [base, n] of seqs) {
      assert.equal(base, want, `producer ${pid}: contiguous sequences`);
      want = base + n;
    }
  }
}

const values = (n: number, prefix: string): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);

test('kafkajs idempotent producer: dropped responses and a broker restart between append and retry', {
  timeout: 90_000,
}, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'runnel-idem-'));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  let b = await testBroker({ dataDir, topics: ['idem-kafkajs'] });
  const port = b.port;
  cleanup.push(() => b.stop());
  const kafka = new Kafka({
    clientId: 'idem',
    brokers: [b.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const want = values(200, 'k');
  const stats = dropEvery(b, 'idem-kafkajs', 3, 6);
  for (let i = 0; i < 100; i += 10) {
    await producer.send({
      topic: 'idem-kafkajs',
      acks: -1,
      messages: want.slice(i, i + 10).map((value) => ({ value, partition: 0 })),
    });
  }
  assert.ok(stats.dropped >= 3, `responses dropped: ${stats.dropped}`);

  // Restart: the next produce is appended, its response dropped, and the broker restarted (same port,
  // same data) before the client's retry arrives.
  let restarted: Promise<void> | undefined;
  b.broker.dropProduceResponse = (t) => {
    if (t !== 'idem-kafkajs' || restarted) return false;
    restarted = (async () => {
      await new Promise((r) => setImmediate(r));
      await b.stop();
      b = await testBroker({ dataDir, port });
    })();
    return true;
  };
  await producer.send({
    topic: 'idem-kafkajs',
    acks: -1,
    messages: want.slice(100, 110).map((value) => ({ value, partition: 0 })),
  });
  assert.ok(restarted, 'the restart hook ran');
  await restarted;
  const dupProducer = b.broker.logs.getLog('idem-kafkajs', 0)!.activeProducers();
  assert.equal(dupProducer.length, 1);
  assert.equal(dupProducer[0]!.lastSequence, 109);
  const stats2 = dropEvery(b, 'idem-kafkajs', 2, 4);
  for (let i = 110; i < 200; i += 10) {
    await producer.send({
      topic: 'idem-kafkajs',
      acks: -1,
      messages: want.slice(i, i + 10).map((value) => ({ value, partition: 0 })),
    });
  }
  assert.ok(stats2.dropped >= 2);
  await producer.disconnect();
  assertExactlyOnce(await logContent(b, 'idem-kafkajs'), want);
});

test('librdkafka (confluent_kafka) enable.idempotence with dropped responses', { timeout: 90_000 }, async () => {
  const b = await testBroker({ topics: ['idem-rdkafka'] });
  cleanup.push(() => b.stop());
  const stats = dropEvery(b, 'idem-rdkafka', 4, 5);
  const r = await run(PY, [join(clients, 'idempotent_produce.py'), b.bootstrapServers, 'idem-rdkafka', '300'], 80_000);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no result: ${r.stderr.slice(-2000)}`);
  const res = JSON.parse(line.slice(7)) as { delivered: number; failed: number; errors: string[] };
  assert.deepEqual(res, { delivered: 300, failed: 0, errors: [] });
  assert.ok(stats.dropped >= 2, `responses dropped: ${stats.dropped}`);
  const content = await logContent(b, 'idem-rdkafka');
  assert.equal(content.sequences.size, 1, 'one producer id');
  assertExactlyOnce(content, values(300, 'v'));
});

test('@platformatic/kafka idempotent producer with dropped responses', { timeout: 90_000 }, async () => {
  const b = await testBroker({ topics: ['idem-plt'] });
  cleanup.push(() => b.stop());
  const stats = dropEvery(b, 'idem-plt', 3, 5);
  const producer = new Producer({
    clientId: 'idem-plt',
    bootstrapBrokers: [b.bootstrapServers],
    idempotent: true,
    serializers: stringSerializers,
    retryDelay: 50,
  });
  cleanup.push(() => producer.close());
  const want = values(150, 'p');
  for (let i = 0; i < want.length; i += 10) {
    const res = await producer.send({
      messages: want.slice(i, i + 10).map((value) => ({ topic: 'idem-plt', value, partition: 0 })),
    });
    assert.equal(Number(res.offsets![0]!.offset), i, `batch ${i / 10} answered with its own base offset`);
  }
  assert.ok(stats.dropped >= 3, `responses dropped: ${stats.dropped}`);
  assertExactlyOnce(await logContent(b, 'idem-plt'), want);
});

test('producer ids idle for producer.id.expiration.ms are forgotten by the partition', {
  timeout: 30_000,
}, async () => {
  const b = await testBroker({
    topics: ['idem-expiry'],
    config: { 'producer.id.expiration.ms': 1500, 'producer.id.expiration.check.interval.ms': 100 },
  });
  cleanup.push(() => b.stop());
  const kafka = new Kafka({ clientId: 'idem-exp', brokers: [b.bootstrapServers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: 'idem-expiry', acks: -1, messages: [{ value: 'x', partition: 0 }] });
  await producer.disconnect();
  const log = b.broker.logs.getLog('idem-expiry', 0)!;
  assert.equal(log.activeProducers().length, 1);
  const end = Date.now() + 10_000;
  while (log.activeProducers().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  assert.equal(log.activeProducers().length, 0, 'expired');
});
