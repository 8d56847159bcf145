import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { kafkajsSend } from '../../helpers/kafkajs.js';
import {
  defaultOffsetForLeaderEpochRequest,
  encodeOffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochRequestOffsetForLeaderPartition,
} from '../../../protocol/generated/offset-for-leader-epoch-request.js';
import {
  decodeOffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochResponseEpochEndOffset,
} from '../../../protocol/generated/offset-for-leader-epoch-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({
  topics: [
    { name: 'ole-empty', partitions: 1 },
    { name: 'ole-data', partitions: 1 },
  ],
  setup: (b) =>
    kafkajsSend(
      b,
      'ole-data',
      Array.from({ length: 5 }, (_, i) => ({ value: String(i) })),
    ),
});

type P = Partial<OffsetForLeaderEpochRequestOffsetForLeaderPartition> & { partition: number; leaderEpoch: number };

async function ask(
  v: number,
  topic: string,
  partitions: P[],
  replicaId = -1,
): Promise<OffsetForLeaderEpochResponseEpochEndOffset[]> {
  const req = {
    ...defaultOffsetForLeaderEpochRequest(),
    replicaId,
    topics: [{ topic, partitions: partitions.map((p) => ({ currentLeaderEpoch: -1, ...p })) }],
  };
  const body = await call(
    env.client,
    23,
    v,
    encodeOffsetForLeaderEpochRequest,
    decodeOffsetForLeaderEpochResponse,
    req,
  );
  assert.equal(body.topics[0]!.topic, topic);
  return body.topics[0]!.partitions;
}

test('v0-4: epoch 0 ends at the log end offset, also before the first append', async () => {
  for (let v = 0; v <= 4; v++) {
    const [data] = await ask(v, 'ole-data', [{ partition: 0, leaderEpoch: 0 }]);
    assert.equal(data!.errorCode, 0);
    assert.equal(data!.endOffset, 5n);
    assert.equal(data!.leaderEpoch, v >= 1 ? 0 : -1, 'v0 carries no epoch');
    const [empty] = await ask(v, 'ole-empty', [{ partition: 0, leaderEpoch: 0 }]);
    assert.equal(empty!.errorCode, 0);
    assert.equal(empty!.endOffset, 0n);
  }
});

test('an epoch above all known, or -1, is UNDEFINED (-1, -1) without error', async () => {
  const res = await ask(4, 'ole-data', [
    { partition: 0, leaderEpoch: 3 },
    { partition: 0, leaderEpoch: -1 },
  ]);
  for (const p of res) {
    assert.equal(p.errorCode, 0);
    assert.equal(p.leaderEpoch, -1);
    assert.equal(p.endOffset, -1n);
  }
});

test('currentLeaderEpoch above 0 → UNKNOWN_LEADER_EPOCH (v2+); unknown partitions; followers: same', async () => {
  const [fenced, current] = await ask(2, 'ole-data', [
    { partition: 0, leaderEpoch: 0, currentLeaderEpoch: 1 },
    { partition: 0, leaderEpoch: 0, currentLeaderEpoch: 0 },
  ]);
  assert.equal(fenced!.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  assert.equal(current!.errorCode, 0);
  assert.equal(current!.endOffset, 5n);
  const [unknownPartition] = await ask(3, 'ole-data', [{ partition: 4, leaderEpoch: 0 }]);
  assert.equal(unknownPartition!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(unknownPartition!.endOffset, -1n);
  const [unknownTopic] = await ask(4, 'ole-missing', [{ partition: 0, leaderEpoch: 0 }]);
  assert.equal(unknownTopic!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const [follower] = await ask(4, 'ole-data', [{ partition: 0, leaderEpoch: 0 }], 2);
  assert.equal(follower!.endOffset, 5n);
});
