import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBatch, firstRecordAtOrAfter, BatchHeaderScanner } from '../../storage/batch-scan.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { buildBatch, decodeRecords } from './helpers.js';

test('helper batches are valid and decode back', () => {
  const b = buildBatch(
    [
      { key: 'k', value: 'hello', timestamp: 5 },
      { value: null, timestamp: 9, headers: [['h', 'x']] },
    ],
    { baseOffset: 7 },
  );
  assert.equal(checkBatch(b, 0, b.length), undefined);
  const recs = decodeRecords(b);
  assert.deepEqual(
    recs.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null]),
    [
      [7, 5, 'k', 'hello'],
      [8, 9, null, null],
    ],
  );
});

test('checkBatch flags CRC, magic, torn and short entries', () => {
  const b = buildBatch([{ value: 'abc' }]);
  const bad = Buffer.from(b);
  bad[bad.length - 1]! ^= 0xff;
  assert.match(checkBatch(bad, 0, bad.length)!.reason, /CRC/);
  const magic = Buffer.from(b);
  magic.writeInt8(1, 16);
  assert.match(checkBatch(magic, 0, magic.length)!.reason, /magic/);
  assert.equal(checkBatch(b, 0, b.length - 1)!.torn, true);
  assert.equal(checkBatch(b, 0, 5)!.torn, true);
  const tiny = Buffer.from(b);
  tiny.writeInt32BE(10, 8);
  assert.equal(checkBatch(tiny, 0, tiny.length)!.torn, false);
});

test('firstRecordAtOrAfter finds record-level timestamps', () => {
  const b = buildBatch([{ timestamp: 100 }, { timestamp: 300 }, { timestamp: 200 }, { timestamp: 400 }], {
    baseOffset: 10,
  });
  assert.deepEqual(firstRecordAtOrAfter(b, 0, 150, 0), { offset: 11, timestamp: 300 });
  assert.deepEqual(firstRecordAtOrAfter(b, 0, 100, 0), { offset: 10, timestamp: 100 });
  assert.deepEqual(firstRecordAtOrAfter(b, 0, 200, 12), { offset: 12, timestamp: 200 });
  assert.equal(firstRecordAtOrAfter(b, 0, 401, 0), undefined);
  // LogAppendTime: every record carries the batch max timestamp.
  const lat = buildBatch([{ timestamp: 1 }, { timestamp: 2 }], { baseOffset: 3, attributes: 0x08 });
  assert.deepEqual(firstRecordAtOrAfter(lat, 0, 2, 0), { offset: 3, timestamp: 2 });
});

test('BatchHeaderScanner walks headers across chunk boundaries and reports torn tails', async () => {
  const fs = new MemoryFileSystem();
  const h = await fs.open('/f', { create: true });
  const batches = [];
  let off = 0;
  for (let i = 0; i < 50; i++) {
    const b = buildBatch([{ value: Buffer.alloc(i * 7) }, { value: 'x' }], { baseOffset: off });
    off += 2;
    batches.push(b);
  }
  const all = Buffer.concat(batches);
  await h.writev([all, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])], 0);
  const scan = new BatchHeaderScanner(h, 0, all.length + 13, 256);
  let n = 0;
  while (await scan.next()) {
    assert.equal(scan.baseOffset, n * 2);
    assert.equal(scan.lastOffset, n * 2 + 1);
    n++;
  }
  assert.equal(n, 50);
  assert.match(scan.problem!, /trailing/);
});
