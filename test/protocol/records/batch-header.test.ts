/**
 * Record batch header accessors (protocol/records/batch-header.ts), the one place that reads header fields:
 * bigint and JS-number variants agree with each other, with RecordBatch and with the builder's input, at any
 * position in a buffer; the int64 number helpers round-trip large and negative values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../../protocol/records/batch-header.js';
import { RecordBatch } from '../../../protocol/records/batch.js';
import { buildRecordBatchSync } from '../../../protocol/records/builder.js';

test('int64 number helpers round-trip large and negative values', () => {
  const buf = Buffer.alloc(11);
  for (const v of [0, 1, -1, 2 ** 32, -(2 ** 32), 2 ** 40 + 5, -(2 ** 33) - 7, Number.MAX_SAFE_INTEGER]) {
    h.writeInt64Number(buf, 3, v);
    assert.equal(buf.readBigInt64BE(3), BigInt(v));
    assert.equal(h.readInt64Number(buf, 3), v);
  }
});

test('accessors read every header field, as bigint and as number, at any position', () => {
  const base = 2 ** 40 + 17;
  const batch = buildRecordBatchSync(
    [
      { key: 'a', value: '1', timestamp: 1_700_000_000_000 },
      { key: 'b', value: '2', timestamp: 1_700_000_000_500 },
      { key: 'c', value: null, timestamp: 1_699_999_999_000 },
    ],
    {
      baseOffset: BigInt(base),
      partitionLeaderEpoch: 7,
      producerId: 123456789012n,
      producerEpoch: 3,
      baseSequence: 41,
      transactional: true,
    },
  );
  const pad = 5;
  const buf = Buffer.concat([Buffer.alloc(pad, 0xee), batch, Buffer.alloc(9, 0xee)]);
  const rb = new RecordBatch(batch);
  assert.equal(h.entrySize(buf, pad), batch.length);
  assert.equal(h.batchLength(buf, pad), batch.length - h.LOG_OVERHEAD);
  assert.equal(h.baseOffset(buf, pad), BigInt(base));
  assert.equal(h.baseOffsetNumber(buf, pad), base);
  assert.equal(h.lastOffsetDelta(buf, pad), 2);
  assert.equal(h.lastOffsetNumber(buf, pad), base + 2);
  assert.equal(h.partitionLeaderEpoch(buf, pad), 7);
  assert.equal(h.magic(buf, pad), 2);
  assert.equal(h.storedCrc(buf, pad), rb.crc);
  assert.equal(h.storedCrc(buf, pad), rb.computeCrc());
  assert.equal(h.attributes(buf, pad) & h.TRANSACTIONAL_FLAG_MASK, h.TRANSACTIONAL_FLAG_MASK);
  assert.equal(h.baseTimestamp(buf, pad), 1_700_000_000_000n);
  assert.equal(h.baseTimestampNumber(buf, pad), 1_700_000_000_000);
  assert.equal(h.maxTimestamp(buf, pad), 1_700_000_000_500n);
  assert.equal(h.maxTimestampNumber(buf, pad), 1_700_000_000_500);
  assert.equal(h.producerId(buf, pad), 123456789012n);
  assert.equal(h.producerIdNumber(buf, pad), 123456789012);
  assert.equal(h.producerEpoch(buf, pad), 3);
  assert.equal(h.baseSequence(buf, pad), 41);
  assert.equal(h.recordsCount(buf, pad), 3);
  // RecordBatch's getters are these accessors at position 0.
  assert.deepEqual(
    [rb.baseOffset, rb.lastOffsetDelta, rb.maxTimestamp, rb.producerId, rb.producerEpoch, rb.baseSequence],
    [BigInt(base), 2, 1_700_000_000_500n, 123456789012n, 3, 41],
  );
  assert.equal(rb.problem(), null);
});

test('no producer: producerId -1 in both variants; stamping base offset and epoch leaves the CRC valid', () => {
  const batch = buildRecordBatchSync([{ value: 'x', timestamp: 5 }]);
  assert.equal(h.producerId(batch), h.NO_PRODUCER_ID);
  assert.equal(h.producerIdNumber(batch), -1);
  h.setBaseOffset(batch, 99n);
  h.setPartitionLeaderEpoch(batch, 4);
  assert.equal(h.baseOffsetNumber(batch), 99);
  assert.equal(h.lastOffsetNumber(batch), 99);
  assert.equal(h.partitionLeaderEpoch(batch), 4);
  assert.equal(new RecordBatch(batch).problem(), null);
});
