import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { joinAndSync, joinGroup, SUB } from '../../helpers/group-client.js';
import {
  defaultDescribeGroupsRequest,
  encodeDescribeGroupsRequest,
} from '../../../protocol/generated/describe-groups-request.js';
import { decodeDescribeGroupsResponse } from '../../../protocol/generated/describe-groups-response.js';

const env = useBrokerAndClient({ config: { 'group.initial.rebalance.delay.ms': 0 } });

test('v0-5: Stable group with members, metadata and assignment; unknown group is Dead', async () => {
  const { memberId } = await joinAndSync(env.client, { join: 5, sync: 3 }, 'dg', Buffer.from('assigned'));
  await joinGroup(env.client, 5, { groupId: 'dg-static', groupInstanceId: 'inst' });
  for (let v = 0; v <= 5; v++) {
    const r = await call(env.client, 15, v, encodeDescribeGroupsRequest, decodeDescribeGroupsResponse, {
      ...defaultDescribeGroupsRequest(),
      groups: ['dg', 'missing', 'dg-static'],
    });
    const [g, missing, s] = r.groups;
    assert.equal(g!.errorCode, 0);
    assert.equal(g!.groupState, 'Stable');
    assert.equal(g!.protocolType, 'consumer');
    assert.equal(g!.protocolData, 'range');
    assert.equal(g!.members.length, 1);
    assert.equal(g!.members[0]!.memberId, memberId);
    assert.equal(g!.members[0]!.clientHost.includes('127.0.0.1'), true);
    assert.deepEqual(g!.members[0]!.memberMetadata, SUB);
    assert.deepEqual(g!.members[0]!.memberAssignment, Buffer.from('assigned'));
    assert.deepEqual([missing!.errorCode, missing!.groupState, missing!.members.length], [0, 'Dead', 0]);
    assert.equal(s!.groupState, 'CompletingRebalance');
    assert.equal(s!.protocolData, '');
    if (v >= 4) assert.equal(s!.members[0]!.groupInstanceId, 'inst');
  }
});

test('v6: an unknown group gets GROUP_ID_NOT_FOUND with a message (KIP-1043); a known one is described', async () => {
  await joinAndSync(env.client, { join: 9, sync: 5 }, 'dg6', Buffer.from('a6'));
  const r = await call(env.client, 15, 6, encodeDescribeGroupsRequest, decodeDescribeGroupsResponse, {
    ...defaultDescribeGroupsRequest(),
    groups: ['dg6', 'missing6'],
  });
  assert.deepEqual([r.groups[0]!.errorCode, r.groups[0]!.groupState, r.groups[0]!.errorMessage], [0, 'Stable', null]);
  assert.equal(r.groups[1]!.errorCode, 69 /* GROUP_ID_NOT_FOUND */);
  assert.match(r.groups[1]!.errorMessage ?? '', /missing6/);
});
