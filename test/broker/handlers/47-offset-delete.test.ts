import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { commit, fetchCommitted, joinAndSync } from '../../helpers/group-client.js';
import {
  defaultOffsetDeleteRequest,
  encodeOffsetDeleteRequest,
} from '../../../protocol/generated/offset-delete-request.js';
import { decodeOffsetDeleteResponse } from '../../../protocol/generated/offset-delete-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({
  config: { 'group.initial.rebalance.delay.ms': 0 },
  topics: [
    { name: 't', partitions: 2 },
    { name: 'u', partitions: 1 },
  ],
});

const p = (i: number) => ({
  partitionIndex: i,
  committedOffset: 3n,
  committedLeaderEpoch: -1,
  committedMetadata: null,
  commitTimestamp: -1n,
});
const offDel = (groupId: string, topics: { name: string; partitions: { partitionIndex: number }[] }[]) =>
  call(env.client, 47, 0, encodeOffsetDeleteRequest, decodeOffsetDeleteResponse, {
    ...defaultOffsetDeleteRequest(),
    groupId,
    topics,
  });

test('v0: empty group offsets deleted; GROUP_ID_NOT_FOUND; GROUP_SUBSCRIBED_TO_TOPIC for a subscription', async () => {
  await commit(env.client, 2, {
    groupId: 'e',
    generationIdOrMemberEpoch: -1,
    topics: [{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [p(0), p(1)] }],
  });
  const r = await offDel('e', [{ name: 't', partitions: [{ partitionIndex: 0 }] }]);
  assert.equal(r.errorCode, 0);
  assert.deepEqual(r.topics[0]!.partitions, [{ partitionIndex: 0, errorCode: 0 }]);
  const f = await fetchCommitted(env.client, 3, { groupId: 'e', topics: null });
  assert.deepEqual(
    f.topics.flatMap((t) => t.partitions.map((x) => x.partitionIndex)),
    [1],
  );
  assert.equal(
    (await offDel('missing', [{ name: 't', partitions: [{ partitionIndex: 0 }] }])).errorCode,
    ErrorCode.GROUP_ID_NOT_FOUND,
  );

  // The helper's member subscribes to topic "t".
  const { memberId, generationId } = await joinAndSync(env.client, { join: 5, sync: 3 }, 'live');
  await commit(env.client, 2, {
    groupId: 'live',
    generationIdOrMemberEpoch: generationId,
    memberId,
    topics: [
      { name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [p(0)] },
      { name: 'u', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [p(0)] },
    ],
  });
  const live = await offDel('live', [
    { name: 't', partitions: [{ partitionIndex: 0 }] },
    { name: 'u', partitions: [{ partitionIndex: 0 }] },
  ]);
  assert.equal(live.errorCode, 0);
  assert.deepEqual(
    live.topics.map((t) => [t.name, t.partitions[0]!.errorCode]),
    [
      ['t', ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
      ['u', 0],
    ],
  );
  const after = await fetchCommitted(env.client, 3, { groupId: 'live', topics: null });
  assert.deepEqual(
    after.topics.map((t) => t.name),
    ['t'],
  );
});
