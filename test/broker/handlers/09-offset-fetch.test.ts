import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { commit, fetchCommitted } from '../../helpers/group-client.js';

const env = useBrokerAndClient({
  config: { 'offsets.topic.num.partitions': 2 },
  topics: [
    { name: 'of-a', partitions: 3 },
    { name: 'of-b', partitions: 1 },
  ],
  setup: async (_b, c) => {
    const p = (i: number, o: bigint) => ({
      partitionIndex: i,
      committedOffset: o,
      committedLeaderEpoch: -1,
      committedMetadata: null,
      commitTimestamp: -1n,
    });
    for (const g of ['g1', 'g2']) {
      await commit(c, 8, {
        groupId: g,
        generationIdOrMemberEpoch: -1,
        topics: [
          { name: 'of-a', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [p(0, 1n), p(2, 3n)] },
          { name: 'of-b', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [p(0, g === 'g1' ? 7n : 8n)] },
        ],
      });
    }
  },
});

test('v2-7: null topics = every committed partition; unknown group → nothing, no error', async () => {
  for (let v = 2; v <= 7; v++) {
    const f = await fetchCommitted(env.client, v, { groupId: 'g1', topics: null });
    assert.equal(f.errorCode, 0);
    const flat = f.topics
      .flatMap((t) => t.partitions.map((p) => `${t.name}/${p.partitionIndex}=${p.committedOffset}`))
      .sort();
    assert.deepEqual(flat, ['of-a/0=1', 'of-a/2=3', 'of-b/0=7'], `v${v}`);
    const none = await fetchCommitted(env.client, v, { groupId: 'nobody', topics: null });
    assert.deepEqual(none.topics, []);
  }
});

test('v0-1: listed partitions only; missing ones answer -1', async () => {
  for (let v = 0; v <= 1; v++) {
    const f = await fetchCommitted(env.client, v, {
      groupId: 'g1',
      topics: [{ name: 'of-a', partitionIndexes: [1, 2] }],
    });
    assert.deepEqual(
      f.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.errorCode]),
      [
        [1, -1n, 0],
        [2, 3n, 0],
      ],
    );
  }
});

test('v8-9: several groups in one request, each with its own topics', async () => {
  for (let v = 8; v <= 9; v++) {
    const f = await fetchCommitted(env.client, v, {
      groups: [
        {
          groupId: 'g1',
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: 'of-b', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionIndexes: [0] }],
        },
        { groupId: 'g2', memberId: null, memberEpoch: -1, topics: null },
        {
          groupId: 'g3',
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: 'of-a', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionIndexes: [0] }],
        },
      ],
    });
    assert.deepEqual(
      f.groups.map((g) => g.groupId),
      ['g1', 'g2', 'g3'],
    );
    assert.equal(f.groups[0]!.topics[0]!.partitions[0]!.committedOffset, 7n);
    assert.equal(f.groups[1]!.topics.flatMap((t) => t.partitions).length, 3);
    assert.equal(f.groups[2]!.topics[0]!.partitions[0]!.committedOffset, -1n);
    assert.ok(f.groups.every((g) => g.errorCode === 0));
  }
});
