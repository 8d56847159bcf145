import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { pack, unpack } from 'msgpackr';
import { LocalMetadataStore } from '../../../replication/metadata/local-store.js';
import { NO_LEADER, newTopicId } from '../../../replication/metadata/image.js';
import type { MetadataDelta } from '../../../replication/metadata/store.js';
import { NodeFileSystem } from '../../../storage/fs.js';
import { MemoryFileSystem } from '../../../storage/memory-fs.js';
import { StorageError } from '../../../protocol/errors.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { InvalidConfigError } from '../../../storage/log-config.js';
import { resolveLogConfig } from '../../helpers/log-config.js';
import { tempDir } from '../../storage/helpers.js';

const coded = (kafkaCode: number) => (e: unknown) => e instanceof StorageError && e.kafkaCode === kafkaCode;

const open = (dir: string, nodeId = 1) =>
  LocalMetadataStore.open(dir, { nodeId, fs: new NodeFileSystem(), validateConfigs: resolveLogConfig });

test('create, alter, grow and delete topics persist across reopen (real files); deltas arrive in order', async () => {
  const { dir, cleanup } = await tempDir('runnel-metadata-');
  try {
    const store = await open(dir);
    const deltas: MetadataDelta[] = [];
    store.subscribe((d) => {
      deltas.push(d);
    });
    const orders = await store.createTopic('orders', { partitions: 2, configs: { 'retention.ms': '3600000' } });
    await store.createTopic('gone', { partitions: 1 });
    await store.alterTopicConfigs('orders', { 'retention.bytes': '1000' });
    await store.createPartitions('orders', 3);
    assert.equal(await store.deleteTopic('gone'), true);
    assert.equal(await store.deleteTopic('gone'), false);
    assert.deepEqual(
      deltas.map((d) => d.changes.map((c) => c.type)),
      [['topic-created'], ['topic-created'], ['topic-configs-changed'], ['partitions-created'], ['topic-deleted']],
    );
    assert.deepEqual(
      deltas.map((d) => [d.previous.offset, d.image.offset]),
      [0, 1, 2, 3, 4].map((n) => [n, n + 1]),
    );
    assert.equal(deltas[0]!.previous.topic('orders'), undefined);
    const grown = deltas[3]!.changes[0]!;
    assert.ok(grown.type === 'partitions-created');
    assert.deepEqual(
      grown.partitions.map((p) => p.partition),
      [2],
    );
    const t = store.image.topic('orders')!;
    assert.equal(t.topicId, orders.topicId);
    assert.deepEqual(t.configs, { 'retention.bytes': '1000' });
    assert.deepEqual(t.partitionStates[2], {
      partition: 2,
      replicas: [1],
      isr: [1],
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
    });
    const clusterId = store.image.clusterId;
    await store.close();
    await assert.rejects(store.createTopic('late', { partitions: 1 }), /closed/);

    const again = await open(dir);
    assert.equal(again.image.clusterId, clusterId);
    assert.equal(again.image.controllerId, 1);
    assert.deepEqual(again.image.topic('orders'), t);
    assert.equal(again.image.topicById(orders.topicId)?.name, 'orders');
    assert.deepEqual(
      again.image.topics().map((x) => x.name),
      ['orders'],
    );
    assert.equal(again.image.offset, 0);
    await again.close();
  } finally {
    await cleanup();
  }
});

test('a data dir written by the old topic store opens unchanged and keeps its format', async () => {
  const { dir, cleanup } = await tempDir('runnel-metadata-');
  try {
    const old = [
      { name: 'orders', topicId: newTopicId(), partitions: 3, configs: { 'cleanup.policy': 'compact' } },
      { name: '__consumer_offsets', topicId: newTopicId(), partitions: 50, configs: {} },
    ];
    const oldBytes = pack({ version: 1, topics: old });
    await writeFile(path.join(dir, 'topics.msgpack'), oldBytes);
    await writeFile(path.join(dir, 'meta.properties'), 'version=1\ncluster.id=c-123\nnode.id=2\n');
    await writeFile(path.join(dir, 'producer-id-block'), 'version=1\nnext.block.start=3000\n');
    const store = await open(dir, 2);
    assert.equal(store.image.clusterId, 'c-123');
    assert.equal(store.image.nextProducerId, 3000);
    assert.deepEqual(
      store.image.topics().map(({ name, topicId, partitions, configs }) => ({ name, topicId, partitions, configs })),
      old,
    );
    assert.deepEqual(store.image.partition('orders', 1), {
      partition: 1,
      replicas: [2],
      isr: [2],
      leader: 2,
      leaderEpoch: 0,
      partitionEpoch: 0,
    });
    assert.deepEqual(await readFile(path.join(dir, 'topics.msgpack')), oldBytes, 'opening writes nothing');
    const added = await store.createTopic('new', { partitions: 1 });
    const doc = unpack(await readFile(path.join(dir, 'topics.msgpack')));
    assert.deepEqual(doc, {
      version: 1,
      topics: [...old, { name: 'new', topicId: added.topicId, partitions: 1, configs: {} }],
    });
    await store.close();
    await assert.rejects(open(dir, 3), /belongs to node 2, not node 3/);
  } finally {
    await cleanup();
  }
});

test('refused changes are coded and change nothing; a failed write leaves the image', async () => {
  const fs = new MemoryFileSystem();
  const store = await LocalMetadataStore.open('/data', { nodeId: 1, fs, validateConfigs: resolveLogConfig });
  await store.createTopic('t', { partitions: 1 });
  const before = store.image;
  await assert.rejects(store.createTopic('t', { partitions: 1 }), coded(ErrorCode.TOPIC_ALREADY_EXISTS));
  await assert.rejects(store.createTopic('bad/name', { partitions: 1 }), coded(ErrorCode.INVALID_TOPIC_EXCEPTION));
  await assert.rejects(store.createTopic('u', { partitions: 0 }), coded(ErrorCode.INVALID_PARTITIONS));
  await assert.rejects(
    store.createTopic('u', { partitions: 1, topicId: before.topic('t')!.topicId }),
    coded(ErrorCode.TOPIC_ALREADY_EXISTS),
  );
  await assert.rejects(
    store.createTopic('u', { partitions: 1, replicas: [[1, 2]] }),
    coded(ErrorCode.INVALID_REPLICA_ASSIGNMENT),
  );
  await assert.rejects(
    store.createTopic('v', { partitions: 1, configs: { 'retention.ms': 'soon' } }),
    (e: unknown) => e instanceof InvalidConfigError,
  );
  await assert.rejects(store.createPartitions('t', 1), coded(ErrorCode.INVALID_PARTITIONS));
  await assert.rejects(store.createPartitions('nope', 2), coded(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  await assert.rejects(store.alterTopicConfigs('nope', {}), coded(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  await assert.rejects(
    store.registerBroker({ nodeId: 2, rack: null, listeners: [], fenced: false }),
    coded(ErrorCode.INVALID_REQUEST),
  );
  assert.equal(store.image, before);
  fs.failNextSync();
  await assert.rejects(store.createTopic('w', { partitions: 1 }));
  assert.equal(store.image, before);
  assert.equal(store.image.topic('w'), undefined);
  await store.close();
});

test('alterPartition is conditional on the partition epoch and persists non-default states', async () => {
  const fs = new MemoryFileSystem();
  const store = await LocalMetadataStore.open('/data', { nodeId: 1, fs });
  await store.createTopic('t', { partitions: 2 });
  await assert.rejects(store.alterPartition('t', 0, 5, { isr: [] }), coded(ErrorCode.INVALID_UPDATE_VERSION));
  await assert.rejects(store.alterPartition('t', 9, 0, { isr: [] }), coded(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  await assert.rejects(
    store.alterPartition('t', 0, 0, { isr: [] }),
    coded(ErrorCode.INVALID_REQUEST),
    'leader not in ISR',
  );
  const seen: string[] = [];
  store.subscribe((d) => {
    for (const c of d.changes)
      if (c.type === 'partition-changed') seen.push(`${c.partition.partition}@${c.partition.partitionEpoch}`);
  });
  const offline = await store.alterPartition('t', 1, 0, { isr: [], leader: NO_LEADER });
  assert.deepEqual(offline, {
    partition: 1,
    replicas: [1],
    isr: [],
    leader: NO_LEADER,
    leaderEpoch: 1,
    partitionEpoch: 1,
  });
  await assert.rejects(
    store.alterPartition('t', 1, 0, { isr: [1], leader: 1 }),
    coded(ErrorCode.INVALID_UPDATE_VERSION),
  );
  fs.powerLoss();
  const again = await LocalMetadataStore.open('/data', { nodeId: 1, fs });
  assert.deepEqual(again.image.partition('t', 1), offline);
  const back = await again.alterPartition('t', 1, 1, { isr: [1], leader: 1 });
  assert.deepEqual(back, { partition: 1, replicas: [1], isr: [1], leader: 1, leaderEpoch: 2, partitionEpoch: 2 });
  assert.deepEqual(seen, ['1@1']);
  const doc = unpack(await fs.readFile('/data/topics.msgpack')) as { topics: Array<{ states?: unknown[] }> };
  assert.equal(doc.topics[0]!.states?.length, 1);
});

test('alterPartitions: one file write and one delta for the batch; refused writes settle alone', async () => {
  const fs = new MemoryFileSystem();
  const store = await LocalMetadataStore.open('/data', { nodeId: 1, fs });
  await store.createTopic('a', { partitions: 3 });
  await store.createTopic('b', { partitions: 1 });
  const deltas: string[][] = [];
  store.subscribe((d) => {
    deltas.push(
      d.changes.flatMap((c) => (c.type === 'partition-changed' ? [`${c.topic.name}-${c.partition.partition}`] : [])),
    );
  });
  const offline = { isr: [], leader: NO_LEADER };
  const results = await store.alterPartitions([
    { topic: 'a', partition: 0, partitionEpoch: 0, change: offline },
    { topic: 'a', partition: 1, partitionEpoch: 3, change: offline },
    { topic: 'b', partition: 0, partitionEpoch: 0, change: offline },
    { topic: 'a', partition: 0, partitionEpoch: 0, change: offline },
    { topic: 'c', partition: 0, partitionEpoch: 0, change: offline },
    { topic: 'a', partition: 2, partitionEpoch: 0, change: { isr: [] } },
  ]);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value.partitionEpoch : (r.reason as StorageError).kafkaCode)),
    [
      1,
      ErrorCode.INVALID_UPDATE_VERSION,
      1,
      ErrorCode.INVALID_REQUEST, // a-0 twice
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REQUEST, // the leader not in the ISR
    ],
  );
  assert.deepEqual(deltas, [['a-0', 'b-0']], 'the two accepted changes as one delta');
  assert.equal(store.image.partition('a', 1)?.partitionEpoch, 0, 'the stale write changed nothing');
  assert.equal(store.image.partition('a', 2)?.partitionEpoch, 0, 'the invalid write changed nothing');
  // Nothing accepted: nothing written or published. A failed file write publishes nothing either.
  const none = await store.alterPartitions([{ topic: 'a', partition: 0, partitionEpoch: 1, change: offline }]);
  assert.equal(none[0].status === 'fulfilled' && none[0].value.partitionEpoch, 1, 'no change, no write');
  const before = store.image;
  fs.failNextSync();
  await assert.rejects(store.alterPartitions([{ topic: 'a', partition: 1, partitionEpoch: 0, change: offline }]));
  assert.equal(store.image, before);
  assert.equal(deltas.length, 1);
  fs.powerLoss();
  const again = await LocalMetadataStore.open('/data', { nodeId: 1, fs });
  assert.equal(again.image.partition('a', 0)?.leader, NO_LEADER);
  assert.equal(again.image.partition('b', 0)?.leader, NO_LEADER);
  assert.equal(again.image.partition('a', 1)?.leader, 1);
});

test('producer-id blocks are durable and never repeat across reopen', async () => {
  const fs = new MemoryFileSystem();
  const store = await LocalMetadataStore.open('/data', { nodeId: 1, fs });
  assert.deepEqual(await store.allocateProducerIdBlock(1, 1000), { brokerId: 1, firstProducerId: 0, size: 1000 });
  assert.deepEqual(await store.allocateProducerIdBlock(1, 10), { brokerId: 1, firstProducerId: 1000, size: 10 });
  assert.equal(store.image.nextProducerId, 1010);
  await assert.rejects(store.allocateProducerIdBlock(1, 0), coded(ErrorCode.INVALID_REQUEST));
  fs.powerLoss();
  const again = await LocalMetadataStore.open('/data', { nodeId: 1, fs });
  assert.equal((await again.allocateProducerIdBlock(1, 5)).firstProducerId, 1010);
  assert.equal((await fs.readFile('/data/producer-id-block')).toString(), 'version=1\nnext.block.start=1015\n');
});

test('a failing subscriber rejects the write, the change stays; brokers re-register with endpoints', async () => {
  const store = await LocalMetadataStore.open('/data', { nodeId: 1, fs: new MemoryFileSystem() });
  assert.deepEqual(store.image.brokers(), [{ nodeId: 1, rack: null, listeners: [], fenced: false }]);
  const order: string[] = [];
  const off = store.subscribe(() => {
    order.push('first');
    throw new Error('listener failed');
  });
  store.subscribe(() => {
    order.push('second');
  });
  await assert.rejects(store.createTopic('t', { partitions: 1 }), /listener failed/);
  assert.ok(store.image.topic('t'));
  assert.deepEqual(order, ['first', 'second']);
  off();
  const listeners = [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 'PLAINTEXT' }];
  await store.registerBroker({ nodeId: 1, rack: 'r1', listeners, fenced: false });
  assert.deepEqual(store.image.endpoint(1), listeners[0]);
  assert.equal(store.image.liveBrokers()[0]!.rack, 'r1');
  assert.deepEqual(order, ['first', 'second', 'second']);
});

test('createTopics: one file write and one delta for the valid topics; each refused one answers alone', async () => {
  const { dir, cleanup } = await tempDir('runnel-metadata-');
  try {
    const store = await open(dir);
    await store.createTopic('old', { partitions: 1 });
    const deltas: MetadataDelta[] = [];
    store.subscribe((d) => {
      deltas.push(d);
    });
    const answers = await store.createTopics([
      { name: 'a', options: { partitions: 2 } },
      { name: 'old', options: { partitions: 1 } },
      { name: 'bad name!', options: { partitions: 1 } },
      { name: 'b', options: { partitions: 3, configs: { 'retention.ms': '1000' } } },
      { name: 'a', options: { partitions: 1 } },
      { name: 'c', options: { partitions: 0 } },
      { name: 'd', options: { partitions: 1, configs: { 'retention.ms': 'soon' } } },
    ]);
    assert.deepEqual(
      answers.map((a) => (a instanceof Error ? (a as StorageError).kafkaCode : a.name)),
      [
        'a',
        ErrorCode.TOPIC_ALREADY_EXISTS,
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        'b',
        ErrorCode.TOPIC_ALREADY_EXISTS,
        ErrorCode.INVALID_PARTITIONS,
        ErrorCode.INVALID_CONFIG,
      ],
    );
    assert.equal(deltas.length, 1, 'one delta');
    assert.deepEqual(
      deltas[0]!.changes.map((c) => (c.type === 'topic-created' ? c.topic.name : c.type)),
      ['a', 'b'],
    );
    assert.equal(deltas[0]!.image.offset, deltas[0]!.previous.offset + 1);
    assert.deepEqual(await store.createTopics([{ name: 'old', options: { partitions: 1 } }]).then((a) => a.length), 1);
    assert.equal(deltas.length, 1, 'nothing created: nothing published');
    await store.close();
    const again = await open(dir);
    assert.deepEqual(
      again.image
        .topics()
        .map((t) => [t.name, t.partitions])
        .sort(),
      [
        ['a', 2],
        ['b', 3],
        ['old', 1],
      ],
    );
    assert.deepEqual(again.image.topic('b')!.configs, { 'retention.ms': '1000' });
    await again.close();
  } finally {
    await cleanup();
  }
});
