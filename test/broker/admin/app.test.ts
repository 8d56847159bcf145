/**
 * The admin HTTP API through fastify.inject(): health and readiness, topics (create, describe, delete,
 * errors), records produced over HTTP readable over HTTP and Kafka (kafkajs), Kafka produce visible in
 * /metrics, groups with committed offsets and lag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { testBroker } from '../../helpers/test-broker.js';
import { buildAdminApp } from '../../../broker/admin/app.js';
import { murmur2 } from '../../../broker/admin/records.js';
import { Broker } from '../../../broker/broker.js';
import { BrokerConfig } from '../../../broker/config.js';

test('health is always ok; ready is 503 before start', async () => {
  const broker = new Broker(new BrokerConfig({ overrides: { port: 0 } }));
  const app = buildAdminApp(broker);
  try {
    const h = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(h.statusCode, 200);
    assert.deepEqual(h.json(), { status: 'ok' });
    const r = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().error.code, 'NOT_READY');
    const t = await app.inject({ method: 'GET', url: '/topics' });
    assert.equal(t.statusCode, 503);
    const nf = await app.inject({ method: 'GET', url: '/nope' });
    assert.equal(nf.statusCode, 404);
    assert.equal(nf.json().error.code, 'NOT_FOUND');
  } finally {
    await app.close();
  }
});

test('topics: create, describe, list, errors, delete; Kafka produce to an HTTP-created topic', async () => {
  const b = await testBroker({ config: { 'admin.port': -1 } });
  const app = buildAdminApp(b.broker);
  try {
    assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    const c = await app.inject({
      method: 'POST',
      url: '/topics',
      payload: { name: 'orders', partitions: 3, configs: { 'retention.ms': 60000, 'cleanup.policy': 'delete' } },
    });
    assert.equal(c.statusCode, 201, c.body);
    assert.equal(c.json().partitions.length, 3);
    assert.equal(b.broker.metadata.image.topic('orders')!.partitions, 3);
    assert.equal(b.broker.logs.getLog('orders', 2)!.logConfig.retentionMs, 60000);

    const dup = await app.inject({ method: 'POST', url: '/topics', payload: { name: 'orders' } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error.code, 'TOPIC_ALREADY_EXISTS');
    const badName = await app.inject({ method: 'POST', url: '/topics', payload: { name: 'bad name!' } });
    assert.equal(badName.statusCode, 400);
    assert.equal(badName.json().error.code, 'INVALID_TOPIC_EXCEPTION');
    const badSchema = await app.inject({ method: 'POST', url: '/topics', payload: { name: 'x', partitions: 0 } });
    assert.equal(badSchema.statusCode, 400);
    assert.equal(badSchema.json().error.code, 'INVALID_REQUEST');
    const noName = await app.inject({ method: 'POST', url: '/topics', payload: { partitions: 1 } });
    assert.equal(noName.statusCode, 400);
    assert.equal(noName.json().error.code, 'INVALID_REQUEST');
    const badConfig = await app.inject({
      method: 'POST',
      url: '/topics',
      payload: { name: 'y', configs: { 'no.such.config': 1 } },
    });
    assert.equal(badConfig.statusCode, 400);
    assert.equal(badConfig.json().error.code, 'INVALID_CONFIG');
    assert.equal(b.broker.metadata.image.topic('y'), undefined);

    // Kafka produce to the topic created over HTTP.
    const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'admin-test', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const sent = await producer.send({
      topic: 'orders',
      acks: -1,
      messages: [
        { key: 'k', value: 'hello', partition: 1 },
        { value: 'world', partition: 1 },
      ],
    });
    assert.equal(sent[0].errorCode, 0);
    await producer.disconnect();

    const d = await app.inject({ method: 'GET', url: '/topics/orders' });
    assert.equal(d.statusCode, 200);
    const desc = d.json();
    assert.equal(desc.partitions[1].logEndOffset, 2);
    assert.equal(desc.partitions[1].highWatermark, 2);
    assert.ok(desc.partitions[1].sizeBytes > 0);
    assert.equal(desc.configs['retention.ms'], '60000');
    assert.equal(desc.overrides['retention.ms'], '60000');

    const list = (await app.inject({ method: 'GET', url: '/topics' })).json();
    assert.ok(list.topics.some((t: { name: string }) => t.name === 'orders'));

    // Metrics: the Produce request is counted, with bytes and records in for the topic.
    const m = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(m.statusCode, 200);
    assert.match(m.headers['content-type'] as string, /text\/plain/);
    assert.match(m.body, /runnel_requests_total\{api="Produce",version="\d+",error="NONE"\} 1/);
    assert.match(m.body, /runnel_request_duration_seconds_count\{api="Produce",version="\d+"\} 1/);
    assert.match(m.body, /runnel_topic_records_in_total\{topic="orders"\} 2/);
    assert.match(m.body, /runnel_partition_log_end_offset\{topic="orders",partition="1"\} 2/);
    assert.match(m.body, /runnel_connections \d+/);
    assert.match(m.body, /runnel_fetch_waiting 0/);
    assert.match(m.body, /process_cpu_user_seconds_total/);

    assert.equal((await app.inject({ method: 'GET', url: '/topics/missing' })).statusCode, 404);
    const del = await app.inject({ method: 'DELETE', url: '/topics/orders' });
    assert.equal(del.statusCode, 204);
    assert.equal(b.broker.metadata.image.topic('orders'), undefined);
    const del2 = await app.inject({ method: 'DELETE', url: '/topics/orders' });
    assert.equal(del2.statusCode, 404);
    assert.equal(del2.json().error.code, 'UNKNOWN_TOPIC_OR_PARTITION');
  } finally {
    await app.close();
    await b.stop();
  }
});

test('records: produce over HTTP, read over HTTP (utf8, base64, offset, max) and over Kafka', async () => {
  const b = await testBroker({
    config: { 'admin.port': -1 },
    topics: [
      { name: 'events', partitions: 2 },
      { name: 'compacted', configs: { 'cleanup.policy': 'compact' } },
    ],
  });
  const app = buildAdminApp(b.broker);
  try {
    const p = await app.inject({
      method: 'POST',
      url: '/topics/events/records',
      payload: [
        { key: 'a', value: 'one', partition: 0, headers: { h: 'x' } },
        { value: { n: 2 }, partition: 0 },
        { key: null, value: null, partition: 0, headers: [{ key: 'z', value: null }] },
        { key: 'b', value: 'other', partition: 1 },
      ],
    });
    assert.equal(p.statusCode, 200, p.body);
    assert.deepEqual(p.json().records, [
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
      { partition: 0, offset: 2 },
      { partition: 1, offset: 0 },
    ]);
    assert.equal(b.broker.logs.getLog('events', 0)!.logEndOffset, 3);

    const r = await app.inject({ method: 'GET', url: '/topics/events/partitions/0/records' });
    assert.equal(r.statusCode, 200);
    const body = r.json();
    assert.equal(body.records.length, 3);
    assert.equal(body.nextOffset, 3);
    assert.deepEqual(body.records[0].headers, [{ key: 'h', value: 'x' }]);
    assert.equal(body.records[0].key, 'a');
    assert.equal(body.records[0].value, 'one');
    assert.equal(body.records[1].value, '{"n":2}');
    assert.equal(body.records[2].value, null);
    assert.deepEqual(body.records[2].headers, [{ key: 'z', value: null }]);

    const r2 = (
      await app.inject({ method: 'GET', url: '/topics/events/partitions/0/records?offset=1&max=1&encoding=base64' })
    ).json();
    assert.equal(r2.records.length, 1);
    assert.equal(r2.records[0].offset, 1);
    assert.equal(Buffer.from(r2.records[0].value, 'base64').toString(), '{"n":2}');
    assert.equal(r2.nextOffset, 2);

    // Binary values in base64.
    const bin = Buffer.from([0, 255, 1, 254]);
    const pb = await app.inject({
      method: 'POST',
      url: '/topics/events/records?encoding=base64',
      payload: { records: [{ value: bin.toString('base64'), partition: 1 }] },
    });
    assert.equal(pb.statusCode, 200, pb.body);
    const rb = (
      await app.inject({ method: 'GET', url: '/topics/events/partitions/1/records?offset=1&encoding=base64' })
    ).json();
    assert.deepEqual(Buffer.from(rb.records[0].value, 'base64'), bin);

    // Errors.
    const oor = await app.inject({ method: 'GET', url: '/topics/events/partitions/0/records?offset=99' });
    assert.equal(oor.statusCode, 416);
    assert.equal(oor.json().error.code, 'OFFSET_OUT_OF_RANGE');
    assert.equal(
      (await app.inject({ method: 'GET', url: '/topics/events/partitions/7/records' })).json().error.code,
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
    assert.equal(
      (await app.inject({ method: 'POST', url: '/topics/nope/records', payload: [{ value: 'x' }] })).statusCode,
      404,
    );
    const badPart = await app.inject({
      method: 'POST',
      url: '/topics/events/records',
      payload: [{ value: 'x', partition: 5 }],
    });
    assert.equal(badPart.statusCode, 400);
    assert.equal((await app.inject({ method: 'POST', url: '/topics/events/records', payload: [] })).statusCode, 400);
    // Same validation as Produce: a compacted topic refuses keyless records.
    const keyless = await app.inject({ method: 'POST', url: '/topics/compacted/records', payload: [{ value: 'v' }] });
    assert.equal(keyless.statusCode, 400);
    assert.equal(keyless.json().error.code, 'INVALID_RECORD');
    assert.equal(b.broker.logs.getLog('compacted', 0)!.logEndOffset, 0);

    // Keyed records without a partition go where the Java client's partitioner would put them.
    const k = await app.inject({
      method: 'POST',
      url: '/topics/events/records',
      payload: [{ key: 'some-key', value: 'v' }],
    });
    assert.equal(k.json().records[0].partition, (murmur2(Buffer.from('some-key')) & 0x7fffffff) % 2);

    // Readable over Kafka.
    const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'admin-test', logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'admin-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'events', fromBeginning: true });
    const seen: {
      partition: number;
      offset: string;
      key: string | null;
      value: string | null;
      headers: Record<string, unknown>;
    }[] = [];
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out with ${seen.length} records`)), 20_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: message.headers ?? {},
          });
          if (seen.length === 6) {
            clearTimeout(t);
            resolve();
          }
        },
      });
    });
    const p0 = seen.filter((s) => s.partition === 0).sort((x, y) => Number(x.offset) - Number(y.offset));
    assert.equal(p0[0].key, 'a');
    assert.equal(p0[0].value, 'one');
    assert.equal(String(p0[0].headers.h), 'x');
    assert.equal(p0[1].value, '{"n":2}');
    assert.equal(p0[2].value, null);
    const live = (await app.inject({ method: 'GET', url: '/groups/admin-reader' })).json();
    assert.equal(live.state, 'Stable');
    assert.equal(live.members.length, 1);
    assert.deepEqual(live.members[0].assignment, [{ topic: 'events', partitions: [0, 1] }]);
    await consumer.disconnect();

    // The group's committed offsets and lag.
    const groups = (await app.inject({ method: 'GET', url: '/groups' })).json();
    assert.ok(groups.groups.some((g: { groupId: string }) => g.groupId === 'admin-reader'));
    const g = await app.inject({ method: 'GET', url: '/groups/admin-reader' });
    assert.equal(g.statusCode, 200);
    const gd = g.json();
    assert.equal(gd.groupId, 'admin-reader');
    assert.ok(Array.isArray(gd.members));
    const committed = gd.offsets.find((o: { partition: number }) => o.partition === 0);
    if (committed) {
      assert.equal(committed.highWatermark, b.broker.logs.getLog('events', 0)!.highWatermark);
      assert.equal(committed.lag, committed.highWatermark - committed.offset);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/groups/nobody' })).statusCode, 404);
    const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(m, /runnel_topic_records_in_total\{topic="events"\} 6/);
    assert.match(m, /runnel_topic_records_out_total\{topic="events"\} \d+/);
    assert.match(m, /runnel_requests_total\{api="Fetch"/);
    if (committed)
      assert.match(m, /runnel_consumer_group_lag\{group="admin-reader",topic="events",partition="0"\} \d+/);
  } finally {
    await app.close();
    await b.stop();
  }
});

test('murmur2 matches known values of the Java client', () => {
  // Published test vectors of Kafka's Utils.murmur2.
  assert.equal(murmur2(Buffer.from('21')), -973932308);
  assert.equal(murmur2(Buffer.from('foobar')), -790332482);
  assert.equal(murmur2(Buffer.from('a-little-bit-long-string')), -985981536);
  assert.equal(murmur2(Buffer.from('a-little-bit-longer-string')), -1486304829);
  assert.equal(murmur2(Buffer.from('abc')), 479470107);
});
