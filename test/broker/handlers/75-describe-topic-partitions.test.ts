import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  defaultDescribeTopicPartitionsRequest,
  encodeDescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsRequestCursor,
} from '../../../protocol/generated/describe-topic-partitions-request.js';
import {
  decodeDescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponse,
} from '../../../protocol/generated/describe-topic-partitions-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({
  topics: [
    { name: 'dtp-b', partitions: 3 },
    { name: 'dtp-a', partitions: 2 },
    { name: 'dtp-c', partitions: 1 },
  ],
});

async function describe(
  names: string[],
  limit: number,
  cursor: DescribeTopicPartitionsRequestCursor | null = null,
): Promise<DescribeTopicPartitionsResponse> {
  const req = {
    ...defaultDescribeTopicPartitionsRequest(),
    topics: names.map((name) => ({ name })),
    responsePartitionLimit: limit,
    cursor,
  };
  return call(env.client, 75, 0, encodeDescribeTopicPartitionsRequest, decodeDescribeTopicPartitionsResponse, req);
}

const pairs = (r: DescribeTopicPartitionsResponse): [string | null, number[]][] =>
  r.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]);

test('listed topics in name order with partition details; unknown and illegal names get errors', async () => {
  const node = env.broker.broker.started.nodeId;
  const res = await describe(['dtp-b', 'dtp-missing', 'dtp-a', 'bad name'], 2000);
  assert.deepEqual(
    res.topics.map((t) => [t.name, t.errorCode]),
    [
      ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['dtp-a', 0],
      ['dtp-b', 0],
      ['dtp-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ],
  );
  const a = res.topics[1]!;
  assert.equal(a.topicId, env.broker.broker.metadata.image.topic('dtp-a')!.topicId);
  assert.equal(a.isInternal, false);
  assert.deepEqual(a.partitions[1], {
    errorCode: 0,
    partitionIndex: 1,
    leaderId: node,
    leaderEpoch: 0,
    replicaNodes: [node],
    isrNodes: [node],
    eligibleLeaderReplicas: [],
    lastKnownElr: [],
    offlineReplicas: [],
  });
  assert.equal(res.nextCursor, null);
});

test('an empty list describes every topic; pages follow the cursor to the end', async () => {
  const pages: [string | null, number[]][][] = [];
  let cursor: DescribeTopicPartitionsRequestCursor | null = null;
  for (let i = 0; i < 10; i++) {
    const res = await describe([], 2, cursor);
    pages.push(pairs(res));
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  assert.deepEqual(pages, [
    [['dtp-a', [0, 1]]],
    [['dtp-b', [0, 1]]],
    [
      ['dtp-b', [2]],
      ['dtp-c', [0]],
    ],
  ]);
});

test('cursor details: the exact limit points at the next topic; a cursor topic must be listed', async () => {
  const first = await describe(['dtp-a', 'dtp-c'], 2);
  assert.deepEqual(pairs(first), [['dtp-a', [0, 1]]]);
  assert.deepEqual(first.nextCursor, { topicName: 'dtp-c', partitionIndex: 0 });
  const second = await describe(['dtp-a', 'dtp-c'], 2, first.nextCursor);
  assert.deepEqual(pairs(second), [['dtp-c', [0]]]);
  assert.equal(second.nextCursor, null);
  const mid = await describe(['dtp-b'], 1, { topicName: 'dtp-b', partitionIndex: 1 });
  assert.deepEqual(pairs(mid), [['dtp-b', [1]]]);
  assert.deepEqual(mid.nextCursor, { topicName: 'dtp-b', partitionIndex: 2 });
  const bad = await describe(['dtp-a'], 10, { topicName: 'dtp-b', partitionIndex: 0 });
  assert.deepEqual(
    bad.topics.map((t) => [t.name, t.errorCode]),
    [['dtp-a', ErrorCode.INVALID_REQUEST]],
  );
  const zero = await describe(['dtp-c'], 0);
  assert.deepEqual(pairs(zero), [['dtp-c', [0]]], 'a limit below 1 counts as 1');
});
