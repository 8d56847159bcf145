import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogApplier, hostedPartitions } from '../../replication/log-applier.js';
import { LocalMetadataStore } from '../../replication/metadata/local-store.js';
import { newPartition, topicImage } from '../../replication/metadata/image.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { resolveLogConfig } from '../helpers/log-config.js';
import { batchOf } from '../storage/helpers.js';

async function setup(fs = new MemoryFileSystem()) {
  const store = await LocalMetadataStore.open('/data', { nodeId: 1, fs, validateConfigs: resolveLogConfig });
  const applier = await LogApplier.open(store, '/data', {
    fs,
    clock: new FakeClock(),
    resolveConfig: resolveLogConfig,
  });
  return { fs, store, applier, logs: applier.logs };
}

test('logs follow the image: created with their configs, grown, re-configured, deleted', async () => {
  const { fs, store, applier, logs } = await setup();
  await store.createTopic('t', { partitions: 2, configs: { 'retention.ms': '5000' } });
  assert.equal(logs.getLog('t', 1)!.logConfig.retentionMs, 5000, 'a log is open once the write resolves');
  await store.alterTopicConfigs('t', { 'retention.ms': '7000' });
  assert.equal(logs.getLog('t', 0)!.logConfig.retentionMs, 7000);
  await store.createPartitions('t', 3);
  assert.equal(logs.getLog('t', 2)!.logConfig.retentionMs, 7000);
  await logs.getLog('t', 0)!.append(batchOf(3));
  assert.equal(applier.applied, store.image);
  await store.deleteTopic('t');
  assert.equal(logs.allLogs().length, 0);
  assert.deepEqual(
    (await fs.readdir('/data')).filter((n) => n.startsWith('t-')),
    [],
  );
  await store.createTopic('t', { partitions: 1 });
  assert.equal(logs.getLog('t', 0)!.logEndOffset, 0, 'a recreated topic starts empty');
  await applier.close();
  await store.close();
});

test('reopen: the logs of the image are opened, directories of no topic are orphans', async () => {
  const first = await setup();
  await first.store.createTopic('kept', { partitions: 2, configs: { 'retention.ms': '9000' } });
  await first.logs.getLog('kept', 1)!.append(batchOf(2));
  await first.store.createTopic('other', { partitions: 1 });
  await first.applier.close();
  await first.store.close();
  await first.fs.mkdirp('/data/stray-0');
  const again = await setup(first.fs);
  assert.deepEqual(
    hostedPartitions(again.store.image, 1).map((p) => `${p.topic}-${p.partition}`),
    ['kept-0', 'kept-1', 'other-0'],
  );
  assert.equal(again.logs.getLog('kept', 1)!.logEndOffset, 2);
  assert.equal(again.logs.getLog('kept', 0)!.logConfig.retentionMs, 9000);
  assert.deepEqual(again.logs.orphanDirs, ['stray-0']);
  await again.applier.close();
});

test('a partition whose replicas leave or join this node loses or gains its log', async () => {
  const { store, applier, logs } = await setup();
  await store.createTopic('t', { partitions: 1 });
  const before = store.image;
  const moved = topicImage(before.topic('t')!, [{ ...newPartition(0, [2]), partitionEpoch: 1 }]);
  const away = before.withTopic(moved);
  await applier.apply({
    previous: before,
    image: away,
    changes: [{ type: 'partition-changed', topic: moved, partition: moved.partitionStates[0]! }],
  });
  assert.equal(logs.getLog('t', 0), undefined);
  const back = topicImage(moved, [{ ...newPartition(0, [2, 1]), partitionEpoch: 2 }]);
  await applier.apply({
    previous: away,
    image: away.withTopic(back),
    changes: [{ type: 'partition-changed', topic: back, partition: back.partitionStates[0]! }],
  });
  assert.ok(logs.getLog('t', 0));
  await applier.close();
});
