import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import {
  encodeProduceRequest,
  defaultProduceRequest,
  type ProduceRequest,
} from '../../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../../protocol/generated/produce-response.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { buildMessageSet } from '../../../protocol/records/legacy.js';
import { RecordBatch } from '../../../protocol/records/batch.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { CompressionType } from '../../../protocol/records/batch-header.js';

const env = useBrokerAndClient({
  config: { 'message.max.bytes': 2000 },
  topics: [
    { name: 'p', partitions: 2 },
    { name: 'compacted', partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    { name: 'lat', partitions: 1, configs: { 'message.timestamp.type': 'LogAppendTime' } },
  ],
});

function produceReq(topic: string, partition: number, records: Buffer | null, acks = -1): ProduceRequest {
  const r = defaultProduceRequest();
  r.acks = acks;
  r.timeoutMs = 5000;
  r.topicData = [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: partition, records }] }];
  return r;
}

const produce = (v: number, req: ProduceRequest) =>
  call(env.client, 0, v, encodeProduceRequest, decodeProduceResponse, req);

test('appends get consecutive offsets and are stored byte for byte with the offset stamped', async () => {
  const batch = await buildRecordBatch(
    [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ],
    { compression: CompressionType.Gzip },
  );
  for (const v of [3, 7, 9, 11]) {
    const before = env.broker.broker.logs.getLog('p', 1)!.logEndOffset;
    const res = await produce(v, produceReq('p', 1, Buffer.from(batch)));
    const part = res.responses[0].partitionResponses[0];
    assert.equal(part.errorCode, 0, `v${v}`);
    assert.equal(part.baseOffset, BigInt(before));
    if (v >= 5) assert.equal(part.logStartOffset, 0n);
  }
  const log = env.broker.broker.logs.getLog('p', 1)!;
  assert.equal(log.logEndOffset, 8);
  const read = await log.read(2, 1 << 20);
  const stored = new RecordBatch(read.records.subarray(0, batch.length));
  assert.equal(stored.baseOffset, 2n);
  assert.equal(stored.partitionLeaderEpoch, 0);
  assert.ok(stored.isValid());
  const recs = await stored.recordsArray();
  assert.deepEqual(
    recs.map((r) => [r.offset, r.key?.toString(), r.value?.toString()]),
    [
      [2n, 'a', '1'],
      [3n, 'b', '2'],
    ],
  );
});

test('legacy magic 0 and 1 message sets (Produce v0-v2) are converted to v2 batches', async () => {
  for (const [v, magic] of [
    [0, 0],
    [1, 0],
    [2, 1],
  ] as const) {
    const set = await buildMessageSet(
      [
        {
          key: Buffer.from('k'),
          value: Buffer.from(`m${magic}`),
          timestamp: magic === 1 ? 1_700_000_000_000n : undefined,
        },
      ],
      { magic, compression: CompressionType.None },
    );
    const res = await produce(v, produceReq('p', 0, set));
    assert.equal(res.responses[0].partitionResponses[0].errorCode, 0, `v${v}`);
  }
  const log = env.broker.broker.logs.getLog('p', 0)!;
  const read = await log.read(0, 1 << 20);
  const values: string[] = [];
  let pos = 0;
  while (pos < read.records.length) {
    const batch = RecordBatch.at(read.records, pos);
    assert.equal(batch.magic, 2);
    for (const r of await batch.recordsArray()) values.push(r.value!.toString());
    pos += batch.size;
  }
  assert.deepEqual(values, ['m0', 'm0', 'm1']);
});

test('per-partition errors, with nothing written', async () => {
  const good = await buildRecordBatch([{ value: 'x' }]);
  const endBefore = env.broker.broker.logs.getLog('p', 0)!.logEndOffset;
  const unknown = await produce(7, produceReq('nope', 0, Buffer.from(good)));
  assert.equal(unknown.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const badPartition = await produce(7, produceReq('p', 9, Buffer.from(good)));
  assert.equal(badPartition.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const corrupt = Buffer.from(good);
  corrupt[corrupt.length - 1] ^= 0xff;
  assert.equal(
    (await produce(7, produceReq('p', 0, corrupt))).responses[0].partitionResponses[0].errorCode,
    ErrorCode.CORRUPT_MESSAGE,
  );
  const big = await buildRecordBatch([{ value: Buffer.alloc(3000, 1) }]);
  assert.equal(
    (await produce(7, produceReq('p', 0, big))).responses[0].partitionResponses[0].errorCode,
    ErrorCode.MESSAGE_TOO_LARGE,
  );
  const legacy = await buildMessageSet([{ value: Buffer.from('v') }], { magic: 1, compression: CompressionType.None });
  assert.equal(
    (await produce(3, produceReq('p', 0, legacy))).responses[0].partitionResponses[0].errorCode,
    ErrorCode.INVALID_RECORD,
    'magic 1 in Produce v3',
  );
  const zstd = await buildRecordBatch([{ value: 'z' }], { compression: CompressionType.Zstd });
  assert.equal(
    (await produce(6, produceReq('p', 0, zstd))).responses[0].partitionResponses[0].errorCode,
    ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  );
  const future = await buildRecordBatch([{ value: 'f', timestamp: Date.now() + 48 * 3600_000 }]);
  const fr = (await produce(8, produceReq('p', 0, future))).responses[0].partitionResponses[0];
  assert.equal(fr.errorCode, ErrorCode.INVALID_TIMESTAMP);
  assert.equal(fr.recordErrors.length, 1);
  const acks = await produce(7, produceReq('p', 0, Buffer.from(good), 2));
  assert.equal(acks.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
  const two = Buffer.concat([await buildRecordBatch([{ value: '1' }]), await buildRecordBatch([{ value: '2' }])]);
  assert.notEqual(
    (await produce(7, produceReq('p', 0, two))).responses[0].partitionResponses[0].errorCode,
    0,
    'two batches in one partition',
  );
  assert.equal(env.broker.broker.logs.getLog('p', 0)!.logEndOffset, endBefore, 'nothing was written');
  const keyless = await buildRecordBatch([{ key: 'a', value: '1' }, { value: 'no key' }], {
    compression: CompressionType.Lz4,
  });
  assert.equal(
    (await produce(8, produceReq('compacted', 0, keyless))).responses[0].partitionResponses[0].errorCode,
    ErrorCode.INVALID_RECORD,
  );
  const keyed = await buildRecordBatch([{ key: 'a', value: '1' }]);
  assert.equal((await produce(8, produceReq('compacted', 0, keyed))).responses[0].partitionResponses[0].errorCode, 0);
});

test('LogAppendTime topics get the append time stamped and a valid CRC', async () => {
  const t0 = Date.now();
  const batch = await buildRecordBatch([{ value: 'x', timestamp: 1000 }]);
  const res = await produce(7, produceReq('lat', 0, batch));
  const part = res.responses[0].partitionResponses[0];
  assert.equal(part.errorCode, 0);
  assert.ok(part.logAppendTimeMs >= BigInt(t0));
  const read = await env.broker.broker.logs.getLog('lat', 0)!.read(0, 1 << 20);
  const stored = RecordBatch.at(read.records);
  assert.ok(stored.isValid());
  assert.equal(stored.maxTimestamp, part.logAppendTimeMs);
});

test('acks=0 appends and sends no response', async () => {
  const log = env.broker.broker.logs.getLog('p', 1)!;
  const before = log.logEndOffset;
  env.client.send(0, 7, (w) => encodeProduceRequest(w, 7, produceReq('p', 1, null, 0)));
  const batch = await buildRecordBatch([{ value: 'q' }]);
  env.client.send(0, 7, (w) => encodeProduceRequest(w, 7, produceReq('p', 1, batch, 0)));
  // The next request's response is the first to arrive.
  const res = await produce(7, produceReq('p', 1, Buffer.from(await buildRecordBatch([{ value: 'r' }]))));
  assert.equal(res.responses[0].partitionResponses[0].baseOffset, BigInt(before + 1));
});

test('pipelined produces on one connection overlap (shared fsyncs), answered in order, offsets ordered', async () => {
  await env.broker.broker.metadata.createTopic('synced', { partitions: 1, configs: { 'flush.messages': '1' } });
  const log = env.broker.broker.logs.getLog('synced', 0)!;
  const flushesBefore = log.flushCount;
  const n = 40;
  const pc = await RawClient.connect(env.broker.port);
  try {
    const batches = await Promise.all(
      Array.from({ length: n }, (_, i) => buildRecordBatch([{ value: `r${i}` }, { value: `s${i}` }])),
    );
    const ids = batches.map((batch) =>
      pc.send(0, 9, (w) => encodeProduceRequest(w, 9, produceReq('synced', 0, batch))),
    );
    const offsets: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await pc.response(1, 10_000);
      assert.ok(res, `response ${i}`);
      assert.equal(res.correlationId, ids[i]);
      const p = decodeProduceResponse(res.body, 9).responses[0]!.partitionResponses[0]!;
      assert.equal(p.errorCode, 0);
      offsets.push(Number(p.baseOffset));
    }
    // Request order is offset order, two records each.
    assert.deepEqual(
      offsets,
      Array.from({ length: n }, (_, i) => offsets[0]! + 2 * i),
    );
    // Every answer waited for an fsync covering it (flush.messages=1), but later requests were already
    // queued behind the first fsyncs, so they shared them instead of taking one each.
    const flushes = log.flushCount - flushesBefore;
    assert.ok(flushes >= 1 && flushes < n, `expected fewer fsyncs than requests, got ${flushes} for ${n}`);
  } finally {
    pc.close();
  }
});
