/**
 * storage/log-loader.ts: the file-system work of opening a partition after a clean close. One directory
 * listing serves the whole load (compaction swaps, leftovers, index presence, producer snapshots), with no
 * existence probes and no reads of files the listing shows absent; the data reads back unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../storage/partition-log.js';
import type { FileSystem } from '../../storage/fs.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import type { LogConfig } from '../../storage/log-config.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import { batchOf, buildBatch, decodeRecords } from './helpers.js';

const DIR = '/data/t-0';
const cfg: LogConfig = { ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'], segmentBytes: 600, indexIntervalBytes: 100 };

/** `fs` with every call of the FileSystem interface recorded as [method, path, failed]. */
function counting(fs: MemoryFileSystem): { fs: FileSystem; calls: Array<[string, string, boolean]> } {
  const calls: Array<[string, string, boolean]> = [];
  const proxy = new Proxy(fs, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        try {
          const r = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          calls.push([String(prop), String(args[0]), false]);
          return r;
        } catch (err) {
          calls.push([String(prop), String(args[0]), true]);
          throw err;
        }
      };
    },
  });
  return { fs: proxy, calls };
}

async function offsetsOf(log: PartitionLog): Promise<number[]> {
  const out: number[] = [];
  let next = log.logStartOffset;
  for (let i = 0; i < 1000; i++) {
    const r = await log.read(next, 64 * 1024);
    if (r.records.length === 0) break;
    for (const rec of decodeRecords(r.records)) if (rec.offset >= next) out.push(rec.offset);
    next = out[out.length - 1]! + 1;
  }
  return out;
}

test('opening a cleanly closed log lists its directory once and probes nothing', async () => {
  const mem = new MemoryFileSystem();
  const clock = new FakeClock(1_000_000);
  const first = await PartitionLog.open(DIR, cfg, { fs: mem, clock });
  for (let i = 0; i < 6; i++) await first.append(batchOf(3, { valueSize: 60 }), { leaderEpoch: 1 });
  // An idempotent producer's batch, so that the close writes a producer snapshot.
  await first.append(buildBatch([{ value: 'p' }], { producerId: 7n, producerEpoch: 0, baseSequence: 0 }), {
    leaderEpoch: 2,
  });
  const before = await offsetsOf(first);
  const segments = first.segmentCount;
  await first.close();
  assert.ok(segments >= 3, `several segments (${segments})`);
  assert.ok((await mem.readdir(DIR)).some((n) => n.endsWith('.snapshot')));

  const { fs, calls } = counting(mem);
  const log = await PartitionLog.open(DIR, cfg, { fs, clock, recoveryPoint: first.recoveryPoint });
  try {
    assert.deepEqual(
      calls.filter(([m, p]) => m === 'readdir' && p === DIR).length,
      1,
      `one listing: ${JSON.stringify(calls)}`,
    );
    assert.deepEqual(
      calls.filter(([m]) => m === 'exists'),
      [],
    );
    assert.deepEqual(
      calls.filter(([, , failed]) => failed),
      [],
      'no call on a missing file',
    );
    assert.equal(log.recoverySummary.recovered.length, 0, 'nothing past the recovery point to recover');
    assert.equal(log.segmentCount, segments);
    assert.deepEqual(await offsetsOf(log), before);
    assert.equal(log.leaderEpochCache.all().at(-1)?.epoch, 2);
  } finally {
    await log.close();
  }
});
