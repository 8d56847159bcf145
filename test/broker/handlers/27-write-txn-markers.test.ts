/**
 * WriteTxnMarkers (key 27) on one broker with a raw client, as another broker's transaction coordinator sends
 * it: transactions opened by raw transactional Produce requests are committed or aborted by the markers
 * (read_committed Fetch then sees them as such), per-partition errors, fencing by coordinator and producer
 * epoch, acks=all (min.insync.replicas), and transactional offsets completed by a marker on
 * `__consumer_offsets`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, useBrokerAndClient } from '../../helpers/test-broker.js';
import { addOffsets, committedOffsets, initTxn, txnCommit } from '../../helpers/txn-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { iterateBatches, parseControlRecordKey } from '../../../protocol/records/batch.js';
import {
  defaultProduceRequest,
  encodeProduceRequest,
  type ProduceRequest,
} from '../../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../../protocol/generated/produce-response.js';
import { encodeWriteTxnMarkersRequest } from '../../../protocol/generated/write-txn-markers-request.js';
import { decodeWriteTxnMarkersResponse } from '../../../protocol/generated/write-txn-markers-response.js';
import {
  defaultFetchPartition,
  defaultFetchRequest,
  encodeFetchRequest,
} from '../../../protocol/generated/fetch-request.js';
import { decodeFetchResponse, type FetchResponsePartitionData } from '../../../protocol/generated/fetch-response.js';
import { OFFSETS_TOPIC } from '../../../broker/groups/offsets-log.js';
import { offsetsPartitionFor } from '../../../broker/groups/records.js';

const env = useBrokerAndClient({
  topics: [
    { name: 'w', partitions: 2 },
    { name: 'two-isr', partitions: 1, configs: { 'min.insync.replicas': '2' } },
  ],
});

/** A raw transactional Produce (v9, acks=-1) of `values` by producer `pid` at `epoch`; returns the base offset. */
async function produceTxn(
  topic: string,
  partition: number,
  pid: bigint,
  epoch: number,
  seq: number,
  values: string[],
): Promise<number> {
  const records = await buildRecordBatch(
    values.map((value) => ({ value })),
    { producerId: pid, producerEpoch: epoch, baseSequence: seq, transactional: true },
  );
  const req: ProduceRequest = defaultProduceRequest();
  req.transactionalId = 'raw-txn';
  req.acks = -1;
  req.timeoutMs = 5000;
  req.topicData = [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: partition, records }] }];
  const res = await call(env.client, 0, 9, encodeProduceRequest, decodeProduceResponse, req);
  const part = res.responses[0]!.partitionResponses[0]!;
  assert.equal(part.errorCode, ErrorCode.NONE, `produce to ${topic}-${partition}`);
  return Number(part.baseOffset);
}

interface MarkerSpec {
  pid: bigint;
  epoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  topics: { name: string; partitionIndexes: number[] }[];
}

/** WriteTxnMarkers at `v`; the answer as producerId → "topic-partition" → error code. */
async function writeMarkers(v: number, markers: MarkerSpec[]): Promise<Map<bigint, Map<string, number>>> {
  const req = {
    markers: markers.map((m) => ({
      producerId: m.pid,
      producerEpoch: m.epoch,
      transactionResult: m.commit,
      coordinatorEpoch: m.coordinatorEpoch,
      topics: m.topics,
    })),
  };
  const res = await call(env.client, 27, v, encodeWriteTxnMarkersRequest, decodeWriteTxnMarkersResponse, req);
  const out = new Map<bigint, Map<string, number>>();
  for (const m of res.markers) {
    const codes = out.get(m.producerId) ?? new Map<string, number>();
    for (const t of m.topics) for (const p of t.partitions) codes.set(`${t.name}-${p.partitionIndex}`, p.errorCode);
    out.set(m.producerId, codes);
  }
  return out;
}

/** Control batches of a partition: [offset, producerId, type (1 COMMIT, 0 ABORT)]. */
async function controlBatches(topic: string, partition: number): Promise<[number, bigint, number][]> {
  const log = env.broker.broker.logs.getLog(topic, partition)!;
  const res = await log.read(0, 1 << 20, { maxOffset: log.logEndOffset });
  const out: [number, bigint, number][] = [];
  for (const batch of iterateBatches(res.records)) {
    if (!batch.isControl) continue;
    const [rec] = await batch.recordsArray();
    out.push([Number(batch.baseOffset), batch.producerId, parseControlRecordKey(rec!.key).type]);
  }
  return out;
}

/** A read_committed Fetch (v11) of one partition from offset 0. */
async function fetchCommitted(topic: string, partition: number): Promise<FetchResponsePartitionData> {
  const req = defaultFetchRequest();
  req.isolationLevel = 1;
  req.maxWaitMs = 0;
  req.topics = [
    {
      topic,
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      partitions: [{ ...defaultFetchPartition(), partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }],
    },
  ];
  const res = await call(env.client, 1, 11, encodeFetchRequest, decodeFetchResponse, req);
  return res.responses[0]!.partitions[0]!;
}

const lso = (topic: string, partition: number): number =>
  env.broker.broker.logs.getLog(topic, partition)!.lastStableOffset;
const leo = (topic: string, partition: number): number => env.broker.broker.logs.getLog(topic, partition)!.logEndOffset;

test('v0 aborts and v1 commits open transactions on every partition; unknown partitions get their error', async () => {
  for (const v of [0, 1]) {
    const pid = BigInt(5000 + v);
    const commit = v === 1;
    const first = [await produceTxn('w', 0, pid, 0, 0, ['a', 'b']), await produceTxn('w', 1, pid, 0, 0, ['c'])];
    assert.equal(lso('w', 0), first[0], 'the open transaction holds the LSO');
    const codes = await writeMarkers(v, [
      {
        pid,
        epoch: 0,
        commit,
        coordinatorEpoch: 3,
        topics: [
          { name: 'w', partitionIndexes: [0, 1, 9] },
          { name: 'nope', partitionIndexes: [0] },
        ],
      },
    ]);
    assert.deepEqual(
      Object.fromEntries(codes.get(pid)!),
      {
        'w-0': ErrorCode.NONE,
        'w-1': ErrorCode.NONE,
        'w-9': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        'nope-0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      },
      `v${v}`,
    );
    for (const part of [0, 1]) {
      const marks = (await controlBatches('w', part)).filter(([, p]) => p === pid);
      assert.deepEqual(
        marks.map(([, , type]) => type),
        [commit ? 1 : 0],
        `one ${commit ? 'COMMIT' : 'ABORT'} marker on w-${part}`,
      );
      assert.equal(marks[0]![0], leo('w', part) - 1, 'the marker is the last batch');
      assert.equal(lso('w', part), leo('w', part), 'the marker releases the LSO');
      const rc = await fetchCommitted('w', part);
      assert.equal(rc.errorCode, ErrorCode.NONE);
      const aborted = (rc.abortedTransactions ?? []).filter((a) => a.producerId === pid);
      assert.deepEqual(
        aborted,
        commit ? [] : [{ producerId: pid, firstOffset: BigInt(first[part]!) }],
        'read_committed lists only the aborted transaction',
      );
    }
  }
});

test('markers of several producers in one request; a stale coordinator or producer epoch is fenced', async () => {
  const a = 6001n;
  const b = 6002n;
  await produceTxn('w', 0, a, 0, 0, ['a0']);
  await produceTxn('w', 1, b, 2, 0, ['b0']);
  let codes = await writeMarkers(1, [
    { pid: a, epoch: 0, commit: true, coordinatorEpoch: 5, topics: [{ name: 'w', partitionIndexes: [0] }] },
    { pid: b, epoch: 2, commit: false, coordinatorEpoch: 5, topics: [{ name: 'w', partitionIndexes: [1] }] },
  ]);
  assert.equal(codes.get(a)!.get('w-0'), ErrorCode.NONE);
  assert.equal(codes.get(b)!.get('w-1'), ErrorCode.NONE);

  // A new transaction of `a`: a marker from an older coordinator epoch than the last seen is fenced.
  const open = await produceTxn('w', 0, a, 0, 1, ['a1']);
  const before = leo('w', 0);
  codes = await writeMarkers(1, [
    { pid: a, epoch: 0, commit: false, coordinatorEpoch: 4, topics: [{ name: 'w', partitionIndexes: [0] }] },
  ]);
  assert.equal(codes.get(a)!.get('w-0'), ErrorCode.TRANSACTION_COORDINATOR_FENCED);
  assert.equal(leo('w', 0), before, 'nothing written');
  assert.equal(lso('w', 0), open, 'the transaction is still open');

  // A marker of an older producer epoch than the partition's.
  await produceTxn('w', 1, b, 3, 0, ['b1']);
  codes = await writeMarkers(0, [
    { pid: b, epoch: 2, commit: true, coordinatorEpoch: 5, topics: [{ name: 'w', partitionIndexes: [1] }] },
  ]);
  assert.equal(codes.get(b)!.get('w-1'), ErrorCode.INVALID_PRODUCER_EPOCH);

  // The current coordinator epoch ends both.
  codes = await writeMarkers(1, [
    { pid: a, epoch: 0, commit: false, coordinatorEpoch: 5, topics: [{ name: 'w', partitionIndexes: [0] }] },
    { pid: b, epoch: 3, commit: true, coordinatorEpoch: 6, topics: [{ name: 'w', partitionIndexes: [1] }] },
  ]);
  assert.equal(codes.get(a)!.get('w-0'), ErrorCode.NONE);
  assert.equal(codes.get(b)!.get('w-1'), ErrorCode.NONE);
  assert.equal(lso('w', 0), leo('w', 0));
  assert.equal(lso('w', 1), leo('w', 1));
});

test('acks=all: below min.insync.replicas the marker is refused with NOT_ENOUGH_REPLICAS and not written', async () => {
  const pid = 7001n;
  const records = await buildRecordBatch([{ value: 'x' }], {
    producerId: pid,
    producerEpoch: 0,
    baseSequence: 0,
    transactional: true,
  });
  // acks=1 gets the transaction in despite min.insync.replicas=2 on one broker.
  const req = defaultProduceRequest();
  req.transactionalId = 'raw-txn';
  req.acks = 1;
  req.timeoutMs = 5000;
  req.topicData = [{ name: 'two-isr', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }];
  const res = await call(env.client, 0, 9, encodeProduceRequest, decodeProduceResponse, req);
  assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
  const before = leo('two-isr', 0);
  const codes = await writeMarkers(1, [
    { pid, epoch: 0, commit: true, coordinatorEpoch: 0, topics: [{ name: 'two-isr', partitionIndexes: [0] }] },
  ]);
  assert.equal(codes.get(pid)!.get('two-isr-0'), ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.equal(leo('two-isr', 0), before);
  assert.deepEqual(await controlBatches('two-isr', 0), []);
});

test("a COMMIT marker on the group's __consumer_offsets partition completes the transactional offsets", async () => {
  const p = await initTxn(env.broker, 'markers-offsets');
  const group = 'g-markers';
  assert.equal(await addOffsets(env.client, 1, p, group), ErrorCode.NONE);
  assert.deepEqual(await txnCommit(env.client, 1, p, group, 'w', [[0, 42]]), [ErrorCode.NONE]);
  assert.equal((await committedOffsets(env.client, group, 'w', [0])).size, 0, 'staged, not visible yet');
  const partition = offsetsPartitionFor(group, env.broker.broker.metadata.image.topic(OFFSETS_TOPIC)!.partitions);
  const codes = await writeMarkers(1, [
    {
      pid: p.pid,
      epoch: p.epoch,
      commit: true,
      coordinatorEpoch: 0,
      topics: [{ name: OFFSETS_TOPIC, partitionIndexes: [partition] }],
    },
  ]);
  assert.equal(codes.get(p.pid)!.get(`${OFFSETS_TOPIC}-${partition}`), ErrorCode.NONE);
  assert.deepEqual([...(await committedOffsets(env.client, group, 'w', [0]))], [[0, 42]]);
});
