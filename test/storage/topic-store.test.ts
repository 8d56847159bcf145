import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import { TopicStore, invalidTopicName, newTopicId } from '../../storage/topic-store.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { ensureDirDurable } from '../../storage/fs.js';

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

test('put/remove persist atomically and survive power loss; corrupt files are refused', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, '/data');
  const store = await TopicStore.load(fs, '/data');
  const t = { name: 'a', topicId: newTopicId(), partitions: 2, configs: { 'retention.ms': '1000' } };
  await store.put(t);
  await store.put({ name: 'b', topicId: newTopicId(), partitions: 1, configs: {} });
  await store.remove('b');
  fs.powerLoss();
  const again = await TopicStore.load(fs, '/data');
  assert.deepEqual(again.list(), [t]);
  assert.deepEqual(again.getById(t.topicId), t);
  await fs.writeFile('/data/topics.msgpack', Buffer.from([0xc1, 0x00]));
  await assert.rejects(TopicStore.load(fs, '/data'), (e: unknown) => (e as { code?: string }).code === 'ERR_STORAGE');
  await fs.writeFile('/data/topics.msgpack', pack({ version: 99, topics: [] }));
  await assert.rejects(TopicStore.load(fs, '/data'), /unsupported or malformed/);
});

test('a failed save leaves memory unchanged', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, '/data');
  const store = await TopicStore.load(fs, '/data');
  fs.failNextSync();
  await assert.rejects(store.put({ name: 'a', topicId: newTopicId(), partitions: 1, configs: {} }));
  assert.equal(store.get('a'), undefined);
});
