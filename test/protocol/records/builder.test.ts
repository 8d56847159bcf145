/**
 * Batch builder: byte-for-byte agreement with kafkajs's RecordBatch encoder and kafka-python's
 * DefaultRecordBatchBuilder (via /usr/bin/python3) for uncompressed batches, compressed batches readable by
 * kafka-python, every option reflected in the header, control batches matching the bytes laid out in
 * Kafka's EndTransactionMarker/ControlRecordType, and bad input rejected with EncodeError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { CompressionError, EncodeError } from '../../../protocol/errors.js';
import { CompressionType, TimestampType } from '../../../protocol/records/batch-header.js';
import { RecordBatch } from '../../../protocol/records/batch.js';
import {
  CONTROL_TYPE_ABORT,
  CONTROL_TYPE_COMMIT,
  buildControlBatch,
  buildRecordBatch,
  buildRecordBatchSync,
  encodeRecords,
  type RecordInput,
} from '../../../protocol/records/builder.js';
import { crc32c } from '../../../protocol/records/crc.js';
import { PY_BUILD, PY_KAFKA, pyJson } from '../../helpers/python-records.js';

const require = createRequire(import.meta.url);

const PY_READ = `
from kafka.record.default_records import DefaultRecordBatch
b = DefaultRecordBatch(bytes.fromhex(inp))
ok = b.validate_crc()
hx = lambda x: None if x is None else bytes(x).hex()
out = {'crc_ok': ok, 'base_offset': b.base_offset, 'compression': b.compression_type,
       'transactional': b.is_transactional, 'control': b.is_control_batch, 'timestamp_type': b.timestamp_type,
       'max_timestamp': b.max_timestamp,
       'records': [{'offset': r.offset, 'timestamp': r.timestamp, 'key': hx(r.key), 'value': hx(r.value),
                    'headers': [[k, hx(v)] for k, v in r.headers]} for r in b]}
`;

/** What PY_READ prints (the fields the tests look at). */
interface PyBatch {
  crc_ok: boolean;
  base_offset: number;
  compression: number;
  max_timestamp: number;
  records: unknown[];
}

const hex = (b: Buffer | Uint8Array | null | undefined) => (b == null ? null : Buffer.from(b).toString('hex'));

function sampleRecords(): RecordInput[] {
  return [
    {
      key: Buffer.from('key-1'),
      value: randomBytes(100),
      headers: [{ key: 'trace', value: Buffer.from('abc') }],
      timestamp: 1700000000000,
    },
    { key: null, value: Buffer.alloc(3000, 0x42), timestamp: 1699999990000 },
    {
      key: Buffer.from('k3'),
      value: null,
      headers: [
        { key: 'ünï', value: null },
        { key: 'b', value: Buffer.alloc(0) },
      ],
      timestamp: 1700000000100,
    },
  ];
}

test('uncompressed batch is byte-identical to kafkajs encoder output', async () => {
  const { RecordBatch: KRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
  const KRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
  const Long = require('kafkajs/src/utils/long');
  const recs = [
    {
      key: Buffer.from('a'),
      value: Buffer.from('first'),
      headers: [{ key: 'h1', value: Buffer.from('v1') }],
      timestamp: 1600000000000,
    },
    { key: null, value: Buffer.from('second'), timestamp: 1600000000250 },
    { key: Buffer.from('c'), value: Buffer.alloc(200, 7), timestamp: 1599999999000 },
  ];
  const ours = buildRecordBatchSync(recs, {
    baseOffset: 5n,
    partitionLeaderEpoch: 0,
    producerId: 77n,
    producerEpoch: 2,
    baseSequence: 11,
    transactional: true,
  });
  const theirs = await KRecordBatch({
    compression: 0,
    firstOffset: Long.fromValue(5n),
    firstTimestamp: 1600000000000,
    maxTimestamp: 1600000000250,
    partitionLeaderEpoch: 0,
    lastOffsetDelta: 2,
    transactional: true,
    producerId: Long.fromValue(77n),
    producerEpoch: 2,
    firstSequence: 11,
    records: recs.map((r, i) =>
      KRecord({
        offsetDelta: i,
        timestampDelta: r.timestamp - 1600000000000,
        key: r.key,
        value: r.value,
        headers: Object.fromEntries((r.headers ?? []).map((h) => [h.key, h.value])),
      }),
    ),
  });
  assert.equal(ours.toString('hex'), theirs.buffer.toString('hex'));
});

test('uncompressed batch is byte-identical to kafka-python; kafka-python reads our compressed batches', {
  skip: !PY_KAFKA && 'python3-kafka (+snappy, lz4, xxhash) missing',
}, async () => {
  const recs = sampleRecords();
  const pyRecords = recs.map((r, i) => ({
    offset: i,
    timestamp: r.timestamp,
    key: hex(r.key as Buffer | null),
    value: hex(r.value as Buffer | null),
    headers: (r.headers ?? []).map((h) => [h.key, hex(h.value as Buffer | null)]),
  }));
  const theirs: string = pyJson(PY_BUILD, {
    compression: 0,
    transactional: false,
    producer_id: 3,
    producer_epoch: 1,
    base_sequence: 0,
    records: pyRecords,
  });
  const ours = buildRecordBatchSync(recs, {
    partitionLeaderEpoch: 0,
    producerId: 3n,
    producerEpoch: 1,
    baseSequence: 0,
  });
  assert.equal(ours.toString('hex'), theirs);
  for (const compression of [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4]) {
    const buf = await buildRecordBatch(recs, {
      compression,
      baseOffset: 1000n,
      timestampType: TimestampType.CreateTime,
    });
    const read = pyJson<PyBatch>(PY_READ, buf.toString('hex'));
    assert.equal(read.crc_ok, true);
    assert.equal(read.compression, compression);
    assert.equal(read.base_offset, 1000);
    assert.equal(read.max_timestamp, 1700000000100);
    assert.deepEqual(
      read.records,
      pyRecords.map((r) => ({ ...r, offset: r.offset + 1000 })),
    );
  }
});

test('options end up in the header', async () => {
  const buf = await buildRecordBatch(
    [
      { value: 'a', timestamp: 10 },
      { value: 'b', timestamp: 30 },
    ],
    {
      baseOffset: 9000000000n,
      partitionLeaderEpoch: 12,
      compression: CompressionType.Zstd,
      timestampType: TimestampType.LogAppendTime,
      logAppendTime: 555n,
      producerId: 123456789n,
      producerEpoch: 7,
      baseSequence: 99,
      transactional: true,
    },
  );
  const b = new RecordBatch(buf);
  b.validate();
  assert.equal(b.baseOffset, 9000000000n);
  assert.equal(b.partitionLeaderEpoch, 12);
  assert.equal(b.compression, CompressionType.Zstd);
  assert.equal(b.timestampType, TimestampType.LogAppendTime);
  assert.equal(b.maxTimestamp, 555n);
  assert.equal(b.baseTimestamp, 10n);
  assert.equal(b.producerId, 123456789n);
  assert.equal(b.producerEpoch, 7);
  assert.equal(b.baseSequence, 99);
  assert.equal(b.isTransactional, true);
  assert.equal(b.isControl, false);
  assert.equal(b.attributes, 4 | 8 | 16);
  const rs = await b.recordsArray();
  assert.deepEqual(
    rs.map((r) => r.timestamp),
    [555n, 555n],
  );
  assert.deepEqual(
    rs.map((r) => r.timestampDelta),
    [0n, 20n],
  );
});

test('defaults: not idempotent, epoch -1, CreateTime, max timestamp of the records', () => {
  const b = new RecordBatch(
    buildRecordBatchSync([
      { value: 'x', timestamp: 5 },
      { value: 'y', timestamp: 3 },
    ]),
  );
  assert.equal(b.baseOffset, 0n);
  assert.equal(b.partitionLeaderEpoch, -1);
  assert.equal(b.producerId, -1n);
  assert.equal(b.producerEpoch, -1);
  assert.equal(b.baseSequence, -1);
  assert.equal(b.attributes, 0);
  assert.equal(b.baseTimestamp, 5n);
  assert.equal(b.maxTimestamp, 5n);
  const before = Date.now();
  const d = new RecordBatch(buildRecordBatchSync([{ value: 'now' }]));
  assert.ok(d.baseTimestamp >= BigInt(before) && d.baseTimestamp <= BigInt(Date.now()));
});

test('delete horizon: attribute bit 6 and baseTimestamp, deltas relative to it', () => {
  const b = new RecordBatch(
    buildRecordBatchSync(
      [
        { value: 'x', timestamp: 1000 },
        { value: 'y', timestamp: 2000 },
      ],
      { deleteHorizon: 5000n },
    ),
  );
  b.validate();
  assert.equal(b.hasDeleteHorizon, true);
  assert.equal(b.deleteHorizonMs, 5000n);
  assert.equal(b.baseTimestamp, 5000n);
  assert.equal(b.maxTimestamp, 2000n);
  assert.deepEqual(
    [...b.iterateRecords()].map((r) => [r.timestampDelta, r.timestamp]),
    [
      [-4000n, 1000n],
      [-3000n, 2000n],
    ],
  );
});

test('explicit offset deltas with gaps (compacted batch) and empty batches', () => {
  const b = new RecordBatch(
    buildRecordBatchSync(
      [
        { value: 'a', offsetDelta: 0 },
        { value: 'c', offsetDelta: 2 },
        { value: 'f', offsetDelta: 5 },
      ],
      { baseOffset: 10n },
    ),
  );
  assert.equal(b.lastOffsetDelta, 5);
  assert.equal(b.recordsCount, 3);
  assert.deepEqual(
    [...b.iterateRecords()].map((r) => r.offset),
    [10n, 12n, 15n],
  );
  assert.equal(b.checkRecords(), 3);
  const e = new RecordBatch(buildRecordBatchSync([], { baseOffset: 20n, lastOffsetDelta: 4 }));
  e.validate();
  assert.equal(e.size, 61);
  assert.equal(e.recordsCount, 0);
  assert.equal(e.lastOffset, 24n);
  assert.equal(e.maxTimestamp, -1n);
  assert.equal(e.checkRecords(), 0);
});

test('string keys/values are UTF-8, timestamps may be bigint, huge timestamps fit', () => {
  const b = new RecordBatch(
    buildRecordBatchSync([
      { key: 'clé', value: 'välue', timestamp: 1n },
      { value: 'far', timestamp: 2n ** 62n },
    ]),
  );
  const rs = [...b.iterateRecords()];
  assert.equal(rs[0].key!.toString('utf8'), 'clé');
  assert.equal(rs[0].value!.toString('utf8'), 'välue');
  assert.equal(rs[1].timestamp, 2n ** 62n);
  assert.equal(b.maxTimestamp, 2n ** 62n);
});

test('encodeRecords gives the records section of an uncompressed batch', () => {
  const recs = sampleRecords();
  const batch = buildRecordBatchSync(recs);
  assert.ok(encodeRecords(recs).equals(batch.subarray(61)));
});

test('control batch bytes follow EndTransactionMarker / ControlRecordType', () => {
  const buf = buildControlBatch(CONTROL_TYPE_COMMIT, 1000n, 3, 25, 42n, 1700000000000n, 6);
  // Expected record: length 16 (zig-zag 0x20), attributes 0, timestampDelta 0, offsetDelta 0, key [0,0,0,1] (4 bytes),
  // value [0,0, int32 25] (6 bytes), 0 headers.
  const record = Buffer.from('20' + '00' + '00' + '00' + '08' + '00000001' + '0c' + '000000000019' + '00', 'hex');
  assert.equal(buf.subarray(61).toString('hex'), record.toString('hex'));
  const b = new RecordBatch(buf);
  assert.equal(b.attributes, 0x30);
  assert.equal(b.baseOffset, 42n);
  assert.equal(b.partitionLeaderEpoch, 6);
  assert.equal(b.producerId, 1000n);
  assert.equal(b.producerEpoch, 3);
  assert.equal(b.baseSequence, -1);
  assert.equal(b.lastOffsetDelta, 0);
  assert.equal(b.baseTimestamp, 1700000000000n);
  assert.equal(b.maxTimestamp, 1700000000000n);
  assert.equal(b.crc, crc32c(buf, 21));
  const abort = new RecordBatch(buildControlBatch(CONTROL_TYPE_ABORT, 1n, 0, 0));
  assert.equal(abort.recordsData.subarray(5, 9).toString('hex'), '00000000');
});

test('bad input is rejected', async () => {
  assert.throws(
    () =>
      buildRecordBatchSync([
        { value: 'a', offsetDelta: 1 },
        { value: 'b', offsetDelta: 1 },
      ]),
    EncodeError,
  );
  assert.throws(() => buildRecordBatchSync([{ value: 'a', offsetDelta: -1 }]), EncodeError);
  assert.throws(() => buildRecordBatchSync([{ value: 'a', timestamp: 1.5 }]), EncodeError);
  assert.throws(
    () => buildRecordBatchSync([{ value: 'a', headers: [{ key: null as unknown as string, value: null }] }]),
    EncodeError,
  );
  assert.throws(() => buildRecordBatchSync([{ value: 'a' }], { compression: CompressionType.Gzip }), CompressionError);
  await assert.rejects(buildRecordBatch([{ value: 'a' }], { compression: 6 as CompressionType }), CompressionError);
});
