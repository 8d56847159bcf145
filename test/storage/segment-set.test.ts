import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SegmentSet } from '../../storage/segment-set.js';
import type { LogSegment } from '../../storage/segment.js';

const seg = (baseOffset: number): LogSegment => ({ baseOffset }) as LogSegment;

test('ordered insert, floor, next, from/above, remove', () => {
  const s = new SegmentSet();
  const [a, b, c] = [seg(0), seg(100), seg(250)];
  s.add(c);
  s.add(a);
  s.add(b);
  assert.deepEqual(
    s.values().map((x) => x.baseOffset),
    [0, 100, 250],
  );
  assert.equal(s.first(), a);
  assert.equal(s.last(), c);
  assert.equal(s.floor(-1), undefined);
  assert.equal(s.floor(0), a);
  assert.equal(s.floor(99), a);
  assert.equal(s.floor(100), b);
  assert.equal(s.floor(1e9), c);
  assert.equal(s.next(a), b);
  assert.equal(s.next(c), undefined);
  assert.deepEqual(
    s.from(120).map((x) => x.baseOffset),
    [100, 250],
  );
  assert.deepEqual(
    s.from(-5).map((x) => x.baseOffset),
    [0, 100, 250],
  );
  assert.deepEqual(
    s.above(100).map((x) => x.baseOffset),
    [250],
  );
  assert.throws(() => s.add(seg(100)), /duplicate/);
  assert.equal(s.remove(b), true);
  assert.equal(s.next(b), c, 'next of a removed segment is the following one');
  assert.equal(s.count, 2);
  assert.deepEqual(
    [...s].map((x) => x.baseOffset),
    [0, 250],
  );
  assert.equal(s.clear().length, 2);
  assert.equal(s.isEmpty, true);
});
