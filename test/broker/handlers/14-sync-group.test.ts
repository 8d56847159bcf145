import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { joinGroup, syncGroup } from '../../helpers/group-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({ config: { 'group.initial.rebalance.delay.ms': 0 } });

test('v0-5: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION; v5 INCONSISTENT_GROUP_PROTOCOL; Stable: assignment', async () => {
  for (let v = 0; v <= 5; v++) {
    const groupId = `sg-${v}`;
    const j = await joinGroup(env.client, 2, { groupId });
    assert.equal(
      (await syncGroup(env.client, v, { groupId: 'nope', generationId: 1, memberId: j.memberId })).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal(
      (await syncGroup(env.client, v, { groupId, generationId: 1, memberId: 'ghost' })).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal(
      (await syncGroup(env.client, v, { groupId, generationId: 9, memberId: j.memberId })).errorCode,
      ErrorCode.ILLEGAL_GENERATION,
    );
    if (v >= 5) {
      assert.equal(
        (
          await syncGroup(env.client, v, {
            groupId,
            generationId: 1,
            memberId: j.memberId,
            protocolType: 'consumer',
            protocolName: 'other',
          })
        ).errorCode,
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
      );
    }
    const s = await syncGroup(env.client, v, {
      groupId,
      generationId: 1,
      memberId: j.memberId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: j.memberId, assignment: Buffer.from('x') }],
    });
    assert.equal(s.errorCode, 0);
    assert.deepEqual(s.assignment, Buffer.from('x'));
    if (v >= 5) assert.deepEqual([s.protocolType, s.protocolName], ['consumer', 'range']);
    const again = await syncGroup(env.client, v, { groupId, generationId: 1, memberId: j.memberId, assignments: [] });
    assert.deepEqual(again.assignment, Buffer.from('x'), 'Stable: the stored assignment');
  }
});
