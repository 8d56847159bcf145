import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  encodeListPartitionReassignmentsRequest,
} from '../../../protocol/generated/list-partition-reassignments-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeListPartitionReassignmentsResponse,
} from '../../../protocol/generated/list-partition-reassignments-response.js';

const env = useBrokerAndClient({ topics: [{ name: 'lr', partitions: 2 }] });

test('v0: nothing in progress, for all topics (null) and for named ones (known or not)', async () => {
  for (const topics of [
    null,
    [
      { name: 'lr', partitionIndexes: [0, 1] },
      { name: 'nope', partitionIndexes: [0] },
    ],
  ]) {
    const res = await call(
      env.client,
      46,
      0,
      encodeListPartitionReassignmentsRequest,
      decodeListPartitionReassignmentsResponse,
      { timeoutMs: 1000, topics },
    );
    assert.deepEqual([res.errorCode, res.errorMessage, res.topics], [0, null, []]);
  }
});
