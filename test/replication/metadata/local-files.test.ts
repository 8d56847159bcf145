import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import {
  loadClusterId,
  readProducerIdBlock,
  readTopicsFile,
  writeProducerIdBlock,
  writeTopicsFile,
} from '../../../replication/metadata/local-files.js';
import { newTopicId } from '../../../replication/metadata/image.js';
import { MemoryFileSystem } from '../../../storage/memory-fs.js';
import { ensureDirDurable } from '../../../storage/fs.js';

async function dataDir(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, '/data');
  return fs;
}

test('topics.msgpack: written atomically, survives power loss; corrupt or duplicate files are refused', async () => {
  const fs = await dataDir();
  assert.deepEqual(await readTopicsFile(fs, '/data'), []);
  const t = { name: 'a', topicId: newTopicId(), partitions: 2, configs: { 'retention.ms': '1000' } };
  await writeTopicsFile(fs, '/data', [t]);
  fs.powerLoss();
  assert.deepEqual(await readTopicsFile(fs, '/data'), [t]);
  await fs.writeFile('/data/topics.msgpack', Buffer.from([0xc1, 0x00]));
  await assert.rejects(readTopicsFile(fs, '/data'), (e: unknown) => (e as { code?: string }).code === 'ERR_STORAGE');
  await fs.writeFile('/data/topics.msgpack', pack({ version: 99, topics: [] }));
  await assert.rejects(readTopicsFile(fs, '/data'), /unsupported or malformed/);
  await fs.writeFile('/data/topics.msgpack', pack({ version: 1, topics: [t, { ...t, topicId: newTopicId() }] }));
  await assert.rejects(readTopicsFile(fs, '/data'), /duplicate topic a/);
  await fs.writeFile('/data/topics.msgpack', pack({ version: 1, topics: [{ ...t, states: [{ partition: 'x' }] }] }));
  await assert.rejects(readTopicsFile(fs, '/data'), /unsupported or malformed/);
});

test('a failed write leaves the previous file', async () => {
  const fs = await dataDir();
  const t = { name: 'a', topicId: newTopicId(), partitions: 1, configs: {} };
  await writeTopicsFile(fs, '/data', [t]);
  fs.failNextSync();
  await assert.rejects(writeTopicsFile(fs, '/data', []));
  assert.deepEqual(await readTopicsFile(fs, '/data'), [t]);
});

test('meta.properties: the cluster id is generated once, kept, and the node id checked', async () => {
  const fs = await dataDir();
  const id = await loadClusterId(fs, '/data', 3);
  assert.equal(Buffer.from(id, 'base64url').length, 16);
  assert.equal((await fs.readFile('/data/meta.properties')).toString(), `version=1\ncluster.id=${id}\nnode.id=3\n`);
  fs.powerLoss();
  assert.equal(await loadClusterId(fs, '/data', 3), id);
  await assert.rejects(loadClusterId(fs, '/data', 4), /belongs to node 3, not node 4/);
  await fs.writeFile('/data/meta.properties', Buffer.from('cluster.id=abc\n'));
  assert.equal(await loadClusterId(fs, '/data', 9), 'abc');
});

test('producer-id-block: 0 when missing, the stored start otherwise; garbage refused', async () => {
  const fs = await dataDir();
  assert.equal(await readProducerIdBlock(fs, '/data'), 0);
  await writeProducerIdBlock(fs, '/data', 2000);
  assert.equal((await fs.readFile('/data/producer-id-block')).toString(), 'version=1\nnext.block.start=2000\n');
  assert.equal(await readProducerIdBlock(fs, '/data'), 2000);
  await fs.writeFile('/data/producer-id-block', Buffer.from('next=5\n'));
  await assert.rejects(readProducerIdBlock(fs, '/data'), /not a producer id block file/);
});
