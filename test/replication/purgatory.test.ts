import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../storage/clock.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { Purgatory } from '../../replication/purgatory.js';

/** Whether `p` has settled after the pending microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

test('delayed fetch wakes on a check of one of its partitions, not of another', async () => {
  const clock = new FakeClock(1000);
  const pg = new Purgatory(clock);
  const wait = pg.delayFetch(
    [
      ['a', 0],
      ['b', 1],
    ],
    5000,
  );
  assert.equal(pg.waitingFetches, 1);
  pg.checkAndComplete('a', 1);
  pg.checkAndComplete('c', 0);
  assert.equal(await settled(wait), false);
  pg.checkAndComplete('b', 1);
  assert.equal(await settled(wait), true);
  assert.equal(pg.waitingFetches, 0);
  assert.equal(clock.pendingTimers, 0, 'the deadline timer is cleared');
  // Fired once: a second check finds nothing waiting.
  pg.checkAndComplete('a', 0);
  assert.equal(pg.waitingFetches, 0);
});

test('delayed fetch answers at its deadline', async () => {
  const clock = new FakeClock(0);
  const pg = new Purgatory(clock);
  const wait = pg.delayFetch([['a', 0]], 500);
  clock.advance(499);
  assert.equal(await settled(wait), false);
  clock.advance(1);
  assert.equal(await settled(wait), true);
  assert.equal(pg.waitingFetches, 0);
  pg.checkAndComplete('a', 0);
});

test('delayed produce completes when the high watermark passes the batch', async () => {
  const clock = new FakeClock(0);
  const pg = new Purgatory(clock);
  let hwA = 5;
  let hwB = 0;
  const done = pg.delayProduce(
    [
      { topic: 'a', partition: 0, check: () => (hwA >= 10 ? ErrorCode.NONE : undefined) },
      { topic: 'b', partition: 0, check: () => (hwB >= 3 ? ErrorCode.NONE : undefined) },
    ],
    30000,
  );
  assert.equal(pg.waitingProduces, 1);
  hwA = 10;
  pg.checkAndComplete('a', 0);
  assert.equal(await settled(done), false, 'b is still short');
  hwB = 3;
  pg.checkAndComplete('b', 0);
  assert.deepEqual(await done, [ErrorCode.NONE, ErrorCode.NONE]);
  assert.equal(pg.waitingProduces, 0);
  assert.equal(clock.pendingTimers, 0);
});

test('delayed produce already satisfied answers without waiting', async () => {
  const pg = new Purgatory(new FakeClock(0));
  assert.deepEqual(await pg.delayProduce([{ topic: 'a', partition: 0, check: () => ErrorCode.NONE }], 1000), [
    ErrorCode.NONE,
  ]);
  assert.equal(pg.waitingProduces, 0);
});

test('delayed produce times out with REQUEST_TIMED_OUT for the partitions still short', async () => {
  const clock = new FakeClock(0);
  const pg = new Purgatory(clock);
  let hw = 0;
  const done = pg.delayProduce(
    [
      { topic: 'a', partition: 0, check: () => (hw >= 1 ? ErrorCode.NONE : undefined) },
      { topic: 'a', partition: 1, check: () => undefined },
    ],
    1000,
  );
  hw = 1;
  pg.checkAndComplete('a', 0);
  clock.advance(999);
  assert.equal(await settled(done), false);
  clock.advance(1);
  assert.deepEqual(await done, [ErrorCode.NONE, ErrorCode.REQUEST_TIMED_OUT]);
  assert.equal(pg.waitingProduces, 0);
});

test('a produce check that fails for good settles its entry with that error', async () => {
  const clock = new FakeClock(0);
  const pg = new Purgatory(clock);
  let gone = false;
  const done = pg.delayProduce(
    [{ topic: 'a', partition: 0, check: () => (gone ? ErrorCode.NOT_LEADER_OR_FOLLOWER : undefined) }],
    1000,
  );
  gone = true;
  pg.checkAndComplete('a', 0);
  assert.deepEqual(await done, [ErrorCode.NOT_LEADER_OR_FOLLOWER]);
});

test('wakeAll releases every fetch and settles every produce', async () => {
  const clock = new FakeClock(0);
  const pg = new Purgatory(clock);
  const f = pg.delayFetch([['a', 0]], 60000);
  const p = pg.delayProduce([{ topic: 'a', partition: 0, check: () => undefined }], 60000);
  pg.wakeAll();
  assert.equal(await settled(f), true);
  assert.deepEqual(await p, [ErrorCode.REQUEST_TIMED_OUT]);
  assert.equal(pg.waitingFetches + pg.waitingProduces, 0);
  assert.equal(clock.pendingTimers, 0);
});
