import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { encodeDescribeProducersRequest } from '../../../protocol/generated/describe-producers-request.js';
import {
  decodeDescribeProducersResponse,
  type DescribeProducersResponse,
} from '../../../protocol/generated/describe-producers-response.js';
import { buildRecordBatchSync } from '../../../protocol/records/builder.js';
import { partitionOf } from '../../helpers/partitions.js';

const env = useBrokerAndClient({ topics: [{ name: 'dp', partitions: 2 }] });

const describe = (topics: Array<{ name: string; partitionIndexes: number[] }>): Promise<DescribeProducersResponse> =>
  call(env.client, 61, 0, encodeDescribeProducersRequest, decodeDescribeProducersResponse, { topics });

test('v0 lists the producers of each partition with their last sequence, timestamp and open transaction', async () => {
  const log = partitionOf(env.broker.broker, 'dp', 0);
  await log.appendAsLeader(
    buildRecordBatchSync(
      [
        { value: 'a', timestamp: 5000 },
        { value: 'b', timestamp: 6000 },
      ],
      { producerId: 42, producerEpoch: 3, baseSequence: 0 },
    ),
  );
  await log.appendAsLeader(buildRecordBatchSync([{ value: 'plain' }])); // no producer id: not listed
  await log.appendAsLeader(
    buildRecordBatchSync([{ value: 't', timestamp: 7000 }], {
      producerId: 43,
      producerEpoch: 0,
      baseSequence: 0,
      transactional: true,
    }),
  );
  const res = await describe([
    { name: 'dp', partitionIndexes: [0, 1, 9] },
    { name: 'nope', partitionIndexes: [0] },
  ]);
  const [p0, p1, p9] = res.topics[0]!.partitions;
  assert.equal(p0!.errorCode, 0);
  const byId = new Map(p0!.activeProducers.map((p) => [p.producerId, p]));
  assert.deepEqual(byId.get(42n), {
    producerId: 42n,
    producerEpoch: 3,
    lastSequence: 1,
    lastTimestamp: 6000n,
    coordinatorEpoch: -1,
    currentTxnStartOffset: -1n,
  });
  assert.deepEqual(byId.get(43n), {
    producerId: 43n,
    producerEpoch: 0,
    lastSequence: 0,
    lastTimestamp: 7000n,
    coordinatorEpoch: -1,
    currentTxnStartOffset: 3n,
  });
  assert.equal(byId.size, 2);
  assert.deepEqual([p1!.errorCode, p1!.activeProducers], [0, []]);
  assert.equal(p9!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(res.topics[1]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

  await log.appendTxnMarker({ producerId: 43, producerEpoch: 0, coordinatorEpoch: 7, commit: true });
  const after = (
    await describe([{ name: 'dp', partitionIndexes: [0] }])
  ).topics[0]!.partitions[0]!.activeProducers.find((p) => p.producerId === 43n)!;
  assert.deepEqual([after.coordinatorEpoch, after.currentTxnStartOffset], [7, -1n]);
});
