/**
 * Cleaner pacing (storage/cleaner-pacing.ts): the time slicer gives the event loop a turn once a slice is over
 * (an I/O callback queued meanwhile runs before the cleaner continues), and the I/O throttler sleeps on the
 * injected clock when the byte rate is over its limit, never when unlimited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IoThrottler, TimeSlicer } from '../../storage/cleaner-pacing.js';
import { FakeClock } from '../../storage/clock.js';

test('TimeSlicer: no pause within the slice; after it, a setImmediate queued meanwhile runs first', async () => {
  const slicer = new TimeSlicer(50);
  assert.equal(slicer.pause(), undefined);
  const order: string[] = [];
  const start = performance.now();
  while (performance.now() - start < 60) {
    // busy: the slice runs out (bounded: 60 ms of wall time)
  }
  setImmediate(() => order.push('request'));
  const p = slicer.pause();
  assert.ok(p instanceof Promise);
  await p;
  order.push('cleaner');
  assert.deepEqual(order, ['request', 'cleaner']);
  assert.equal(slicer.pause(), undefined, 'a new slice starts after the turn');
});

test('IoThrottler: over the limit it sleeps as long as the bytes should have taken; unlimited: never', async () => {
  const clock = new FakeClock(0);
  const t = new IoThrottler(clock, 1000, 100); // 1000 bytes a second, checked every 100 ms
  await t.maybeThrottle(500); // before the check interval: no sleep
  clock.advance(100);
  let done = false;
  const p = t.maybeThrottle(500).then(() => (done = true)); // 1000 bytes in 100 ms: sleeps 900 ms
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(899);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  clock.advance(1);
  await p;
  assert.equal(done, true);

  const unlimited = new IoThrottler(clock, Number.MAX_VALUE, 100);
  assert.equal(unlimited.enabled, false);
  clock.advance(1000);
  await unlimited.maybeThrottle(1e12);
  assert.equal(clock.pendingTimers, 0);
});
