/**
 * The load path of __consumer_offsets (offsets-replay.ts): the lean record walk yields what RecordBatch's own
 * decoding yields (keys, values, tombstones, timestamps, LogAppendTime, compressed batches, records below
 * the read offset skipped), and LastValues keeps each key's last record in the order of those last records,
 * which is what compaction leaves. Also the single-allocation offset record encoders against their decoders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecordBatch, buildRecordBatchSync } from '../../../protocol/records/builder.js';
import { RecordBatch } from '../../../protocol/records/batch.js';
import { CompressionType, TimestampType } from '../../../protocol/records/batch-header.js';
import { copyRecord, forEachRecord, LastValues, recordsOf } from '../../../broker/groups/offsets-replay.js';
import { decodeKey, decodeOffsetValue, offsetKey, offsetValue } from '../../../broker/groups/records.js';

type Seen = [string, string | null, number];

async function walk(batch: RecordBatch, readFrom = 0): Promise<Seen[]> {
  const seen: Seen[] = [];
  forEachRecord(batch, await recordsOf(batch), readFrom, (data, ks, ke, vs, ve, ts) => {
    const { key, value } = copyRecord(data, ks, ke, vs, ve);
    seen.push([key.toString(), value?.toString() ?? null, ts]);
  });
  return seen;
}

const inputs = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1_700_000_000_000 },
  { key: null, value: Buffer.from('keyless'), timestamp: 1_700_000_000_001 },
  { key: Buffer.from('k2'), value: null, timestamp: 1_700_000_000_005 },
  {
    key: Buffer.from('k1'),
    value: Buffer.from('v1b'),
    timestamp: 1_700_000_000_009,
    headers: [{ key: 'h', value: Buffer.from('x') }],
  },
];

test('forEachRecord yields what RecordBatch decodes (keyed records only)', async () => {
  for (const compression of [CompressionType.None, CompressionType.Gzip]) {
    const batch = new RecordBatch(await buildRecordBatch(inputs, { baseOffset: 100, compression }));
    const expected: Seen[] = (await batch.recordsArray())
      .filter((r) => r.key !== null)
      .map((r) => [r.key!.toString(), r.value?.toString() ?? null, Number(r.timestamp)]);
    assert.deepEqual(await walk(batch), expected);
    assert.deepEqual(expected, [
      ['k1', 'v1', 1_700_000_000_000],
      ['k2', null, 1_700_000_000_005],
      ['k1', 'v1b', 1_700_000_000_009],
    ]);
    // Records below the offset the read started from are skipped (offsets 100..103).
    assert.deepEqual(
      (await walk(batch, 102)).map((s) => s[0]),
      ['k2', 'k1'],
    );
  }
});

test('forEachRecord: LogAppendTime batches give every record the batch max timestamp', async () => {
  const buf = buildRecordBatchSync(inputs, { timestampType: TimestampType.LogAppendTime, logAppendTime: 42 });
  const seen = await walk(new RecordBatch(buf));
  assert.deepEqual(
    seen.map((s) => s[2]),
    [42, 42, 42],
  );
});

test('LastValues keeps the last record of each key, in the order of the last records', () => {
  const last = new LastValues();
  const put = (k: string, v: string | null, ts: number): void =>
    last.addRecord(Buffer.from(k), v === null ? null : Buffer.from(v), ts);
  put('a', '1', 1);
  put('b', '1', 2);
  put('c', '1', 3);
  put('a', '2', 4);
  put('b', null, 5);
  put('d', '1', 6);
  put('a', '3', 7);
  assert.equal(last.size, 4);
  const applied: Seen[] = [];
  last.applyTo((k, v, ts) => applied.push([k.toString(), v?.toString() ?? null, ts]));
  assert.deepEqual(applied, [
    ['c', '1', 3],
    ['b', null, 5],
    ['d', '1', 6],
    ['a', '3', 7],
  ]);
  // Stops as soon as the load is superseded.
  put('x', '1', 1);
  put('y', '1', 2);
  let n = 0;
  last.applyTo(
    () => n++,
    () => n < 1,
  );
  assert.equal(n, 1);
});

test('kept keys and values do not alias the read buffer once it is released', () => {
  const last = new LastValues();
  const read = Buffer.from('xkkvvy');
  last.add(read, 1, 3, 3, 5, 1);
  last.add(read, 0, 1, -1, 0, 2);
  last.release();
  read.fill(0);
  const applied: Seen[] = [];
  last.applyTo((k, v, ts) => applied.push([k.toString(), v?.toString() ?? null, ts]));
  assert.deepEqual(applied, [
    ['kk', 'vv', 1],
    ['x', null, 2],
  ]);
});

test('values borrowed from a read are copied at its release: superseded ones never, current ones once', () => {
  const last = new LastValues();
  const first = Buffer.from('k1k2v1v2v3');
  last.add(first, 0, 2, 4, 6, 1); // k1 = v1
  last.add(first, 2, 4, 6, 8, 2); // k2 = v2
  last.add(first, 0, 2, 8, 10, 3); // k1 = v3, in the same read
  last.release();
  first.fill(0);
  const second = Buffer.from('k2w1k3');
  last.add(second, 0, 2, 2, 4, 4); // k2 = w1
  last.add(second, 4, 6, -1, 0, 5); // k3: tombstone
  last.add(second, 0, 2, -1, 0, 6); // k2: tombstone after a borrowed value
  last.release();
  second.fill(0);
  const applied: Seen[] = [];
  last.applyTo((k, v, ts) => applied.push([k.toString(), v?.toString() ?? null, ts]));
  assert.deepEqual(applied, [
    ['k1', 'v3', 3],
    ['k3', null, 5],
    ['k2', null, 6],
  ]);
});

test('offset records: encoders round-trip through the decoders (negative, large, unicode)', () => {
  for (const [group, topic, partition] of [
    ['g', 't', 0],
    ['grüppe-€', 'tópic', 2_147_483_647],
  ] as const) {
    assert.deepEqual(decodeKey(offsetKey(group, topic, partition)), { kind: 'offset', group, topic, partition });
  }
  for (const v of [
    { offset: 0, leaderEpoch: -1, metadata: '', commitTimestamp: 1_700_000_000_123 },
    { offset: -1, leaderEpoch: 7, metadata: 'méta', commitTimestamp: -1 },
    { offset: 2 ** 53 - 1, leaderEpoch: 2_147_483_647, metadata: 'x'.repeat(300), commitTimestamp: 2 ** 40 + 5 },
    { offset: 4_294_967_296, leaderEpoch: 0, metadata: '', commitTimestamp: 4_294_967_295 },
  ]) {
    const buf = offsetValue(v);
    assert.deepEqual(decodeOffsetValue(buf), v);
    // Kafka's layout: version 3, int64 offset, int32 epoch, string, int64 timestamp.
    assert.equal(buf.readInt16BE(0), 3);
    assert.equal(buf.readBigInt64BE(2), BigInt(v.offset));
    assert.equal(buf.readBigInt64BE(buf.length - 8), BigInt(v.commitTimestamp));
  }
});
