import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, type TimerHandle } from '../../storage/clock.js';
import { DeadlineQueue, SLICE } from '../../replication/deadline-queue.js';

/** A clock whose timers longer than `earlyMs` come back that much early (as real ones may, by Date.now()). */
class EarlyClock extends FakeClock {
  constructor(private readonly earlyMs: number) {
    super(0);
  }
  override setTimeout(fn: () => void, ms: number): TimerHandle {
    return super.setTimeout(fn, ms > this.earlyMs ? ms - this.earlyMs : ms);
  }
}

test('entries fire at their deadline, in deadline order, on one clock timer', () => {
  const clock = new FakeClock(1000);
  const q = new DeadlineQueue(clock);
  const fired: string[] = [];
  q.add(500, () => fired.push('a'));
  q.add(200, () => fired.push('b'));
  q.add(500, () => fired.push('c'));
  q.add(300.2, () => fired.push('d'));
  assert.equal(clock.pendingTimers, 1, 'one timer for every entry');
  assert.equal(q.size, 4);
  clock.advance(199);
  assert.equal(fired.length, 0);
  clock.advance(1);
  assert.deepEqual(fired, ['b']);
  clock.advance(100);
  assert.deepEqual(fired, ['b'], 'a fractional deadline is rounded up, never early');
  clock.advance(1);
  assert.deepEqual(fired, ['b', 'd']);
  clock.advance(199);
  assert.deepEqual(fired, ['b', 'd', 'a', 'c']);
  assert.equal(q.size, 0);
  assert.equal(clock.pendingTimers, 0, 'no timer once nothing waits');
});

test('a cancelled entry never fires; cancelling the last one clears the timer', () => {
  const clock = new FakeClock(0);
  const q = new DeadlineQueue(clock);
  const fired: string[] = [];
  const a = q.add(100, () => fired.push('a'));
  const b = q.add(50, () => fired.push('b'));
  q.cancel(b);
  q.cancel(b);
  assert.equal(q.size, 1);
  clock.advance(60);
  assert.equal(fired.length, 0);
  q.cancel(a);
  assert.equal(clock.pendingTimers, 0);
  clock.advance(100);
  assert.equal(fired.length, 0);
  // Fired entries are done: cancelling one later changes nothing.
  const c = q.add(10, () => fired.push('c'));
  clock.advance(10);
  q.cancel(c);
  assert.deepEqual(fired, ['c']);
  assert.equal(q.size, 0);
});

test('a timer that comes back early re-arms: nothing fires before its deadline', () => {
  const clock = new EarlyClock(3);
  const q = new DeadlineQueue(clock);
  let fired = 0;
  q.add(500, () => fired++);
  clock.advance(497);
  assert.equal(fired, 0);
  assert.equal(clock.pendingTimers, 1, 're-armed for what is left');
  clock.advance(3);
  assert.equal(fired, 1);
});

test('entries due together fire SLICE per turn, the rest in deferred turns', () => {
  const clock = new FakeClock(0);
  const turns: (() => void)[] = [];
  const q = new DeadlineQueue(clock, (fn) => turns.push(fn));
  const total = SLICE * 2 + 3;
  let fired = 0;
  const entries = Array.from({ length: total }, () => q.add(100, () => fired++));
  clock.advance(100);
  assert.equal(fired, SLICE);
  assert.equal(turns.length, 1, 'one deferred turn at a time');
  // An entry cancelled while it waits for its turn does not fire, and does not count in the slice.
  q.cancel(entries[SLICE]!);
  turns.shift()!();
  assert.equal(fired, SLICE * 2);
  turns.shift()!();
  assert.equal(fired, total - 1);
  assert.equal(turns.length, 0);
  assert.equal(q.size, 0);
  assert.equal(clock.pendingTimers, 0);
});

test('an entry added while others fire is kept for its own deadline', () => {
  const clock = new FakeClock(0);
  const q = new DeadlineQueue(clock);
  const fired: string[] = [];
  q.add(10, () => {
    fired.push('a');
    q.add(10, () => fired.push('b'));
  });
  clock.advance(10);
  assert.deepEqual(fired, ['a']);
  assert.equal(q.size, 1);
  clock.advance(10);
  assert.deepEqual(fired, ['a', 'b']);
});
