/**
 * SegmentDeleter (storage/segment-deleter.ts): retired segments are renamed at once and unlinked after the
 * delay, one at a time even when many timers fire together (retention of hundreds of segments must not fill
 * libuv's thread pool); a clean shutdown's deleteAllNow waits for the unlinks under way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SegmentDeleter } from '../../storage/segment-deleter.js';
import { FakeClock } from '../../storage/clock.js';
import type { LogSegment } from '../../storage/segment.js';

function fakeSegments(n: number) {
  const state = { renamed: 0, deleted: 0, inFlight: 0, maxInFlight: 0 };
  const segs = Array.from(
    { length: n },
    (_, i) =>
      ({
        path: `/x/${i}.log`,
        renameToDeleted: async () => {
          state.renamed++;
        },
        delete: async () => {
          state.inFlight++;
          state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
          await new Promise((r) => setImmediate(r));
          state.inFlight--;
          state.deleted++;
        },
        close: async () => {},
      }) as unknown as LogSegment,
  );
  return { state, segs };
}

test('segments retired together are unlinked after the delay, one at a time', async () => {
  const clock = new FakeClock(0);
  const d = new SegmentDeleter(clock);
  const { state, segs } = fakeSegments(50);
  for (const s of segs) await d.retire(s, 1000);
  assert.equal(state.renamed, 50);
  assert.equal(state.deleted, 0);
  assert.equal(d.pendingCount, 50);
  clock.advance(1000); // every timer fires now
  assert.equal(d.pendingCount, 0);
  for (let i = 0; i < 1000 && state.deleted < 50; i++) await new Promise((r) => setImmediate(r));
  assert.equal(state.deleted, 50);
  assert.equal(state.maxInFlight, 1);
});

test('deleteAllNow unlinks the pending segments and waits for the unlinks under way', async () => {
  const clock = new FakeClock(0);
  const d = new SegmentDeleter(clock);
  const { state, segs } = fakeSegments(6);
  for (const s of segs.slice(0, 3)) await d.retire(s, 10);
  clock.advance(10); // three unlinks queued
  for (const s of segs.slice(3)) await d.retire(s, 1000);
  await d.deleteAllNow();
  assert.equal(state.deleted, 6);
  assert.equal(d.pendingCount, 0);
});
