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
