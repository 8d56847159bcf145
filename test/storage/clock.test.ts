import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, SystemClock } from '../../storage/clock.js';

test('FakeClock fires due timers in order, including ones armed while firing', () => {
  const c = new FakeClock(1000);
  const fired: string[] = [];
  c.setTimeout(() => fired.push('b@30'), 30);
  c.setTimeout(() => {
    fired.push('a@10');
    c.setTimeout(() => fired.push('c@25'), 15);
  }, 10);
  const cancelled = c.setTimeout(() => fired.push('never'), 20);
  c.clearTimeout(cancelled);
  c.advance(9);
  assert.deepEqual(fired, []);
  assert.equal(c.now(), 1009);
  c.advance(100);
  assert.deepEqual(fired, ['a@10', 'c@25', 'b@30']);
  assert.equal(c.now(), 1109);
  assert.equal(c.pendingTimers, 0);
});

test('FakeClock timer callbacks see the due time as now()', () => {
  const c = new FakeClock(0);
  let seen = -1;
  c.setTimeout(() => (seen = c.now()), 50);
  c.advance(200);
  assert.equal(seen, 50);
  assert.throws(() => c.advance(-1));
});

test('SystemClock timers fire and can be cleared', async () => {
  const c = new SystemClock();
  assert.ok(Math.abs(c.now() - Date.now()) < 1000);
  let fired = false;
  const h = c.setTimeout(() => (fired = true), 1);
  c.clearTimeout(h);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(fired, false);
  const keepAlive = setTimeout(() => undefined, 1000); // SystemClock timers are unref'd
  await new Promise<void>((r) => c.setTimeout(r, 1));
  clearTimeout(keepAlive);
});
