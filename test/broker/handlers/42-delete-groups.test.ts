import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { commit, fetchCommitted, joinAndSync } from '../../helpers/group-client.js';
import {
  defaultDeleteGroupsRequest,
  encodeDeleteGroupsRequest,
} from '../../../protocol/generated/delete-groups-request.js';
import { decodeDeleteGroupsResponse } from '../../../protocol/generated/delete-groups-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({
  config: { 'group.initial.rebalance.delay.ms': 0 },
  topics: [{ name: 'dt', partitions: 1 }],
});

const del = (v: number, groupsNames: string[]) =>
  call(env.client, 42, v, encodeDeleteGroupsRequest, decodeDeleteGroupsResponse, {
    ...defaultDeleteGroupsRequest(),
    groupsNames,
  });
const commitOne = (groupId: string) =>
  commit(env.client, 2, {
    groupId,
    generationIdOrMemberEpoch: -1,
    topics: [
      {
        name: 'dt',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 4n,
            committedLeaderEpoch: -1,
            committedMetadata: null,
            commitTimestamp: -1n,
          },
        ],
      },
    ],
  });

test('v0-2: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, deletion of an empty group and its offsets (durable)', async () => {
  await joinAndSync(env.client, { join: 5, sync: 3 }, 'busy');
  for (let v = 0; v <= 2; v++) {
    await commitOne(`gone-${v}`);
    const r = await del(v, [`gone-${v}`, 'busy', 'never']);
    assert.deepEqual(
      r.results.map((x) => [x.groupId, x.errorCode]),
      [
        [`gone-${v}`, 0],
        ['busy', ErrorCode.NON_EMPTY_GROUP],
        ['never', ErrorCode.GROUP_ID_NOT_FOUND],
      ],
    );
    const f = await fetchCommitted(env.client, 3, { groupId: `gone-${v}`, topics: null });
    assert.deepEqual(f.topics, []);
  }
  // The tombstones survive a restart on the same data directory.
  await commitOne('kept');
  await env.restart();
  assert.equal(env.broker.broker.groups.groups.has('gone-0'), false);
  assert.equal(env.broker.broker.groups.groups.get('kept')!.offsets.get('dt')!.get(0)!.offset, 4);
});
