/**
 * Session deadlines of classic members (rebalance.ts scheduleSession): heartbeats and commits move the
 * deadline without re-arming a timer each time, yet expiry happens exactly one session timeout after the
 * last sign of life, and a rejoin with a shorter session timeout takes effect at once (the timer armed for
 * the longer one is replaced). Fake clock, in-memory group log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commitOffsets } from '../../../broker/groups/offsets.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { coordinatorSetup, stableOne } from '../../helpers/classic-groups.js';

const setup = () => coordinatorSetup({ offsetsRetentionCheckIntervalMs: 1_000_000 });

test('heartbeats and commits keep a member alive; it expires one session timeout after the last', async () => {
  const { c, clock } = setup();
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
  const { c, clock } = setup();
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
