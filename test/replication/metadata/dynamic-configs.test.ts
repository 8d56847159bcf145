import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFileSystem } from '../../../storage/memory-fs.js';
import { StorageError } from '../../../protocol/errors.js';
import { ensureDirDurable } from '../../../storage/fs.js';
import { DYNAMIC_CONFIGS_FILE, DynamicConfigStore } from '../../../replication/metadata/dynamic-configs.js';
import { LocalMetadataStore } from '../../../replication/metadata/local-store.js';

const open = async (fs: MemoryFileSystem) =>
  new DynamicConfigStore(await LocalMetadataStore.open('/data', { nodeId: 1, fs }));

test('missing file = no configs; set persists durably (survives power loss) and reloads', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, '/data');
  const store = await open(fs);
  assert.deepEqual(store.get(''), {});
  assert.deepEqual(store.snapshot(), { entities: {} });
  await Promise.all([
    store.set('1', { 'log.retention.ms': '5000' }),
    store.set('', { 'log.segment.bytes': '1048576', 'log.cleanup.policy': 'compact,delete' }),
  ]);
  assert.deepEqual(store.get('1'), { 'log.retention.ms': '5000' });
  fs.powerLoss();
  const again = await open(fs);
  assert.deepEqual(again.snapshot(), store.snapshot(), 'both writes were durable when they resolved');
  await again.set('1', {});
  assert.deepEqual(Object.keys(again.snapshot().entities), [''], 'an empty set removes the entity');
  assert.deepEqual((await open(fs)).get('1'), {});
  assert.equal(await fs.exists(`/data/${DYNAMIC_CONFIGS_FILE}.tmp`), false);
});

test('a file that does not parse fails the load instead of dropping configs', async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp('/data');
  for (const text of ['{not json', '{"version":2,"entities":{}}', '{"version":1,"entities":{"1":{"a":5}}}']) {
    await fs.writeFile(`/data/${DYNAMIC_CONFIGS_FILE}`, Buffer.from(text));
    await assert.rejects(open(fs), StorageError, text);
  }
});
