import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MetadataImage,
  NO_LEADER,
  invalidTopicName,
  newPartition,
  newTopicId,
  topicImage,
} from '../../../replication/metadata/image.js';

test('topic ids are 16-byte base64url uuids not starting with "-"', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const id = newTopicId();
    assert.equal(Buffer.from(id, 'base64url').length, 16);
    assert.equal(id.length, 22);
    assert.ok(!id.startsWith('-'));
    ids.add(id);
  }
  assert.equal(ids.size, 500);
});

test('topic name rules', () => {
  assert.equal(invalidTopicName('orders.v1_x-y'), undefined);
  for (const bad of ['', '.', '..', 'a b', 'a/b', 'x'.repeat(250), 'ünï']) assert.ok(invalidTopicName(bad), bad);
});

const broker = (nodeId: number, fenced = false) => ({
  nodeId,
  rack: null,
  listeners: [
    { name: 'INTERNAL', host: `n${nodeId}.internal`, port: 9093, securityProtocol: 'PLAINTEXT' },
    { name: 'PLAINTEXT', host: `n${nodeId}`, port: 9092, securityProtocol: 'PLAINTEXT' },
  ],
  fenced,
});

test('lookups: topics by name and id, partitions, brokers, endpoints, replicas of a node', () => {
  const a = topicImage({ name: 'a', topicId: newTopicId(), configs: { 'retention.ms': '1' } }, [
    newPartition(0, [1, 2]),
    newPartition(1, [2, 3]),
  ]);
  const b = topicImage({ name: 'b', topicId: newTopicId(), configs: {} }, [newPartition(0, [])]);
  const image = new MetadataImage({
    clusterId: 'c',
    controllerId: 1,
    brokers: [broker(3, true), broker(1), broker(2)],
    topics: [a, b],
  });
  assert.equal(a.partitions, 2);
  assert.equal(image.topic('a'), a);
  assert.equal(image.topicById(b.topicId), b);
  assert.equal(image.topic('zz'), undefined);
  assert.deepEqual(
    image.topics().map((t) => t.name),
    ['a', 'b'],
  );
  assert.deepEqual(image.partition('a', 1), {
    partition: 1,
    replicas: [2, 3],
    isr: [2, 3],
    leader: 2,
    leaderEpoch: 0,
    partitionEpoch: 0,
  });
  assert.equal(image.partition('b', 0)!.leader, NO_LEADER);
  assert.deepEqual(image.partitions('zz'), []);
  assert.deepEqual(
    image.brokers().map((x) => x.nodeId),
    [1, 2, 3],
  );
  assert.deepEqual(
    image.liveBrokers().map((x) => x.nodeId),
    [1, 2],
  );
  assert.equal(image.endpoint(2)!.host, 'n2.internal');
  assert.equal(image.endpoint(2, 'PLAINTEXT')!.host, 'n2');
  assert.equal(image.endpoint(9), undefined);
  assert.deepEqual(
    [...image.replicasOf(2)].map((r) => `${r.topic.name}-${r.partition.partition}`),
    ['a-0', 'a-1'],
  );
});

test('images are immutable; derived images move the offset and leave the original alone', () => {
  const t = topicImage({ name: 't', topicId: newTopicId(), configs: { x: '1' } }, [newPartition(0, [1])]);
  const base = new MetadataImage({ clusterId: 'c', controllerId: 1, brokers: [broker(1)] });
  const withT = base.withTopic(t);
  assert.equal(base.topic('t'), undefined);
  assert.equal(withT.topic('t'), t);
  assert.equal(withT.offset, base.offset + 1);
  const replaced = withT.withTopic(topicImage({ ...t, configs: {} }, t.partitionStates));
  assert.deepEqual(replaced.topic('t')!.configs, {});
  assert.deepEqual(withT.topic('t')!.configs, { x: '1' });
  const without = replaced.withoutTopic('t');
  assert.equal(without.topic('t'), undefined);
  assert.equal(without.topicById(t.topicId), undefined);
  assert.equal(without.offset, 3);
  assert.equal(base.withBroker(broker(1, true)).liveBrokers().length, 0);
  assert.equal(base.liveBrokers().length, 1);
  assert.equal(base.next({ nextProducerId: 5 }).nextProducerId, 5);
  assert.throws(() => {
    (t.configs as Record<string, string>).x = '2';
  }, TypeError);
  assert.throws(() => {
    (t.partitionStates[0]!.replicas as number[]).push(2);
  }, TypeError);
  assert.throws(() => {
    (base as unknown as { clusterId: string }).clusterId = 'd';
  }, TypeError);
});
