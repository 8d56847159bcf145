import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  encodeElectLeadersRequest,
  type ElectLeadersRequest,
} from '../../../protocol/generated/elect-leaders-request.js';
import {
  decodeElectLeadersResponse,
  type ElectLeadersResponse,
} from '../../../protocol/generated/elect-leaders-response.js';

const env = useBrokerAndClient({ topics: [{ name: 'el', partitions: 2 }, 'el2'] });

const elect = (v: number, req: ElectLeadersRequest): Promise<ElectLeadersResponse> =>
  call(env.client, 43, v, encodeElectLeadersRequest, decodeElectLeadersResponse, req);
const codes = (res: ElectLeadersResponse) =>
  res.replicaElectionResults.map((t) => [t.topic, t.partitionResult.map((p) => [p.partitionId, p.errorCode])]);

test('v0-v2 preferred election: ELECTION_NOT_NEEDED per partition, else UNKNOWN_TOPIC_OR_PARTITION', async () => {
  for (let v = 0; v <= 2; v++) {
    const res = await elect(v, {
      electionType: 0,
      timeoutMs: 1000,
      topicPartitions: [
        { topic: 'el', partitions: [0, 1, 2] },
        { topic: 'nope', partitions: [0] },
      ],
    });
    assert.equal(res.errorCode, 0);
    assert.deepEqual(
      codes(res),
      [
        [
          'el',
          [
            [0, ErrorCode.ELECTION_NOT_NEEDED],
            [1, ErrorCode.ELECTION_NOT_NEEDED],
            [2, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
          ],
        ],
        ['nope', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
      ],
      `v${v}`,
    );
    assert.equal(
      res.replicaElectionResults[0]!.partitionResult[0]!.errorMessage,
      'Leader election not needed for topic partition.',
    );
  }
});

test('a partition named twice is answered twice', async () => {
  const res = await elect(2, {
    electionType: 0,
    timeoutMs: 1000,
    topicPartitions: [{ topic: 'el', partitions: [1, 1, 7] }],
  });
  assert.deepEqual(codes(res), [
    [
      'el',
      [
        [1, ErrorCode.ELECTION_NOT_NEEDED],
        [1, ErrorCode.ELECTION_NOT_NEEDED],
        [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    ],
  ]);
});

test('unclean election: the partition has a leader, ELECTION_NOT_NEEDED', async () => {
  const res = await elect(2, {
    electionType: 1,
    timeoutMs: 1000,
    topicPartitions: [{ topic: 'el2', partitions: [0] }],
  });
  assert.deepEqual(codes(res), [['el2', [[0, ErrorCode.ELECTION_NOT_NEEDED]]]]);
});

test('a null topic list means every partition: each topic listed, no partition reported (none changed)', async () => {
  const res = await elect(2, { electionType: 0, timeoutMs: 1000, topicPartitions: null });
  assert.equal(res.errorCode, 0);
  const byTopic = new Map(res.replicaElectionResults.map((t) => [t.topic, t.partitionResult]));
  assert.deepEqual(byTopic.get('el'), []);
  assert.deepEqual(byTopic.get('el2'), []);
});

test('an unknown election type fails the request and every named partition with INVALID_REQUEST', async () => {
  const res = await elect(2, { electionType: 5, timeoutMs: 1000, topicPartitions: [{ topic: 'el', partitions: [0] }] });
  assert.equal(res.errorCode, ErrorCode.INVALID_REQUEST);
  assert.deepEqual(codes(res), [['el', [[0, ErrorCode.INVALID_REQUEST]]]]);
});
