/**
 * Transactions end to end with real clients against an in-process broker: kafkajs 2.2.4 (commit one,
 * abort one, read_committed vs read_uncommitted consumers, consume-transform-produce with sendOffsets, a
 * transaction left open past its timeout) and librdkafka via confluent_kafka (/usr/bin/python3). Every
 * wait is bounded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBroker } from '../helpers/test-broker.js';
import { run } from '../helpers/broker-process.js';
import type { RunningBroker } from '../../broker/index.js';
import { fetchOffsets } from '../../broker/groups/offsets.js';
import { Kafka, logLevel } from 'kafkajs';
import { consumeUntil, waitUntil } from '../helpers/kafkajs.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/helpers/clients'));
const PY = '/usr/bin/python3';

let b: RunningBroker;
let kafka: Kafka;
before(async () => {
  b = await testBroker({
    config: {
      'group.initial.rebalance.delay.ms': 0,
      'offsets.topic.num.partitions': 3,
      'transaction.state.log.num.partitions': 3,
      'transaction.abort.timed.out.transaction.cleanup.interval.ms': 200,
    },
  });
  kafka = new Kafka({
    clientId: 'txn-test',
    brokers: [b.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 50 },
  });
});
after(async () => {
  await b.stop();
});

/** The group's committed offsets as [topic, partition, offset], sorted. */
function committedOffsets(group: string): [string, number, number][] {
  return fetchOffsets(b.broker.groups, group, null)
    .offsets.map((o): [string, number, number] => [o.topic, o.partition, o.offset])
    .sort();
}

test('kafkajs: commit one, abort one; read_committed sees only committed records, read_uncommitted all', {
  timeout: 90_000,
}, async () => {
  const topic = 'txn-kjs';
  await b.broker.metadata.createTopic(topic, { partitions: 1 });
  const producer = kafka.producer({ transactionalId: 'kjs-tx', maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  try {
    const t1 = await producer.transaction();
    await t1.send({ topic, messages: [{ value: 'c1' }, { value: 'c2' }] });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({ topic, messages: [{ value: 'a1' }, { value: 'a2' }] });
    await t2.abort();
    const t3 = await producer.transaction();
    await t3.send({ topic, messages: [{ value: 'c3' }] });
    await t3.commit();
  } finally {
    await producer.disconnect();
  }
  assert.deepEqual(await consumeUntil(kafka, topic, 'c3', false, 'rc-group'), ['c1', 'c2', 'c3']);
  assert.deepEqual(await consumeUntil(kafka, topic, 'c3', true, 'ru-group'), ['c1', 'c2', 'a1', 'a2', 'c3']);
  const log = b.broker.logs.getLog(topic, 0)!;
  assert.equal(log.lastStableOffset, log.logEndOffset);
  assert.equal(log.logEndOffset, 8, '5 records and 3 markers');
});

test("kafkajs: consume-transform-produce commits the group's offsets with the output, atomically", {
  timeout: 90_000,
}, async () => {
  const input = 'ctp-in';
  const output = 'ctp-out';
  const group = 'ctp-group';
  await b.broker.metadata.createTopic(input, { partitions: 2 });
  await b.broker.metadata.createTopic(output, { partitions: 1 });
  const plain = kafka.producer();
  await plain.connect();
  await plain.send({ topic: input, messages: [0, 1, 2, 3, 4, 5].map((i) => ({ value: `in${i}`, partition: i % 2 })) });
  await plain.disconnect();

  const producer = kafka.producer({ transactionalId: 'ctp-tx', maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: group,
    maxWaitTimeInMs: 200,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  await consumer.connect();
  const seen: { partition: number; offset: string; value: string }[] = [];
  try {
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) =>
        void seen.push({ partition, offset: message.offset, value: message.value!.toString() }),
    });
    await waitUntil('6 input records', () => seen.length >= 6);
    const next = (p: number) =>
      String(Math.max(...seen.filter((s) => s.partition === p).map((s) => Number(s.offset))) + 1);
    // An aborted attempt first: neither its output nor its offsets may appear.
    const bad = await producer.transaction();
    await bad.send({ topic: output, messages: [{ value: 'ABORTED' }] });
    await bad.sendOffsets({
      consumerGroupId: group,
      topics: [{ topic: input, partitions: [{ partition: 0, offset: '1' }] }],
    });
    await bad.abort();
    assert.deepEqual(fetchOffsets(b.broker.groups, group, null).offsets, []);

    const txn = await producer.transaction();
    await txn.send({ topic: output, messages: seen.map((s) => ({ value: s.value.toUpperCase() })) });
    await txn.sendOffsets({
      consumerGroupId: group,
      topics: [{ topic: input, partitions: [0, 1].map((p) => ({ partition: p, offset: next(p) })) }],
    });
    const before = fetchOffsets(b.broker.groups, group, null).offsets;
    assert.deepEqual(before, [], 'offsets invisible until the commit');
    await txn.commit();
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
  // EndTxn answered once the commit was decided; the offsets are materialized when its markers are written.
  await waitUntil('the committed offsets', () => committedOffsets(group).length > 0);
  assert.deepEqual(committedOffsets(group), [
    [input, 0, 3],
    [input, 1, 3],
  ]);
  const out = await consumeUntil(kafka, output, 'IN5', false, 'ctp-check');
  assert.deepEqual(out.sort(), ['IN0', 'IN1', 'IN2', 'IN3', 'IN4', 'IN5']);
});

test('kafkajs: a transaction left open past its timeout is aborted and its producer fenced', {
  timeout: 90_000,
}, async () => {
  const topic = 'txn-timeout';
  await b.broker.metadata.createTopic(topic, { partitions: 1 });
  const producer = kafka.producer({
    transactionalId: 'slow-tx',
    transactionTimeout: 1000,
    maxInFlightRequests: 1,
    idempotent: true,
    retry: { retries: 1, initialRetryTime: 50 },
  });
  await producer.connect();
  try {
    const t = await producer.transaction();
    await t.send({ topic, messages: [{ value: 'never' }] });
    const log = b.broker.logs.getLog(topic, 0)!;
    assert.equal(log.lastStableOffset, 0, 'the open transaction holds the LSO');
    await waitUntil(
      'the timeout abort',
      () => b.broker.transactions.txns.get('slow-tx')?.state === 'CompleteAbort',
      20_000,
    );
    assert.equal(log.lastStableOffset, log.logEndOffset);
    await assert.rejects(t.commit(), 'the fenced producer cannot commit');
  } finally {
    await producer.disconnect();
  }
  const p2 = kafka.producer();
  await p2.connect();
  await p2.send({ topic, messages: [{ value: 'after' }] });
  await p2.disconnect();
  assert.deepEqual(await consumeUntil(kafka, topic, 'after', false, 'timeout-check'), ['after']);
});

test('kafkajs: a second producer with the same transactional id fences the first and aborts its transaction', {
  timeout: 90_000,
}, async () => {
  const topic = 'txn-zombie';
  await b.broker.metadata.createTopic(topic, { partitions: 1 });
  const zombie = kafka.producer({
    transactionalId: 'zombie-tx',
    maxInFlightRequests: 1,
    idempotent: true,
    retry: { retries: 1, initialRetryTime: 50 },
  });
  const fresh = kafka.producer({ transactionalId: 'zombie-tx', maxInFlightRequests: 1, idempotent: true });
  await zombie.connect();
  try {
    const zt = await zombie.transaction();
    await zt.send({ topic, messages: [{ value: 'zombie' }] });
    await fresh.connect();
    const ft = await fresh.transaction();
    await ft.send({ topic, messages: [{ value: 'fresh' }] });
    await ft.commit();
    await assert.rejects(zt.commit(), 'the fenced producer cannot commit');
  } finally {
    await zombie.disconnect();
    await fresh.disconnect();
  }
  assert.deepEqual(await consumeUntil(kafka, topic, 'fresh', false, 'zombie-check'), ['fresh']);
});

test('librdkafka (confluent_kafka): transactions, send_offsets_to_transaction, read_committed consumer', {
  timeout: 120_000,
}, async () => {
  const input = 'py-in';
  const output = 'py-out';
  await b.broker.metadata.createTopic(input, { partitions: 2 });
  await b.broker.metadata.createTopic(output, { partitions: 2 });
  const plain = kafka.producer();
  await plain.connect();
  await plain.send({ topic: input, messages: [0, 1, 2, 3].map((i) => ({ value: `x${i}`, partition: i % 2 })) });
  await plain.disconnect();
  const r = await run(
    PY,
    [join(clients, 'txn_confluent.py'), b.bootstrapServers, input, output, 'py-ctp-group'],
    90_000,
  );
  const result = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(result, `${r.stdout.slice(-1500)}\n${r.stderr.slice(-3000)}`);
  const res = JSON.parse(result.slice(7)) as { committed_view: string[]; uncommitted_view: string[] };
  assert.deepEqual(res.committed_view.sort(), ['X0', 'X1', 'X2', 'X3', 'c1', 'c2']);
  assert.deepEqual(res.uncommitted_view.sort(), ['X0', 'X1', 'X2', 'X3', 'a1', 'c1', 'c2']);
  await waitUntil('the committed offsets', () => committedOffsets('py-ctp-group').length > 0);
  assert.deepEqual(committedOffsets('py-ctp-group'), [
    [input, 0, 2],
    [input, 1, 2],
  ]);
});
