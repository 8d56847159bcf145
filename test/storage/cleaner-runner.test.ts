/**
 * The log cleaner's runners (storage/cleaner-runner.ts): a log on real files is cleaned by the worker thread, a
 * MemoryFileSystem log inline, with byte-identical results; worker errors come back as their classes; stopping
 * and a source file gone end a clean leaving the log as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { open, readdir, unlink } from 'node:fs/promises';
import { PartitionLog } from '../../storage/partition-log.js';
import { CleanerAbortedError, LogCleaner } from '../../storage/log-cleaner.js';
import { compactLogConfig } from '../helpers/log-config.js';
import { FakeClock } from '../../storage/clock.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import { CompressionType } from '../../protocol/records/batch-header.js';
import { CorruptRecordError } from '../../protocol/errors.js';
import { tempDir } from './helpers.js';

const cfg = compactLogConfig;

/** 12 batches over 4 closed segments: keys k0..k19 updated, some deleted (tombstones), every other batch gzip. */
async function fill(log: PartitionLog, clock: FakeClock): Promise<void> {
  for (let round = 0; round < 12; round++) {
    const recs = Array.from({ length: 20 }, (_, k) => ({
      key: `k${k}`,
      value: round === 11 && k % 5 === 0 ? null : `k${k}-v${round}-${'x'.repeat(k * 10)}`,
      timestamp: clock.now() + round,
    }));
    const compression = round % 2 ? CompressionType.Gzip : CompressionType.None;
    await log.append(await buildRecordBatch(recs, { compression }));
    if (round % 3 === 2) await log.forceRoll();
  }
  await log.append(await buildRecordBatch([{ key: 'k0', value: 'active', timestamp: clock.now() }], {}));
  log.updateHighWatermark(log.logEndOffset);
}

/** A fresh log on real files (dir/t-0, fake clock) filled by `fill`, given to `fn`; the directory removed after. */
async function withFilledLog(fn: (log: PartitionLog, clock: FakeClock, dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const clock = new FakeClock(1_000_000);
  try {
    const log = await PartitionLog.open(path.join(dir, 't-0'), cfg(), { clock });
    await fill(log, clock);
    await fn(log, clock, dir);
  } finally {
    await cleanup();
  }
}

/** Every byte of the log from its start, read batch range by batch range. */
async function bytesOf(log: PartitionLog): Promise<Buffer> {
  const parts: Buffer[] = [];
  let next = log.logStartOffset;
  for (let i = 0; i < 1000 && next < log.logEndOffset; i++) {
    const r = await log.read(next, 1 << 20);
    if (r.records.length === 0) break;
    parts.push(r.records);
    let p = 0;
    while (p < r.records.length) {
      const len = r.records.readInt32BE(p + 8) + 12;
      next = Number(r.records.readBigInt64BE(p)) + r.records.readInt32BE(p + 23) + 1;
      p += len;
    }
  }
  return Buffer.concat(parts);
}

test('a log on real files is cleaned in the worker, a memory one inline, to the same bytes', async () => {
  const { dir, cleanup } = await tempDir();
  const clock = new FakeClock(1_000_000);
  try {
    const disk = await PartitionLog.open(path.join(dir, 't-0'), cfg(), { clock });
    const memory = await PartitionLog.open('/d/t-0', cfg(), { clock, fs: new MemoryFileSystem() });
    await fill(disk, clock);
    await fill(memory, clock);
    const before = await bytesOf(disk);
    assert.ok(before.equals(await bytesOf(memory)), 'same input');
    const cleaner = new LogCleaner({ clock });
    assert.equal(cleaner.runnerKind(disk), 'worker');
    assert.equal(cleaner.runnerKind(memory), 'inline');
    const a = await cleaner.cleanLog(disk);
    const b = await new LogCleaner({ clock }).cleanLog(memory); // (cleaner state is by topic-partition)
    assert.equal(a.cleaned, true);
    assert.equal(a.segmentsReplaced, 4);
    assert.ok(a.recordsRemoved > 150, `${a.recordsRemoved} removed`);
    assert.deepEqual({ ...a }, { ...b });
    const after = await bytesOf(disk);
    assert.ok(after.length < before.length / 4, `${after.length} of ${before.length} bytes left`);
    assert.ok(after.equals(await bytesOf(memory)), 'worker and inline outputs are byte-identical');
    // The worker's files are the log's now: a reopen with full recovery keeps the same bytes.
    await disk.close();
    const names = await readdir(path.join(dir, 't-0'));
    assert.ok(!names.some((n) => /\.(cleaned|swap)$/.test(n)), names.join(','));
    const again = await PartitionLog.open(path.join(dir, 't-0'), cfg(), { clock, recoveryPoint: 0 });
    assert.deepEqual(again.recoverySummary.deletedSegments, []);
    assert.ok((await bytesOf(again)).equals(after));
    await again.close();
    cleaner.stop();
  } finally {
    await cleanup();
  }
});

test('a corrupt closed segment fails the worker clean with CorruptRecordError; nothing is swapped', () =>
  withFilledLog(async (log, clock, dir) => {
    const before = await bytesOf(log);
    const seg = log.closedSegments()[1]!;
    const f = await open(seg.path, 'r+');
    await f.write(Buffer.from([0xff, 0xee]), 0, 2, 100); // inside the first batch's records: its CRC fails
    await f.close();
    const cleaner = new LogCleaner({ clock });
    await assert.rejects(cleaner.cleanLog(log), CorruptRecordError);
    const names = await readdir(path.join(dir, 't-0'));
    assert.ok(!names.some((n) => n.endsWith('.cleaned')), names.join(','));
    assert.equal(log.segmentCount, 5);
    assert.equal((await bytesOf(log)).length, before.length);
    cleaner.stop();
    await log.close();
  }));

test('a closed segment whose file is gone (retired meanwhile) ends the clean as "log changed"', () =>
  withFilledLog(async (log, clock, dir) => {
    await unlink(log.closedSegments()[2]!.path); // as if renamed `.deleted` and unlinked before the worker read it
    const cleaner = new LogCleaner({ clock });
    const res = await cleaner.cleanLog(log);
    assert.equal(res.cleaned, false);
    assert.equal(res.skipped, 'log changed during the clean');
    assert.equal(res.endOffset, res.firstDirty, 'checkpoint not advanced');
    const names = await readdir(path.join(dir, 't-0'));
    assert.ok(!names.some((n) => /\.(cleaned|swap)$/.test(n)), names.join(','));
    cleaner.stop();
    await log.close();
  }));

test('stop() during a worker clean rejects with CleanerAbortedError and leaves the log as it was', () =>
  withFilledLog(async (log, clock, dir) => {
    const before = await bytesOf(log);
    // Stop as soon as the first cleaned segment is written: the swap must not happen, nor any later rewrite.
    const cleaner: LogCleaner = new LogCleaner({ clock, hooks: { afterCleaned: () => cleaner.stop() } });
    await assert.rejects(cleaner.cleanLog(log), CleanerAbortedError);
    // Stopped before the worker got the job: the same.
    const stopped = new LogCleaner({ clock });
    const p = stopped.cleanLog(log);
    stopped.stop();
    await assert.rejects(p, CleanerAbortedError);
    const names = await readdir(path.join(dir, 't-0'));
    assert.ok(!names.some((n) => /\.(cleaned|swap)$/.test(n)), names.join(','));
    assert.ok((await bytesOf(log)).equals(before));
    await assert.rejects(cleaner.cleanLog(log), CleanerAbortedError);
    await log.close();
  }));

test('the worker throttles its I/O (log.cleaner.io.max.bytes.per.second); stop() wakes a throttle sleep', () =>
  withFilledLog(async (log, clock, dir) => {
    const before = await bytesOf(log);
    let written = false;
    const hooks = {
      afterCleaned: (): void => {
        written = true;
      },
    };
    // 1 byte a second, checked at every read: the first read puts the worker to sleep for hours.
    const cleaner = new LogCleaner({ clock, ioMaxBytesPerSecond: 1, ioCheckIntervalMs: 0, hooks });
    let settled = false;
    const cleaning = cleaner.cleanLog(log);
    const done = (): void => {
      settled = true;
    };
    cleaning.then(done, done);
    await new Promise((r) => setTimeout(r, 1000)); // unthrottled, this clean takes a few ms
    assert.equal(settled, false, 'the clean waits in the throttle');
    assert.equal(written, false);
    cleaner.stop();
    await assert.rejects(cleaning, CleanerAbortedError);
    const names = await readdir(path.join(dir, 't-0'));
    assert.ok(!names.some((n) => /\.(cleaned|swap)$/.test(n)), names.join(','));
    assert.ok((await bytesOf(log)).equals(before));
    await log.close();
  }));

test('a worker thread that cannot start: the clean runs inline, and so do later ones', () =>
  withFilledLog(async (log, clock, dir) => {
    const workerScript = new URL(`file://${path.join(dir, 'no-such-worker.js')}`);
    const cleaner = new LogCleaner({ clock, workerScript });
    assert.equal(cleaner.runnerKind(log), 'worker');
    const res = await cleaner.cleanLog(log);
    assert.equal(res.cleaned, true);
    assert.equal(res.segmentsReplaced, 4);
    assert.equal(cleaner.runnerKind(log), 'inline');
    await log.close();
  }));
