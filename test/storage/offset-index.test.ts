import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OffsetIndex } from '../../storage/offset-index.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';

async function fresh(fs = new MemoryFileSystem(), max = 1024): Promise<OffsetIndex> {
  await fs.mkdirp('/d');
  return (await OffsetIndex.open(fs, '/d/x.index', 100, max)).index;
}

test('lookup returns the largest entry <= target, or (base, 0)', async () => {
  const idx = await fresh();
  assert.deepEqual(idx.lookup(150), { offset: 100, position: 0 });
  for (let i = 1; i <= 100; i++) idx.append(100 + i * 10, i * 1000);
  assert.deepEqual(idx.lookup(105), { offset: 100, position: 0 });
  assert.deepEqual(idx.lookup(110), { offset: 110, position: 1000 });
  assert.deepEqual(idx.lookup(119), { offset: 110, position: 1000 });
  assert.deepEqual(idx.lookup(555), { offset: 550, position: 45000 });
  assert.deepEqual(idx.lookup(10_000), { offset: 1100, position: 100000 });
  assert.deepEqual(idx.lastEntry(), { offset: 1100, position: 100000 });
});

test('entries must strictly increase; relative offsets must fit', async () => {
  const idx = await fresh();
  idx.append(110, 10);
  assert.throws(() => idx.append(110, 20), /non-increasing/);
  assert.throws(() => idx.append(120, 10), /non-increasing/);
  assert.throws(() => idx.append(99, 30));
  assert.throws(() => idx.append(100 + 2 ** 31, 30));
});

test('flush writes exactly entries*8 bytes; reload; truncation persists on next flush', async () => {
  const fs = new MemoryFileSystem();
  const idx = await fresh(fs);
  for (let i = 1; i <= 10; i++) idx.append(100 + i, i * 100);
  assert.equal((await fs.readFile('/d/x.index')).length, 0, 'written lazily');
  await idx.flush();
  assert.equal((await fs.readFile('/d/x.index')).length, 80);
  idx.truncateTo(106);
  assert.equal(idx.entries, 5);
  idx.append(106, 650);
  await idx.flush();
  await idx.close();
  const again = (await OffsetIndex.open(fs, '/d/x.index', 100, 1024)).index;
  assert.equal(again.entries, 6);
  assert.deepEqual(again.lastEntry(), { offset: 106, position: 650 });
  assert.equal(again.sanityCheck(10_000, 200), undefined);
  again.truncateToPosition(300);
  assert.deepEqual(again.lastEntry(), { offset: 102, position: 200 });
});

test('isFull at segment.index.bytes / 8 entries', async () => {
  const idx = await fresh(new MemoryFileSystem(), 8 * 3);
  idx.append(101, 1);
  idx.append(102, 2);
  assert.equal(idx.isFull, false);
  idx.append(103, 3);
  assert.equal(idx.isFull, true);
});

test('corruption: odd size is reported; sanity check catches bad entries', async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp('/d');
  await fs.writeFile('/d/x.index', Buffer.alloc(13));
  const r = await OffsetIndex.open(fs, '/d/x.index', 100, 1024);
  assert.match(r.corruption!, /multiple of 8/);
  assert.equal(r.index.entries, 0);

  const b = Buffer.alloc(16);
  b.writeInt32BE(5, 0);
  b.writeInt32BE(100, 4);
  b.writeInt32BE(3, 8); // goes backwards
  b.writeInt32BE(200, 12);
  await fs.writeFile('/d/y.index', b);
  const y = (await OffsetIndex.open(fs, '/d/y.index', 100, 1024)).index;
  assert.match(y.sanityCheck(1000, 1000)!, /not increasing/);
  b.writeInt32BE(6, 8);
  await fs.writeFile('/d/z.index', b);
  const z = (await OffsetIndex.open(fs, '/d/z.index', 100, 1024)).index;
  assert.equal(z.sanityCheck(1000, 1000), undefined);
  assert.match(z.sanityCheck(150, 1000)!, /beyond log size/);
  assert.match(z.sanityCheck(1000, 105)!, />= next offset/);
});
