/**
 * CatchUpAfterLoss (replication/metadata/catch-up-after-loss.ts) and EtcdSession.expireIfDue, on a real etcd
 * and a clock whose time can move without its timers firing (as for a process resumed after SIGSTOP, which
 * handles its queued I/O before its overdue timers). Every wait is bounded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectEtcd, type EtcdConnection } from '../../../replication/etcd/connection.js';
import { txn } from '../../../replication/etcd/kv.js';
import { EtcdSession } from '../../../replication/etcd/session.js';
import { CATCH_UP_AFTER_LOSS_MS, CatchUpAfterLoss } from '../../../replication/metadata/catch-up-after-loss.js';
import { type Clock, FakeClock } from '../../../storage/clock.js';
import { startEtcd, type EtcdProcess } from '../../helpers/etcd.js';

let etcd: EtcdProcess;
const conns: EtcdConnection[] = [];
const sessions: EtcdSession[] = [];

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  for (const s of sessions) await s.close({ revoke: false });
  for (const c of conns) c.close();
  await etcd?.cleanup();
});

/** A FakeClock whose now() can jump ahead (`stop(ms)`) while its timers stay unfired, as in a stopped process. */
function stoppableClock(): { clock: Clock; fake: FakeClock; stop: (ms: number) => void } {
  const fake = new FakeClock(1_000_000);
  let skew = 0;
  const clock: Clock = {
    now: () => fake.now() + skew,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (h) => fake.clearTimeout(h),
  };
  return { clock, fake, stop: (ms) => (skew += ms) };
}

async function startSession(clock: Clock): Promise<{ c: EtcdConnection; s: EtcdSession }> {
  const c = connectEtcd({ endpoints: [etcd.endpoint], cluster: 'catch-up-after-loss', callTimeoutMs: 5000 });
  conns.push(c);
  const s = new EtcdSession(c, { ttlMs: 2000, retryMs: 100, clock });
  sessions.push(s);
  await s.start();
  return { c, s };
}

test('an overdue lease deadline is a loss at once, before the expiry timer runs', async () => {
  const { clock, fake, stop } = stoppableClock();
  const { s } = await startSession(clock);
  const lost: string[] = [];
  s.onLost((e) => lost.push(e.message));
  assert.equal(s.expireIfDue(), false, 'alive within the TTL');
  assert.equal(s.losses, 0);
  stop(5000);
  assert.ok(fake.pendingTimers > 0, 'the expiry timer has not run');
  assert.equal(s.expireIfDue(), true);
  assert.equal(s.state, 'lost');
  assert.equal(s.losses, 1);
  assert.deepEqual(lost, ['no keep-alive answered within the 2 s TTL']);
  assert.equal(s.expireIfDue(), true, 'still lost; no second loss');
  assert.equal(s.losses, 1);
});

test('after a loss: one shared catch-up to the newest revision under the prefix, then no wait', async () => {
  const { clock, fake, stop } = stoppableClock();
  const { c, s } = await startSession(clock);
  const asked: number[] = [];
  let deliver!: () => void;
  const cu = new CatchUpAfterLoss(
    s,
    (revision) => {
      asked.push(revision);
      return new Promise<void>((resolve) => (deliver = resolve));
    },
    clock,
  );
  assert.equal(cu.catchUpIfStale(), undefined, 'no loss: nothing to wait for');

  const put = await txn(c, { compare: [], success: [{ put: c.key('topics', 'x'), value: '{}' }] });
  stop(5000); // stopped past the TTL; resumed: the first request asks before the expiry timer ran
  const first = cu.catchUpIfStale();
  assert.ok(first, 'a loss: wait');
  assert.equal(cu.catchUpIfStale(), first, 'every caller shares the one catch-up');
  let settled = false;
  void first.then(() => (settled = true));
  for (let i = 0; i < 200 && asked.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(asked, [put.revision], 'it waits for the newest revision under the prefix');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(settled, false, 'not before that revision is delivered');
  deliver();
  await first;
  assert.equal(cu.catchUpIfStale(), undefined, 'caught up: no wait, though the lease is not back yet');

  // The session recovers (a new lease on the fake clock); a second loss whose catch-up never completes.
  for (let i = 0; i < 200 && s.state !== 'alive'; i++) await fake.advanceAndSettle(100);
  assert.equal(s.state, 'alive');
  stop(5000);
  const second = cu.catchUpIfStale();
  assert.ok(second, 'the next loss: wait again');
  for (let i = 0; i < 200 && asked.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(asked.length, 2);
  fake.advance(CATCH_UP_AFTER_LOSS_MS); // never delivered: given up after the bound
  await second;
  assert.equal(cu.catchUpIfStale(), undefined, 'given up: the node serves on with what it knows');
});
