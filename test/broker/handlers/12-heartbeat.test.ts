import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { joinAndSync, joinGroup, heartbeat } from '../../helpers/group-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({ config: { 'group.initial.rebalance.delay.ms': 0 } });

test('v0-4: NONE, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID; v3+ FENCED_INSTANCE_ID for a replaced static', async () => {
  const groupId = 'hb';
  const { memberId, generationId } = await joinAndSync(env.client, { join: 1, sync: 0 }, groupId);
  for (let v = 0; v <= 4; v++) {
    assert.equal((await heartbeat(env.client, v, { groupId, memberId, generationId })).errorCode, 0);
    assert.equal(
      (await heartbeat(env.client, v, { groupId, memberId, generationId: generationId + 5 })).errorCode,
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal(
      (await heartbeat(env.client, v, { groupId, memberId: 'x', generationId })).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal(
      (await heartbeat(env.client, v, { groupId: 'unknown-group', memberId, generationId })).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  }
  const s1 = await joinGroup(env.client, 5, { groupId: 'hb-static', groupInstanceId: 'i1' });
  const s2 = await joinGroup(env.client, 5, { groupId: 'hb-static', groupInstanceId: 'i1' });
  assert.notEqual(s1.memberId, s2.memberId);
  for (let v = 3; v <= 4; v++) {
    assert.equal(
      (
        await heartbeat(env.client, v, {
          groupId: 'hb-static',
          memberId: s1.memberId,
          generationId: s1.generationId,
          groupInstanceId: 'i1',
        })
      ).errorCode,
      ErrorCode.FENCED_INSTANCE_ID,
    );
  }
});
