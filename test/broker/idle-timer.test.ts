/**
 * IdleTimer (broker/idle-timer.ts), the connection's connections.max.idle.ms: touches postpone the idle callback,
 * unsent bytes (`busy`) postpone it, it runs once, and never after stop(). Real timers of a few ms; every wait is
 * bounded and nothing asserts a duration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleTimer } from '../../broker/idle-timer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, maxMs = 5000): Promise<boolean> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > maxMs) return false;
    await sleep(5);
  }
  return true;
}

test('it fires only idleMs after the last touch, and exactly once', async () => {
  let lastTouch = performance.now();
  const gaps: number[] = [];
  const t = new IdleTimer(
    30,
    () => false,
    () => gaps.push(performance.now() - lastTouch),
  );
  try {
    // Touched every ~5 ms for a while (a loaded machine may sleep longer: then it may fire in between, but
    // never sooner than 30 ms after the touch before).
    for (let i = 0; i < 40 && gaps.length === 0; i++) {
      t.touch();
      lastTouch = performance.now();
      await sleep(5);
    }
    assert.ok(await until(() => gaps.length > 0), 'fires once the touches stop');
    await sleep(100);
    assert.equal(gaps.length, 1, 'exactly once');
    assert.ok(gaps[0]! >= 29, `fired ${gaps[0]} ms after the last touch`);
  } finally {
    t.stop();
  }
});

test('busy (unsent bytes) postpones it; stop() prevents it for good', async () => {
  let fired = 0;
  let busy = true;
  const t = new IdleTimer(
    10,
    () => busy,
    () => fired++,
  );
  await sleep(100);
  assert.equal(fired, 0, 'not idle while busy');
  busy = false;
  assert.ok(await until(() => fired === 1));
  t.stop();
  let other = 0;
  const s = new IdleTimer(
    10,
    () => false,
    () => other++,
  );
  s.stop();
  await sleep(100);
  assert.equal(other, 0);
});
