import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  encodeAlterPartitionReassignmentsRequest,
  type AlterPartitionReassignmentsRequestReassignablePartition,
} from '../../../protocol/generated/alter-partition-reassignments-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeAlterPartitionReassignmentsResponse,
} from '../../../protocol/generated/alter-partition-reassignments-response.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  encodeListPartitionReassignmentsRequest,
} from '../../../protocol/generated/list-partition-reassignments-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeListPartitionReassignmentsResponse,
} from '../../../protocol/generated/list-partition-reassignments-response.js';

const env = useBrokerAndClient({ topics: [{ name: 'ra', partitions: 2 }] });

async function alter(
  v: number,
  topics: Array<{ name: string; partitions: AlterPartitionReassignmentsRequestReassignablePartition[] }>,
  allowReplicationFactorChange = true,
) {
  const res = await call(
    env.client,
    45,
    v,
    encodeAlterPartitionReassignmentsRequest,
    decodeAlterPartitionReassignmentsResponse,
    { timeoutMs: 1000, allowReplicationFactorChange, topics },
  );
  assert.deepEqual([res.errorCode, res.errorMessage], [0, null]);
  return res.responses.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]);
}

test('v0-v1: the current replica set [this node] is accepted as a no-op; others get Kafka codes', async () => {
  const node = env.broker.broker.started.nodeId;
  for (let v = 0; v <= 1; v++) {
    assert.deepEqual(
      await alter(v, [
        {
          name: 'ra',
          partitions: [
            { partitionIndex: 0, replicas: [node] },
            { partitionIndex: 1, replicas: [node + 7] },
            { partitionIndex: 1, replicas: [node, node] },
            { partitionIndex: 1, replicas: [] },
            { partitionIndex: 0, replicas: null },
            { partitionIndex: 5, replicas: [node] },
          ],
        },
        { name: 'nope', partitions: [{ partitionIndex: 0, replicas: [node] }] },
      ]),
      [
        [
          'ra',
          [
            [0, 0],
            [1, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
            [1, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
            [1, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
            [0, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS],
            [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
          ],
        ],
        ['nope', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
      ],
      `v${v}`,
    );
  }
  // Nothing is left in progress.
  const list = await call(
    env.client,
    46,
    0,
    encodeListPartitionReassignmentsRequest,
    decodeListPartitionReassignmentsResponse,
    { timeoutMs: 1000, topics: null },
  );
  assert.deepEqual([list.errorCode, list.topics], [0, []]);
});

test('v1 echoes allowReplicationFactorChange; the current set is still accepted with it false', async () => {
  const node = env.broker.broker.started.nodeId;
  const res = await call(
    env.client,
    45,
    1,
    encodeAlterPartitionReassignmentsRequest,
    decodeAlterPartitionReassignmentsResponse,
    {
      timeoutMs: 1000,
      allowReplicationFactorChange: false,
      topics: [{ name: 'ra', partitions: [{ partitionIndex: 1, replicas: [node] }] }],
    },
  );
  assert.equal(res.allowReplicationFactorChange, false);
  assert.deepEqual(res.responses[0]!.partitions[0], { partitionIndex: 1, errorCode: 0, errorMessage: null });
});

test('kafkajs admin alterPartitionReassignments / listPartitionReassignments', async () => {
  const kafka = new kafkajs.Kafka({
    brokers: [env.broker.bootstrapServers],
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const node = env.broker.broker.started.nodeId;
    await admin.alterPartitionReassignments({
      topics: [{ topic: 'ra', partitionAssignment: [{ partition: 0, replicas: [node] }] }],
    });
    await assert.rejects(
      admin.alterPartitionReassignments({
        topics: [{ topic: 'ra', partitionAssignment: [{ partition: 0, replicas: [node + 1] }] }],
      }),
      (err: Error & { errors?: Array<{ type?: string }> }) =>
        JSON.stringify(err.errors?.map((e) => e.type) ?? (err as { type?: string }).type).includes(
          'INVALID_REPLICA_ASSIGNMENT',
        ),
    );
    assert.deepEqual(await admin.listPartitionReassignments({}), { topics: [] });
  } finally {
    await admin.disconnect();
  }
});
