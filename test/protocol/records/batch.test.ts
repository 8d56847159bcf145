/**
 * RecordBatch view: header getters, CRC validation, lazy (zero-copy) record iteration, compressed batches,
 * batches written by independent encoders (kafkajs's RecordBatch encoder, kafka-python's
 * DefaultRecordBatchBuilder via /usr/bin/python3), splitting buffers with a truncated tail, control records,
 * and corrupt/truncated input raising CorruptRecordError rather than crashing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { CompressionError, CorruptRecordError } from '../../../protocol/errors.js';
import { CompressionType, TimestampType, setBaseOffset } from '../../../protocol/records/batch-header.js';
import {
  ControlRecordType,
  RecordBatch,
  iterateBatches,
  parseControlRecord,
  parseEndTxnMarker,
  splitBatches,
} from '../../../protocol/records/batch.js';
import { buildControlBatch, buildRecordBatch, buildRecordBatchSync } from '../../../protocol/records/builder.js';
import { crc32c } from '../../../protocol/records/crc.js';
import { PY_BUILD, PY_KAFKA, pyJson } from '../../helpers/python-records.js';

const require = createRequire(import.meta.url);

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));

test('header getters over a built batch', () => {
  const buf = buildRecordBatchSync(
    [
      { key: 'k0', value: 'v0', timestamp: 1000 },
      { key: null, value: 'v1', timestamp: 1500 },
      { value: null, timestamp: 1200 },
    ],
    {
      baseOffset: 100n,
      partitionLeaderEpoch: 7,
      producerId: 42n,
      producerEpoch: 3,
      baseSequence: 10,
      transactional: true,
    },
  );
  const b = new RecordBatch(buf);
  assert.equal(b.baseOffset, 100n);
  assert.equal(b.batchLength, buf.length - 12);
  assert.equal(b.size, buf.length);
  assert.equal(b.partitionLeaderEpoch, 7);
  assert.equal(b.magic, 2);
  assert.equal(b.crc, crc32c(buf, 21));
  assert.equal(b.lastOffsetDelta, 2);
  assert.equal(b.lastOffset, 102n);
  assert.equal(b.nextOffset, 103n);
  assert.equal(b.baseTimestamp, 1000n);
  assert.equal(b.maxTimestamp, 1500n);
  assert.equal(b.producerId, 42n);
  assert.equal(b.producerEpoch, 3);
  assert.equal(b.baseSequence, 10);
  assert.equal(b.lastSequence, 12);
  assert.equal(b.recordsCount, 3);
  assert.equal(b.isTransactional, true);
  assert.equal(b.isControl, false);
  assert.equal(b.hasDeleteHorizon, false);
  assert.equal(b.deleteHorizonMs, null);
  assert.equal(b.compression, CompressionType.None);
  assert.equal(b.timestampType, TimestampType.CreateTime);
  assert.ok(b.isValid());
  assert.equal(b.checkRecords(), 3);
});

test('lastSequence wraps at 2^31 like Kafka', () => {
  const buf = buildRecordBatchSync([{ value: 'a' }, { value: 'b' }, { value: 'c' }], {
    baseSequence: 2147483646,
    producerId: 1n,
    producerEpoch: 0,
  });
  // sequences 2147483646, 2147483647, 0
  assert.equal(new RecordBatch(buf).lastSequence, 0);
});

test('uncompressed records are lazy zero-copy slices of the batch', () => {
  const buf = buildRecordBatchSync(
    [
      {
        key: 'key',
        value: 'value',
        headers: [
          { key: 'h1', value: 'x' },
          { key: 'h2', value: null },
        ],
        timestamp: 5000,
      },
      { key: null, value: null, timestamp: 4000 },
    ],
    { baseOffset: 10n },
  );
  const b = new RecordBatch(buf);
  const it = b.iterateRecords();
  const r0 = it.next().value!;
  assert.equal(r0.offset, 10n);
  assert.equal(r0.offsetDelta, 0);
  assert.equal(r0.timestamp, 5000n);
  assert.equal(r0.timestampDelta, 0n);
  assert.equal(r0.attributes, 0);
  assert.equal(r0.key!.toString(), 'key');
  assert.equal(r0.value!.toString(), 'value');
  assert.deepEqual(
    r0.headers.map((h) => [h.key, h.value?.toString() ?? null]),
    [
      ['h1', 'x'],
      ['h2', null],
    ],
  );
  assert.equal(r0.value!.buffer, buf.buffer, 'value shares memory with the batch');
  // mutate through the slice: the batch bytes change (proves no copy)
  r0.value![0] = 'V'.charCodeAt(0);
  assert.ok(buf.includes(Buffer.from('Value')));
  const r1 = it.next().value!;
  assert.equal(r1.offset, 11n);
  assert.equal(r1.timestamp, 4000n);
  assert.equal(r1.timestampDelta, -1000n);
  assert.equal(r1.key, null);
  assert.equal(r1.value, null);
  assert.ok(it.next().done);
});

test('stamping base offset and leader epoch keeps the CRC valid', () => {
  const buf = buildRecordBatchSync([{ value: 'a' }, { value: 'b' }]);
  const b = new RecordBatch(buf);
  b.setBaseOffset(1234567890123n);
  b.setPartitionLeaderEpoch(99);
  assert.ok(b.isValid());
  assert.deepEqual(
    [...b.iterateRecords()].map((r) => r.offset),
    [1234567890123n, 1234567890124n],
  );
  setBaseOffset(buf, 5n);
  assert.equal(b.baseOffset, 5n);
  assert.ok(b.isValid());
});

test('corrupted bytes fail the CRC; LogAppendTime stamping recomputes it', () => {
  const buf = buildRecordBatchSync([
    { value: 'hello', timestamp: 100 },
    { value: 'world', timestamp: 200 },
  ]);
  for (const pos of [21, 30, 60, buf.length - 1]) {
    const copy = Buffer.from(buf);
    copy[pos] ^= 0x01;
    const b = new RecordBatch(copy);
    assert.equal(b.isValid(), false, `flip at ${pos}`);
    assert.throws(() => b.validate(), CorruptRecordError);
  }
  const wrongMagic = Buffer.from(buf);
  wrongMagic[16] = 1;
  assert.throws(() => new RecordBatch(wrongMagic).validate(), /magic/);
  const b = new RecordBatch(Buffer.from(buf));
  b.stampLogAppendTime(999999n);
  assert.ok(b.isValid());
  assert.equal(b.timestampType, TimestampType.LogAppendTime);
  assert.deepEqual(
    [...b.iterateRecords()].map((r) => r.timestamp),
    [999999n, 999999n],
  );
});

test('compressed batches decompress once, then iterate; sync iteration before that is refused', async () => {
  const recs = Array.from({ length: 50 }, (_, i) => ({
    key: `k${i}`,
    value: `value-${i}`.repeat(20),
    timestamp: 1000 + i,
  }));
  for (const compression of [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd]) {
    const b = new RecordBatch(await buildRecordBatch(recs, { compression, baseOffset: 500n }));
    b.validate();
    assert.equal(b.compression, compression);
    assert.throws(() => b.iterateRecords().next(), CompressionError);
    const got = [];
    for await (const r of b.records()) got.push(r);
    assert.equal(got.length, 50);
    assert.equal(got[49].offset, 549n);
    assert.equal(got[49].value!.toString(), 'value-49'.repeat(20));
    const d1 = await b.decompressRecords();
    assert.equal(await b.decompressRecords(), d1, 'cached');
    assert.equal([...b.iterateRecords()].length, 50);
    assert.equal(b.checkRecords(), 50);
  }
});

test('reads batches written by kafkajs (uncompressed and gzip)', async () => {
  const { RecordBatch: KRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
  const KRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
  const Long = require('kafkajs/src/utils/long');
  const records = [
    KRecord({
      offsetDelta: 0,
      timestampDelta: 0,
      key: Buffer.from('a'),
      value: Buffer.from('1'),
      headers: { h: Buffer.from('x') },
    }),
    KRecord({ offsetDelta: 1, timestampDelta: 5, key: null, value: Buffer.from('2') }),
  ];
  for (const compression of [0, 1]) {
    const enc = await KRecordBatch({
      compression,
      firstOffset: Long.fromValue(77n),
      firstTimestamp: 1600000000000,
      maxTimestamp: 1600000000005,
      partitionLeaderEpoch: 3,
      lastOffsetDelta: 1,
      producerId: Long.fromValue(9n),
      producerEpoch: 1,
      firstSequence: 4,
      records,
    });
    const b = RecordBatch.at(enc.buffer);
    b.validate();
    assert.equal(b.compression, compression);
    assert.equal(b.baseOffset, 77n);
    assert.equal(b.producerId, 9n);
    const rs = await b.recordsArray();
    assert.deepEqual(
      rs.map((r) => [r.offset, r.timestamp, hex(r.key), r.value!.toString()]),
      [
        [77n, 1600000000000n, '61', '1'],
        [78n, 1600000000005n, null, '2'],
      ],
    );
    assert.deepEqual(
      rs[0].headers.map((h) => [h.key, h.value!.toString()]),
      [['h', 'x']],
    );
  }
});

test('reads batches written by kafka-python', {
  skip: !PY_KAFKA && 'python3-kafka (+snappy, lz4, xxhash) missing',
}, async () => {
  const records = [
    {
      offset: 0,
      timestamp: 1700000000000,
      key: hex(Buffer.from('k1')),
      value: hex(randomBytes(300)),
      headers: [
        ['a', '01'],
        ['b', null],
      ],
    },
    { offset: 1, timestamp: 1699999999000, key: null, value: hex(Buffer.alloc(2000, 0x61)), headers: [] },
    { offset: 2, timestamp: 1700000000500, key: hex(Buffer.from('k3')), value: null, headers: [['ü', 'ff']] },
  ];
  for (const compression of [0, 1, 2, 3]) {
    const out: string = pyJson(PY_BUILD, {
      compression,
      transactional: false,
      producer_id: 12,
      producer_epoch: 2,
      base_sequence: 7,
      records,
    });
    const b = RecordBatch.at(Buffer.from(out, 'hex'));
    b.validate();
    assert.equal(b.compression, compression, `codec ${compression}`);
    assert.equal(b.producerId, 12n);
    assert.equal(b.baseSequence, 7);
    assert.equal(b.maxTimestamp, 1700000000500n);
    const rs = await b.recordsArray();
    assert.deepEqual(
      rs.map((r) => ({
        offset: Number(r.offset),
        timestamp: Number(r.timestamp),
        key: hex(r.key),
        value: hex(r.value),
        headers: r.headers.map((h) => [h.key, hex(h.value)]),
      })),
      records,
    );
  }
});

test('splitBatches: consecutive batches, truncated tail reported, lazy form', () => {
  const a = buildRecordBatchSync([{ value: 'a' }], { baseOffset: 0n });
  const b = buildRecordBatchSync([{ value: 'b' }, { value: 'c' }], { baseOffset: 1n });
  const c = buildRecordBatchSync([{ value: 'd' }], { baseOffset: 3n });
  const all = Buffer.concat([a, b, c]);
  const whole = splitBatches(all);
  assert.equal(whole.batches.length, 3);
  assert.equal(whole.truncated, false);
  assert.equal(whole.validBytes, all.length);
  assert.deepEqual(
    whole.batches.map((x) => x.baseOffset),
    [0n, 1n, 3n],
  );
  for (const cut of [1, 5, 16, 17, 40, c.length - 1]) {
    const s = splitBatches(all.subarray(0, a.length + b.length + cut));
    assert.equal(s.batches.length, 2, `cut ${cut}`);
    assert.equal(s.truncated, true);
    assert.equal(s.trailingBytes, cut);
    assert.equal(s.validBytes, a.length + b.length);
  }
  assert.deepEqual(splitBatches(Buffer.alloc(0)), { batches: [], validBytes: 0, truncated: false, trailingBytes: 0 });
  const state = { validBytes: 0, truncated: false };
  let n = 0;
  for (const batch of iterateBatches(all.subarray(0, all.length - 3), state)) {
    batch.validate();
    n++;
  }
  assert.equal(n, 2);
  assert.equal(state.truncated, true);
  // a length below the header size is corruption, not truncation
  const bad = Buffer.from(a);
  bad.writeInt32BE(10, 8);
  assert.throws(() => splitBatches(bad), CorruptRecordError);
  const legacy = Buffer.from(a);
  legacy[16] = 1;
  assert.throws(() => splitBatches(legacy), CorruptRecordError);
  assert.throws(() => RecordBatch.at(all.subarray(0, 30)), CorruptRecordError);
  assert.throws(() => new RecordBatch(Buffer.alloc(20)), CorruptRecordError);
});

test('control batches: COMMIT/ABORT markers and coordinator epoch', async () => {
  for (const [type, name] of [
    [ControlRecordType.Commit, 'commit'],
    [ControlRecordType.Abort, 'abort'],
  ] as const) {
    const buf = buildControlBatch(type, 4242n, 5, 17, 1000n, 1700000000000n);
    const b = new RecordBatch(buf);
    b.validate();
    assert.ok(b.isControl && b.isTransactional, name);
    assert.equal(b.producerId, 4242n);
    assert.equal(b.producerEpoch, 5);
    assert.equal(b.baseSequence, -1);
    assert.equal(b.recordsCount, 1);
    assert.deepEqual(await b.controlRecord(), { version: 0, type, coordinatorEpoch: 17 });
    const [r] = [...b.iterateRecords()];
    assert.equal(r.key!.toString('hex'), type === ControlRecordType.Commit ? '00000001' : '00000000');
    assert.equal(r.value!.toString('hex'), '000000000011');
    assert.equal(r.offset, 1000n);
  }
  assert.deepEqual(parseEndTxnMarker(Buffer.from('0000ffffffff', 'hex')), { version: 0, coordinatorEpoch: -1 });
  assert.deepEqual(parseControlRecord({ key: Buffer.from('00000002', 'hex'), value: Buffer.from('00') }), {
    version: 0,
    type: 2,
    coordinatorEpoch: null,
  });
  assert.throws(() => parseControlRecord({ key: Buffer.from('0000', 'hex'), value: null }), CorruptRecordError);
  assert.throws(
    () => parseControlRecord({ key: Buffer.from('00000001', 'hex'), value: Buffer.from('0000', 'hex') }),
    CorruptRecordError,
  );
  await assert.rejects(new RecordBatch(buildRecordBatchSync([{ value: 'x' }])).controlRecord(), CorruptRecordError);
});

/** Rewrite the CRC so corruption inside records gets past validate() and reaches the record parser. */
function fixCrc(buf: Buffer): Buffer {
  buf.writeUInt32BE(crc32c(buf, 21), 17);
  return buf;
}

test('malformed records raise CorruptRecordError, never anything else', () => {
  const buf = buildRecordBatchSync([
    { key: 'key', value: 'some value', headers: [{ key: 'h', value: 'v' }], timestamp: 1 },
    { key: 'key2', value: 'other value', timestamp: 2 },
  ]);
  // count larger / smaller than the records present
  for (const count of [3, 1, 0x7fffffff]) {
    const b = Buffer.from(buf);
    b.writeInt32BE(count, 57);
    const rb = new RecordBatch(fixCrc(b));
    assert.throws(() => [...rb.iterateRecords()], CorruptRecordError, `count ${count}`);
    assert.throws(() => rb.checkRecords(), CorruptRecordError);
  }
  // lastOffsetDelta disagreeing with the records
  const lod = Buffer.from(buf);
  lod.writeInt32BE(5, 23);
  assert.throws(() => new RecordBatch(fixCrc(lod)).checkRecords(), CorruptRecordError);
  // every single-byte mutation of the records area, and every truncation
  let corrupt = 0;
  for (let pos = 61; pos < buf.length; pos++) {
    for (const v of [0x00, 0x7f, 0x80, 0xff]) {
      const b = Buffer.from(buf);
      b[pos] = v;
      const rb = new RecordBatch(fixCrc(b));
      for (const fn of [() => [...rb.iterateRecords()], () => rb.checkRecords()]) {
        try {
          fn();
        } catch (e) {
          assert.ok(e instanceof CorruptRecordError, `pos ${pos} value ${v}: ${String(e)}`);
          corrupt++;
        }
      }
    }
  }
  assert.ok(corrupt > 0);
  for (let len = 61; len < buf.length; len++) {
    const b = Buffer.from(buf.subarray(0, len));
    b.writeInt32BE(len - 12, 8);
    const rb = new RecordBatch(fixCrc(b));
    assert.ok(rb.isValid());
    assert.throws(() => [...rb.iterateRecords()], CorruptRecordError, `length ${len}`);
  }
  // negative header count
  const neg = buildRecordBatchSync([{ value: 'v', timestamp: 0 }]);
  assert.equal(neg[neg.length - 1], 0); // header count varint 0
  neg[neg.length - 1] = 0x01; // zig-zag -1
  assert.throws(() => [...new RecordBatch(fixCrc(neg)).iterateRecords()], /negative header count/);
});

test('corrupt compressed payloads raise CorruptRecordError', async () => {
  const buf = await buildRecordBatch([{ value: 'x'.repeat(1000) }], { compression: CompressionType.Lz4 });
  const b = Buffer.from(buf.subarray(0, buf.length - 6)); // cut into the last block and end mark
  b.writeInt32BE(b.length - 12, 8);
  const rb = new RecordBatch(fixCrc(b));
  await assert.rejects(async () => {
    for await (const r of rb.records()) void r;
  }, CorruptRecordError);
  const unknown = Buffer.from(buf);
  unknown.writeInt16BE(6, 21);
  await assert.rejects(new RecordBatch(fixCrc(unknown)).decompressRecords(), CompressionError);
});
