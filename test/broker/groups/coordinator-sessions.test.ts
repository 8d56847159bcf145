/**
 * Session deadlines of classic members (coordinator.ts scheduleSession): heartbeats and commits move the
 * deadline without re-arming a timer each time, yet expiry happens exactly one session timeout after the
 * last sign of life, and a rejoin with a shorter session timeout takes effect at once (the timer armed for
 * the longer one is replaced). Fake clock, in-memory group log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../storage/clock.js';
import { GroupCoordinator, type JoinParams } from '../../../broker/groups/coordinator.js';
import { MemoryGroupLog } from '../../../broker/groups/offsets-log.js';
import { commitOffsets } from '../../../broker/groups/offsets.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const CFG = {
  initialRebalanceDelayMs: 0,
  minSessionTimeoutMs: 10,
  maxSessionTimeoutMs: 100_000,
  maxSize: 10,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 1_000_000,
};

function jp(over: Partial<JoinParams> = {}): JoinParams {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    sessionTimeoutMs: 1000,
    rebalanceTimeoutMs: 1000,
    clientId: 'cli',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: false,
    ...over,
  };
}

/** One member joined and synced (Stable); returns its id and generation. */
async function stableOne(
  c: GroupCoordinator,
  over: Partial<JoinParams> = {},
): Promise<{ memberId: string; generationId: number }> {
  const j = await c.join(jp(over));
  assert.equal(j.errorCode, ErrorCode.NONE);
  const s = await c.sync({
    groupId: 'g',
    generationId: j.generationId,
    memberId: j.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: j.memberId, assignment: Buffer.from('a') }],
  });
  assert.equal(s.errorCode, ErrorCode.NONE);
  assert.equal(c.groups.get('g')!.state, 'Stable');
  return { memberId: j.memberId, generationId: j.generationId };
}

test('heartbeats and commits keep a member alive; it expires one session timeout after the last', async () => {
  const clock = new FakeClock(1_000_000);
  const c = new GroupCoordinator(CFG, clock, new MemoryGroupLog());
  const m = await stableOne(c);
  // 20 x 600 ms: far past the first timer's due time (1000 ms), alive throughout.
  for (let i = 0; i < 20; i++) {
    clock.advance(600);
    if (i % 2 === 0) assert.equal(c.heartbeat('g', m.memberId, null, m.generationId), ErrorCode.NONE);
    else {
      const codes = await commitOffsets(
        c,
        {
          groupId: 'g',
          generationId: m.generationId,
          memberId: m.memberId,
          groupInstanceId: null,
          partitions: [{ topic: 't', partition: 0, offset: i, leaderEpoch: -1, metadata: null }],
        },
        () => 1,
      );
      assert.deepEqual(codes, [ErrorCode.NONE]);
    }
  }
  assert.equal(c.groups.get('g')!.members.has(m.memberId), true);
  clock.advance(999);
  assert.equal(c.groups.get('g')!.members.has(m.memberId), true, 'still within its session');
  clock.advance(2);
  assert.equal(c.groups.get('g')!.members.has(m.memberId), false, 'expired one session timeout after the last');
  assert.equal(c.groups.get('g')!.state, 'Empty');
});

test('a rejoin with a shorter session timeout takes effect at once', async () => {
  const clock = new FakeClock(1_000_000);
  const c = new GroupCoordinator(CFG, clock, new MemoryGroupLog());
  const first = await stableOne(c, { sessionTimeoutMs: 60_000 });
  clock.advance(1000);
  const again = await stableOne(c, { memberId: first.memberId, sessionTimeoutMs: 2000 });
  assert.equal(again.memberId, first.memberId);
  clock.advance(1999);
  assert.equal(c.groups.get('g')!.members.has(first.memberId), true);
  clock.advance(2);
  assert.equal(c.groups.get('g')!.members.has(first.memberId), false, 'expired after 2 s, not 60 s');
  c.shutdown();
});
