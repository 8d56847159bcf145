import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planClean } from '../../storage/cleaner-plan.js';
import { OffsetMap } from '../../storage/offset-map.js';

const seg = (baseOffset: number, nextOffset: number, size: number, largestTimestamp = 0) => ({
  baseOffset,
  nextOffset,
  size,
  largestTimestamp,
});
const config = { minCleanableDirtyRatio: 0.5, minCompactionLagMs: 0, maxCompactionLagMs: Number.MAX_SAFE_INTEGER };

test('dirty ratio counts whole segments; the segment holding firstDirty is dirty', () => {
  const closed = [seg(0, 10, 100), seg(10, 20, 100), seg(20, 30, 100)];
  let p = planClean({ closed, firstDirty: 0, now: 0, config });
  assert.equal(p.reason, 'dirty-ratio');
  assert.equal(p.dirtyRatio, 1);
  p = planClean({ closed, firstDirty: 20, now: 0, config });
  assert.equal(p.cleanBytes, 200);
  assert.equal(p.dirtyBytes, 100);
  assert.equal(p.reason, undefined);
  p = planClean({ closed, firstDirty: 15, now: 0, config });
  assert.equal(p.dirtyBytes, 200);
  assert.equal(p.reason, 'dirty-ratio');
  p = planClean({ closed, firstDirty: 30, now: 0, config });
  assert.equal(p.dirtyBytes, 0);
  assert.equal(p.reason, undefined);
});

test('min.compaction.lag.ms stops at the first young segment; max.compaction.lag.ms, horizons force a clean', () => {
  const closed = [seg(0, 10, 100, 1000), seg(10, 20, 100, 5000), seg(20, 30, 100, 1000)];
  const p = planClean({ closed, firstDirty: 0, now: 6000, config: { ...config, minCompactionLagMs: 2000 } });
  assert.deepEqual(
    p.cleanable.map((s) => s.baseOffset),
    [0],
  );
  assert.equal(p.firstUncleanable, 10);
  const lag = { ...config, minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 1000 };
  assert.equal(
    planClean({ closed, firstDirty: 20, now: 2000, config: lag, firstDirtyTimestamp: 1500 }).reason,
    undefined,
  );
  assert.equal(
    planClean({ closed, firstDirty: 20, now: 2501, config: lag, firstDirtyTimestamp: 1500 }).reason,
    'max-compaction-lag',
  );
  assert.equal(planClean({ closed, firstDirty: 30, now: 100, config, pendingDeleteHorizon: 200 }).reason, undefined);
  assert.equal(
    planClean({ closed, firstDirty: 30, now: 200, config, pendingDeleteHorizon: 200 }).reason,
    'delete-horizon',
  );
});

test('offset map keeps the latest offset per key and reports fullness', () => {
  const m = new OffsetMap(2);
  m.put(Buffer.from('a'), 5);
  m.put(Buffer.from('a'), 3);
  m.put(Buffer.from([0xff, 0x00]), 7);
  assert.equal(m.get(Buffer.from('a')), 5);
  assert.equal(m.get(Buffer.from([0xff, 0x00])), 7);
  assert.equal(m.get(Buffer.from([0xff])), undefined);
  assert.equal(m.full, true);
  assert.equal(m.latestOffset, 7);
});
