import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { commit, joinAndSync } from '../../helpers/group-client.js';
import { defaultListGroupsRequest, encodeListGroupsRequest } from '../../../protocol/generated/list-groups-request.js';
import { decodeListGroupsResponse } from '../../../protocol/generated/list-groups-response.js';

const env = useBrokerAndClient({
  config: { 'group.initial.rebalance.delay.ms': 0 },
  topics: [{ name: 'lt', partitions: 1 }],
  setup: async (_b, c) => {
    await joinAndSync(c, { join: 5, sync: 3 }, 'stable-group');
    await commit(c, 2, {
      groupId: 'simple-group',
      generationIdOrMemberEpoch: -1,
      topics: [
        {
          name: 'lt',
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 1n,
              committedLeaderEpoch: -1,
              committedMetadata: null,
              commitTimestamp: -1n,
            },
          ],
        },
      ],
    });
  },
});

const list = (v: number, over: object = {}) =>
  call(env.client, 16, v, encodeListGroupsRequest, decodeListGroupsResponse, {
    ...defaultListGroupsRequest(),
    ...over,
  });

test('v0-5 list every group; v4 filters by state; v5 by type', async () => {
  for (let v = 0; v <= 5; v++) {
    const r = await list(v);
    assert.equal(r.errorCode, 0);
    assert.deepEqual(r.groups.map((g) => [g.groupId, g.protocolType]).sort(), [
      ['simple-group', ''],
      ['stable-group', 'consumer'],
    ]);
    if (v >= 4) {
      assert.deepEqual(
        (await list(v, { statesFilter: ['stable'] })).groups.map((g) => [g.groupId, g.groupState]),
        [['stable-group', 'Stable']],
      );
      assert.deepEqual(
        (await list(v, { statesFilter: ['Empty'] })).groups.map((g) => g.groupId),
        ['simple-group'],
      );
    }
    if (v >= 5) {
      assert.equal((await list(v, { typesFilter: ['classic'] })).groups.length, 2);
      assert.equal((await list(v, { typesFilter: ['consumer'] })).groups.length, 0);
      assert.ok((await list(v)).groups.every((g) => g.groupType === 'classic'));
    }
  }
});
