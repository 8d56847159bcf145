import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LogSegment, segmentFileName, parseSegmentFileName } from '../../storage/segment.js';
import type { SegmentConfig } from '../../storage/segment.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { DEFAULT_INLINE_WRITES, NodeFileSystem } from '../../storage/fs.js';
import type { FileHandle, OpenOptions } from '../../storage/fs.js';
import { batchOf, buildBatch, batchRanges, decodeRecords, tempDir } from './helpers.js';

const CFG: SegmentConfig = { indexIntervalBytes: 200, maxIndexBytes: 8 * 1000 };

async function setup(base = 0): Promise<{ fs: MemoryFileSystem; clock: FakeClock; seg: LogSegment }> {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock(1_000_000);
  await fs.mkdirp('/p');
  const seg = await LogSegment.create('/p', base, CFG, { fs, clock });
  return { fs, clock, seg };
}

/** Append `n` batches of `perBatch` records with ts = 1000 + offset. Returns next offset. */
async function fill(seg: LogSegment, start: number, n: number, perBatch = 3, valueSize = 40): Promise<number> {
  let off = start;
  for (let i = 0; i < n; i++) {
    const b = buildBatch(
      Array.from({ length: perBatch }, (_, j) => ({
        value: Buffer.alloc(valueSize, 65 + j),
        timestamp: 1000 + off + j,
      })),
      { baseOffset: off },
    );
    await seg.append([b], {
      firstOffset: off,
      lastOffset: off + perBatch - 1,
      maxTimestamp: 1000 + off + perBatch - 1,
      offsetOfMaxTimestamp: off,
      size: b.length,
    });
    off += perBatch;
  }
  return off;
}

test('file names are 20-digit zero padded base offsets', () => {
  assert.equal(segmentFileName(42, '.log'), '00000000000000000042.log');
  assert.equal(parseSegmentFileName('00000000000000000042.timeindex', '.timeindex'), 42);
  assert.equal(parseSegmentFileName('42.log', '.log'), undefined);
  assert.equal(parseSegmentFileName('00000000000000000042.log.deleted', '.log'), undefined);
});

test('append and read return exact bytes and whole batches', async () => {
  const { seg } = await setup(100);
  const next = await fill(seg, 100, 30);
  assert.equal(seg.nextOffset, next);
  assert.ok(seg.offsetIndex.entries > 3, 'sparse index populated');
  const r = await seg.read(100, 1 << 20);
  assert.equal(r!.records.length, seg.size);
  const recs = decodeRecords(r!.records);
  assert.equal(recs.length, 90);
  assert.equal(recs[0]!.offset, 100);
  // Mid-batch start offset returns the containing batch.
  const mid = await seg.read(134, 1 << 20);
  assert.deepEqual(batchRanges(mid!.records)[0], [133, 135]);
  // maxBytes cuts at batch boundaries, never mid-batch.
  const one = batchRanges((await seg.read(100, 1 << 20))!.records.subarray(0, 1000)).length;
  const limited = await seg.read(100, 1000);
  assert.ok(batchRanges(limited!.records).length <= one);
  assert.equal(decodeRecords(limited!.records).length % 3, 0);
  // minOneBatch: first batch even if bigger than maxBytes.
  assert.equal(batchRanges((await seg.read(100, 1))!.records).length, 1);
  assert.equal((await seg.read(100, 1, seg.size, false))!.records.length, 0);
  // maxOffset excludes batches at/after it.
  const capped = await seg.read(100, 1 << 20, seg.size, true, 112);
  assert.deepEqual(batchRanges(capped!.records).at(-1), [109, 111]);
  // Past the end.
  assert.equal(await seg.read(next, 100), undefined);
});

test('translateOffset uses the index and scans forward', async () => {
  const { seg } = await setup(0);
  await fill(seg, 0, 50);
  for (const target of [0, 1, 2, 3, 77, 149]) {
    const loc = await seg.translateOffset(target);
    assert.ok(loc!.baseOffset <= target && loc!.lastOffset >= target, `target ${target}`);
  }
  assert.equal(await seg.translateOffset(150), undefined);
});

test('findOffsetByTimestamp resolves to the first record with ts >= target', async () => {
  const { seg } = await setup(0);
  await fill(seg, 0, 40); // record at offset o has ts 1000 + o
  assert.deepEqual(await seg.findOffsetByTimestamp(0), { offset: 0, timestamp: 1000 });
  assert.deepEqual(await seg.findOffsetByTimestamp(1050), { offset: 50, timestamp: 1050 });
  assert.deepEqual(await seg.findOffsetByTimestamp(1100), { offset: 100, timestamp: 1100 });
  assert.deepEqual(await seg.findOffsetByTimestamp(1119), { offset: 119, timestamp: 1119 });
  assert.equal(await seg.findOffsetByTimestamp(1120), undefined);
  assert.deepEqual(await seg.findOffsetByTimestamp(1000, 31), { offset: 31, timestamp: 1031 });
  assert.equal(seg.maxTimestamp, 1119);
  assert.deepEqual(await seg.maxTimestampRecord(), { offset: 119, timestamp: 1119 });
});

test('roll checks: size, segment.ms since first append, index full, offset overflow', async () => {
  const { seg, clock } = await setup(0);
  const base = { appendBytes: 10, lastOffset: 5, now: clock.now(), segmentBytes: 1000, segmentMs: 60_000 };
  assert.equal(seg.shouldRoll({ ...base, appendBytes: 5000 }), undefined, 'empty segment never rolls on size');
  assert.equal(seg.firstAppendTime, undefined);
  await fill(seg, 0, 1);
  assert.equal(seg.firstAppendTime, clock.now());
  assert.equal(seg.shouldRoll({ ...base, appendBytes: 1000 }), 'size');
  clock.advance(60_001);
  assert.equal(seg.shouldRoll({ ...base, now: clock.now() }), 'time');
  assert.equal(seg.shouldRoll({ ...base, lastOffset: 2 ** 31 + 5 }), 'offset-overflow');
  const small = await LogSegment.create(
    '/p',
    1000,
    { indexIntervalBytes: 0, maxIndexBytes: 16 },
    { fs: new MemoryFileSystem(), clock },
  ).catch(() => undefined);
  assert.equal(small, undefined, 'needs the directory');
});

test('index-full triggers a roll', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  await fs.mkdirp('/p');
  const seg = await LogSegment.create('/p', 0, { indexIntervalBytes: 0, maxIndexBytes: 8 * 4 }, { fs, clock });
  await fill(seg, 0, 5, 1);
  assert.equal(seg.offsetIndex.entries, 4);
  assert.equal(
    seg.shouldRoll({ appendBytes: 1, lastOffset: 6, now: 0, segmentBytes: 1 << 30, segmentMs: 1e12 }),
    'index-full',
  );
});

test('recover validates every batch, truncates a corrupt tail and rebuilds indexes', async () => {
  const { fs, clock, seg } = await setup(0);
  await fill(seg, 0, 20);
  const goodSize = seg.size;
  const entries = seg.offsetIndex.entries;
  await seg.flush();
  // Append half a batch of garbage directly to the file.
  const h = await fs.open('/p/00000000000000000000.log');
  const partial = batchOf(3).subarray(0, 40);
  await h.writev([partial], goodSize);
  await h.close();
  await seg.close();

  const opened = await LogSegment.open('/p', 0, CFG, { fs, clock });
  assert.match(opened.problem!, /runs past|trailing/);
  const res = await opened.segment.recover();
  assert.equal(res.validBytes, goodSize);
  assert.equal(res.truncatedBytes, 40);
  assert.equal(res.batches, 20);
  assert.equal(opened.segment.size, goodSize);
  assert.equal(opened.segment.nextOffset, 60);
  assert.equal(opened.segment.offsetIndex.entries, entries);
  assert.equal((await fs.readFile('/p/00000000000000000000.log')).length, goodSize);

  // A flipped byte in the middle: everything from that batch on is cut.
  const data = await fs.readFile('/p/00000000000000000000.log');
  const firstSize = batchRanges(data).length && 12 + data.readInt32BE(8);
  data[firstSize * 5 + 70]! ^= 1;
  await fs.writeFile('/p/00000000000000000000.log', data);
  await opened.segment.close();
  const again = await LogSegment.open('/p', 0, CFG, { fs, clock });
  const res2 = await again.segment.recover();
  assert.equal(res2.batches, 5);
  assert.match(res2.reason!, /CRC/);
  assert.equal(again.segment.nextOffset, 15);
});

test('open rebuilds nothing for a clean segment but extends a lagging index from the tail', async () => {
  const { fs, clock, seg } = await setup(0);
  await fill(seg, 0, 10);
  await seg.flush();
  const flushedEntries = seg.offsetIndex.entries;
  await fill(seg, 30, 10); // index entries for these are only in memory
  await seg.flush(false); // log only
  await seg.close();
  const { segment, problem } = await LogSegment.open('/p', 0, CFG, { fs, clock });
  assert.equal(problem, undefined);
  assert.equal(segment.nextOffset, 60);
  assert.ok(segment.offsetIndex.entries > flushedEntries);
  assert.equal(segment.maxTimestamp, 1059);
  const r = await segment.read(45, 1 << 20);
  assert.equal(decodeRecords(r!.records)[0]!.offset, 45);
});

test('truncateTo removes whole batches from the containing batch on', async () => {
  const { seg } = await setup(0);
  await fill(seg, 0, 20);
  const removed = await seg.truncateTo(31); // batch [30, 32] goes entirely
  assert.ok(removed > 0);
  assert.equal(seg.nextOffset, 30);
  assert.equal(seg.maxTimestamp, 1029);
  assert.ok((seg.offsetIndex.lastEntry()?.offset ?? 0) < 30);
  await fill(seg, 30, 2);
  assert.deepEqual(
    decodeRecords((await seg.read(29, 1 << 20))!.records).map((r) => r.offset),
    [27, 28, 29, 30, 31, 32, 33, 34, 35],
  );
  assert.equal(await seg.truncateTo(1000), 0);
  await seg.truncateTo(0);
  assert.equal(seg.size, 0);
  assert.equal(seg.nextOffset, 0);
});

test('renameToDeleted keeps the handle readable; delete removes files', async () => {
  const { fs, seg } = await setup(0);
  await fill(seg, 0, 3);
  await seg.renameToDeleted();
  assert.deepEqual((await fs.readdir('/p')).sort(), [
    '00000000000000000000.index.deleted',
    '00000000000000000000.log.deleted',
    '00000000000000000000.timeindex.deleted',
  ]);
  assert.equal(decodeRecords((await seg.read(0, 1 << 20))!.records).length, 9);
  await seg.delete();
  assert.deepEqual(await fs.readdir('/p'), []);
});

test('a failed write leaves size and offsets unchanged and the next append lands correctly', async () => {
  const { fs, seg } = await setup(0);
  await fill(seg, 0, 2);
  const size = seg.size;
  fs.failNextWrite({ partialBytes: 30 });
  await assert.rejects(fill(seg, 6, 1), (e: unknown) => (e as { code?: string }).code === 'ERR_STORAGE');
  assert.equal(seg.size, size);
  assert.equal(seg.nextOffset, 6);
  await fill(seg, 6, 1);
  assert.deepEqual(batchRanges((await seg.read(0, 1 << 20))!.records), [
    [0, 2],
    [3, 5],
    [6, 8],
  ]);
  const res = await seg.recover();
  assert.equal(res.truncatedBytes, 0);
});

test('timestamp lookups look inside compressed batches', async () => {
  const { seg } = await setup(0);
  const b = buildBatch([{ timestamp: 100 }, { timestamp: 300 }, { timestamp: 200 }, { timestamp: 400 }], {
    gzip: true,
  });
  await seg.append([b], { firstOffset: 0, lastOffset: 3, maxTimestamp: 400, offsetOfMaxTimestamp: 0, size: b.length });
  assert.deepEqual(await seg.findOffsetByTimestamp(150), { offset: 1, timestamp: 300 });
  assert.deepEqual(await seg.findOffsetByTimestamp(400), { offset: 3, timestamp: 400 });
  assert.deepEqual(await seg.findOffsetByTimestamp(350, 2), { offset: 3, timestamp: 400 });
  assert.deepEqual(await seg.maxTimestampRecord(), { offset: 3, timestamp: 400 });
});

/** NodeFileSystem counting the writes of its handles by way: blocking (writevNow) or through the pool (writev). */
class CountingFs extends NodeFileSystem {
  constructor(maxBytes: number) {
    super({ ...DEFAULT_INLINE_WRITES, maxBytes });
  }
  now = 0;
  pooled = 0;
  override async open(p: string, o?: OpenOptions): Promise<FileHandle> {
    const h = await super.open(p, o);
    const writev = h.writev.bind(h);
    const writevNow = h.writevNow!.bind(h);
    h.writev = (b, pos) => {
      this.pooled++;
      return writev(b, pos);
    };
    h.writevNow = (b, pos) => {
      const done = writevNow(b, pos);
      if (done) this.now++;
      return done;
    };
    return h;
  }
}

test('an append the fs writes at once is in the file when append returns; others go through writev', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const fs = new CountingFs(64 * 1024);
    const seg = await LogSegment.create(dir, 0, CFG, { fs, clock: new FakeClock(1_000_000) });
    const small = batchOf(3, { valueSize: 100 });
    const info = (b: Buffer, first: number, last: number) => ({
      firstOffset: first,
      lastOffset: last,
      maxTimestamp: 1000,
      offsetOfMaxTimestamp: first,
      size: b.length,
    });
    const appending = seg.append([small], info(small, 0, 2));
    // Written by the call itself: the file holds the batch before anything is awaited.
    assert.deepEqual(readFileSync(seg.path), small);
    await appending;
    assert.deepEqual([fs.now, fs.pooled], [1, 0]);
    const big = buildBatch([{ value: Buffer.alloc(64 * 1024, 7) }], { baseOffset: 3 });
    await seg.append([big], info(big, 3, 3));
    assert.deepEqual([fs.now, fs.pooled], [1, 1]);
    assert.equal(readFileSync(seg.path).length, small.length + big.length);
    assert.deepEqual(batchRanges((await seg.read(0, 1 << 20))!.records), [
      [0, 2],
      [3, 3],
    ]);
    await seg.close();
  } finally {
    await cleanup();
  }
});
