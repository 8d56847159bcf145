import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readdir, readFile, writeFile, unlink, appendFile, stat } from 'node:fs/promises';
import {
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  MAX_TIMESTAMP,
  OFFSET_OUT_OF_RANGE,
  PartitionLog,
} from '../../storage/partition-log.js';
import type { PartitionLogDeps } from '../../storage/partition-log.js';
import { LONG_MAX } from '../../storage/log-config.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import type { LogConfig } from '../../storage/log-config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { NodeFileSystem } from '../../storage/fs.js';
import { FakeClock } from '../../storage/clock.js';
import { StorageError } from '../../protocol/errors.js';
import { batchOf, batchRanges, buildBatch, decodeRecords, settle, tempDir } from './helpers.js';

const cfg = (o: Partial<LogConfig> = {}): LogConfig => ({ ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'], ...o });

async function memLog(
  config: LogConfig,
  deps: PartitionLogDeps = {},
): Promise<{ log: PartitionLog; fs: MemoryFileSystem; clock: FakeClock }> {
  const fs = (deps.fs as MemoryFileSystem | undefined) ?? new MemoryFileSystem();
  const clock = (deps.clock as FakeClock | undefined) ?? new FakeClock(1_000_000);
  const log = await PartitionLog.open('/data/t-0', config, { ...deps, fs, clock });
  return { log, fs, clock };
}

/** Read everything from `from` to the end, following segments. */
async function readAll(log: PartitionLog, from = log.logStartOffset, maxOffset?: number): Promise<number[]> {
  const offsets: number[] = [];
  let next = from;
  for (;;) {
    const r = await log.read(next, 64 * 1024, maxOffset === undefined ? {} : { maxOffset });
    assert.equal(r.errorCode, 0);
    if (r.records.length === 0) break;
    for (const rec of decodeRecords(r.records)) {
      if (rec.offset >= next) offsets.push(rec.offset);
    }
    next = offsets[offsets.length - 1]! + 1;
  }
  return offsets;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

test('append stamps offsets and leader epoch in place and returns the append info', async () => {
  const { log } = await memLog(cfg());
  const a = batchOf(3);
  const r1 = await log.append(a, { leaderEpoch: 4 });
  assert.deepEqual([r1.baseOffset, r1.lastOffset, r1.logAppendTime, r1.logStartOffset], [0, 2, -1, 0]);
  assert.equal(a.readBigInt64BE(0), 0n);
  assert.equal(a.readInt32BE(12), 4);
  const two = Buffer.concat([batchOf(2), batchOf(5)]);
  const r2 = await log.append(two, { leaderEpoch: 4 });
  assert.deepEqual([r2.baseOffset, r2.lastOffset, r2.batches], [3, 9, 2]);
  assert.deepEqual(batchRanges(two), [
    [3, 4],
    [5, 9],
  ]);
  assert.equal(log.logEndOffset, 10);
  assert.equal(log.highWatermark, 10);
  assert.deepEqual(await readAll(log), range(0, 10));
  assert.ok(decodeRecords((await log.read(0, 1 << 20)).records).every((r) => r.leaderEpoch === 4));
  assert.deepEqual(log.leaderEpochCache.all(), [{ epoch: 4, startOffset: 0 }]);
  await log.append(batchOf(1), { leaderEpoch: 6 });
  assert.deepEqual(log.leaderEpochCache.all(), [
    { epoch: 4, startOffset: 0 },
    { epoch: 6, startOffset: 10 },
  ]);
  await assert.rejects(
    log.append(Buffer.from('garbage that is not a batch at all, but long enough to have a header.....')),
    /magic|length/,
  );
  await assert.rejects(log.append(Buffer.alloc(0)), /empty/);
  assert.equal(log.logEndOffset, 11);
});

test('LogAppendTime topics report the append time', async () => {
  const { log, clock } = await memLog(cfg({ messageTimestampType: 'LogAppendTime' }));
  const r = await log.append(batchOf(1));
  assert.equal(r.logAppendTime, clock.now());
  const r2 = await log.append(batchOf(1), { appendTime: 42 });
  assert.equal(r2.logAppendTime, 42);
});

test('rolls on segment.bytes and reads across segments', async () => {
  const { log } = await memLog(cfg({ segmentBytes: 2000, indexIntervalBytes: 100 }));
  for (let i = 0; i < 60; i++) await log.append(batchOf(2, { valueSize: 50 }));
  assert.ok(log.segmentCount > 5, `segments: ${log.segmentCount}`);
  const bases = log.segmentBaseOffsets();
  assert.equal(bases[0], 0);
  assert.ok(bases.every((b, i) => i === 0 || b > bases[i - 1]!));
  assert.deepEqual(await readAll(log), range(0, 120));
  // A read from the middle of a segment starts at the right batch.
  const r = await log.read(bases[2]! + 3, 1 << 20);
  assert.equal(decodeRecords(r.records)[0]!.offset, bases[2]! + 2);
  // A read returns data from a single segment.
  assert.ok(decodeRecords(r.records).at(-1)!.offset < bases[3]!);
  assert.ok(log.size > 60 * 2 * 50);
});

test('rolls on segment.ms measured from the first append (FakeClock)', async () => {
  const { log, clock } = await memLog(cfg({ segmentMs: 60_000 }));
  await log.append(batchOf(1));
  clock.advance(30_000);
  await log.append(batchOf(1));
  assert.equal(log.segmentCount, 1);
  clock.advance(30_001);
  await log.append(batchOf(1));
  assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
  clock.advance(59_000);
  await log.append(batchOf(1));
  assert.equal(log.segmentCount, 2);
  clock.advance(2_000);
  await log.append(batchOf(1));
  assert.deepEqual(log.segmentBaseOffsets(), [0, 2, 4]);
  assert.deepEqual(await readAll(log), range(0, 5));
});

test('rolls when the offset index is full', async () => {
  const { log } = await memLog(cfg({ indexIntervalBytes: 0, segmentIndexBytes: 8 * 3 }));
  for (let i = 0; i < 10; i++) await log.append(batchOf(1));
  assert.ok(log.segmentCount >= 3);
  assert.deepEqual(await readAll(log), range(0, 10));
});

test('read: out of range, high watermark bound, minOneBatch', async () => {
  const { log } = await memLog(cfg(), { autoAdvanceHighWatermark: false });
  for (let i = 0; i < 10; i++) await log.append(batchOf(3, { valueSize: 100 }));
  assert.equal(log.highWatermark, 0);
  const oor = await log.read(31, 1000);
  assert.equal(oor.errorCode, OFFSET_OUT_OF_RANGE);
  assert.equal(oor.logEndOffset, 30);
  assert.equal((await log.read(-1, 1000)).errorCode, OFFSET_OUT_OF_RANGE);
  assert.equal((await log.read(30, 1000)).records.length, 0);
  // Consumers read below the high watermark only.
  assert.equal((await log.read(0, 1 << 20, { maxOffset: log.highWatermark })).records.length, 0);
  assert.equal(log.updateHighWatermark(12), 12);
  assert.deepEqual(await readAll(log, 0, log.highWatermark), range(0, 12));
  assert.deepEqual(await readAll(log, 0, log.highWatermark), range(0, 12), 'cached HW position');
  assert.equal(log.updateHighWatermark(1000), 30);
  assert.deepEqual(await readAll(log, 0, log.highWatermark), range(0, 30));
  // maxBytes below one batch: minOneBatch decides.
  assert.equal(batchRanges((await log.read(0, 10)).records).length, 1);
  assert.equal((await log.read(0, 10, { minOneBatch: false })).records.length, 0);
});

test('offsetForTimestamp goes through the time index across segments', async () => {
  const { log } = await memLog(cfg({ segmentBytes: 500, indexIntervalBytes: 100 }));
  // Record at offset o has timestamp 10_000 + 10 * o.
  for (let i = 0; i < 40; i++) {
    await log.append(buildBatch([{ timestamp: 10_000 + 10 * (2 * i) }, { timestamp: 10_000 + 10 * (2 * i + 1) }]));
  }
  assert.ok(log.segmentCount > 3);
  assert.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestamp: 10_000 });
  assert.deepEqual(await log.offsetForTimestamp(10_355), { offset: 36, timestamp: 10_360 });
  assert.deepEqual(await log.offsetForTimestamp(10_360), { offset: 36, timestamp: 10_360 });
  assert.deepEqual(await log.offsetForTimestamp(10_790), { offset: 79, timestamp: 10_790 });
  assert.equal(await log.offsetForTimestamp(10_791), undefined);
  assert.deepEqual(await log.offsetForTimestamp(LATEST_TIMESTAMP), { offset: 80, timestamp: -1 });
  assert.deepEqual(await log.offsetForTimestamp(EARLIEST_TIMESTAMP), { offset: 0, timestamp: -1 });
  assert.deepEqual(await log.offsetForTimestamp(MAX_TIMESTAMP), { offset: 79, timestamp: 10_790 });
  assert.deepEqual(await log.maxTimestampOffset(), { offset: 79, timestamp: 10_790 });
});

test('maxTimestampOffset finds an out-of-order maximum', async () => {
  const { log } = await memLog(cfg());
  await log.append(buildBatch([{ timestamp: 5 }, { timestamp: 900 }, { timestamp: 7 }]));
  await log.append(buildBatch([{ timestamp: 10 }]));
  assert.deepEqual(await log.maxTimestampOffset(), { offset: 1, timestamp: 900 });
});

test('retention by size deletes whole oldest segments, never the active one', async () => {
  const { log, fs, clock } = await memLog(cfg({ segmentBytes: 1000, retentionBytes: 2500, fileDeleteDelayMs: 1000 }));
  for (let i = 0; i < 30; i++) await log.append(batchOf(1, { valueSize: 200 }));
  const before = log.segmentBaseOffsets();
  const sizeBefore = log.size;
  const deleted = await log.deleteOldSegments();
  assert.ok(deleted > 0);
  assert.ok(log.size <= 2500 + 1000, `size ${log.size}`);
  assert.ok(log.size > 2500 - 1000);
  assert.equal(log.segmentBaseOffsets()[0], before[deleted]);
  assert.equal(log.logStartOffset, before[deleted]);
  assert.equal(log.size, sizeBefore - (sizeBefore - log.size));
  const files = await fs.readdir('/data/t-0');
  assert.equal(files.filter((f) => f.endsWith('.deleted')).length, deleted * 3);
  assert.equal((await log.read(0, 100)).errorCode, OFFSET_OUT_OF_RANGE);
  clock.advance(1000);
  await settle();
  assert.equal((await fs.readdir('/data/t-0')).filter((f) => f.endsWith('.deleted')).length, 0);
  assert.deepEqual(await readAll(log), range(log.logStartOffset, 30));
  // Even a tiny limit keeps the active segment.
  log.updateConfig(cfg({ segmentBytes: 1000, retentionBytes: 0, fileDeleteDelayMs: 0 }));
  await log.deleteOldSegments();
  assert.equal(log.segmentCount, 1);
  assert.ok(log.logEndOffset === 30 && log.logStartOffset <= 30);
});

test('retention by time uses the segment max timestamp (FakeClock)', async () => {
  const { log, clock } = await memLog(cfg({ segmentBytes: 600, retentionMs: 60_000, fileDeleteDelayMs: 0 }));
  const t0 = clock.now();
  for (let i = 0; i < 20; i++) await log.append(batchOf(1, { valueSize: 200, timestamp: t0 + i * 10_000 }));
  const segs = log.segmentCount;
  assert.ok(segs > 4);
  assert.equal(await log.deleteOldSegments(clock.now()), 0, 'nothing is older than 60s');
  clock.advance(150_000); // now = t0 + 150s: timestamps < t0 + 90s are expired
  const deleted = await log.deleteOldSegments(clock.now());
  assert.ok(deleted > 0 && deleted < segs);
  for (const r of decodeRecords((await log.read(log.logStartOffset, 1 << 20)).records)) {
    assert.ok(r.offset >= log.logStartOffset);
  }
  // The first remaining segment still holds a record newer than the cutoff.
  const first = decodeRecords((await log.read(log.logStartOffset, 1 << 20)).records);
  assert.ok(first.some((r) => r.timestamp >= clock.now() - 60_000 - 10_000));
  clock.advance(10_000_000);
  await log.deleteOldSegments(clock.now());
  assert.equal(log.segmentCount, 1, 'the active segment is never deleted');
  log.updateConfig(cfg({ segmentBytes: 600, retentionMs: -1 }));
});

test('DeleteRecords moves the log start offset and drops segments below it', async () => {
  let persisted = 0;
  const { log } = await memLog(cfg({ segmentBytes: 800, fileDeleteDelayMs: 0 }), {
    persistLogStartOffset: async () => {
      persisted++;
    },
  });
  for (let i = 0; i < 20; i++) await log.append(batchOf(2, { valueSize: 100 }));
  const segs = log.segmentCount;
  const res = await log.deleteRecordsBefore(17);
  assert.deepEqual(res, { errorCode: 0, lowWatermark: 17 });
  assert.equal(persisted, 1);
  assert.equal(log.logStartOffset, 17);
  assert.ok(log.segmentCount < segs);
  assert.equal((await log.read(16, 1000)).errorCode, OFFSET_OUT_OF_RANGE);
  assert.deepEqual(await readAll(log, 17), range(17, 40));
  assert.deepEqual(await log.offsetForTimestamp(0), { offset: 17, timestamp: 1001 });
  assert.deepEqual(await log.deleteRecordsBefore(10), { errorCode: 0, lowWatermark: 17 }, 'never moves back');
  assert.equal((await log.deleteRecordsBefore(41)).errorCode, OFFSET_OUT_OF_RANGE);
  assert.deepEqual(await log.deleteRecordsBefore(-1), { errorCode: 0, lowWatermark: 40 });
  assert.equal(log.segmentCount, 1);
});

test('truncateTo and truncateFullyAndStartAt (replication hooks)', async () => {
  const { log } = await memLog(cfg({ segmentBytes: 800, fileDeleteDelayMs: 0 }));
  for (let i = 0; i < 20; i++) await log.append(batchOf(2, { valueSize: 100 }), { leaderEpoch: i < 10 ? 1 : 2 });
  assert.equal(await log.truncateTo(25), true);
  assert.equal(log.logEndOffset, 24, 'the batch containing 25 goes entirely');
  assert.equal(log.highWatermark, 24);
  assert.deepEqual(log.leaderEpochCache.all(), [
    { epoch: 1, startOffset: 0 },
    { epoch: 2, startOffset: 20 },
  ]);
  assert.deepEqual(await readAll(log), range(0, 24));
  await log.append(batchOf(1));
  assert.deepEqual(await readAll(log), range(0, 25));
  assert.equal(await log.truncateTo(100), false);
  await log.truncateTo(19);
  assert.equal(log.logEndOffset, 18);
  assert.deepEqual(log.leaderEpochCache.all(), [{ epoch: 1, startOffset: 0 }]);
  await log.truncateFullyAndStartAt(500);
  assert.deepEqual([log.logStartOffset, log.logEndOffset, log.highWatermark, log.segmentCount], [500, 500, 500, 1]);
  const r = await log.append(batchOf(1));
  assert.equal(r.baseOffset, 500);
});

test('flushMessages=1: acknowledged appends survive power loss (across rolls)', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const config = cfg({ flushMessages: 1, segmentBytes: 700 });
  const log = await PartitionLog.open('/data/t-0', config, { fs, clock });
  for (let i = 0; i < 25; i++) await log.append(batchOf(1, { valueSize: 100 }));
  assert.ok(log.segmentCount > 3);
  assert.equal(log.recoveryPoint, 25);
  // Unacknowledged: started but power fails before the fsync completes.
  void log.append(batchOf(1, { valueSize: 100 })).catch(() => undefined);
  fs.powerLoss();
  const again = await PartitionLog.open('/data/t-0', config, { fs, clock });
  assert.ok(again.logEndOffset >= 25);
  assert.deepEqual((await readAll(again)).slice(0, 25), range(0, 25));
  assert.equal(again.recoverySummary.segments, again.segmentCount);
});

test('without fsync, unflushed data may be lost on power loss but the log reopens consistently', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const config = cfg({ segmentBytes: 700 });
  const log = await PartitionLog.open('/data/t-0', config, { fs, clock });
  for (let i = 0; i < 10; i++) await log.append(batchOf(1, { valueSize: 100 }));
  await log.flush();
  for (let i = 0; i < 10; i++) await log.append(batchOf(1, { valueSize: 100 }));
  assert.equal(log.logEndOffset, 20);
  fs.powerLoss({ keepUnsyncedBytes: 150 }); // torn tails too
  const again = await PartitionLog.open('/data/t-0', config, { fs, clock, recoveryPoint: 10 });
  assert.ok(again.logEndOffset >= 10 && again.logEndOffset < 20, `LEO ${again.logEndOffset}`);
  assert.deepEqual(await readAll(again), range(0, again.logEndOffset));
  const r = await again.append(batchOf(1));
  assert.equal(r.baseOffset, again.logEndOffset - 1);
});

test('group commit: concurrent appends with flushMessages=1 share fsyncs', async () => {
  const { log, fs } = await memLog(cfg({ flushMessages: 1 }));
  await log.append(batchOf(1));
  const syncsBefore = fs.stats.fileSyncs;
  const flushesBefore = log.flushCount;
  const n = 100;
  const results = await Promise.all(Array.from({ length: n }, () => log.append(batchOf(1))));
  assert.deepEqual(
    results.map((r) => r.baseOffset),
    range(1, n + 1),
  );
  const syncs = fs.stats.fileSyncs - syncsBefore;
  assert.ok(syncs <= 2, `${syncs} fsyncs for ${n} appends`);
  // One drain wrote all of them; the run the first one started covers the rest.
  assert.equal(log.flushCount - flushesBefore, 1);
  assert.equal(log.recoveryPoint, n + 1);
  fs.powerLoss();
  const again = await PartitionLog.open('/data/t-0', cfg(), { fs, clock: new FakeClock() });
  assert.equal(again.logEndOffset, n + 1);
});

test('flush.ms flushes through the clock', async () => {
  const { log, clock, fs } = await memLog(cfg({ flushMs: 5000 }));
  await log.append(batchOf(1));
  assert.equal(log.recoveryPoint, 0);
  clock.advance(4999);
  await settle();
  assert.equal(log.recoveryPoint, 0);
  clock.advance(1);
  await settle();
  assert.equal(log.recoveryPoint, 1);
  fs.powerLoss();
  const again = await PartitionLog.open('/data/t-0', cfg(), { fs, clock });
  assert.equal(again.logEndOffset, 1);
});

test('failNextWrite surfaces as StorageError and leaves the log consistent', async () => {
  const { log, fs, clock } = await memLog(cfg());
  await log.append(batchOf(2));
  fs.failNextWrite({ path: '.log', partialBytes: 20 });
  await assert.rejects(log.append(batchOf(2)), (e: unknown) => e instanceof StorageError);
  assert.equal(log.logEndOffset, 2);
  const r = await log.append(batchOf(3));
  assert.equal(r.baseOffset, 2);
  assert.deepEqual(await readAll(log), range(0, 5));
  await log.close();
  const again = await PartitionLog.open('/data/t-0', cfg(), { fs, clock });
  assert.deepEqual(await readAll(again), range(0, 5));
  assert.equal(
    again.recoverySummary.recovered.every((s) => s.truncatedBytes === 0),
    true,
  );
});

test('failNextSync surfaces as StorageError; the data stays readable and the next flush persists it', async () => {
  const { log, fs, clock } = await memLog(cfg({ flushMessages: 1 }));
  await log.append(batchOf(1));
  fs.failNextSync({ path: '.log' });
  await assert.rejects(log.append(batchOf(1)), (e: unknown) => e instanceof StorageError);
  assert.equal(log.logEndOffset, 2);
  assert.equal(log.recoveryPoint, 1);
  assert.equal(log.highWatermark, 1, 'not exposed as committed');
  await log.append(batchOf(1));
  assert.equal(log.recoveryPoint, 3);
  assert.equal(log.highWatermark, 3);
  fs.powerLoss();
  const again = await PartitionLog.open('/data/t-0', cfg(), { fs, clock });
  assert.deepEqual(await readAll(again), range(0, 3));
});

test('close flushes everything; reopen at the recovery point recovers nothing', async () => {
  const { log, fs, clock } = await memLog(cfg({ segmentBytes: 1000 }));
  for (let i = 0; i < 20; i++) await log.append(batchOf(2, { valueSize: 60 }), { leaderEpoch: 3 });
  await log.close();
  assert.equal(log.recoveryPoint, 40);
  await assert.rejects(log.append(batchOf(1)), /closed/);
  fs.powerLoss();
  const again = await PartitionLog.open('/data/t-0', cfg({ segmentBytes: 1000 }), { fs, clock, recoveryPoint: 40 });
  assert.equal(again.logEndOffset, 40);
  assert.deepEqual(again.recoverySummary.recovered, []);
  assert.deepEqual(again.recoverySummary.indexRebuilds, []);
  assert.deepEqual(again.leaderEpochCache.all(), [{ epoch: 3, startOffset: 0 }]);
  assert.deepEqual(await readAll(again), range(0, 40));
});

async function realLog(dir: string, config: LogConfig, recoveryPoint?: number): Promise<PartitionLog> {
  return PartitionLog.open(path.join(dir, 't-0'), config, {
    fs: new NodeFileSystem(),
    clock: new FakeClock(),
    ...(recoveryPoint === undefined ? {} : { recoveryPoint }),
  });
}

test('real files: missing or corrupt .index/.timeindex are rebuilt on open', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const config = cfg({ segmentBytes: 4000, indexIntervalBytes: 200 });
    const log = await realLog(dir, config);
    for (let i = 0; i < 60; i++) await log.append(batchOf(2, { valueSize: 80, timestamp: 5000 + 2 * i }));
    const bases = log.segmentBaseOffsets();
    assert.ok(bases.length >= 4);
    await log.close();
    const pdir = path.join(dir, 't-0');
    const name = (b: number, s: string): string => path.join(pdir, String(b).padStart(20, '0') + s);
    const goodIndex = await readFile(name(bases[2]!, '.index'));
    assert.ok(goodIndex.length > 0 && goodIndex.length % 8 === 0);
    await unlink(name(bases[0]!, '.index'));
    await unlink(name(bases[1]!, '.timeindex'));
    await writeFile(name(bases[2]!, '.index'), Buffer.alloc(13, 1)); // wrong size
    const backwards = Buffer.alloc(16);
    backwards.writeInt32BE(9, 0);
    backwards.writeInt32BE(100, 4);
    backwards.writeInt32BE(3, 8);
    backwards.writeInt32BE(200, 12);
    await writeFile(name(bases[3]!, '.index'), backwards); // non-monotonic

    const again = await realLog(dir, config, 120);
    const rebuilt = again.recoverySummary.indexRebuilds.map((r) => r.baseOffset).sort((a, b) => a - b);
    assert.deepEqual(rebuilt, bases.slice(0, 4));
    assert.equal(again.logEndOffset, 120);
    assert.deepEqual(await readFile(name(bases[2]!, '.index')), goodIndex, 'rebuilt index is identical');
    assert.ok((await stat(name(bases[0]!, '.index'))).size > 0);
    for (const target of [0, 7, bases[1]! + 1, bases[2]! + 5, bases[3]! + 3, 119]) {
      const r = await again.read(target, 100);
      const first = decodeRecords(r.records)[0]!;
      assert.ok(first.offset <= target && first.offset + 1 >= target, `target ${target}`);
    }
    assert.deepEqual(await again.offsetForTimestamp(5000 + 2 * 30), { offset: 60, timestamp: 5060 });
    await again.close();
  } finally {
    await cleanup();
  }
});

test('real files: a torn tail (garbage or half a batch) is truncated on open', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const config = cfg();
    const log = await realLog(dir, config);
    for (let i = 0; i < 10; i++) await log.append(batchOf(3));
    await log.close();
    const logFile = path.join(dir, 't-0', '00000000000000000000.log');
    const size = (await stat(logFile)).size;
    await appendFile(logFile, batchOf(4).subarray(0, 50)); // half a batch
    const a = await realLog(dir, config, 30);
    assert.equal(a.logEndOffset, 30);
    assert.equal(a.recoverySummary.recovered[0]!.truncatedBytes, 50);
    assert.equal((await stat(logFile)).size, size);
    await a.close();
    await appendFile(logFile, Buffer.alloc(100, 0xab)); // garbage
    const b = await realLog(dir, config, 30);
    assert.equal(b.logEndOffset, 30);
    assert.deepEqual(await readAll(b), range(0, 30));
    const r = await b.append(batchOf(1));
    assert.equal(r.baseOffset, 30);
    await b.close();
  } finally {
    await cleanup();
  }
});

test('real files: corruption in an unflushed middle segment deletes the segments after it', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const config = cfg({ segmentBytes: 1000 });
    const log = await realLog(dir, config);
    for (let i = 0; i < 30; i++) await log.append(batchOf(1, { valueSize: 150 }));
    const bases = log.segmentBaseOffsets();
    await log.close();
    const victim = path.join(dir, 't-0', `${String(bases[1]).padStart(20, '0')}.log`);
    const data = await readFile(victim);
    data[data.length - 5]! ^= 0xff;
    await writeFile(victim, data);
    const again = await realLog(dir, config, bases[1]); // segments from bases[1] on are "unflushed"
    assert.ok(again.logEndOffset < bases[2]!);
    assert.deepEqual(again.recoverySummary.deletedSegments, bases.slice(2));
    assert.deepEqual(await readAll(again), range(0, again.logEndOffset));
    const files = await readdir(path.join(dir, 't-0'));
    assert.equal(files.filter((f) => f.endsWith('.log')).length, 2);
    await again.close();
  } finally {
    await cleanup();
  }
});

test('flushMessages above 1 acknowledges without waiting until the threshold', async () => {
  const { log, fs } = await memLog(cfg({ flushMessages: 10 }));
  const before = fs.stats.fileSyncs;
  for (let i = 0; i < 9; i++) await log.append(batchOf(1));
  assert.equal(fs.stats.fileSyncs, before);
  await log.append(batchOf(1));
  assert.equal(log.recoveryPoint, 10);
  assert.ok(fs.stats.fileSyncs > before);
  assert.equal(LONG_MAX > 1e15, true);
});

test('concurrent appends are coalesced into few writevs; a bad one fails alone', async () => {
  const { log, fs } = await memLog(cfg({ segmentBytes: 3000 }));
  await log.append(batchOf(1));
  const writesBefore = fs.stats.writes;
  const bad = Buffer.from(batchOf(1));
  bad.writeInt8(1, 16); // magic 1
  const ps = Array.from({ length: 50 }, (_, i) => log.append(i === 20 ? bad : batchOf(2, { valueSize: 50 })));
  const settled = await Promise.allSettled(ps);
  assert.equal(settled.filter((s) => s.status === 'rejected').length, 1);
  assert.ok((settled[20] as PromiseRejectedResult).reason instanceof Error);
  const ok = settled.filter(
    (s): s is PromiseFulfilledResult<Awaited<ReturnType<PartitionLog['append']>>> => s.status === 'fulfilled',
  );
  assert.deepEqual(
    ok.map((s) => s.value.baseOffset),
    range(0, 49).map((i) => 1 + 2 * i),
  );
  assert.ok(log.segmentCount > 2, 'rolls happen inside a coalesced group');
  const writes = fs.stats.writes - writesBefore;
  assert.ok(writes < 25, `${writes} writes for 49 appends`);
  assert.deepEqual(await readAll(log), range(0, 99));
  for (const seg of log.segmentsInfo()) assert.ok(seg.size <= 3000, `segment ${seg.baseOffset}: ${seg.size} bytes`);
});

test('leader epochs are re-learned from batches when the checkpoint is lost', async () => {
  const { log, fs, clock } = await memLog(cfg());
  await log.append(batchOf(2), { leaderEpoch: 1 });
  await log.append(batchOf(2), { leaderEpoch: 3 });
  await log.append(batchOf(2), { leaderEpoch: 3 });
  await log.close();
  await fs.unlink('/data/t-0/leader-epoch-checkpoint');
  const again = await PartitionLog.open('/data/t-0', cfg(), { fs, clock });
  assert.deepEqual(again.leaderEpochCache.all(), [
    { epoch: 1, startOffset: 0 },
    { epoch: 3, startOffset: 2 },
  ]);
  assert.equal((await fs.readFile('/data/t-0/leader-epoch-checkpoint')).toString(), '0\n2\n1 0\n3 2\n');
  assert.deepEqual(again.leaderEpochCache.endOffsetFor(1, again.logEndOffset), { epoch: 1, endOffset: 2 });
});

test('a failed coalesced write rejects its group only; later appends continue at the same offset', async () => {
  const { log, fs } = await memLog(cfg());
  await log.append(batchOf(1));
  const writes = fs.stats.writes;
  fs.failNextWrite({ path: '.log', partialBytes: 100 });
  const group = await Promise.allSettled(Array.from({ length: 5 }, () => log.append(batchOf(1))));
  assert.ok(group.every((s) => s.status === 'rejected' && s.reason instanceof StorageError));
  assert.equal(fs.stats.writes - writes, 1, 'the five appends were one writev');
  assert.equal(log.logEndOffset, 1);
  const results = await Promise.all(Array.from({ length: 3 }, () => log.append(batchOf(1))));
  assert.deepEqual(
    results.map((r) => r.baseOffset),
    [1, 2, 3],
  );
  assert.deepEqual(await readAll(log), range(0, 4));
});

/** xorshift32 */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Reads everything and checks offsets are contiguous from the log start and timestamps resolve. */
async function checkConsistent(log: PartitionLog, tag: string): Promise<void> {
  const offsets = await readAll(log);
  assert.deepEqual(offsets, range(log.logStartOffset, log.logEndOffset), `${tag}: contiguous`);
  const mid = Math.floor((log.logStartOffset + log.logEndOffset) / 2);
  if (mid < log.logEndOffset) {
    const rec = decodeRecords((await log.read(mid, 1 << 20)).records).find((r) => r.offset >= mid)!;
    const found = await log.offsetForTimestamp(rec.timestamp);
    assert.ok(found && found.offset <= rec.offset, `${tag}: offsetForTimestamp(${rec.timestamp})`);
  }
}

test('randomized operations, faults and power losses: acknowledged data kept, log consistent', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = rng(seed);
    const fs = new MemoryFileSystem();
    const clock = new FakeClock(1000);
    const flushMessages = seed % 3 === 0 ? LONG_MAX : 1;
    const config = cfg({
      flushMessages,
      flushMs: random() < 0.5 ? 50 : LONG_MAX,
      segmentMs: 200 + Math.floor(random() * 500),
      segmentBytes: 300 + Math.floor(random() * 1500),
      indexIntervalBytes: Math.floor(random() * 300),
      fileDeleteDelayMs: random() < 0.5 ? 0 : 100,
      retentionBytes: random() < 0.3 ? 2000 : -1,
    });
    let acked = 0; // with flushMessages=1, every offset below this was acknowledged
    let checkpoint = 0; // the recovery point a log manager would have checkpointed
    for (let round = 0; round < 8; round++) {
      const tag = `seed ${seed} round ${round}`;
      // A fresh session per "process": the previous PartitionLog object can no longer touch the disk.
      const log = await PartitionLog.open('/data/t-0', config, {
        fs: fs.session(),
        clock,
        recoveryPoint: random() < 0.5 ? 0 : checkpoint,
      });
      if (flushMessages === 1) assert.ok(log.logEndOffset >= acked, `${tag}: LEO ${log.logEndOffset} < acked ${acked}`);
      acked = Math.min(acked, log.logEndOffset);
      await checkConsistent(log, tag);
      let crashed = false;
      let ackedNow = log.logEndOffset;
      const ops: Array<Promise<unknown>> = [];
      const n = 1 + Math.floor(random() * 25);
      for (let i = 0; i < n; i++) {
        const x = random();
        if (x < 0.04) fs.failNextWrite({ path: '.log', partialBytes: Math.floor(random() * 100) });
        else if (x < 0.08) fs.failNextSync();
        else if (x < 0.1) ops.push(log.deleteOldSegments(clock.now()).catch(() => undefined));
        else if (x < 0.12)
          ops.push(
            log
              .deleteRecordsBefore(
                log.logStartOffset + Math.floor(random() * (log.highWatermark - log.logStartOffset + 1)),
              )
              .catch(() => undefined),
          );
        else if (x < 0.15) clock.advance(Math.floor(random() * 300));
        else {
          const p = log.append(
            batchOf(1 + Math.floor(random() * 3), { valueSize: Math.floor(random() * 120), timestamp: clock.now() }),
          );
          ops.push(
            p.then(
              (r) => (ackedNow = crashed ? ackedNow : Math.max(ackedNow, r.lastOffset + 1)),
              () => undefined,
            ),
          );
        }
        if (random() < 0.3) await new Promise<void>((r) => setImmediate(r));
      }
      if (random() < 0.3) {
        await Promise.allSettled(ops);
        await checkConsistent(log, `${tag} live`);
        if (random() < 0.4) {
          await log
            .truncateTo(log.logStartOffset + Math.floor(random() * (log.logEndOffset - log.logStartOffset + 2)))
            .catch(() => undefined);
          acked = Math.min(acked, log.logEndOffset);
          ackedNow = Math.min(ackedNow, log.logEndOffset);
          await checkConsistent(log, `${tag} truncated`);
        }
        if (random() < 0.5) await log.close().catch(() => undefined);
      } else {
        const turns = Math.floor(random() * 8);
        for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
      }
      crashed = true;
      checkpoint = log.recoveryPoint;
      fs.powerLoss({ keepUnsyncedBytes: Math.floor(random() * 300) });
      await Promise.allSettled(ops);
      acked = Math.max(acked, ackedNow);
    }
  }
});
