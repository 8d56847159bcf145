import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectDeletableSegments } from '../../storage/retention.js';
import type { LogSegment } from '../../storage/segment.js';

const seg = (baseOffset: number, size: number, largestTimestamp: number): LogSegment =>
  ({ baseOffset, size, largestTimestamp }) as LogSegment;

const policy = (o: { retentionMs?: number; retentionBytes?: number; cleanupPolicy?: Array<'delete' | 'compact'> }) => ({
  retentionMs: -1,
  retentionBytes: -1,
  cleanupPolicy: ['delete'] as Array<'delete' | 'compact'>,
  ...o,
});

test('size: delete oldest while the rest stays at or above the limit; never the active segment', () => {
  const segs = [seg(0, 100, 0), seg(10, 100, 0), seg(20, 100, 0), seg(30, 100, 0)];
  assert.deepEqual(
    selectDeletableSegments(segs, 0, policy({ retentionBytes: 250 }), 0).map((s) => s.baseOffset),
    [0],
  );
  assert.deepEqual(
    selectDeletableSegments(segs, 0, policy({ retentionBytes: 200 }), 0).map((s) => s.baseOffset),
    [0, 10],
  );
  assert.deepEqual(
    selectDeletableSegments(segs, 0, policy({ retentionBytes: 0 }), 0).map((s) => s.baseOffset),
    [0, 10, 20],
  );
  assert.deepEqual(selectDeletableSegments(segs, 0, policy({}), 0), []);
});

test('time: stops at the first segment that must stay', () => {
  const segs = [seg(0, 1, 100), seg(10, 1, 500), seg(20, 1, 200), seg(30, 1, 100)];
  assert.deepEqual(
    selectDeletableSegments(segs, 0, policy({ retentionMs: 1000 }), 1200).map((s) => s.baseOffset),
    [0],
  );
  assert.deepEqual(
    selectDeletableSegments(segs, 0, policy({ retentionMs: 1000 }), 2000).map((s) => s.baseOffset),
    [0, 10, 20],
  );
});

test('log start offset: segments wholly below it go regardless of policy', () => {
  const segs = [seg(0, 1, 0), seg(10, 1, 0), seg(20, 1, 0)];
  assert.deepEqual(
    selectDeletableSegments(segs, 15, undefined, 0).map((s) => s.baseOffset),
    [0],
  );
  assert.deepEqual(
    selectDeletableSegments(segs, 20, policy({ cleanupPolicy: ['compact'], retentionBytes: 0 }), 0).map(
      (s) => s.baseOffset,
    ),
    [0, 10],
  );
  assert.deepEqual(
    selectDeletableSegments(segs, 100, undefined, 0).map((s) => s.baseOffset),
    [0, 10],
  );
});
