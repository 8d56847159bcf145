import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { commit, fetchCommitted, joinAndSync } from '../../helpers/group-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({
  config: {
    'group.initial.rebalance.delay.ms': 0,
    'offsets.topic.num.partitions': 4,
    'offsets.topic.segment.bytes': 1_048_576,
  },
  topics: [{ name: 'oc', partitions: 2 }],
});

const part = (offset: bigint, metadata: string | null = 'm') => ({
  partitionIndex: 1,
  committedOffset: offset,
  committedLeaderEpoch: 4,
  committedMetadata: metadata,
  commitTimestamp: -1n,
});

test('OffsetCommit v0-9 by a simple consumer; metadata round-trips through OffsetFetch', async () => {
  for (let v = 0; v <= 9; v++) {
    const groupId = `simple-${v}`;
    const res = await commit(env.client, v, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: 'oc', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [part(BigInt(10 + v), `meta-${v}`)] }],
    });
    assert.deepEqual(
      res.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
      [['oc', [[1, 0]]]],
      `v${v}`,
    );
    const fv = Math.min(v, 7);
    const f = await fetchCommitted(env.client, fv, { groupId, topics: [{ name: 'oc', partitionIndexes: [0, 1] }] });
    const p = f.topics[0]!.partitions;
    assert.deepEqual(
      p.map((x) => [x.partitionIndex, x.committedOffset, x.metadata, x.errorCode]),
      [
        [0, -1n, '', 0],
        [1, BigInt(10 + v), `meta-${v}`, 0],
      ],
      `v${v}`,
    );
    if (fv >= 5) assert.equal(p[1]!.committedLeaderEpoch, v >= 6 ? 4 : -1);
  }
  // The __consumer_offsets topic was created with the configured partitions and segment size, compacted.
  const t = env.broker.broker.metadata.image.topic('__consumer_offsets')!;
  assert.equal(t.partitions, 4);
  assert.equal(t.configs['cleanup.policy'], 'compact');
  assert.equal(t.configs['segment.bytes'], '1048576');
});

test('OFFSET_METADATA_TOO_LARGE, UNKNOWN_TOPIC_OR_PARTITION, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID', async () => {
  const big = await commit(env.client, 2, {
    groupId: 'err',
    generationIdOrMemberEpoch: -1,
    topics: [
      {
        name: 'oc',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [part(1n, 'x'.repeat(4097)), { ...part(1n), partitionIndex: 9 }],
      },
      { name: 'nope', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [part(1n)] },
    ],
  });
  assert.deepEqual(
    big.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)),
    [ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  const ok = await commit(env.client, 2, {
    groupId: 'err',
    generationIdOrMemberEpoch: -1,
    topics: [{ name: 'oc', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [part(1n, 'x'.repeat(4096))] }],
  });
  assert.equal(ok.topics[0]!.partitions[0]!.errorCode, 0);
  const gen = await commit(env.client, 5, {
    groupId: 'no-such-group',
    generationIdOrMemberEpoch: 3,
    memberId: 'm',
    topics: [{ name: 'oc', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [part(1n)] }],
  });
  assert.equal(gen.topics[0]!.partitions[0]!.errorCode, ErrorCode.ILLEGAL_GENERATION);

  const { memberId, generationId } = await joinAndSync(env.client, { join: 5, sync: 3 }, 'members');
  const as = (gid: number, mid: string) =>
    commit(env.client, 7, {
      groupId: 'members',
      generationIdOrMemberEpoch: gid,
      memberId: mid,
      topics: [{ name: 'oc', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [part(5n)] }],
    });
  assert.equal((await as(generationId, memberId)).topics[0]!.partitions[0]!.errorCode, 0);
  assert.equal(
    (await as(generationId + 1, memberId)).topics[0]!.partitions[0]!.errorCode,
    ErrorCode.ILLEGAL_GENERATION,
  );
  assert.equal(
    (await as(generationId, 'someone-else')).topics[0]!.partitions[0]!.errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  assert.equal((await as(-1, '')).topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});
