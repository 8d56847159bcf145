/**
 * FrameMemory (protocol/frame-memory.ts): large request frames are cut from slabs that come back once their
 * request is done; small ones are never lent; bytes kept past the request are copied out of lent memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameMemory } from '../../protocol/frame-memory.js';

const KIB = 1024;

test('a small frame is not lent: recycling it is ignored and owned() keeps it as is', () => {
  const m = new FrameMemory();
  const f = m.alloc(100);
  assert.equal(f.length, 100);
  m.recycle(f);
  assert.equal(m.idle, 0);
  assert.equal(m.owned(f), f);
});

test('a recycled frame memory holds the next frame that fits, once', () => {
  const m = new FrameMemory();
  const a = m.alloc(1000 * KIB);
  assert.equal(a.length, 1000 * KIB);
  m.recycle(a);
  m.recycle(a);
  assert.equal(m.idle, 1, 'given back twice, taken once');
  const b = m.alloc(900 * KIB);
  assert.equal(b.buffer, a.buffer, 'the slab is reused');
  assert.equal(b.length, 900 * KIB);
  const c = m.alloc(900 * KIB);
  assert.notEqual(c.buffer, a.buffer, 'a lent slab is not lent twice');
  m.recycle(b);
  const big = m.alloc(4096 * KIB);
  assert.notEqual(big.buffer, a.buffer, 'too small for the frame');
  assert.equal(m.idle, 1);
});

test('the smallest free slab that fits is taken', () => {
  const m = new FrameMemory();
  const large = m.alloc(2048 * KIB);
  const small = m.alloc(200 * KIB);
  m.recycle(large);
  m.recycle(small);
  assert.equal(m.alloc(100 * KIB).buffer, small.buffer);
  assert.equal(m.alloc(100 * KIB).buffer, large.buffer);
});

test('owned() copies bytes of lent memory, so recycling the frame does not change them', () => {
  const m = new FrameMemory();
  const f = m.alloc(300 * KIB);
  f.fill(7);
  const view = f.subarray(10, 20);
  const kept = m.owned(view);
  assert.notEqual(kept.buffer, f.buffer);
  assert.deepEqual([...kept], Array(10).fill(7));
  m.recycle(f);
  m.alloc(300 * KIB).fill(9);
  assert.deepEqual([...kept], Array(10).fill(7));
});

test('the free list is bounded and keeps the larger slabs', () => {
  const m = new FrameMemory();
  const frames = Array.from({ length: 20 }, (_, i) => m.alloc((100 + i * 100) * KIB));
  for (const f of frames) m.recycle(f);
  assert.equal(m.idle, 16);
  // The slabs of the largest frames, given back last, are still there: a frame of their size needs no new memory.
  const got = m.alloc(2000 * KIB);
  assert.ok(frames.slice(16).some((f) => f.buffer === got.buffer));
});
