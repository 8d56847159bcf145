import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadBufferPool } from '../../storage/read-buffers.js';

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
