import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { PartitionLog } from '../../storage/partition-log.js';
import { LogCleaner } from '../../storage/log-cleaner.js';
import type { CleanerHooks } from '../../storage/log-cleaner.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import type { LogConfig } from '../../storage/log-config.js';
import { FakeClock } from '../../storage/clock.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import type { FileSystem } from '../../storage/fs.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import type { RecordInput } from '../../protocol/records/builder.js';
import { CompressionType } from '../../protocol/records/batch-header.js';
import { iterateBatches } from '../../protocol/records/batch.js';
import { tempDir } from './helpers.js';

const cfg = (o: Partial<LogConfig> = {}): LogConfig => ({
  ...DEFAULT_LOG_CONFIG,
  cleanupPolicy: ['compact'],
  fileDeleteDelayMs: 0,
  ...o,
});

interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}
interface BatchInfo {
  baseOffset: number;
  lastOffset: number;
  codec: number;
  deleteHorizon: number | null;
  producerId: number;
  baseSequence: number;
}

/** Read the whole log (logStartOffset .. logEndOffset), validating every batch's CRC and offset order. */
async function readAll(
  log: PartitionLog,
  from = log.logStartOffset,
  to = log.logEndOffset,
): Promise<{ records: Rec[]; batches: BatchInfo[] }> {
  const records: Rec[] = [];
  const batches: BatchInfo[] = [];
  let next = from;
  let prevLast = -1;
  for (let guard = 0; guard < 100_000 && next < to; guard++) {
    const r = await log.read(next, 1 << 20, { maxOffset: to });
    assert.equal(r.errorCode, 0);
    if (r.records.length === 0) break;
    for (const b of iterateBatches(r.records)) {
      b.validate();
      const base = Number(b.baseOffset);
      const last = Number(b.lastOffset);
      assert.ok(base > prevLast, `batch ${base} after ${prevLast}`);
      prevLast = last;
      batches.push({
        baseOffset: base,
        lastOffset: last,
        codec: b.compression,
        deleteHorizon: b.deleteHorizonMs === null ? null : Number(b.deleteHorizonMs),
        producerId: Number(b.producerId),
        baseSequence: b.baseSequence,
      });
      for (const rec of await b.recordsArray()) {
        const offset = Number(rec.offset);
        assert.ok(offset >= base && offset <= last);
        if (offset < next) continue;
        records.push({
          offset,
          key: rec.key?.toString() ?? null,
          value: rec.value?.toString() ?? null,
          timestamp: Number(rec.timestamp),
        });
      }
      next = last + 1;
    }
  }
  for (let i = 1; i < records.length; i++)
    assert.ok(records[i]!.offset > records[i - 1]!.offset, 'records in offset order');
  return { records, batches };
}

function kv(key: string | null, value: string | null, timestamp: number): RecordInput {
  return { key, value, timestamp };
}

async function append(
  log: PartitionLog,
  recs: RecordInput[],
  opts: Parameters<typeof buildRecordBatch>[1] = {},
): Promise<void> {
  await log.append(await buildRecordBatch(recs, opts));
}

/** `rounds` batches, each updating keys k0..k{keys-1} with value `k<i>-v<round>`; roll every `perSeg` batches. */
async function fillUpdates(
  log: PartitionLog,
  clock: FakeClock,
  rounds: number,
  keys: number,
  perSeg: number,
  codec = CompressionType.None,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const recs: RecordInput[] = [];
    for (let k = 0; k < keys; k++) recs.push(kv(`k${k}`, `k${k}-v${round}`, clock.now()));
    await append(log, recs, { compression: codec, producerId: 7, producerEpoch: 1, baseSequence: round * keys });
    if ((round + 1) % perSeg === 0) await log.forceRoll();
  }
}

async function openLog(dir: string, config: LogConfig, clock: FakeClock, fs?: FileSystem): Promise<PartitionLog> {
  return PartitionLog.open(dir, config, fs ? { clock, fs } : { clock });
}

test('updates per key shrink to the latest value per key (original offsets); active segment kept; reopen', async () => {
  const { dir, cleanup } = await tempDir();
  const clock = new FakeClock(1_000_000);
  const config = cfg();
  const logDir = path.join(dir, 't-0');
  try {
    const log = await openLog(logDir, config, clock);
    await fillUpdates(log, clock, 20, 10, 5); // 4 closed segments of 50 offsets each
    // active segment: 200..202
    for (let k = 0; k < 3; k++) await append(log, [kv(`k${k}`, `active-${k}`, clock.now())]);
    assert.equal(log.segmentCount, 5);
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    const activeBefore = await log.read(activeBase, 1 << 20);
    const sizeBefore = log.size;

    const cleaner = new LogCleaner({ clock });
    const res = await cleaner.cleanLog(log);
    assert.equal(res.cleaned, true);
    assert.equal(res.reason, 'dirty-ratio');
    assert.equal(res.endOffset, 200);
    assert.equal(res.segmentsReplaced, 4);
    assert.equal(res.recordsRemoved, 190);
    assert.ok(log.size < sizeBefore / 3);
    assert.equal(log.segmentCount, 2);
    assert.equal(log.logEndOffset, 203);

    const { records } = await readAll(log);
    const closedPart = records.filter((r) => r.offset < 200);
    assert.deepEqual(
      closedPart.map((r) => [r.offset, r.key, r.value]),
      Array.from({ length: 10 }, (_, k) => [190 + k, `k${k}`, `k${k}-v19`]),
    );
    assert.deepEqual(
      records.filter((r) => r.offset >= 200).map((r) => r.value),
      ['active-0', 'active-1', 'active-2'],
    );
    const activeAfter = await log.read(activeBase, 1 << 20);
    assert.ok(activeAfter.records.equals(activeBefore.records), 'active segment bytes unchanged');

    // Reads from an offset that was compacted away land on the next retained record.
    const mid = await log.read(57, 1 << 20);
    const firstBatch = [...iterateBatches(mid.records)][0]!;
    assert.ok(Number(firstBatch.lastOffset) >= 57);

    // On disk: no leftovers; a full recovery (recovery point 0) keeps everything.
    await log.close();
    const names = await readdir(logDir);
    assert.ok(!names.some((n) => /\.(cleaned|swap|deleted)$/.test(n)), names.join(','));
    const again = await PartitionLog.open(logDir, config, { clock, recoveryPoint: 0 });
    assert.deepEqual(again.recoverySummary.deletedSegments, []);
    assert.deepEqual((await readAll(again)).records, records);
    // Appends continue at the same offset.
    await append(again, [kv('k0', 'after', clock.now())]);
    assert.equal(again.logEndOffset, 204);
    await again.close();
  } finally {
    await cleanup();
  }
});

test('small segment.bytes: a segment per group; emptied groups keep an empty batch; contiguous, recovers', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const clock = new FakeClock(1_000_000);
    const logDir = path.join(dir, 't-0');
    const config = cfg({ segmentBytes: 400 });
    const log = await openLog(logDir, config, clock);
    await fillUpdates(log, clock, 8, 3, 2); // 4 closed segments (each > 200 bytes), keys k0..k2 rewritten in each
    await append(log, [kv('k0', 'active', clock.now())]);
    const res = await new LogCleaner({ clock }).cleanLog(log);
    assert.equal(res.cleaned, true);
    assert.equal(log.segmentCount, 5, 'groups of one segment each');
    const { records, batches } = await readAll(log);
    assert.deepEqual(
      records.map((r) => r.value),
      ['k0-v7', 'k1-v7', 'k2-v7', 'active'],
    );
    assert.deepEqual(
      log.segmentsInfo().map((s) => [s.baseOffset, s.nextOffset]),
      [
        [0, 6],
        [6, 12],
        [12, 18],
        [18, 24],
        [24, 25],
      ],
    );
    assert.deepEqual(
      batches.filter((b) => b.lastOffset < 18).map((b) => [b.baseOffset, b.lastOffset]),
      [
        [3, 5],
        [9, 11],
        [15, 17],
      ],
    );
    await log.close();
    const again = await PartitionLog.open(logDir, config, { clock, recoveryPoint: 0 });
    assert.deepEqual(again.recoverySummary.deletedSegments, []);
    assert.deepEqual((await readAll(again)).records, records);
    await again.close();
  } finally {
    await cleanup();
  }
});

test('a second clean with nothing dirty does nothing; new dirty data is merged with the clean section', async () => {
  const clock = new FakeClock(1_000_000);
  const fs = new MemoryFileSystem();
  const log = await openLog('/d/t-0', cfg({ minCleanableDirtyRatio: 0.01 }), clock, fs);
  await fillUpdates(log, clock, 4, 5, 2);
  await append(log, [kv('x', 'active', clock.now())]);
  const cleaner = new LogCleaner({ clock });
  assert.equal((await cleaner.cleanLog(log)).cleaned, true);
  assert.equal((await cleaner.cleanLog(log)).cleaned, false);
  // New updates for k0 only, in a new closed segment.
  await append(log, [kv('k0', 'newest', clock.now())]);
  await log.forceRoll();
  await append(log, [kv('y', 'active2', clock.now())]);
  const res = await cleaner.cleanLog(log);
  assert.equal(res.cleaned, true);
  const { records } = await readAll(log);
  const latest = new Map(records.map((r) => [r.key, r.value]));
  assert.equal(latest.get('k0'), 'newest');
  assert.equal(records.filter((r) => r.key === 'k0').length, 1);
  assert.equal(latest.get('k1'), 'k1-v3');
  await log.close();
});

test('tombstones are kept until delete.retention.ms after the clean that stamped their delete horizon', async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog('/d/t-0', cfg({ deleteRetentionMs: 5000 }), clock, new MemoryFileSystem());
  await append(log, [kv('a', 'a1', clock.now()), kv('b', 'b1', clock.now())]);
  await append(log, [kv('a', null, clock.now())]); // tombstone for a at offset 2
  await log.forceRoll();
  await append(log, [kv('c', 'c1', clock.now())]);
  const cleaner = new LogCleaner({ clock });

  const first = await cleaner.cleanLog(log);
  assert.equal(first.cleaned, true);
  let { records, batches } = await readAll(log);
  assert.deepEqual(
    records.map((r) => [r.offset, r.key, r.value]),
    [
      [1, 'b', 'b1'],
      [2, 'a', null],
      [3, 'c', 'c1'],
    ],
  );
  const tombBatch = batches.find((b) => b.baseOffset <= 2 && b.lastOffset >= 2)!;
  assert.equal(tombBatch.deleteHorizon, 1_000_000 + 5000);
  assert.equal(records[1]!.timestamp, 1_000_000, 'record timestamp survives the horizon stamp');

  clock.advance(4000);
  const early = await cleaner.cleanLog(log);
  assert.equal(early.cleaned, false, 'horizon not reached: nothing due');
  assert.equal((await readAll(log)).records.length, 3);

  clock.advance(1000);
  const late = await cleaner.cleanLog(log);
  assert.equal(late.cleaned, true);
  assert.equal(late.reason, 'delete-horizon');
  assert.equal(late.tombstonesRemoved, 1);
  ({ records, batches } = await readAll(log));
  assert.deepEqual(
    records.map((r) => [r.offset, r.key, r.value]),
    [
      [1, 'b', 'b1'],
      [3, 'c', 'c1'],
    ],
  );
  // The emptied last batch of the segment is kept (empty) so the segment still ends at offset 3.
  assert.ok(batches.some((b) => b.baseOffset === 2 && b.lastOffset === 2));
  await log.close();
});

test('dirty ratio below the min: no clean; max.compaction.lag.ms forces one; min lag holds young ones', async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog('/d/t-0', cfg({ minCleanableDirtyRatio: 0.5 }), clock, new MemoryFileSystem());
  for (let i = 0; i < 20; i++) await append(log, [kv(`k${i}`, 'x'.repeat(100), clock.now())]);
  await log.forceRoll();
  await append(log, [kv('z', 'active', clock.now())]);
  const cleaner = new LogCleaner({ clock });
  assert.equal((await cleaner.cleanLog(log)).cleaned, true); // all dirty: ratio 1

  clock.advance(1000);
  await append(log, [kv('k0', 'y', clock.now())]);
  await log.forceRoll();
  await append(log, [kv('z2', 'active', clock.now())]);
  const low = await cleaner.cleanLog(log);
  assert.equal(low.cleaned, false);
  assert.ok(low.dirtyRatio > 0 && low.dirtyRatio < 0.5, String(low.dirtyRatio));

  // min.compaction.lag.ms: the dirty segment is too young to be cleanable at all.
  log.updateConfig(cfg({ minCleanableDirtyRatio: 0.01, minCompactionLagMs: 60_000 }));
  const young = await cleaner.cleanLog(log);
  assert.equal(young.cleaned, false);
  assert.equal(young.dirtyRatio, 0);

  // max.compaction.lag.ms: the oldest dirty record is older than the lag, so clean despite the ratio.
  log.updateConfig(cfg({ minCleanableDirtyRatio: 0.9, maxCompactionLagMs: 5000 }));
  assert.equal((await cleaner.cleanLog(log)).cleaned, false);
  clock.advance(5001);
  const forced = await cleaner.cleanLog(log);
  assert.equal(forced.cleaned, true);
  assert.equal(forced.reason, 'max-compaction-lag');
  const { records } = await readAll(log);
  assert.equal(records.filter((r) => r.key === 'k0').length, 1);
  assert.equal(records.find((r) => r.key === 'k0')!.value, 'y');
  await log.close();
});

for (const [name, codec] of [
  ['gzip', CompressionType.Gzip],
  ['snappy', CompressionType.Snappy],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
] as const) {
  test(`${name} batches are rebuilt with the same codec, keeping producer fields and offsets`, async () => {
    const clock = new FakeClock(1_000_000);
    const log = await openLog('/d/t-0', cfg(), clock, new MemoryFileSystem());
    await fillUpdates(log, clock, 6, 4, 3, codec);
    await append(log, [kv('k0', 'active', clock.now())]);
    const res = await new LogCleaner({ clock }).cleanLog(log);
    assert.equal(res.cleaned, true);
    const { records, batches } = await readAll(log);
    assert.deepEqual(
      records.filter((r) => r.offset < 24).map((r) => [r.offset, r.key, r.value]),
      [
        [20, 'k0', 'k0-v5'],
        [21, 'k1', 'k1-v5'],
        [22, 'k2', 'k2-v5'],
        [23, 'k3', 'k3-v5'],
      ],
    );
    const closed = batches.filter((b) => b.lastOffset < 24 && b.baseOffset >= 20);
    assert.equal(closed.length, 1);
    assert.equal(closed[0]!.codec, codec);
    assert.equal(closed[0]!.producerId, 7);
    assert.equal(closed[0]!.baseSequence, 20);
    // All closed segments formed one group, whose last batch has records: nothing else survives.
    assert.deepEqual(
      batches.filter((b) => b.lastOffset < 20),
      [],
    );
    await log.close();
  });
}

test('control batches are kept; transactional flags survive rebuilds', async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog('/d/t-0', cfg(), clock, new MemoryFileSystem());
  await append(log, [kv('a', '1', clock.now()), kv('b', '1', clock.now())], {
    producerId: 9,
    producerEpoch: 0,
    baseSequence: 0,
    transactional: true,
  });
  const { buildControlBatch } = await import('../../protocol/records/builder.js');
  await log.append(buildControlBatch(1, 9, 0, 0, 0, clock.now()));
  await append(log, [kv('a', '2', clock.now())]);
  await log.forceRoll();
  await append(log, [kv('z', 'active', clock.now())]);
  await new LogCleaner({ clock }).cleanLog(log);
  const r = await log.read(0, 1 << 20);
  const batches = [...iterateBatches(r.records)];
  assert.deepEqual(
    batches.map((b) => [Number(b.baseOffset), b.isTransactional, b.isControl]),
    [
      [0, true, false],
      [2, true, true],
      [3, false, false],
    ],
  );
  assert.deepEqual(
    (await batches[0]!.recordsArray()).map((x) => x.key!.toString()),
    ['b'],
  );
  assert.equal(batches[0]!.lastOffsetDelta, 1);
  await log.close();
});

// ---- crash safety ------------------------------------------------------------------------------

async function crashScenario(
  point: 'cleaned' | 'swap',
): Promise<{ before: Rec[]; after: Rec[]; names: string[]; compacted: Rec[]; removed: string[]; deleted: number[] }> {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock(1_000_000);
  const config = cfg();
  const log = await openLog('/d/t-0', config, clock, fs.session());
  await fillUpdates(log, clock, 6, 4, 2);
  await append(log, [kv('k0', 'active', clock.now())]);
  await log.flush();
  const before = (await readAll(log)).records;
  const hooks: CleanerHooks =
    point === 'cleaned'
      ? {
          afterCleaned: async () => {
            await fs.syncDir('/d/t-0'); // the OS happened to persist the `.cleaned` names
            fs.powerLoss();
          },
        }
      : { afterSwapRename: () => fs.powerLoss() };
  await assert.rejects(new LogCleaner({ clock, hooks }).cleanLog(log));
  const atCrash = await fs.readdir('/d/t-0');
  assert.ok(
    atCrash.some((n) => n.endsWith(point === 'cleaned' ? '.log.cleaned' : '.log.swap')),
    atCrash.join(','),
  );
  assert.ok(atCrash.includes('00000000000000000000.log'), 'old first segment still present at the crash');
  const again = await openLog('/d/t-0', config, clock, fs.session());
  const names = await fs.readdir('/d/t-0');
  const after = (await readAll(again)).records;
  // A clean on the recovered log converges to the compacted contents either way.
  await new LogCleaner({ clock }).cleanLog(again);
  const compacted = (await readAll(again)).records;
  await again.close();
  return {
    before,
    after,
    names,
    compacted,
    removed: again.recoverySummary.removedFiles,
    deleted: again.recoverySummary.deletedSegments,
  };
}

test('crash after writing .cleaned: recovery deletes it and keeps the old segments', async () => {
  const { before, after, names, compacted, removed, deleted } = await crashScenario('cleaned');
  assert.deepEqual(after, before);
  assert.ok(removed.includes('00000000000000000000.log.cleaned'), removed.join(','));
  assert.deepEqual(deleted, []);
  assert.ok(!names.some((n) => n.includes('.cleaned') || n.includes('.swap')), names.join(','));
  assert.equal(compacted.length, 5);
});

test('crash after the .swap rename: recovery completes the swap (new contents, old segments gone)', async () => {
  const { before, after, names, compacted, removed, deleted } = await crashScenario('swap');
  assert.ok(removed.includes('00000000000000000000.log.swap'), removed.join(','));
  assert.deepEqual(deleted, [0, 8, 16]);
  assert.ok(!names.some((n) => n.includes('.cleaned') || n.includes('.swap')), names.join(','));
  // The first group (both closed segments... all closed segments) was swapped: one record per key below 24.
  assert.deepEqual(after, compacted);
  assert.ok(after.length < before.length);
  assert.deepEqual(
    after.map((r) => r.value),
    ['k0-v5', 'k1-v5', 'k2-v5', 'k3-v5', 'active'],
  );
});

test('a truncation during the clean makes the swap refuse; the .cleaned output is removed', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const clock = new FakeClock(1_000_000);
    const logDir = path.join(dir, 't-0');
    const log = await openLog(logDir, cfg(), clock);
    await fillUpdates(log, clock, 6, 4, 2);
    await append(log, [kv('k0', 'active', clock.now())]);
    const cleaner = new LogCleaner({ clock, hooks: { afterCleaned: async () => void (await log.truncateTo(22)) } });
    const res = await cleaner.cleanLog(log);
    assert.equal(res.cleaned, false);
    assert.ok(res.skipped);
    assert.equal(log.logEndOffset, 20);
    const names = await readdir(logDir);
    assert.ok(!names.some((n) => n.includes('.cleaned') || n.includes('.swap')), names.join(','));
    assert.equal((await readAll(log)).records.length, 20);
    await log.close();
  } finally {
    await cleanup();
  }
});

test('appends and reads concurrent with a clean keep working', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const clock = new FakeClock(1_000_000);
    const log = await openLog(path.join(dir, 't-0'), cfg({ fileDeleteDelayMs: 60_000 }), clock);
    await fillUpdates(log, clock, 40, 25, 10);
    await append(log, [kv('k0', 'active', clock.now())]);
    const cleaner = new LogCleaner({ clock, readChunkBytes: 512, writeChunkBytes: 512 });
    const cleaning = cleaner.cleanLog(log);
    let appended = 0;
    let reads = 0;
    let done = false;
    void cleaning.finally(() => (done = true));
    for (let i = 0; i < 500 && !done; i++) {
      await append(log, [kv(`n${i}`, `new-${i}`, clock.now())]);
      appended++;
      const r = await readAll(log);
      assert.ok(r.records.length > 0);
      reads++;
    }
    const res = await cleaning;
    assert.equal(res.cleaned, true);
    assert.ok(appended >= 2 && reads >= 2, `${appended} appends during the clean`);
    const { records } = await readAll(log);
    const newKeys = records.filter((r) => r.key?.startsWith('n'));
    assert.equal(newKeys.length, appended);
    assert.equal(records.filter((r) => r.key === 'k3').length, 1);
    // Old segments wait out file.delete.delay.ms as .deleted files, then go.
    assert.ok((await readdir(path.join(dir, 't-0'))).some((n) => n.endsWith('.deleted')));
    clock.advance(60_000);
    // The unlinks are asynchronous: wait for them (bounded; a loaded machine may take a while).
    const deletedLeft = async (): Promise<boolean> =>
      (await readdir(path.join(dir, 't-0'))).some((n) => n.endsWith('.deleted'));
    for (let i = 0; i < 500 && (await deletedLeft()); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!(await deletedLeft()));
    await log.close();
  } finally {
    await cleanup();
  }
});

test('loader completes a swap interrupted half-way (old first segment .deleted, new index renamed)', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock(1_000_000);
  const config = cfg();
  const log = await openLog('/d/t-0', config, clock, fs.session());
  await fillUpdates(log, clock, 6, 4, 2);
  await append(log, [kv('k0', 'active', clock.now())]);
  await log.flush();
  await assert.rejects(new LogCleaner({ clock, hooks: { afterSwapRename: () => fs.powerLoss() } }).cleanLog(log));
  const base = '/d/t-0/00000000000000000000';
  for (const ext of ['.log', '.index', '.timeindex']) await fs.rename(base + ext, `${base + ext}.deleted`);
  await fs.rename(`${base}.index.swap`, `${base}.index`);
  await fs.syncDir('/d/t-0');
  const again = await openLog('/d/t-0', config, clock, fs.session());
  assert.deepEqual(again.recoverySummary.indexRebuilds, []);
  assert.deepEqual(again.recoverySummary.deletedSegments, [8, 16]);
  assert.deepEqual(
    (await readAll(again)).records.map((r) => [r.offset, r.value]),
    [
      [20, 'k0-v5'],
      [21, 'k1-v5'],
      [22, 'k2-v5'],
      [23, 'k3-v5'],
      [24, 'active'],
    ],
  );
  const names = await fs.readdir('/d/t-0');
  assert.ok(!names.some((n) => /\.(swap|cleaned|deleted)$/.test(n)), names.join(','));
  await again.close();
});

test('a full offset map cuts the dirty section at a segment boundary; the next clean continues there', async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog('/d/t-0', cfg({ minCleanableDirtyRatio: 0.01 }), clock, new MemoryFileSystem());
  await fillUpdates(log, clock, 6, 4, 2); // segments [0,8) [8,16) [16,24), 4 keys each
  await append(log, [kv('k0', 'active', clock.now())]);
  const cleaner = new LogCleaner({ clock, offsetMapMaxEntries: 4 });
  const first = await cleaner.cleanLog(log);
  assert.equal(first.cleaned, true);
  assert.equal(first.endOffset, 8);
  assert.deepEqual(
    (await readAll(log, 0, 8)).records.map((r) => r.offset),
    [4, 5, 6, 7],
  );
  const second = await cleaner.cleanLog(log);
  assert.equal(second.firstDirty, 8);
  assert.equal(second.endOffset, 16);
  const third = await cleaner.cleanLog(log);
  assert.equal(third.endOffset, 24);
  assert.deepEqual(
    (await readAll(log)).records.map((r) => r.offset),
    [20, 21, 22, 23, 24],
  );
  await log.close();
});
