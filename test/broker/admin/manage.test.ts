/**
 * Admin API management routes through fastify.inject(): topic configs (read, incremental alter,
 * validation), partitions (offsets, growing a topic, then produced to by kafkajs), consumer-group offset
 * resets (earliest / latest / offset / timestamp, refused while the group has members, seen by a kafkajs
 * consumer that resumes from the reset offset) and group deletion; JSON-schema validation and error codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { testBroker } from '../../helpers/test-broker.js';
import { buildAdminApp } from '../../../broker/admin/app.js';

test('topic configs: read with override flags, alter incrementally, invalid names and values refused', async () => {
  const b = await testBroker({
    config: { 'admin.port': -1 },
    topics: [{ name: 'c', configs: { 'retention.ms': 5000 } }],
  });
  const app = buildAdminApp(b.broker);
  try {
    const g = await app.inject({ method: 'GET', url: '/topics/c/configs' });
    assert.equal(g.statusCode, 200);
    const byName = new Map(
      (g.json().configs as { name: string; value: string; override: boolean }[]).map((c) => [c.name, c]),
    );
    assert.deepEqual([byName.get('retention.ms')!.value, byName.get('retention.ms')!.override], ['5000', true]);
    assert.equal(byName.get('cleanup.policy')!.override, false);

    const p = await app.inject({
      method: 'PATCH',
      url: '/topics/c/configs',
      payload: { set: { 'cleanup.policy': 'compact', 'max.message.bytes': 2048 }, delete: ['retention.ms'] },
    });
    assert.equal(p.statusCode, 200, p.body);
    assert.deepEqual(p.json().overrides, { 'cleanup.policy': 'compact', 'max.message.bytes': '2048' });
    const log = b.broker.logs.getLog('c', 0)!;
    assert.equal(log.logConfig.maxMessageBytes, 2048);
    assert.equal(log.logConfig.retentionMs, b.broker.defaultLogConfig().retentionMs);

    const bad = await app.inject({
      method: 'PATCH',
      url: '/topics/c/configs',
      payload: { set: { 'no.such.config': 1 } },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'INVALID_CONFIG');
    const badValue = await app.inject({
      method: 'PATCH',
      url: '/topics/c/configs',
      payload: { set: { 'cleanup.policy': 'shred' } },
    });
    assert.equal(badValue.statusCode, 400);
    assert.equal(badValue.json().error.code, 'INVALID_CONFIG');
    const schema = await app.inject({ method: 'PATCH', url: '/topics/c/configs', payload: { put: {} } });
    assert.equal(schema.statusCode, 400);
    assert.equal(schema.json().error.code, 'INVALID_REQUEST');
    const missing = await app.inject({ method: 'GET', url: '/topics/none/configs' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'UNKNOWN_TOPIC_OR_PARTITION');
  } finally {
    await app.close();
    await b.stop();
  }
});

test('partitions: offsets per partition, grow a topic, kafkajs produces to the new partition', async () => {
  const b = await testBroker({ config: { 'admin.port': -1 }, topics: [{ name: 'p', partitions: 1 }] });
  const app = buildAdminApp(b.broker);
  try {
    await app.inject({ method: 'POST', url: '/topics/p/records', payload: [{ value: 'a' }, { value: 'b' }] });
    const g = await app.inject({ method: 'GET', url: '/topics/p/partitions' });
    assert.equal(g.statusCode, 200);
    assert.deepEqual(
      g
        .json()
        .partitions.map(
          (x: { partition: number; logStartOffset: number; logEndOffset: number; highWatermark: number }) => [
            x.partition,
            x.logStartOffset,
            x.logEndOffset,
            x.highWatermark,
          ],
        ),
      [[0, 0, 2, 2]],
    );

    const grow = await app.inject({ method: 'POST', url: '/topics/p/partitions', payload: { count: 3 } });
    assert.equal(grow.statusCode, 200, grow.body);
    assert.equal(grow.json().partitions.length, 3);
    const shrink = await app.inject({ method: 'POST', url: '/topics/p/partitions', payload: { count: 2 } });
    assert.equal(shrink.statusCode, 400);
    assert.equal(shrink.json().error.code, 'INVALID_PARTITIONS');
    const notInt = await app.inject({ method: 'POST', url: '/topics/p/partitions', payload: { count: 'many' } });
    assert.equal(notInt.json().error.code, 'INVALID_REQUEST');

    const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'manage-test', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const r = await producer.send({ topic: 'p', acks: -1, messages: [{ value: 'new', partition: 2 }] });
    await producer.disconnect();
    assert.equal(r[0].errorCode, 0);
    assert.equal(b.broker.logs.getLog('p', 2)!.logEndOffset, 1);
  } finally {
    await app.close();
    await b.stop();
  }
});

async function consumeAll(
  kafka: Kafka,
  groupId: string,
  topic: string,
  want: number,
): Promise<{ consumer: Consumer; offsets: string[] }> {
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const offsets: string[] = [];
  await Promise.race([
    new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          offsets.push(message.offset);
          if (offsets.length >= want) resolve();
        },
      });
    }),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`group ${groupId} consumed ${offsets.length} of ${want} in 30 s`)), 30_000),
    ),
  ]);
  return { consumer, offsets };
}

test('groups: reset offsets (earliest/latest/offset/time) only when empty; a consumer resumes; delete', async () => {
  const b = await testBroker({ config: { 'admin.port': -1 }, topics: [{ name: 'r', partitions: 1 }] });
  const app = buildAdminApp(b.broker);
  const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'reset-test', logLevel: logLevel.NOTHING });
  try {
    const t0 = Date.now() - 60_000;
    await app.inject({
      method: 'POST',
      url: '/topics/r/records',
      payload: [0, 1, 2, 3, 4].map((i) => ({ value: `v${i}`, timestamp: t0 + i * 1000 })),
    });
    const first = await consumeAll(kafka, 'rg', 'r', 5);
    assert.deepEqual(first.offsets, ['0', '1', '2', '3', '4']);

    const busy = await app.inject({
      method: 'POST',
      url: '/groups/rg/offsets/reset',
      payload: { topic: 'r', to: 'earliest' },
    });
    assert.equal(busy.statusCode, 409);
    assert.equal(busy.json().error.code, 'NON_EMPTY_GROUP');
    const busyDelete = await app.inject({ method: 'DELETE', url: '/groups/rg' });
    assert.equal(busyDelete.statusCode, 409);
    await first.consumer.disconnect();

    const reset = async (payload: object) => {
      const res = await app.inject({ method: 'POST', url: '/groups/rg/offsets/reset', payload });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().offsets as { partition: number; offset: number }[];
    };
    assert.deepEqual(await reset({ topic: 'r', to: 'earliest' }), [{ partition: 0, offset: 0 }]);
    assert.deepEqual(await reset({ topic: 'r', to: 'latest' }), [{ partition: 0, offset: 5 }]);
    assert.deepEqual(await reset({ topic: 'r', to: 'timestamp', timestamp: t0 + 2500 }), [{ partition: 0, offset: 3 }]);
    assert.deepEqual(await reset({ topic: 'r', partitions: [0], to: 'offset', offset: 2 }), [
      { partition: 0, offset: 2 },
    ]);
    const d = await app.inject({ method: 'GET', url: '/groups/rg' });
    assert.deepEqual(
      d.json().offsets.map((o: { offset: number; lag: number }) => [o.offset, o.lag]),
      [[2, 3]],
    );

    const again = await consumeAll(kafka, 'rg', 'r', 3);
    assert.deepEqual(again.offsets, ['2', '3', '4']);
    await again.consumer.disconnect();

    for (const [payload, code] of [
      [{ topic: 'r', to: 'offset' }, 'INVALID_REQUEST'],
      [{ topic: 'r', to: 'sideways' }, 'INVALID_REQUEST'],
      [{ topic: 'r', to: 'earliest', partitions: [7] }, 'UNKNOWN_TOPIC_OR_PARTITION'],
      [{ topic: 'none', to: 'earliest' }, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/groups/rg/offsets/reset', payload });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, res.body);
      assert.equal(res.json().error.code, code, JSON.stringify(payload));
    }

    const del = await app.inject({ method: 'DELETE', url: '/groups/rg' });
    assert.equal(del.statusCode, 204, del.body);
    const gone = await app.inject({ method: 'GET', url: '/groups/rg' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'GROUP_ID_NOT_FOUND');
    const del2 = await app.inject({ method: 'DELETE', url: '/groups/rg' });
    assert.equal(del2.statusCode, 404);
    assert.equal(del2.json().error.code, 'GROUP_ID_NOT_FOUND');
  } finally {
    await app.close();
    await b.stop();
  }
});
