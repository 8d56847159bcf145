import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { joinAndSync, joinGroup, leaveGroup, heartbeat } from '../../helpers/group-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({ config: { 'group.initial.rebalance.delay.ms': 0 } });

test('v0-2: the single member leaves; the group becomes Empty with the next generation', async () => {
  for (let v = 0; v <= 2; v++) {
    const groupId = `lg-${v}`;
    const { memberId } = await joinAndSync(env.client, { join: 2, sync: 1 }, groupId);
    assert.equal(
      (await leaveGroup(env.client, v, { groupId, memberId: 'ghost' })).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal((await leaveGroup(env.client, v, { groupId, memberId })).errorCode, 0);
    const g = env.broker.broker.groups.groups.get(groupId)!;
    assert.equal(g.state, 'Empty');
    assert.equal(g.generation, 2);
    assert.equal(
      (await heartbeat(env.client, 1, { groupId, memberId, generationId: 1 })).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  }
  assert.equal(
    (await leaveGroup(env.client, 1, { groupId: 'no-group', memberId: 'x' })).errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
});

test('v3-5: a batch of members, each with its own error; static members by instance id', async () => {
  for (let v = 3; v <= 5; v++) {
    const groupId = `lgb-${v}`;
    let j = await joinGroup(env.client, 5, { groupId, groupInstanceId: 'inst-1' });
    assert.equal(j.errorCode, 0, 'static members skip MEMBER_ID_REQUIRED');
    const r = await leaveGroup(env.client, v, {
      groupId,
      members: [
        { memberId: 'stale-id', groupInstanceId: 'inst-1', reason: null },
        { memberId: 'ghost', groupInstanceId: null, reason: null },
        { memberId: j.memberId, groupInstanceId: 'inst-1', reason: 'bye' },
      ],
    });
    assert.equal(r.errorCode, 0);
    assert.deepEqual(
      r.members.map((m) => [m.memberId, m.groupInstanceId, m.errorCode]),
      [
        ['stale-id', 'inst-1', ErrorCode.FENCED_INSTANCE_ID],
        ['ghost', null, ErrorCode.UNKNOWN_MEMBER_ID],
        [j.memberId, 'inst-1', 0],
      ],
    );
    assert.equal(env.broker.broker.groups.groups.get(groupId)!.state, 'Empty');
    j = await joinGroup(env.client, 5, { groupId, groupInstanceId: 'inst-1' });
    assert.equal(j.errorCode, 0);
  }
});
