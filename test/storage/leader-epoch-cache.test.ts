import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderEpochCache } from '../../storage/leader-epoch-cache.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';

async function cache(fs = new MemoryFileSystem()): Promise<LeaderEpochCache> {
  await fs.mkdirp('/p');
  return LeaderEpochCache.load(fs, '/p');
}

test('assign keeps increasing epochs and ignores redundant entries', async () => {
  const c = await cache();
  assert.equal(c.assign(-1, 0), false);
  assert.equal(c.assign(0, 0), true);
  assert.equal(c.assign(0, 50), false);
  assert.equal(c.assign(2, 100), true);
  assert.equal(c.latestEpoch(), 2);
  assert.equal(c.epochForOffset(99), 0);
  assert.equal(c.epochForOffset(100), 2);
  // A conflicting assignment removes later entries.
  assert.equal(c.assign(1, 80), true);
  assert.deepEqual(c.all(), [
    { epoch: 0, startOffset: 0 },
    { epoch: 1, startOffset: 80 },
  ]);
});

test('endOffsetFor follows OffsetsForLeaderEpoch semantics', async () => {
  const c = await cache();
  c.assign(1, 10);
  c.assign(3, 50);
  c.assign(4, 90);
  assert.deepEqual(c.endOffsetFor(4, 120), { epoch: 4, endOffset: 120 });
  assert.deepEqual(c.endOffsetFor(3, 120), { epoch: 3, endOffset: 90 });
  assert.deepEqual(c.endOffsetFor(2, 120), { epoch: 1, endOffset: 50 });
  assert.deepEqual(c.endOffsetFor(0, 120), { epoch: 0, endOffset: 10 });
  assert.deepEqual(c.endOffsetFor(7, 120), { epoch: -1, endOffset: -1 });
  assert.deepEqual(c.endOffsetFor(-1, 120), { epoch: -1, endOffset: -1 });
});

test('truncation from end and start', async () => {
  const c = await cache();
  c.assign(1, 10);
  c.assign(3, 50);
  c.assign(4, 90);
  assert.equal(c.truncateFromEnd(90), true);
  assert.equal(c.latestEpoch(), 3);
  assert.equal(c.truncateFromEnd(1000), false);
  assert.equal(c.truncateFromStart(60), true);
  assert.deepEqual(c.all(), [{ epoch: 3, startOffset: 60 }]);
  assert.equal(c.truncateFromStart(5), false);
});

test('persisted to leader-epoch-checkpoint and reloaded; corrupt file starts empty', async () => {
  const fs = new MemoryFileSystem();
  const c = await cache(fs);
  c.assign(0, 0);
  c.assign(5, 77);
  await c.flush();
  assert.equal((await fs.readFile('/p/leader-epoch-checkpoint')).toString(), '0\n2\n0 0\n5 77\n');
  const again = await LeaderEpochCache.load(fs, '/p');
  assert.deepEqual(again.all(), c.all());
  assert.equal(again.isDirty, false);
  await fs.writeFile('/p/leader-epoch-checkpoint', Buffer.from('garbage'));
  const broken = await LeaderEpochCache.load(fs, '/p');
  assert.deepEqual(broken.all(), []);
});

test('flush writes nothing when the file holds the entries; unflushedBelow tracks assigned ones', async () => {
  const fs = new MemoryFileSystem();
  const c = await cache(fs);
  c.assign(0, 0);
  await c.flush();
  const again = await LeaderEpochCache.load(fs, '/p');
  assert.deepEqual(again.all(), [{ epoch: 0, startOffset: 0 }]);
  // An empty log's load cuts the entry at its end, its leader records it again: the same content, no write.
  assert.equal(again.truncateFromEnd(0), true);
  assert.equal(again.unflushedBelow(Number.POSITIVE_INFINITY), false, 'a truncation alone need not be written');
  again.assign(0, 0);
  assert.equal(again.unflushedBelow(0), false);
  assert.equal(again.unflushedBelow(1), true);
  await fs.unlink('/p/leader-epoch-checkpoint');
  await again.flush();
  assert.equal(await fs.exists('/p/leader-epoch-checkpoint'), false, 'nothing written');
  assert.equal(again.isDirty, false);
  again.assign(1, 5);
  assert.equal(again.unflushedBelow(5), false);
  assert.equal(again.unflushedBelow(6), true);
  await again.flush();
  assert.equal(again.unflushedBelow(6), false);
  assert.equal((await fs.readFile('/p/leader-epoch-checkpoint')).toString(), '0\n2\n0 0\n1 5\n');
});

test('flushes never overlap: the last one waits for the write in flight and writes the newer entries', async () => {
  const fs = new MemoryFileSystem();
  const c = await cache(fs);
  c.assign(0, 0);
  const first = c.flush();
  c.assign(1, 10);
  const second = c.flush();
  await Promise.all([first, second]);
  assert.equal((await fs.readFile('/p/leader-epoch-checkpoint')).toString(), '0\n2\n0 0\n1 10\n');
  assert.equal(await fs.exists('/p/leader-epoch-checkpoint.tmp'), false);
});
