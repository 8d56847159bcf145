/**
 * Compaction of a log rolled by time (segment.ms) with one batch per segment, cleaned again and again while
 * records keep coming, as the broker's periodic cleaner does: only the latest record per key survives below
 * the active segment, small cleaned segments are merged by later cleans, and a reader that advances only
 * past records it received (kafkajs does) reaches the log end. Real files, fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { LogCleaner } from '../../storage/log-cleaner.js';
import { compactLogConfig } from '../helpers/log-config.js';
import type { LogConfig } from '../../storage/log-config.js';
import { FakeClock } from '../../storage/clock.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import { iterateBatches } from '../../protocol/records/batch.js';
import { tempDir } from './helpers.js';

const cfg = (o: Partial<LogConfig> = {}): LogConfig =>
  compactLogConfig({ segmentMs: 100, segmentBytes: 2048, deleteRetentionMs: 100, ...o });

interface Rec {
  offset: number;
  key: string;
  value: string | null;
}

/**
 * Read from `from` to the log end like a client that moves its position only past the records it
 * received: a response without records ends the walk. Returns the records and where the walk stopped.
 */
async function walk(log: PartitionLog, from = log.logStartOffset): Promise<{ records: Rec[]; stoppedAt: number }> {
  const records: Rec[] = [];
  let next = from;
  for (let guard = 0; guard < 10_000 && next < log.logEndOffset; guard++) {
    const r = await log.read(next, 1 << 20);
    assert.equal(r.errorCode, 0);
    let advanced = false;
    for (const b of iterateBatches(r.records)) {
      b.validate();
      for (const rec of await b.recordsArray()) {
        const offset = Number(rec.offset);
        if (offset < next) continue;
        records.push({ offset, key: rec.key!.toString(), value: rec.value?.toString() ?? null });
        next = offset + 1;
        advanced = true;
      }
    }
    if (!advanced) break;
  }
  return { records, stoppedAt: next };
}

/** Record i of the workload: key `same` except every 10th (k0..k2). */
const keyOf = (i: number): string => (i % 10 === 0 ? `k${(i / 10) % 3}` : 'same');

test('time-rolled segments cleaned while producing keep only the latest per key below the active one', async () => {
  const { dir, cleanup } = await tempDir();
  const clock = new FakeClock(1_000_000);
  try {
    const log = await PartitionLog.open(path.join(dir, 'c-0'), cfg(), { clock });
    const cleaner = new LogCleaner({ clock });
    const N = 300;
    let cleans = 0;
    for (let i = 0; i < N; i++) {
      clock.advance(60); // every other append finds its segment older than segment.ms and rolls
      await log.append(await buildRecordBatch([{ key: keyOf(i), value: `v${i}`, timestamp: clock.now() }]));
      if (i % 25 === 24) {
        const res = await cleaner.cleanLog(log);
        if (res.cleaned) cleans++;
        // Whatever the cleaner has covered holds each key at most once.
        const below = (await walk(log)).records.filter((r) => r.offset < res.endOffset);
        assert.equal(
          new Set(below.map((r) => r.key)).size,
          below.length,
          `clean ${cleans}: duplicates below ${res.endOffset}`,
        );
      }
    }
    assert.ok(cleans >= 10, `${cleans} cleans`);

    // The log stops growing; one more clean covers every closed segment.
    clock.advance(200);
    await log.append(await buildRecordBatch([{ key: 'roll', value: 'x', timestamp: clock.now() }]));
    const last = await cleaner.cleanLog(log);
    assert.equal(last.cleaned, true);
    assert.equal(last.endOffset, N);
    const { records, stoppedAt } = await walk(log);
    assert.equal(stoppedAt, N + 1, 'a reader reaches the log end');
    assert.deepEqual(
      records.map((r) => `${r.offset}:${r.key}=${r.value}`),
      ['270:k0=v270', '280:k1=v280', '290:k2=v290', '299:same=v299', '300:roll=x'],
    );
    // Small cleaned segments were merged (segment.bytes allows it): the closed part is one segment.
    assert.deepEqual(
      log.segmentsInfo().map((s) => s.baseOffset),
      [0, N],
    );
    // Nothing dirty is left: the next run is not due and swaps nothing.
    const idle = await cleaner.cleanLog(log);
    assert.equal(idle.cleaned, false);
    assert.equal(idle.segmentsReplaced, 0);
    await log.close();
  } finally {
    await cleanup();
  }
});

test('a cleaned segment holding only its record-less last batch does not stop a read into the next', async () => {
  const { dir, cleanup } = await tempDir();
  const clock = new FakeClock(1_000_000);
  try {
    // segment.bytes too small to merge anything: every cleaned segment stays on its own.
    const log = await PartitionLog.open(path.join(dir, 'c-0'), cfg({ segmentBytes: 100 }), { clock });
    for (let i = 0; i < 6; i++) {
      await log.append(await buildRecordBatch([{ key: 'same', value: `v${i}`, timestamp: clock.now() }]));
      await log.forceRoll();
    }
    await log.append(await buildRecordBatch([{ key: 'other', value: 'active', timestamp: clock.now() }]));
    const res = await new LogCleaner({ clock }).cleanLog(log);
    assert.equal(res.cleaned, true);
    assert.equal(log.segmentCount, 7);

    // Segments 0..4 each hold one batch without records; a read at 0 carries them and what follows.
    const r = await log.read(0, 1 << 20);
    const batches = [...iterateBatches(r.records)];
    assert.deepEqual(
      batches.map((b) => [Number(b.baseOffset), b.recordsCount]),
      [
        [0, 0],
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0],
        [5, 1],
      ],
    );
    assert.deepEqual(
      (await walk(log, 2)).records.map((x) => `${x.offset}:${x.value}`),
      ['5:v5', '6:active'],
    );
    // maxOffset (the high watermark, or a read_committed bound) still bounds what is returned.
    const bounded = await log.read(0, 1 << 20, { maxOffset: 5 });
    assert.deepEqual(
      [...iterateBatches(bounded.records)].map((b) => Number(b.baseOffset)),
      [0, 1, 2, 3, 4],
    );
    await log.close();
  } finally {
    await cleanup();
  }
});
