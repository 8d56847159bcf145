import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { joinGroup, syncGroup, heartbeat, SUB } from '../../helpers/group-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({ config: { 'group.initial.rebalance.delay.ms': 0 } });

test('JoinGroup v0-9 + SyncGroup: a one-member group gets generation 1 and its own assignment back', async () => {
  for (let v = 0; v <= 9; v++) {
    const groupId = `jg-${v}`;
    let j = await joinGroup(env.client, v, { groupId });
    if (v >= 4) {
      assert.equal(j.errorCode, ErrorCode.MEMBER_ID_REQUIRED, `v${v}`);
      assert.match(j.memberId, /-[0-9a-f-]{36}$/);
      j = await joinGroup(env.client, v, { groupId, memberId: j.memberId });
    }
    assert.equal(j.errorCode, 0, `v${v}`);
    assert.equal(j.generationId, 1);
    assert.equal(j.leader, j.memberId);
    assert.equal(j.protocolName, 'range');
    if (v >= 7) assert.equal(j.protocolType, 'consumer');
    assert.deepEqual(
      j.members.map((m) => [m.memberId, m.metadata]),
      [[j.memberId, SUB]],
    );
    const sv = Math.min(v, 5);
    const s = await syncGroup(env.client, sv, {
      groupId,
      generationId: 1,
      memberId: j.memberId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: j.memberId, assignment: Buffer.from(`a${v}`) }],
    });
    assert.equal(s.errorCode, 0);
    assert.deepEqual(s.assignment, Buffer.from(`a${v}`));
    if (sv >= 5) assert.equal(s.protocolName, 'range');
    const hv = Math.min(v, 4);
    assert.equal((await heartbeat(env.client, hv, { groupId, generationId: 1, memberId: j.memberId })).errorCode, 0);
    assert.equal(env.broker.broker.groups.groups.get(groupId)!.state, 'Stable');
  }
});

test('errors: INVALID_SESSION_TIMEOUT, UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL, INVALID_GROUP_ID', async () => {
  assert.equal(
    (await joinGroup(env.client, 5, { groupId: 'e', sessionTimeoutMs: 10 })).errorCode,
    ErrorCode.INVALID_SESSION_TIMEOUT,
  );
  assert.equal(
    (await joinGroup(env.client, 5, { groupId: 'e', sessionTimeoutMs: 2_000_000 })).errorCode,
    ErrorCode.INVALID_SESSION_TIMEOUT,
  );
  assert.equal(
    (await joinGroup(env.client, 5, { groupId: 'e', memberId: 'ghost' })).errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  assert.equal((await joinGroup(env.client, 2, { groupId: '' })).errorCode, ErrorCode.INVALID_GROUP_ID);
  const j = await joinGroup(env.client, 2, { groupId: 'e' });
  assert.equal(j.errorCode, 0);
  const bad = await joinGroup(env.client, 6, { groupId: 'e', protocols: [{ name: 'other', metadata: SUB }] });
  assert.equal(bad.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(bad.protocolName, '');
  const bad7 = await joinGroup(env.client, 7, { groupId: 'e', protocolType: 'connect' });
  assert.equal(bad7.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(bad7.protocolName, null);
});

test('two members on two connections: the join waits for both; a stale generation is refused', async () => {
  const c2 = await RawClient.connect(env.broker.port);
  try {
    const groupId = 'pair';
    const a1 = await joinGroup(env.client, 3, { groupId });
    assert.equal(a1.generationId, 1);
    await syncGroup(env.client, 3, { groupId, generationId: 1, memberId: a1.memberId, assignments: [] });
    // A second member joins: the first learns of the rebalance from its heartbeat and rejoins.
    const bJoin = joinGroup(c2, 3, { groupId });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      (await heartbeat(env.client, 3, { groupId, generationId: 1, memberId: a1.memberId })).errorCode,
      ErrorCode.REBALANCE_IN_PROGRESS,
    );
    const [a2, b2] = await Promise.all([joinGroup(env.client, 3, { groupId, memberId: a1.memberId }), bJoin]);
    assert.equal(a2.generationId, 2);
    assert.equal(b2.generationId, 2);
    assert.equal(a2.leader, a1.memberId);
    assert.equal(a2.members.length, 2);
    assert.equal(b2.members.length, 0);
    const follower = syncGroup(c2, 3, { groupId, generationId: 2, memberId: b2.memberId, assignments: [] });
    assert.equal(
      (await syncGroup(env.client, 3, { groupId, generationId: 1, memberId: a1.memberId, assignments: [] })).errorCode,
      ErrorCode.ILLEGAL_GENERATION,
    );
    const lead = await syncGroup(env.client, 3, {
      groupId,
      generationId: 2,
      memberId: a1.memberId,
      assignments: [
        { memberId: a1.memberId, assignment: Buffer.from('A') },
        { memberId: b2.memberId, assignment: Buffer.from('B') },
      ],
    });
    assert.deepEqual(lead.assignment, Buffer.from('A'));
    assert.deepEqual((await follower).assignment, Buffer.from('B'));
    assert.equal(
      (await heartbeat(c2, 0, { groupId, generationId: 1, memberId: b2.memberId })).errorCode,
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal(
      (await heartbeat(c2, 0, { groupId, generationId: 2, memberId: 'nobody' })).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  } finally {
    c2.close();
  }
});
