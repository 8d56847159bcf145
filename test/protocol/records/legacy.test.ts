/**
 * Legacy message sets (magic 0/1): our writer and reader against kafka-python's LegacyRecordBatchBuilder /
 * MemoryRecords (via /usr/bin/python3, including its lz4 magic-0 header quirk and v1 wrappers with offset 0),
 * wrapper offset rules, CRC-32 checks, truncation handling, and the v2 conversions used by the broker
 * (legacyToBatchV2 for old producers, batchToLegacy for old fetchers, with Kafka's zstd rule).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PY_KAFKA, pyJson } from '../../helpers/python-records.js';
import { CompressionError, CorruptRecordError } from '../../../protocol/errors.js';
import { CompressionType, TimestampType } from '../../../protocol/records/batch-header.js';
import { RecordBatch } from '../../../protocol/records/batch.js';
import { buildControlBatch, buildRecordBatch, buildRecordBatchSync } from '../../../protocol/records/builder.js';
import { decompress } from '../../../protocol/records/compression.js';
import { crc32 } from '../../../protocol/records/crc.js';
import {
  batchToLegacy,
  buildMessageSet,
  legacyToBatchV2,
  parseLegacyEntry,
  readMessageSet,
  splitMessageSet,
  writeLegacyEntry,
  type LegacyRecordInput,
} from '../../../protocol/records/legacy.js';

const SKIP = !PY_KAFKA && 'python3-kafka (+snappy, lz4, xxhash) missing';

const PY_BUILD_LEGACY = `
from kafka.record.legacy_records import LegacyRecordBatchBuilder
b = LegacyRecordBatchBuilder(magic=inp['magic'], compression_type=inp['compression'], batch_size=1 << 30)
h = lambda x: None if x is None else bytes.fromhex(x)
for r in inp['records']:
    b.append(r['offset'], r['timestamp'], h(r['key']), h(r['value']))
out = bytes(b.build()).hex()
`;

/** Read any message set / batches with kafka-python's MemoryRecords (checks CRCs). */
const PY_READ_ALL = `
from kafka.record.memory_records import MemoryRecords
m = MemoryRecords(bytes.fromhex(inp))
hx = lambda x: None if x is None else bytes(x).hex()
out = []
while m.has_next():
    b = m.next_batch()
    assert b.validate_crc(), 'crc'
    for r in b:
        out.append({'offset': r.offset, 'timestamp': r.timestamp, 'key': hx(r.key), 'value': hx(r.value),
                    'timestamp_type': r.timestamp_type})
`;

/** One record as PY_READ_ALL prints it (key and value in hex). */
interface PyRecord {
  offset: number;
  timestamp: number | null;
  key: string | null;
  value: string | null;
  timestamp_type: number | null;
}

const hex = (b: Buffer | null | undefined) => (b == null ? null : b.toString('hex'));

function sample(n: number, ts0 = 1500000000000): LegacyRecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 3 === 0 ? null : Buffer.from(`key-${i}`),
    value: i % 4 === 3 ? null : Buffer.from(`value-${i}-`.repeat(10)),
    timestamp: ts0 + i * 10,
  }));
}

const LEGACY_CODECS = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4];

test('writer layout: sizes, CRC-32, v0 has no timestamp', () => {
  const e0 = writeLegacyEntry(7n, 0, 0, -1n, null, Buffer.from('abc'));
  assert.equal(e0.length, 12 + 14 + 3);
  assert.equal(e0.readInt32BE(8), 17);
  assert.equal(e0.readUInt32BE(12), crc32(e0, 16));
  assert.equal(e0.subarray(16).toString('hex'), '0000' + 'ffffffff' + '00000003' + '616263');
  const e1 = writeLegacyEntry(8n, 1, 0, 1234n, Buffer.from('k'), null);
  assert.equal(e1.length, 12 + 22 + 1);
  assert.equal(e1.subarray(16).toString('hex'), '0100' + '00000000000004d2' + '00000001' + '6b' + 'ffffffff');
  const m = parseLegacyEntry(e1);
  assert.deepEqual([m.offset, m.magic, m.timestamp, hex(m.key), m.value], [8n, 1, 1234n, '6b', null]);
});

test('round trip through our writer and reader, every codec, both magics', async () => {
  for (const magic of [0, 1] as const) {
    for (const compression of LEGACY_CODECS) {
      const recs = sample(7);
      const set = await buildMessageSet(recs, { magic, compression, baseOffset: 100n });
      const { records, truncated } = await readMessageSet(set);
      assert.equal(truncated, false);
      assert.deepEqual(
        records.map((r) => r.offset),
        [100n, 101n, 102n, 103n, 104n, 105n, 106n],
      );
      assert.deepEqual(
        records.map((r) => hex(r.key)),
        recs.map((r) => hex(r.key as Buffer | null)),
      );
      assert.deepEqual(
        records.map((r) => hex(r.value)),
        recs.map((r) => hex(r.value as Buffer | null)),
      );
      assert.deepEqual(
        records.map((r) => r.timestamp),
        recs.map((r) => (magic === 0 ? -1n : BigInt(r.timestamp!))),
      );
      const shallow = splitMessageSet(set).entries;
      if (compression === CompressionType.None) {
        assert.equal(shallow.length, 7);
      } else {
        assert.equal(shallow.length, 1);
        assert.equal(shallow[0].compression, compression);
        assert.equal(shallow[0].offset, 106n, 'wrapper offset = last inner absolute offset');
        assert.equal(shallow[0].key, null);
        if (magic === 1) assert.equal(shallow[0].timestamp, BigInt(recs[6].timestamp!), 'wrapper timestamp = max');
        const inner = splitMessageSet(
          await decompress(compression, shallow[0].value!, { legacyMagic0: magic === 0 }),
        ).entries;
        assert.deepEqual(
          inner.map((e) => e.offset),
          magic === 1 ? [0n, 1n, 2n, 3n, 4n, 5n, 6n] : [100n, 101n, 102n, 103n, 104n, 105n, 106n],
        );
      }
    }
  }
});

test('kafka-python reads what we write', { skip: SKIP }, async () => {
  for (const magic of [0, 1] as const) {
    for (const compression of LEGACY_CODECS) {
      const recs = sample(5);
      const set = await buildMessageSet(recs, { magic, compression, baseOffset: 40n });
      const read = pyJson<PyRecord[]>(PY_READ_ALL, set.toString('hex'));
      assert.deepEqual(
        read.map((r) => [r.offset, r.key, r.value, r.timestamp]),
        recs.map((r, i) => [
          40 + i,
          hex(r.key as Buffer | null),
          hex(r.value as Buffer | null),
          magic === 0 ? null : r.timestamp,
        ]),
        `magic ${magic} codec ${compression}`,
      );
    }
  }
});

test('we read what kafka-python writes (lz4 magic-0 HC quirk, v1 wrapper offset 0)', { skip: SKIP }, async () => {
  for (const magic of [0, 1] as const) {
    for (const compression of LEGACY_CODECS) {
      const recs = sample(4).map((r, i) => ({
        offset: i,
        timestamp: r.timestamp,
        key: hex(r.key as Buffer | null),
        value: hex(r.value as Buffer | null),
      }));
      const set = Buffer.from(pyJson<string>(PY_BUILD_LEGACY, { magic, compression, records: recs }), 'hex');
      const { records } = await readMessageSet(set);
      // kafka-python leaves compressed wrappers at offset 0: Kafka then takes the inner offsets as they are.
      assert.deepEqual(
        records.map((r) => r.offset),
        [0n, 1n, 2n, 3n],
        `magic ${magic} codec ${compression}`,
      );
      assert.deepEqual(
        records.map((r) => hex(r.value)),
        recs.map((r) => r.value),
      );
      assert.deepEqual(
        records.map((r) => hex(r.key)),
        recs.map((r) => r.key),
      );
      assert.deepEqual(
        records.map((r) => r.timestamp),
        recs.map((r) => (magic === 0 ? -1n : BigInt(r.timestamp!))),
      );
    }
  }
});

test('v1 wrapper offset rules: 0 keeps inner offsets, below the last inner offset is corrupt', async () => {
  const { compress } = await import('../../../protocol/records/compression.js');
  const inner = await buildMessageSet(sample(3), { magic: 1, baseOffset: 0n });
  const value = await compress(CompressionType.Gzip, inner);
  const at = (offset: bigint) => writeLegacyEntry(offset, 1, CompressionType.Gzip, 0n, null, value);
  assert.deepEqual(
    (await readMessageSet(at(0n))).records.map((r) => r.offset),
    [0n, 1n, 2n],
  );
  assert.deepEqual(
    (await readMessageSet(at(12n))).records.map((r) => r.offset),
    [10n, 11n, 12n],
  );
  await assert.rejects(readMessageSet(at(1n)), CorruptRecordError);
});

test('LogAppendTime wrapper timestamp overrides inner timestamps', async () => {
  const set = await buildMessageSet(sample(3), {
    magic: 1,
    compression: CompressionType.Gzip,
    timestampType: TimestampType.LogAppendTime,
    logAppendTime: 777n,
  });
  const [w] = splitMessageSet(set).entries;
  assert.equal(w.timestampType, TimestampType.LogAppendTime);
  assert.equal(w.timestamp, 777n);
  const { records } = await readMessageSet(set);
  assert.deepEqual(
    records.map((r) => [r.timestamp, r.timestampType]),
    [
      [777n, 1],
      [777n, 1],
      [777n, 1],
    ],
  );
});

test('CRC corruption, bad sizes, truncation', async () => {
  const set = await buildMessageSet(sample(3), { magic: 1 });
  const flipped = Buffer.from(set);
  flipped[40] ^= 0x20;
  assert.throws(() => splitMessageSet(flipped), /CRC mismatch/);
  // truncated last entry is reported, not thrown
  for (const cut of [1, 10, 20, 30]) {
    const s = splitMessageSet(set.subarray(0, set.length - cut));
    assert.equal(s.entries.length, 2);
    assert.equal(s.truncated, true);
  }
  await assert.rejects(legacyToBatchV2(set.subarray(0, set.length - 3)), CorruptRecordError);
  const small = Buffer.from(set);
  small.writeInt32BE(10, 8);
  assert.throws(() => splitMessageSet(small), CorruptRecordError);
  const magic2 = Buffer.from(set);
  magic2[16] = 2;
  assert.throws(() => splitMessageSet(magic2), CorruptRecordError);
  // key length running past the message (CRC fixed so the length check is what fails)
  const longKey = Buffer.from(set.subarray(0, 12 + set.readInt32BE(8)));
  longKey.writeInt32BE(1000, 12 + 14);
  longKey.writeUInt32BE(crc32(longKey, 16), 12);
  assert.throws(() => parseLegacyEntry(longKey), CorruptRecordError);
  // every truncation of every entry only ever gives CorruptRecordError or a truncated report
  const gz = await buildMessageSet(sample(5), { magic: 0, compression: CompressionType.Gzip });
  for (let len = 0; len < gz.length; len++) {
    const s = splitMessageSet(gz.subarray(0, len));
    assert.equal(s.entries.length, 0);
    assert.equal(s.truncated, len > 0);
  }
});

test('wrapper contents are checked: truncated inner, nested compression, magic mismatch, null value', async () => {
  const wrap = async (inner: Buffer, magic: 0 | 1 = 1) => {
    const value = await import('../../../protocol/records/compression.js').then((m) =>
      m.compress(CompressionType.Gzip, inner),
    );
    return writeLegacyEntry(0n, magic, CompressionType.Gzip, 0n, null, value);
  };
  const plain = await buildMessageSet(sample(2), { magic: 1 });
  await assert.rejects(readMessageSet(await wrap(plain.subarray(0, plain.length - 2))), /truncated inner/);
  const nested = await buildMessageSet(sample(2), { magic: 1, compression: CompressionType.Gzip });
  await assert.rejects(readMessageSet(await wrap(nested)), /must not be compressed/);
  const v0 = await buildMessageSet(sample(2), { magic: 0 });
  await assert.rejects(readMessageSet(await wrap(v0, 1)), /differs from wrapper magic/);
  await assert.rejects(readMessageSet(writeLegacyEntry(0n, 1, CompressionType.Gzip, 0n, null, null)), /null value/);
  await assert.rejects(
    readMessageSet(writeLegacyEntry(0n, 1, CompressionType.Gzip, 0n, null, Buffer.from('junk'))),
    CorruptRecordError,
  );
  await assert.rejects(
    readMessageSet(writeLegacyEntry(0n, 1, CompressionType.Zstd, 0n, null, Buffer.from('junk'))),
    CompressionError,
  );
  await assert.rejects(buildMessageSet(sample(2), { magic: 1, compression: CompressionType.Zstd }), CompressionError);
});

test('legacyToBatchV2: one v2 batch with the source codec, timestamps kept, CRC-32C valid', async () => {
  for (const magic of [0, 1] as const) {
    for (const compression of LEGACY_CODECS) {
      const recs = sample(6);
      const set = await buildMessageSet(recs, { magic, compression, baseOffset: 500n });
      const b = new RecordBatch(await legacyToBatchV2(set));
      b.validate();
      assert.equal(b.compression, compression);
      assert.equal(b.baseOffset, 0n);
      assert.equal(b.recordsCount, 6);
      assert.equal(b.lastOffsetDelta, 5);
      assert.equal(b.producerId, -1n);
      assert.equal(b.timestampType, TimestampType.CreateTime);
      const rs = await b.recordsArray();
      assert.deepEqual(
        rs.map((r) => r.offsetDelta),
        [0, 1, 2, 3, 4, 5],
      );
      assert.deepEqual(
        rs.map((r) => hex(r.value)),
        recs.map((r) => hex(r.value as Buffer | null)),
      );
      assert.deepEqual(
        rs.map((r) => r.timestamp),
        recs.map((r) => (magic === 0 ? -1n : BigInt(r.timestamp!))),
      );
      assert.equal(b.checkRecords(), 6);
    }
  }
  // several wrappers and plain messages end up in one batch; explicit codec override
  const mixed = Buffer.concat([
    await buildMessageSet(sample(2), { magic: 1, compression: CompressionType.Snappy }),
    await buildMessageSet(sample(3), { magic: 1 }),
  ]);
  const b = new RecordBatch(await legacyToBatchV2(mixed, { compression: CompressionType.Zstd, baseOffset: 9n }));
  assert.equal(b.compression, CompressionType.Zstd);
  assert.equal((await b.recordsArray()).length, 5);
  await assert.rejects(legacyToBatchV2(Buffer.alloc(0)), CorruptRecordError);
});

test('legacyToBatchV2 on kafka-python magic 0 lz4 input is readable by kafka-python as v2', {
  skip: SKIP,
}, async () => {
  const recs = sample(5).map((r, i) => ({
    offset: i,
    timestamp: r.timestamp,
    key: hex(r.key as Buffer | null),
    value: hex(r.value as Buffer | null),
  }));
  const set = Buffer.from(
    pyJson<string>(PY_BUILD_LEGACY, { magic: 0, compression: CompressionType.Lz4, records: recs }),
    'hex',
  );
  const v2 = await legacyToBatchV2(set);
  const read = pyJson<PyRecord[]>(PY_READ_ALL, v2.toString('hex'));
  assert.deepEqual(
    read.map((r) => [r.offset, r.key, r.value, r.timestamp]),
    recs.map((r, i) => [i, r.key, r.value, -1]),
  );
});

test('batchToLegacy: codec kept, headers and control batches dropped, offsets and timestamps kept', async () => {
  const recs = [
    { key: 'a', value: 'x'.repeat(100), headers: [{ key: 'h', value: 'dropped' }], timestamp: 1000, offsetDelta: 0 },
    { key: null, value: 'y'.repeat(100), timestamp: 2000, offsetDelta: 3 }, // compaction gap
  ];
  for (const compression of LEGACY_CODECS) {
    const batch = await buildRecordBatch(recs, { compression, baseOffset: 50n });
    const control = buildControlBatch(1, 5n, 0, 0, 54n);
    for (const magic of [0, 1] as const) {
      const out = await batchToLegacy(Buffer.concat([batch, control]), magic);
      const shallow = splitMessageSet(out).entries;
      assert.equal(shallow.length, compression === CompressionType.None ? 2 : 1);
      assert.ok(shallow.every((e) => e.magic === magic && e.compression === compression));
      const { records } = await readMessageSet(out);
      assert.deepEqual(
        records.map((r) => r.offset),
        [50n, 53n],
      );
      assert.deepEqual(
        records.map((r) => r.value!.toString()),
        ['x'.repeat(100), 'y'.repeat(100)],
      );
      assert.deepEqual(
        records.map((r) => r.timestamp),
        magic === 0 ? [-1n, -1n] : [1000n, 2000n],
      );
    }
  }
});

test('batchToLegacy: zstd follows Kafka (UNSUPPORTED_COMPRESSION_TYPE) unless asked to decompress', async () => {
  const batch = await buildRecordBatch([{ value: 'z'.repeat(500) }], {
    compression: CompressionType.Zstd,
    baseOffset: 3n,
  });
  await assert.rejects(batchToLegacy(batch, 1), (e: unknown) => e instanceof CompressionError && e.kafkaCode === 76);
  const out = await batchToLegacy(batch, 1, { zstd: 'uncompressed' });
  const [m] = splitMessageSet(out).entries;
  assert.equal(m.compression, CompressionType.None);
  assert.equal(m.offset, 3n);
  assert.equal(m.value!.toString(), 'z'.repeat(500));
});

test('batchToLegacy: LogAppendTime, truncated tail, legacy pass-through and magic 1 to 0', async () => {
  const batch = new RecordBatch(
    await buildRecordBatch(
      [
        { value: 'a', timestamp: 1 },
        { value: 'b', timestamp: 2 },
      ],
      { compression: CompressionType.Gzip },
    ),
  );
  batch.stampLogAppendTime(4242n);
  const out = await batchToLegacy(batch.buffer, 1);
  const [w] = splitMessageSet(out).entries;
  assert.equal(w.timestampType, TimestampType.LogAppendTime);
  assert.equal(w.timestamp, 4242n);
  assert.deepEqual(
    (await readMessageSet(out)).records.map((r) => r.timestamp),
    [4242n, 4242n],
  );
  const two = Buffer.concat([
    buildRecordBatchSync([{ value: 'p' }]),
    buildRecordBatchSync([{ value: 'q' }], { baseOffset: 1n }),
  ]);
  const cut = await batchToLegacy(two.subarray(0, two.length - 5), 0);
  assert.deepEqual(
    (await readMessageSet(cut)).records.map((r) => r.value!.toString()),
    ['p'],
  );
  const v0 = await buildMessageSet(sample(2), { magic: 0 });
  assert.ok((await batchToLegacy(v0, 1)).equals(v0), 'older entries pass through');
  const v1 = await buildMessageSet(sample(2), { magic: 1, compression: CompressionType.Snappy, baseOffset: 8n });
  const down = await batchToLegacy(v1, 0);
  const [d] = splitMessageSet(down).entries;
  assert.equal(d.magic, 0);
  assert.equal(d.compression, CompressionType.Snappy);
  assert.deepEqual(
    (await readMessageSet(down)).records.map((r) => r.offset),
    [8n, 9n],
  );
  assert.equal((await batchToLegacy(Buffer.alloc(0), 1)).length, 0);
});

test('batchToLegacy output is readable by kafka-python', { skip: SKIP }, async () => {
  for (const compression of LEGACY_CODECS) {
    const batch = await buildRecordBatch(
      [
        { key: 'k', value: 'v1', timestamp: 10 },
        { value: 'v2', timestamp: 20 },
      ],
      { compression, baseOffset: 1000n },
    );
    for (const magic of [0, 1] as const) {
      const read = pyJson<PyRecord[]>(PY_READ_ALL, (await batchToLegacy(batch, magic)).toString('hex'));
      assert.deepEqual(
        read.map((r) => [r.offset, r.key, Buffer.from(r.value!, 'hex').toString(), r.timestamp]),
        [
          [1000, '6b', 'v1', magic === 0 ? null : 10],
          [1001, null, 'v2', magic === 0 ? null : 20],
        ],
        `magic ${magic} codec ${compression}`,
      );
    }
  }
});
