import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogFlusher } from '../../storage/log-flusher.js';
import { SegmentSet } from '../../storage/segment-set.js';
import { LogSegment } from '../../storage/segment.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { LONG_MAX } from '../../storage/log-config.js';
import { ensureDirDurable } from '../../storage/fs.js';
import { buildBatch, settle } from './helpers.js';

async function setup(): Promise<{ fs: MemoryFileSystem; clock: FakeClock; segs: SegmentSet; flusher: LogFlusher }> {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  await ensureDirDurable(fs, '/p');
  const segs = new SegmentSet();
  segs.add(await LogSegment.create('/p', 0, { indexIntervalBytes: 4096, maxIndexBytes: 1024 }, { fs, clock }));
  return { fs, clock, segs, flusher: new LogFlusher(fs, '/p', segs, clock, undefined, 0) };
}

async function append(seg: LogSegment, offset: number): Promise<void> {
  const b = buildBatch([{ value: 'x', timestamp: 1 }], { baseOffset: offset });
  await seg.append([b], {
    firstOffset: offset,
    lastOffset: offset,
    maxTimestamp: 1,
    offsetOfMaxTimestamp: offset,
    size: b.length,
  });
}

test('flush.messages threshold counts from the recovery point and the last requested flush', async () => {
  const { flusher } = await setup();
  assert.equal(flusher.afterAppend(2, 3, LONG_MAX), false);
  assert.equal(flusher.afterAppend(3, 3, LONG_MAX), true);
  assert.equal(flusher.afterAppend(4, 3, LONG_MAX), false, 'a flush up to 3 is already requested');
  assert.equal(flusher.afterAppend(6, 3, LONG_MAX), true);
  assert.equal(flusher.afterAppend(7, 1, LONG_MAX), true);
});

test('a run syncs data, then the directory once, then advances the recovery point', async () => {
  const { fs, segs, flusher } = await setup();
  const seg = segs.last()!;
  await append(seg, 0);
  flusher.markDirDirty();
  await flusher.request();
  assert.equal(flusher.recoveryPoint, 1);
  assert.equal(fs.stats.dirSyncs, 2, 'one for /p creation, one for the run');
  await append(seg, 1);
  await flusher.request();
  assert.equal(flusher.recoveryPoint, 2);
  assert.equal(fs.stats.dirSyncs, 2, 'directory clean: not synced again');
  fs.failNextSync();
  await append(seg, 2);
  await assert.rejects(flusher.request());
  assert.equal(flusher.recoveryPoint, 2);
  flusher.truncatedTo(1);
  assert.equal(flusher.recoveryPoint, 1);
});

test('flush.ms arms one timer on the clock', async () => {
  const { clock, segs, flusher } = await setup();
  await append(segs.last()!, 0);
  assert.equal(flusher.afterAppend(1, LONG_MAX, 100), false);
  assert.equal(flusher.afterAppend(1, LONG_MAX, 100), false);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(100);
  await settle();
  assert.equal(flusher.recoveryPoint, 1);
  await flusher.stop();
});

test('group commit: a request the run in flight covers joins it instead of waiting for another run', async () => {
  const { fs, segs, flusher } = await setup();
  await append(segs.last()!, 0);
  await append(segs.last()!, 1);
  const syncs = fs.stats.fileSyncs;
  const first = flusher.request(1); // starts a run capturing log end 2
  const covered = flusher.request(2); // written before that run began: the same run covers it
  await Promise.all([first, covered]);
  assert.equal(flusher.runs, 1);
  assert.equal(fs.stats.fileSyncs - syncs, 1, 'one fdatasync of the log');
  assert.equal(flusher.recoveryPoint, 2);
  await flusher.request(2); // already durable: no run
  assert.equal(flusher.runs, 1);
});

test('group commit: appends written during a run share the single next run, which starts when it ends', async () => {
  const { fs, segs, flusher } = await setup();
  const seg = segs.last()!;
  await append(seg, 0);
  flusher.markDirDirty(); // the segment's directory entry is made durable by the first run
  const order: string[] = [];
  const first = flusher.request(1).then(() => order.push(`first rp=${flusher.recoveryPoint}`));
  const later: Array<Promise<unknown>> = [];
  for (let i = 1; i <= 5; i++) {
    await append(seg, i); // written after the run in flight captured its log end (1)
    later.push(flusher.request(i + 1).then(() => order.push(`later rp=${flusher.recoveryPoint}`)));
  }
  await Promise.all([first, ...later]);
  assert.deepEqual(order, ['first rp=1', ...Array.from({ length: 5 }, () => 'later rp=6')]);
  assert.equal(flusher.runs, 2, 'five requests made during a run cost one more run');
  fs.powerLoss();
  const h = await fs.open('/p/00000000000000000000.log');
  assert.equal(await h.size(), seg.size, 'every acknowledged append is durable');
});

test('group commit: a failed run rejects the requests it served; a later request gets a new run', async () => {
  const { fs, segs, flusher } = await setup();
  const seg = segs.last()!;
  await append(seg, 0);
  fs.failNextSync();
  const failed = flusher.request(1);
  const joined = flusher.request(1);
  await assert.rejects(failed);
  await assert.rejects(joined);
  assert.equal(flusher.recoveryPoint, 0);
  await flusher.request(1);
  assert.equal(flusher.recoveryPoint, 1);
  assert.equal(flusher.runs, 2);
});

test('group commit: data written again below the run in flight after a truncation waits for the next run', async () => {
  const fs = new MemoryFileSystem({ syncLatency: 20 });
  const clock = new FakeClock();
  await ensureDirDurable(fs, '/p');
  const segs = new SegmentSet();
  segs.add(await LogSegment.create('/p', 0, { indexIntervalBytes: 4096, maxIndexBytes: 1024 }, { fs, clock }));
  const flusher = new LogFlusher(fs, '/p', segs, clock, undefined, 0);
  const seg = segs.last()!;
  flusher.markDirDirty();
  await append(seg, 0);
  await append(seg, 1);
  const first = flusher.request(2); // the run in flight captures log end 2
  await seg.truncateTo(1);
  flusher.truncatedTo(1);
  await append(seg, 1); // offset 1 again: new bytes, not in what the run in flight syncs
  assert.equal(flusher.runs, 0, 'the first run is still in flight');
  const again = flusher.request(2);
  await Promise.all([first, again]);
  assert.equal(flusher.runs, 2, 'the rewritten offset needed a run of its own');
  assert.equal(flusher.recoveryPoint, 2);
  fs.powerLoss();
  const h = await fs.open('/p/00000000000000000000.log');
  assert.equal(await h.size(), seg.size, 'the acknowledged rewrite is durable');
});
