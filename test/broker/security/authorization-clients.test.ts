/**
 * Real clients (kafkajs) against a broker with a RuleAuthorizer: each denied case of issue #14 fails in the client
 * with Kafka's authorization error, and nothing is written (log end offsets, committed offsets and topics are
 * unchanged).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testBroker } from '../../helpers/test-broker.js';
import { quietKafkajs } from '../../helpers/kafkajs.js';
import { RuleAuthorizer } from '../../helpers/rule-authorizer.js';
import type { RunningBroker } from '../../../broker/index.js';
import { AclOperation as Op, AclResourceType as Res } from '../../../broker/authorizer.js';

const auth = new RuleAuthorizer();
let b: RunningBroker;
before(async () => {
  b = await testBroker({ topics: [{ name: 't', partitions: 1 }] });
  b.broker.authorizer = auth;
});
after(() => b.stop());

const leo = (): number => b.broker.logs.getLog('t', 0)!.logEndOffset;
const denied = (code: string) => (err: unknown) => {
  const e = err as { type?: string; message: string; errors?: { type?: string }[]; originalError?: { type?: string } };
  const types = [e.type, e.originalError?.type, ...(e.errors ?? []).map((x) => x.type)].join(' ');
  assert.match(`${types} ${e.message}`, new RegExp(code.replace(/_/g, '[_ ]'), 'i'));
  return true;
};

test('produce without WRITE on the topic: TOPIC_AUTHORIZATION_FAILED, nothing written', async () => {
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: 't' }]);
  const producer = quietKafkajs(b).producer();
  await producer.connect();
  try {
    const before = leo();
    await assert.rejects(
      producer.send({ topic: 't', messages: [{ value: 'x' }] }),
      denied('TOPIC_AUTHORIZATION_FAILED'),
    );
    assert.equal(leo(), before);
    auth.set([{ operation: Op.WRITE, resourceType: Res.TOPIC, name: 't' }]);
    await producer.send({ topic: 't', messages: [{ value: 'allowed' }] });
    assert.equal(leo(), before + 1);
  } finally {
    await producer.disconnect();
  }
});

test('consume with a group without READ on the group: GROUP_AUTHORIZATION_FAILED, no offsets committed', async () => {
  auth.set([
    { operation: Op.READ, resourceType: Res.TOPIC, name: 't' },
    { operation: Op.DESCRIBE, resourceType: Res.GROUP, name: 'cg' },
  ]);
  const consumer = quietKafkajs(b).consumer({ groupId: 'cg', retry: { retries: 0 } });
  await consumer.connect();
  try {
    const crashed = new Promise<unknown>((resolve) => {
      consumer.on(consumer.events.CRASH, (e) => resolve(e.payload.error));
    });
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    let received = 0;
    await consumer.run({
      eachMessage: async () => {
        received++;
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const error = await Promise.race([
      crashed,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no crash in 20s')), 20_000))),
    ]);
    clearTimeout(timer);
    denied('GROUP_AUTHORIZATION_FAILED')(error);
    assert.equal(received, 0);
    const group = b.broker.groups.groups.get('cg');
    assert.equal(group?.offsets.size ?? 0, 0);
    assert.equal(group?.members.size ?? 0, 0);
  } finally {
    await consumer.disconnect();
  }
});

test('create a topic without CREATE: TOPIC_AUTHORIZATION_FAILED, no topic', async () => {
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.CLUSTER, name: 'kafka-cluster' }]);
  const admin = quietKafkajs(b).admin();
  await admin.connect();
  try {
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'made', numPartitions: 1 }] }),
      denied('TOPIC_AUTHORIZATION_FAILED'),
    );
    assert.equal(b.broker.metadata.image.topic('made'), undefined);
    // kafkajs then waits for the topic in Metadata, which needs DESCRIBE (CREATE does not imply it, as in Kafka).
    auth.set([
      { operation: Op.CREATE, resourceType: Res.TOPIC, prefix: 'ma' },
      { operation: Op.DESCRIBE, resourceType: Res.TOPIC, prefix: 'ma' },
    ]);
    assert.equal(await admin.createTopics({ topics: [{ topic: 'made', numPartitions: 1 }] }), true);
    assert.ok(b.broker.metadata.image.topic('made'));
  } finally {
    await admin.disconnect();
  }
});

test('idempotent produce without IDEMPOTENT_WRITE nor WRITE on any topic: CLUSTER_AUTHORIZATION_FAILED', async () => {
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: 't' }]);
  const producer = quietKafkajs(b, 2).producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    const before = leo();
    // kafkajs asks for its producer id (InitProducerId) when it connects.
    await assert.rejects(
      (async () => {
        await producer.connect();
        await producer.send({ topic: 't', messages: [{ value: 'x' }] });
      })(),
      denied('CLUSTER_AUTHORIZATION_FAILED'),
    );
    assert.equal(leo(), before);
  } finally {
    await producer.disconnect();
  }
  // KIP-679: WRITE on a topic is enough for idempotence.
  auth.set([{ operation: Op.WRITE, resourceType: Res.TOPIC, name: 't' }]);
  const allowed = quietKafkajs(b, 2).producer({ idempotent: true, maxInFlightRequests: 1 });
  await allowed.connect();
  try {
    const before = leo();
    await allowed.send({ topic: 't', messages: [{ value: 'y' }] });
    assert.equal(leo(), before + 1);
  } finally {
    await allowed.disconnect();
  }
});

test('transactional produce without WRITE on the transactional id: TRANSACTIONAL_ID_AUTHORIZATION_FAILED', async () => {
  auth.set([
    { operation: Op.WRITE, resourceType: Res.TOPIC, name: 't' },
    { operation: Op.DESCRIBE, resourceType: Res.TRANSACTIONAL_ID, name: 'txn' },
  ]);
  const producer = quietKafkajs(b, 2).producer({ transactionalId: 'txn', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const before = leo();
    await assert.rejects(
      (async () => {
        const tx = await producer.transaction();
        await tx.send({ topic: 't', messages: [{ value: 'x' }] });
        await tx.commit();
      })(),
      denied('TRANSACTIONAL_ID_AUTHORIZATION_FAILED'),
    );
    assert.equal(leo(), before);
  } finally {
    await producer.disconnect();
  }
});
