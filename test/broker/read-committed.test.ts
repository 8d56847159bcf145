/**
 * read_committed on the broker side, with transactional batches and COMMIT/ABORT markers appended
 * through the storage API (clients doing end-to-end transactions are covered in transactions.test.ts):
 * Fetch v4+ reads up to the last stable offset and lists the aborted transactions of the returned range;
 * read_uncommitted reads up to the high watermark; ListOffsets LATEST answers the LSO for read_committed.
 * kafka-python-free: the records are checked by decoding the returned batches.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testBroker, call } from '../helpers/test-broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  defaultFetchRequest,
  encodeFetchRequest,
  defaultFetchPartition,
} from '../../protocol/generated/fetch-request.js';
import { decodeFetchResponse, type FetchResponsePartitionData } from '../../protocol/generated/fetch-response.js';
import {
  defaultListOffsetsRequest,
  defaultListOffsetsPartition,
  encodeListOffsetsRequest,
} from '../../protocol/generated/list-offsets-request.js';
import { decodeListOffsetsResponse } from '../../protocol/generated/list-offsets-response.js';
import { buildRecordBatchSync } from '../../protocol/records/builder.js';
import { iterateBatches } from '../../protocol/records/batch.js';
import type { RunningBroker } from '../../broker/index.js';
import type { Partition } from '../../replication/partition.js';
import { partitionOf } from '../helpers/partitions.js';

let b: RunningBroker;
let c: RawClient;
let log: Partition;
before(async () => {
  b = await testBroker({ topics: ['rc'] });
  c = await RawClient.connect(b.port);
  log = partitionOf(b.broker, 'rc', 0);
});
after(async () => {
  c.close();
  await b.stop();
});

const txn = (pid: number, seq: number, values: string[]): Buffer =>
  buildRecordBatchSync(
    values.map((value) => ({ value })),
    { producerId: pid, producerEpoch: 0, baseSequence: seq, transactional: true },
  );

async function fetch(v: number, isolationLevel: number, fetchOffset = 0): Promise<FetchResponsePartitionData> {
  const req = defaultFetchRequest();
  req.isolationLevel = isolationLevel;
  req.maxWaitMs = 0;
  req.topics = [
    {
      topic: 'rc',
      topicId: b.broker.metadata.image.topic('rc')!.topicId,
      partitions: [{ ...defaultFetchPartition(), fetchOffset: BigInt(fetchOffset), partitionMaxBytes: 1 << 20 }],
    },
  ];
  const r = await call(c, 1, v, encodeFetchRequest, decodeFetchResponse, req);
  return r.responses[0]!.partitions[0]!;
}

/** [baseOffset, lastOffset, control] of each batch. */
function batches(p: FetchResponsePartitionData): Array<[number, number, boolean]> {
  return [...iterateBatches(p.records ?? Buffer.alloc(0))].map((x) => [
    Number(x.baseOffset),
    Number(x.lastOffset),
    x.isControl,
  ]);
}

async function latest(isolationLevel: number, v = 5): Promise<bigint> {
  const req = {
    ...defaultListOffsetsRequest(),
    isolationLevel,
    topics: [{ name: 'rc', partitions: [{ ...defaultListOffsetsPartition(), partitionIndex: 0, timestamp: -1n }] }],
  };
  const r = await call(c, 2, v, encodeListOffsetsRequest, decodeListOffsetsResponse, req);
  return r.topics[0]!.partitions[0]!.offset;
}

test('read_committed stops at the LSO and lists aborted transactions; read_uncommitted reads to the HW', async () => {
  await log.appendAsLeader(txn(100, 0, ['a0', 'a1'])); // 0-1, producer 100 (will abort)
  await log.appendAsLeader(txn(200, 0, ['c0'])); // 2, producer 200 (will commit)
  await log.appendAsLeader(buildRecordBatchSync([{ value: 'plain' }])); // 3
  assert.equal(log.lastStableOffset, 0);

  for (const v of [4, 11, 12, 17]) {
    const rc = await fetch(v, 1);
    assert.equal(rc.highWatermark, 4n);
    assert.equal(rc.lastStableOffset, 0n);
    assert.deepEqual(batches(rc), [], `v${v}: nothing below the LSO yet`);
    const ru = await fetch(v, 0);
    assert.equal(ru.lastStableOffset, 0n, 'the LSO is reported to read_uncommitted fetchers too');
    assert.deepEqual(
      batches(ru).map((x) => x[0]),
      [0, 2, 3],
    );
    assert.equal(ru.abortedTransactions, null);
  }
  assert.equal(await latest(1), 0n);
  assert.equal(await latest(0), 4n);

  await log.appendTxnMarker({ producerId: 100, producerEpoch: 0, coordinatorEpoch: 0, commit: false }); // 4
  assert.equal(log.lastStableOffset, 2);
  let rc = await fetch(11, 1);
  assert.deepEqual(batches(rc), [[0, 1, false]]);
  assert.deepEqual(rc.abortedTransactions, [{ producerId: 100n, firstOffset: 0n }]);

  await log.appendTxnMarker({ producerId: 200, producerEpoch: 0, coordinatorEpoch: 0, commit: true }); // 5
  assert.equal(log.lastStableOffset, 6);
  rc = await fetch(11, 1);
  assert.equal(rc.lastStableOffset, 6n);
  assert.deepEqual(batches(rc), [
    [0, 1, false],
    [2, 2, false],
    [3, 3, false],
    [4, 4, true],
    [5, 5, true],
  ]);
  assert.deepEqual(rc.abortedTransactions, [{ producerId: 100n, firstOffset: 0n }]);
  // From past the aborted transaction's marker it is no longer listed.
  rc = await fetch(11, 1, 5);
  assert.deepEqual(batches(rc), [[5, 5, true]]);
  assert.deepEqual(rc.abortedTransactions, []);
  assert.equal(await latest(1), 6n);
  assert.equal(await latest(1, 1), 6n, 'v1 has no isolation level: the high watermark');
});

test('an open transaction keeps the LSO at its first offset while others complete', async () => {
  const start = log.logEndOffset;
  await log.appendAsLeader(txn(300, 0, ['o0'])); // start: stays open
  await log.appendAsLeader(txn(400, 0, ['x0', 'x1'])); // start+1..start+2
  await log.appendTxnMarker({ producerId: 400, producerEpoch: 0, coordinatorEpoch: 0, commit: false });
  assert.equal(log.lastStableOffset, start);
  const rc = await fetch(12, 1, start);
  assert.deepEqual(batches(rc), []);
  assert.equal(rc.lastStableOffset, BigInt(start));
  await log.appendTxnMarker({ producerId: 300, producerEpoch: 0, coordinatorEpoch: 0, commit: true });
  const after = await fetch(12, 1, start);
  assert.equal(after.lastStableOffset, BigInt(log.logEndOffset));
  assert.deepEqual(after.abortedTransactions, [{ producerId: 400n, firstOffset: BigInt(start + 1) }]);
});
