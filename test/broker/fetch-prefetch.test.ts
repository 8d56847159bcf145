/**
 * Read-ahead across a consumer's fetches (broker/fetch-prefetch.ts): after an answer, the connection's next range
 * of each partition that returned records is read; the next fetch at exactly that offset gets the batches a read
 * now would return, with the partition's current offsets, and a read ahead is not used once the log start passed
 * its offset or for another offset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../helpers/test-broker.js';
import {
  encodeFetchRequest,
  defaultFetchRequest,
  defaultFetchPartition,
} from '../../protocol/generated/fetch-request.js';
import { decodeFetchResponse, type FetchResponsePartitionData } from '../../protocol/generated/fetch-response.js';
import { responseHeaderVersion } from '../../protocol/generated/apis.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import { RecordBatch } from '../../protocol/records/batch.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { prefetchBudget, prefetchedBytes, prefetchOf } from '../../broker/fetch-prefetch.js';
import { partitionOf } from '../helpers/partitions.js';

const VALUE = 100 * 1024; // each read is above the pooled minimum (64 KiB): slabs of the fetch pool
const value = (i: number): string => `b${i}-`.repeat(VALUE / 3).slice(0, VALUE);
const append = async (i: number): Promise<void> => {
  await partitionOf(env.broker.broker, 'ahead', 0).appendAsLeader(await buildRecordBatch([{ value: value(i) }]));
};

const env = useBrokerAndClient({
  topics: [{ name: 'ahead', partitions: 1 }],
  setup: async () => {
    for (let i = 0; i < 6; i++) await append(i);
  },
});

/** One consumer fetch of one batch at `offset` on the test connection. */
async function fetchAt(offset: number): Promise<FetchResponsePartitionData> {
  const v = 12;
  const r = defaultFetchRequest();
  r.replicaId = -1;
  r.maxWaitMs = 0;
  r.minBytes = 1;
  r.maxBytes = 1 << 20;
  r.sessionEpoch = -1;
  const fp = defaultFetchPartition();
  fp.partition = 0;
  fp.fetchOffset = BigInt(offset);
  fp.partitionMaxBytes = VALUE + 1024; // one batch
  r.topics.push({ topic: 'ahead', topicId: '', partitions: [fp] });
  const id = env.client.send(1, v, (w) => encodeFetchRequest(w, v, r));
  const res = await env.client.response(responseHeaderVersion(1, v), 30_000);
  assert.equal(res?.correlationId, id);
  return decodeFetchResponse(res!.body, v).responses[0].partitions[0];
}

async function assertBatch(out: FetchResponsePartitionData, offset: number): Promise<void> {
  assert.equal(out.errorCode, 0);
  const records = out.records ?? Buffer.alloc(0);
  const batch = RecordBatch.at(records, 0);
  assert.equal(batch.size, records.length, 'exactly one whole batch');
  assert.equal(Number(batch.baseOffset), offset);
  const [rec] = await batch.recordsArray();
  assert.equal(rec.value?.toString(), value(offset));
}

/** The read-ahead of the test client's connection (the broker's only one). */
function prefetch() {
  const sessions = env.broker.broker.connectionSessions();
  assert.equal(sessions.length, 1);
  return prefetchOf(sessions[0]!);
}

test('the next fetch gets the batches read ahead for it, with the current high watermark', async () => {
  await assertBatch(await fetchAt(0), 0);
  assert.equal(prefetch().pending, 1, 'offset 1 is read ahead');
  await append(6); // the high watermark moves after the read ahead
  const out = await fetchAt(1);
  await assertBatch(out, 1);
  assert.equal(out.highWatermark, 7n);
  assert.equal(prefetch().pending, 1, 'offset 2 is read ahead');
  await assertBatch(await fetchAt(2), 2);
});

test('a fetch at another offset reads its own batches', async () => {
  await assertBatch(await fetchAt(4), 4);
  await assertBatch(await fetchAt(1), 1);
  await assertBatch(await fetchAt(2), 2);
});

test('nothing is read ahead past the high watermark', async () => {
  const out = await fetchAt(6);
  await assertBatch(out, 6);
  assert.equal(prefetch().pending, 0);
  assert.equal(prefetchedBytes(), 0, 'every read ahead taken or discarded is out of the budget');
});

test('nothing is read ahead past the budget of all connections', async () => {
  const max = prefetchBudget.maxBytes;
  prefetchBudget.maxBytes = VALUE; // below one partition's maxBytes
  try {
    await assertBatch(await fetchAt(1), 1);
    assert.equal(prefetch().pending, 0);
    await assertBatch(await fetchAt(2), 2);
  } finally {
    prefetchBudget.maxBytes = max;
  }
  await assertBatch(await fetchAt(3), 3);
  assert.equal(prefetch().pending, 1, 'within the budget again');
  assert.equal(prefetchedBytes(), VALUE + 1024);
});

test('a read ahead is not used once the log start passed its offset', async () => {
  await assertBatch(await fetchAt(2), 2);
  assert.equal(prefetch().pending, 1);
  const deleted = await partitionOf(env.broker.broker, 'ahead', 0).deleteRecordsBefore(4);
  assert.equal(deleted.lowWatermark, 4);
  const out = await fetchAt(3);
  assert.equal(out.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  await assertBatch(await fetchAt(4), 4);
});
