import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_GRANT, ReadBufferPool } from '../../storage/read-buffers.js';

test('a lease hands out slabs for mid-size reads and gives them back on release', () => {
  const pool = new ReadBufferPool(1 << 20, 2);
  const a = pool.lease();
  const x = a.alloc(512 * 1024);
  const y = a.alloc(1 << 20);
  assert.equal(x.length, 512 * 1024);
  assert.equal(y.length, 1 << 20);
  assert.notEqual(x.buffer, y.buffer, 'two allocations of one lease never share memory');
  assert.equal(pool.idle, 0);
  a.release();
  assert.equal(pool.idle, 2);
  a.release();
  assert.equal(pool.idle, 2, 'releasing twice gives nothing back twice');
  const b = pool.lease();
  const z = b.alloc(100_000);
  assert.ok(z.buffer === x.buffer || z.buffer === y.buffer, 'a released slab is reused');
  assert.equal(pool.idle, 1);
});

test('small and oversized reads get fresh memory; the pool keeps at most maxFree slabs', () => {
  const pool = new ReadBufferPool(1 << 20, 1);
  const l = pool.lease();
  assert.equal(l.alloc(100).length, 100);
  assert.equal(l.alloc((1 << 20) + 1).length, (1 << 20) + 1);
  l.release();
  assert.equal(pool.idle, 0, 'nothing pooled for sizes outside the slab range');
  const m = pool.lease();
  m.alloc(200_000);
  m.alloc(300_000);
  m.alloc(400_000);
  m.release();
  assert.equal(pool.idle, 1);
});

test('leases are granted what they want until the budget is held, then what is left, at least MIN_GRANT', () => {
  const MiB = 1 << 20;
  const pool = new ReadBufferPool(MiB, 1);
  const a = pool.lease(50 * MiB, 64 * MiB);
  assert.equal(a.granted, 50 * MiB);
  const b = pool.lease(50 * MiB, 64 * MiB);
  assert.equal(b.granted, 14 * MiB, 'what is left of the budget');
  const c = pool.lease(50 * MiB, 64 * MiB);
  assert.equal(c.granted, MIN_GRANT, 'over the budget: the minimum, so the fetch makes progress');
  assert.equal(pool.lease(1000, 64 * MiB).granted, 1000, 'never more than wanted');
  assert.equal(pool.granted, 64 * MiB + MIN_GRANT + 1000);
  a.release();
  a.release();
  assert.equal(pool.granted, 14 * MiB + MIN_GRANT + 1000, 'a grant comes back once');
  assert.equal(pool.lease(50 * MiB, 64 * MiB).granted, 64 * MiB - 14 * MiB - MIN_GRANT - 1000);
  assert.equal(pool.lease(7).granted, 7, 'no budget: what is wanted');
});

test('with a budget the pool keeps up to its worth of free slabs and 8 more', () => {
  const pool = new ReadBufferPool(1 << 20, 1);
  const l = pool.lease(8 << 20, 4 << 20);
  for (let i = 0; i < 30; i++) l.alloc(1 << 20);
  l.release();
  assert.equal(pool.idle, 12, 'four 1 MiB slabs for a 4 MiB budget, and 8');
});

test('allocations of one lease share a slab while they fit, never overlapping', () => {
  const pool = new ReadBufferPool(1 << 20, 4);
  const l = pool.lease();
  const bufs = [300_000, 300_001, 300_000, 300_000, 100_000].map((n, i) => l.alloc(n).fill(i + 1));
  assert.equal(bufs[0].buffer, bufs[2].buffer, 'the first three fit one slab');
  assert.notEqual(bufs[0].buffer, bufs[3].buffer, 'the fourth does not');
  for (const [i, b] of bufs.entries())
    assert.ok(
      b.every((x) => x === i + 1),
      `allocation ${i} intact`,
    );
  for (const b of bufs) assert.equal(b.byteOffset % 8, 0);
  l.release();
  assert.equal(pool.idle, 2, 'two slabs held, both back');
});
