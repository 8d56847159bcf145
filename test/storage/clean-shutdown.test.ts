/**
 * The clean-shutdown file (storage/clean-shutdown.ts) through the LogManager: a clean close writes it, the next
 * open takes it (removes it before opening any log) and uses it instead of every partition's leader epoch
 * checkpoint and producer snapshot, with the same resulting state; an entry that does not match its directory,
 * a malformed file, or a start after a crash (no file) read the partition's own files; a segment tail whose
 * log size differs from the file's is not used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogManager } from '../../storage/log-manager.js';
import type { LogManagerOptions } from '../../storage/log-manager.js';
import { CLEAN_SHUTDOWN_FILE } from '../../storage/clean-shutdown.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { OutOfOrderSequenceError } from '../../storage/producer-state.js';
import { buildRecordBatchSync } from '../../protocol/records/builder.js';
import { resolveLogConfig } from '../helpers/log-config.js';

/** A MemoryFileSystem that records the paths it was asked to read whole. */
class CountingFs extends MemoryFileSystem {
  reads: string[] = [];
  override readFile(filePath: string): Promise<Buffer> {
    this.reads.push(filePath);
    return super.readFile(filePath);
  }
}

const DIR = '/data';
const CLEAN = `${DIR}/${CLEAN_SHUTDOWN_FILE}`;
const partitions = [
  { topic: 't', partition: 0 },
  { topic: 't', partition: 1 },
];

function pb(producerId: number, seq: number, count: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${seq + i}`, value: 'v', timestamp: 1_000_000 }));
  return buildRecordBatchSync(records, { producerId, producerEpoch: 0, baseSequence: seq, transactional: false });
}

const open = (fs: MemoryFileSystem): Promise<LogManager> =>
  LogManager.open(DIR, {
    fs,
    clock: new FakeClock(1_000_000),
    resolveConfig: resolveLogConfig,
    partitions,
    cleanerEnabled: false,
  } satisfies LogManagerOptions);

/** Per partition: log end offset, leader epochs, producers (id, epoch, last sequence). */
function stateOf(mgr: LogManager): unknown[] {
  return partitions.map(({ topic, partition }) => {
    const log = mgr.getLog(topic, partition)!;
    return [
      log.logEndOffset,
      log.leaderEpochCache.all().map((e) => [e.epoch, e.startOffset]),
      log.activeProducers().map((p) => [p.producerId, p.producerEpoch, p.lastSequence]),
      log.segmentsInfo(),
    ];
  });
}

const partitionFileReads = (fs: CountingFs): string[] =>
  fs.reads.filter((p) => p.endsWith('leader-epoch-checkpoint') || p.endsWith('.snapshot'));

async function filled(fs: CountingFs): Promise<{ mgr: LogManager; state: unknown[] }> {
  const mgr = await open(fs);
  const t0 = mgr.getLog('t', 0)!;
  await t0.append(pb(7, 0, 2), { leaderEpoch: 3 });
  await t0.append(pb(7, 2, 1), { leaderEpoch: 5 });
  await mgr.getLog('t', 1)!.append(pb(8, 0, 3), { leaderEpoch: 1 });
  return { mgr, state: stateOf(mgr) };
}

test('a clean close writes the file; the next open takes it and reads no epoch or snapshot file', async () => {
  const fs = new CountingFs();
  const { mgr, state } = await filled(fs);
  assert.deepEqual(
    state.map((p) => (p as unknown[]).slice(0, 3)),
    [
      [
        3,
        [
          [3, 0],
          [5, 2],
        ],
        [[7, 0, 2]],
      ],
      [3, [[1, 0]], [[8, 0, 2]]],
    ],
  );
  assert.equal(Array.isArray((state[0] as unknown[])[3]), true);
  await mgr.closeAll();
  assert.equal(await fs.exists(CLEAN), true, 'written by the clean close');

  fs.reads = [];
  const again = await open(fs);
  assert.equal(await fs.exists(CLEAN), false, 'removed at open');
  assert.deepEqual(partitionFileReads(fs), [], 'epochs and snapshots came from the clean-shutdown file');
  assert.deepEqual(stateOf(again), state);
  // The producer state is live: the next sequence is accepted, a gap is refused.
  const t0 = again.getLog('t', 0)!;
  await assert.rejects(t0.append(pb(7, 9, 1), { leaderEpoch: 5 }), OutOfOrderSequenceError);
  assert.equal((await t0.append(pb(7, 3, 1), { leaderEpoch: 6 })).baseOffset, 3);
  const after = stateOf(again);

  // A crash (no close): the next start finds no file and reads every partition's own files.
  fs.reads = [];
  const third = await open(fs);
  assert.equal(await fs.exists(CLEAN), false);
  assert.ok(partitionFileReads(fs).some((p) => p.endsWith('t-0/leader-epoch-checkpoint')));
  assert.ok(partitionFileReads(fs).some((p) => p.endsWith('.snapshot')));
  assert.deepEqual(stateOf(third), after);
  await third.closeAll();
});

test('an entry that does not match its directory, or a malformed file, is not used', async () => {
  const fs = new CountingFs();
  const { mgr, state } = await filled(fs);
  await mgr.closeAll();
  // t-0's entry claims another log end offset and other epochs: it must not be believed.
  const json = JSON.parse((await fs.readFile(CLEAN)).toString()) as {
    partitions: Record<string, { leo: number; epochs?: [number, number][]; segments?: number[][] }>;
  };
  json.partitions['t-0']!.leo += 1;
  json.partitions['t-0']!.epochs = [[99, 0]];
  // A segment tail whose log size is not the file's is not believed either (size, ..., nextOffset, maxTimestamp).
  const tail = json.partitions['t-1']!.segments![0]!;
  assert.equal(tail.length, 8);
  tail[1]! += 1;
  tail[4] = 1000;
  tail[5] = 42;
  await fs.writeFile(CLEAN, Buffer.from(JSON.stringify(json)));
  fs.reads = [];
  const again = await open(fs);
  const reads = partitionFileReads(fs);
  assert.ok(
    reads.some((p) => p.endsWith('t-0/leader-epoch-checkpoint')),
    'read t-0 itself',
  );
  assert.ok(!reads.some((p) => p.includes('/t-1/')), 't-1 still used its entry');
  assert.deepEqual(stateOf(again), state);
  await again.closeAll();

  await fs.writeFile(CLEAN, Buffer.from('{"version":1,"partitions":'));
  fs.reads = [];
  const third = await open(fs);
  assert.equal(await fs.exists(CLEAN), false, 'a malformed file is removed too');
  assert.ok(partitionFileReads(fs).some((p) => p.endsWith('t-1/leader-epoch-checkpoint')));
  assert.deepEqual(stateOf(third), state);
  await third.closeAll();
});

test('a segment whose log file has the recorded size takes the recorded tail instead of scanning', async () => {
  const fs = new CountingFs();
  const { mgr } = await filled(fs);
  await mgr.closeAll();
  const json = JSON.parse((await fs.readFile(CLEAN)).toString()) as {
    partitions: Record<string, { segments: number[][] }>;
  };
  const tail = json.partitions['t-1']!.segments[0]!;
  assert.equal(tail[5], 1_000_000, 'maxTimestamp recorded');
  tail[5] = 1_000_123;
  await fs.writeFile(CLEAN, Buffer.from(JSON.stringify(json)));
  const again = await open(fs);
  assert.equal(again.getLog('t', 1)!.segmentsInfo()[0]!.maxTimestamp, 1_000_123);
  assert.equal(again.getLog('t', 0)!.segmentsInfo()[0]!.maxTimestamp, 1_000_000);
  await again.closeAll();
});
