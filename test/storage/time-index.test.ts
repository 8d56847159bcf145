import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimeIndex } from '../../storage/time-index.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';

async function fresh(fs = new MemoryFileSystem()): Promise<TimeIndex> {
  await fs.mkdirp('/d');
  return (await TimeIndex.open(fs, '/d/x.timeindex', 1000, 12 * 100)).index;
}

test('only strictly increasing timestamps are appended', async () => {
  const t = await fresh();
  assert.equal(t.maybeAppend(500, 1000), true);
  assert.equal(t.maybeAppend(500, 1005), false);
  assert.equal(t.maybeAppend(400, 1006), false);
  assert.equal(t.maybeAppend(-1, 1007), false);
  assert.equal(t.maybeAppend(900, 1010), true);
  assert.equal(t.entries, 2);
  assert.throws(() => t.maybeAppend(1000, 1001), /backwards/);
});

test('lookup returns the largest entry with timestamp < target', async () => {
  const t = await fresh();
  t.maybeAppend(100, 1000);
  t.maybeAppend(200, 1010);
  t.maybeAppend(300, 1020);
  assert.deepEqual(t.lookup(50), { timestamp: -1, offset: 1000 });
  assert.deepEqual(t.lookup(100), { timestamp: -1, offset: 1000 });
  assert.deepEqual(t.lookup(101), { timestamp: 100, offset: 1000 });
  assert.deepEqual(t.lookup(250), { timestamp: 200, offset: 1010 });
  assert.deepEqual(t.lookup(10_000), { timestamp: 300, offset: 1020 });
});

test('12-byte entries persist, reload and truncate by offset', async () => {
  const fs = new MemoryFileSystem();
  const t = await fresh(fs);
  for (let i = 0; i < 5; i++) t.maybeAppend(2 ** 41 + i, 1000 + i * 3);
  await t.flush();
  assert.equal((await fs.readFile('/d/x.timeindex')).length, 60);
  await t.close();
  const again = (await TimeIndex.open(fs, '/d/x.timeindex', 1000, 1200)).index;
  assert.deepEqual(again.lastEntry(), { timestamp: 2 ** 41 + 4, offset: 1012 });
  assert.equal(again.sanityCheck(1013), undefined);
  assert.match(again.sanityCheck(1012)!, /next offset/);
  again.truncateTo(1006);
  assert.deepEqual(again.lastEntry(), { timestamp: 2 ** 41 + 1, offset: 1003 });
  await again.flush();
  assert.equal((await fs.readFile('/d/x.timeindex')).length, 24);
});

test('non-monotonic timestamps on disk fail the sanity check', async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp('/d');
  const b = Buffer.alloc(24);
  b.writeBigInt64BE(200n, 0);
  b.writeInt32BE(1, 8);
  b.writeBigInt64BE(100n, 12);
  b.writeInt32BE(2, 20);
  await fs.writeFile('/d/x.timeindex', b);
  const t = (await TimeIndex.open(fs, '/d/x.timeindex', 0, 1200)).index;
  assert.match(t.sanityCheck(10)!, /not increasing/);
});
