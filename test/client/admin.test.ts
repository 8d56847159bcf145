/**
 * Every Admin method against an in-process broker, checked against what the broker really holds (its
 * log manager and what other APIs report), including the Kafka error codes surfaced as KafkaError.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Consumer, KafkaError, Producer } from '../../client/index.js';
import { testBroker } from '../helpers/test-broker.js';
import type { RunningBroker } from '../../broker/index.js';

let b: RunningBroker;
let admin: Admin;
before(async () => {
  b = await testBroker({ topics: [{ name: 'existing', partitions: 2 }] });
  admin = new Admin({ bootstrap: b.bootstrapServers, clientId: 'admin-test' });
});
after(async () => {
  await admin.close();
  await b.stop();
});

test('describeCluster names this broker', async () => {
  const c = await admin.describeCluster();
  assert.equal(c.brokers.length, 1);
  assert.equal(c.brokers[0].port, b.port);
  assert.equal(c.controllerId, c.brokers[0].nodeId);
  assert.ok(c.clusterId && c.clusterId.length > 0);
});

test('createTopic / listTopics / describeTopics / createPartitions / deleteTopics', async () => {
  await admin.createTopic({ name: 'adm-a', partitions: 3, configs: { 'retention.ms': '3600000' } });
  assert.ok(b.broker.metadata.image.topic('adm-a'), 'the broker has the topic');
  assert.deepEqual(
    (await admin.listTopics()).filter((t) => t.startsWith('adm-') || t === 'existing'),
    ['adm-a', 'existing'],
  );
  const [d] = await admin.describeTopics(['adm-a']);
  assert.equal(d.name, 'adm-a');
  assert.equal(d.internal, false);
  assert.match(d.topicId, /^[A-Za-z0-9_-]{22}$/);
  assert.deepEqual(
    d.partitions.map((p) => p.partition),
    [0, 1, 2],
  );
  for (const p of d.partitions) {
    assert.ok(p.leader >= 0);
    assert.deepEqual(p.replicas, [p.leader]);
    assert.deepEqual(p.isr, [p.leader]);
  }
  await assert.rejects(
    admin.createTopic({ name: 'adm-a' }),
    (e: unknown) => e instanceof KafkaError && e.name === 'TOPIC_ALREADY_EXISTS' && e.code === 36 && !e.retriable,
  );
  await assert.rejects(admin.describeTopics(['adm-missing']), (e: unknown) => e instanceof KafkaError && e.code === 3);

  await admin.createPartitions('adm-a', 5);
  assert.equal((await admin.describeTopics(['adm-a']))[0].partitions.length, 5);
  await assert.rejects(
    admin.createPartitions('adm-a', 2),
    (e: unknown) => e instanceof KafkaError && e.name === 'INVALID_PARTITIONS',
  );

  await admin.deleteTopics(['adm-a']);
  assert.equal(b.broker.metadata.image.topic('adm-a'), undefined);
  assert.ok(!(await admin.listTopics()).includes('adm-a'));
  await assert.rejects(admin.deleteTopics(['adm-a']), (e: unknown) => e instanceof KafkaError && e.code === 3);
});

test('listTopics hides internal topics unless asked', async () => {
  // A group commit creates __consumer_offsets.
  await admin.commitOffsets('adm-int', [{ topic: 'existing', partition: 0, offset: 0 }]);
  assert.ok(!(await admin.listTopics()).includes('__consumer_offsets'));
  assert.ok((await admin.listTopics({ includeInternal: true })).includes('__consumer_offsets'));
  const [d] = await admin.describeTopics(['__consumer_offsets']);
  assert.equal(d.internal, true);
});

test('describeTopicConfigs / alterTopicConfigs (set and revert to default)', async () => {
  await admin.createTopic({ name: 'adm-cfg', partitions: 1, configs: { 'retention.ms': '123456' } });
  let cfg = await admin.describeTopicConfigs('adm-cfg');
  const get = (n: string) => cfg.find((c) => c.name === n)!;
  assert.deepEqual(
    { ...get('retention.ms') },
    {
      name: 'retention.ms',
      value: '123456',
      isDefault: false,
      readOnly: false,
      sensitive: false,
      source: 'DYNAMIC_TOPIC_CONFIG',
    },
  );
  assert.equal(get('cleanup.policy').isDefault, true);
  assert.equal(get('cleanup.policy').value, 'delete');
  await admin.alterTopicConfigs('adm-cfg', { 'cleanup.policy': 'compact', 'retention.ms': null });
  cfg = await admin.describeTopicConfigs('adm-cfg');
  assert.equal(get('cleanup.policy').value, 'compact');
  assert.equal(get('cleanup.policy').source, 'DYNAMIC_TOPIC_CONFIG');
  assert.equal(get('retention.ms').isDefault, true);
  assert.equal(get('retention.ms').value, '604800000');
  await assert.rejects(
    admin.alterTopicConfigs('adm-cfg', { 'no.such.config': '1' }),
    (e: unknown) => e instanceof KafkaError && e.name === 'INVALID_CONFIG',
  );
  await assert.rejects(admin.describeTopicConfigs('adm-nope'), (e: unknown) => e instanceof KafkaError && e.code === 3);
});

test('listOffsets: earliest, latest, by timestamp', async () => {
  await admin.createTopic({ name: 'adm-off', partitions: 2 });
  const p = new Producer({ bootstrap: b.bootstrapServers });
  const t0 = 1_700_000_000_000;
  await p.sendBatch(
    Array.from({ length: 10 }, (_, i) => ({
      topic: 'adm-off',
      partition: 0,
      value: `v${i}`,
      timestamp: t0 + i * 1000,
    })),
  );
  await p.sendBatch(
    Array.from({ length: 4 }, (_, i) => ({ topic: 'adm-off', partition: 1, value: `w${i}`, timestamp: t0 + i * 1000 })),
  );
  await p.close();
  assert.deepEqual(
    (await admin.listOffsets('adm-off', 'earliest')).map((o) => o.offset),
    [0, 0],
  );
  assert.deepEqual(
    (await admin.listOffsets('adm-off', 'latest')).map((o) => [o.partition, o.offset]),
    [
      [0, 10],
      [1, 4],
    ],
  );
  const byTime = await admin.listOffsets('adm-off', { timestamp: t0 + 5500 });
  assert.deepEqual(
    byTime.map((o) => [o.partition, o.offset, o.timestamp]),
    [
      [0, 6, t0 + 6000],
      [1, -1, -1],
    ],
  );
  const committed = await admin.listOffsets('adm-off', 'latest', { isolation: 'read_committed' });
  assert.deepEqual(
    committed.map((o) => o.offset),
    [10, 4],
  );
});

test('groups: commitOffsets, fetchOffsets, listGroups, describeGroups, deleteGroups', { timeout: 30_000 }, async () => {
  await admin.commitOffsets('adm-g1', [
    { topic: 'existing', partition: 0, offset: 7, metadata: 'm' },
    { topic: 'existing', partition: 1, offset: 3 },
  ]);
  assert.deepEqual(await admin.fetchOffsets('adm-g1'), [
    { topic: 'existing', partition: 0, offset: 7, metadata: 'm' },
    { topic: 'existing', partition: 1, offset: 3, metadata: '' },
  ]);
  assert.deepEqual(await admin.fetchOffsets('adm-g1', ['other']), []);

  const c = new Consumer({
    bootstrap: b.bootstrapServers,
    groupId: 'adm-live',
    clientId: 'live-consumer',
    heartbeatIntervalMs: 200,
  });
  await c.subscribe(['existing']);
  const groups = await admin.listGroups();
  assert.deepEqual(
    groups.find((g) => g.groupId === 'adm-g1'),
    { groupId: 'adm-g1', protocolType: '', state: 'Empty', type: 'classic' },
  );
  assert.deepEqual(
    groups.find((g) => g.groupId === 'adm-live'),
    { groupId: 'adm-live', protocolType: 'consumer', state: 'Stable', type: 'classic' },
  );
  const [live] = await admin.describeGroups(['adm-live']);
  assert.equal(live.state, 'Stable');
  assert.equal(live.protocolType, 'consumer');
  assert.equal(live.protocol, 'range');
  assert.equal(live.members.length, 1);
  assert.equal(live.members[0].clientId, 'live-consumer');
  assert.deepEqual(live.members[0].assignment, [{ topic: 'existing', partitions: [0, 1] }]);

  // A live group refuses a simple commit and a delete, as Kafka does.
  await assert.rejects(
    admin.commitOffsets('adm-live', [{ topic: 'existing', partition: 0, offset: 1 }]),
    (e: unknown) => e instanceof KafkaError,
  );
  await assert.rejects(
    admin.deleteGroups(['adm-live']),
    (e: unknown) => e instanceof KafkaError && e.name === 'NON_EMPTY_GROUP',
  );
  await c.close();
  assert.equal((await admin.describeGroups(['adm-live']))[0].state, 'Empty');

  await admin.deleteGroups(['adm-g1', 'adm-live']);
  const after = await admin.listGroups();
  assert.ok(!after.some((g) => g.groupId === 'adm-g1' || g.groupId === 'adm-live'));
  assert.deepEqual(await admin.fetchOffsets('adm-g1'), []);
});
