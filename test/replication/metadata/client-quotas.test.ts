import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFileSystem } from '../../../storage/memory-fs.js';
import { ensureDirDurable } from '../../../storage/fs.js';
import { ClientQuotaStore, CLIENT_QUOTAS_FILE } from '../../../replication/metadata/client-quotas.js';
import { StorageError } from '../../../protocol/errors.js';
import { LocalMetadataStore } from '../../../replication/metadata/local-store.js';

const DIR = '/data';
const open = async (fs: MemoryFileSystem) =>
  new ClientQuotaStore(await LocalMetadataStore.open(DIR, { nodeId: 1, fs }));
const op = (key: string, value: number, remove = false) => ({ key, value, remove });

test('changes are durable when alter() resolves: they survive a power loss', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, DIR);
  const store = await open(fs);
  const results = await store.alter(
    [
      { entity: [{ entityType: 'user', entityName: 'u' }], ops: [op('producer_byte_rate', 5)] },
      { entity: [{ entityType: 'ip', entityName: '::1' }], ops: [op('connection_creation_rate', 7)] },
    ],
    false,
  );
  assert.deepEqual(
    results.map((r) => r.code),
    [0, 0],
  );
  fs.powerLoss();
  const reopened = await open(fs);
  assert.deepEqual(reopened.quotas({ user: 'u' }), { producer_byte_rate: 5 });
  assert.deepEqual(reopened.quotas({ ip: '::1' }), { connection_creation_rate: 7 });
});

test('a failed write rejects alter() and leaves the previous file in place', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, DIR);
  const store = await open(fs);
  await store.alter(
    [{ entity: [{ entityType: 'user', entityName: null }], ops: [op('consumer_byte_rate', 1)] }],
    false,
  );
  fs.failNextWrite({ path: CLIENT_QUOTAS_FILE });
  await assert.rejects(
    store.alter([{ entity: [{ entityType: 'user', entityName: null }], ops: [op('consumer_byte_rate', 2)] }], false),
  );
  assert.deepEqual(store.quotas({ user: null }), { consumer_byte_rate: 1 }, 'not served unless stored');
  const reopened = await open(fs);
  assert.deepEqual(reopened.quotas({ user: null }), { consumer_byte_rate: 1 });
});

test('concurrent alterations all land, in memory and on disk', async () => {
  const fs = new MemoryFileSystem({ syncLatency: 5 });
  await ensureDirDurable(fs, DIR);
  const store = await open(fs);
  await Promise.all(
    [1, 2, 3].map((n) =>
      store.alter(
        [{ entity: [{ entityType: 'client-id', entityName: `c${n}` }], ops: [op('producer_byte_rate', n)] }],
        false,
      ),
    ),
  );
  const reopened = await open(fs);
  for (const n of [1, 2, 3]) {
    assert.deepEqual(store.quotas({ 'client-id': `c${n}` }), { producer_byte_rate: n });
    assert.deepEqual(reopened.quotas({ 'client-id': `c${n}` }), { producer_byte_rate: n });
  }
});

test('a file that does not parse refuses to open', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, DIR);
  for (const text of ['not json', '{"version":2,"entities":[]}', '{"version":1,"entities":[1]}']) {
    await fs.writeFile(`${DIR}/${CLIENT_QUOTAS_FILE}`, Buffer.from(text));
    await assert.rejects(open(fs), StorageError, text);
  }
});
