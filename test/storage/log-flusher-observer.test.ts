/**
 * LogFlusher's optional observer (the fsync latency metric): called once per flush run with the run's
 * wall-clock duration, including a run stalled in fsync; a throwing observer does not fail the flush.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogFlusher } from '../../storage/log-flusher.js';
import { SegmentSet } from '../../storage/segment-set.js';
import { LogSegment } from '../../storage/segment.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { ensureDirDurable } from '../../storage/fs.js';
import { buildBatch } from './helpers.js';

async function setup(
  fs: MemoryFileSystem,
  onFlush: (s: number) => void,
): Promise<{ segs: SegmentSet; flusher: LogFlusher }> {
  const clock = new FakeClock();
  await ensureDirDurable(fs, '/p');
  const segs = new SegmentSet();
  segs.add(await LogSegment.create('/p', 0, { indexIntervalBytes: 4096, maxIndexBytes: 1024 }, { fs, clock }));
  return { segs, flusher: new LogFlusher(fs, '/p', segs, clock, undefined, 0, onFlush) };
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

test('the observer sees each run with its duration, slow fsyncs included', async () => {
  const seen: number[] = [];
  const { segs, flusher } = await setup(new MemoryFileSystem({ syncLatency: 40 }), (s) => seen.push(s));
  await append(segs.last()!, 0);
  await flusher.request();
  assert.equal(seen.length, 1);
  assert.equal(flusher.runs, 1);
  assert.ok(seen[0] >= 0.03, `duration ${seen[0]} s reflects the 40 ms fsync`);
  await append(segs.last()!, 1);
  await Promise.all([flusher.request(), flusher.request()]);
  assert.equal(seen.length, flusher.runs);
  assert.equal(flusher.recoveryPoint, 2);
});

test('a throwing observer does not fail the flush', async () => {
  const { segs, flusher } = await setup(new MemoryFileSystem(), () => {
    throw new Error('observer bug');
  });
  await append(segs.last()!, 0);
  await flusher.request();
  assert.equal(flusher.recoveryPoint, 1);
});
