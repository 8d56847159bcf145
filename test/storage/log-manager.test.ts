import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile, readdir, mkdir, rm, writeFile } from 'node:fs/promises';
import { LogManager, RECOVERY_POINT_CHECKPOINT, LOG_START_OFFSET_CHECKPOINT } from '../../storage/log-manager.js';
import { CLEAN_SHUTDOWN_FILE } from '../../storage/clean-shutdown.js';
import { logConfigResolver, resolveLogConfig } from '../helpers/log-config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { NodeFileSystem } from '../../storage/fs.js';
import { CachingFileSystem } from '../../storage/fd-cache.js';
import { FakeClock } from '../../storage/clock.js';
import { StorageError } from '../../protocol/errors.js';
import { batchOf, decodeRecords, settle, tempDir } from './helpers.js';

const tps = (topic: string, n: number) => Array.from({ length: n }, (_, partition) => ({ topic, partition }));

test('logs and data are restored after reopen (real files); topic configs come from the caller', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const configs: Record<string, Record<string, string>> = {
      orders: { 'retention.ms': '3600000', 'segment.bytes': '1048576' },
    };
    const opts = {
      resolveConfig: resolveLogConfig,
      topicConfigs: (t: string) => configs[t],
      fs: new NodeFileSystem(),
      clock: new FakeClock(),
    };
    const mgr = await LogManager.open(dir, opts);
    for (let p = 0; p < 3; p++) await mgr.createLog('orders', p);
    await mgr.createLog('app.events_v1', 0);
    assert.equal(await mgr.createLog('orders', 0), mgr.getLog('orders', 0), 'an open log is returned as it is');
    assert.equal(mgr.logConfigFor('orders').retentionMs, 3600000);
    assert.equal(mgr.getLog('orders', 2)!.logConfig.segmentBytes, 1048576);
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i <= p; i++) await mgr.getLog('orders', p)!.append(batchOf(2), { leaderEpoch: 0 });
    }
    await mgr.closeAll();
    assert.deepEqual((await readdir(dir)).sort(), [
      CLEAN_SHUTDOWN_FILE,
      'app.events_v1-0',
      LOG_START_OFFSET_CHECKPOINT,
      'orders-0',
      'orders-1',
      'orders-2',
      RECOVERY_POINT_CHECKPOINT,
    ]);
    const rp = (await readFile(path.join(dir, RECOVERY_POINT_CHECKPOINT), 'utf8')).split('\n');
    assert.equal(rp[0], '0');
    assert.equal(rp[1], '4');
    assert.ok(rp.includes('orders-x 0 0') === false && rp.includes('orders 2 6'));

    const again = await LogManager.open(dir, {
      ...opts,
      partitions: [...tps('orders', 3), ...tps('app.events_v1', 1)],
    });
    assert.equal(again.allLogs().length, 4);
    assert.deepEqual(again.orphanDirs, []);
    assert.equal(again.getLog('orders', 0)!.logConfig.retentionMs, 3600000);
    for (let p = 0; p < 3; p++) assert.equal(again.getLog('orders', p)!.logEndOffset, 2 * (p + 1));
    assert.ok(
      again.recoverySummaries.every((s) => s.recovered.length === 0),
      'clean shutdown: nothing to recover',
    );
    configs.orders = { 'retention.ms': '1000' };
    again.refreshConfigs('app.events_v1');
    assert.equal(again.getLog('orders', 0)!.logConfig.retentionMs, 3600000, 'only the named topic re-resolves');
    again.refreshConfigs('orders');
    assert.equal(again.getLog('orders', 1)!.logConfig.retentionMs, 1000);
    await again.closeAll();
  } finally {
    await cleanup();
  }
});

test('closed: log creation is refused', async () => {
  const mgr = await LogManager.open('/data', {
    resolveConfig: resolveLogConfig,
    fs: new MemoryFileSystem(),
    clock: new FakeClock(),
  });
  await mgr.closeAll();
  await assert.rejects(mgr.createLog('w', 0), (e: unknown) => e instanceof StorageError && /closed/.test(e.message));
});

test('deleteLogs removes the directories; a log created again starts empty', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const mgr = await LogManager.open('/data', { resolveConfig: resolveLogConfig, fs, clock });
  for (let p = 0; p < 2; p++) await mgr.createLog('t', p);
  await mgr.getLog('t', 0)!.append(batchOf(5));
  await mgr.deleteLogs(tps('t', 2));
  await mgr.deleteLogs(tps('t', 2));
  assert.equal(mgr.getLog('t', 0), undefined);
  assert.deepEqual(
    (await fs.readdir('/data')).filter((n) => n.startsWith('t-')),
    [],
  );
  await mgr.createLog('t', 0);
  assert.equal(mgr.getLog('t', 0)!.logEndOffset, 0);
  await mgr.closeAll();
});

test('leftover -delete directories removed, orphan directories reported; stale data moved away on create', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await mkdir(path.join(dir, 'gone-0.abcdef-delete'), { recursive: true });
    await writeFile(path.join(dir, 'gone-0.abcdef-delete', 'x'), 'x');
    await mkdir(path.join(dir, 'stale-0'));
    await writeFile(path.join(dir, 'stale-0', '00000000000000000000.log'), '');
    await mkdir(path.join(dir, 'kept-1'));
    const mgr = await LogManager.open(dir, {
      resolveConfig: resolveLogConfig,
      fs: new NodeFileSystem(),
      clock: new FakeClock(),
      partitions: [{ topic: 'kept', partition: 1 }],
    });
    assert.deepEqual(mgr.orphanDirs, ['stale-0']);
    assert.ok(!(await readdir(dir)).includes('gone-0.abcdef-delete'));
    assert.ok(mgr.getLog('kept', 1));
    await mgr.createLog('stale', 0);
    assert.deepEqual(mgr.orphanDirs, []);
    assert.equal(mgr.getLog('stale', 0)!.logEndOffset, 0);
    await mgr.closeAll();
  } finally {
    await cleanup();
  }
});

test('periodic retention runs on the clock', async () => {
  const clock = new FakeClock();
  const mgr = await LogManager.open('/data', {
    fs: new MemoryFileSystem(),
    clock,
    retentionCheckIntervalMs: 10_000,
    topicConfigs: () => ({ 'retention.bytes': '600' }),
    resolveConfig: logConfigResolver({ segmentBytes: 500, fileDeleteDelayMs: 0 }),
  });
  await mgr.createLog('t', 0);
  const log = mgr.getLog('t', 0)!;
  for (let i = 0; i < 20; i++) await log.append(batchOf(1, { valueSize: 150 }));
  const segs = log.segmentCount;
  await clock.advanceAndSettle(9_999);
  assert.equal(log.segmentCount, segs);
  await clock.advanceAndSettle(1);
  assert.ok(log.segmentCount < segs);
  assert.ok(log.size <= 600 + 500);
  assert.ok(log.logStartOffset > 0);
  // The task re-arms.
  for (let i = 0; i < 10; i++) await log.append(batchOf(1, { valueSize: 150 }));
  const after = log.segmentCount;
  await clock.advanceAndSettle(10_000);
  assert.ok(log.segmentCount < after);
  await mgr.closeAll();
});

test('DeleteRecords survives a crash via log-start-offset-checkpoint', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const mgr = await LogManager.open('/data', { fs, clock, resolveConfig: logConfigResolver({ flushMessages: 1 }) });
  await mgr.createLog('t', 0);
  const log = mgr.getLog('t', 0)!;
  for (let i = 0; i < 10; i++) await log.append(batchOf(1));
  assert.deepEqual(await log.deleteRecordsBefore(4), { errorCode: 0, lowWatermark: 4 });
  const cp = (await fs.readFile('/data/log-start-offset-checkpoint')).toString();
  assert.equal(cp, '0\n1\nt 0 4\n');
  fs.powerLoss();
  const again = await LogManager.open('/data', { resolveConfig: resolveLogConfig, fs, clock, partitions: tps('t', 1) });
  const l2 = again.getLog('t', 0)!;
  assert.equal(l2.logStartOffset, 4);
  assert.equal(l2.logEndOffset, 10);
  assert.deepEqual(
    decodeRecords((await l2.read(4, 1 << 20)).records).map((r) => r.offset),
    [4, 5, 6, 7, 8, 9],
  );
  await again.closeAll();
});

test('crash without close: checkpointed recovery point limits recovery; acknowledged data kept', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const defaults = logConfigResolver({ flushMessages: 1, segmentBytes: 600 });
  const mgr = await LogManager.open('/data', {
    fs,
    clock,
    resolveConfig: defaults,
    recoveryPointCheckpointIntervalMs: 1000,
  });
  for (let p = 0; p < 2; p++) await mgr.createLog('t', p);
  for (let i = 0; i < 12; i++) await mgr.getLog('t', i % 2)!.append(batchOf(1, { valueSize: 100 }));
  await clock.advanceAndSettle(1000); // periodic recovery point checkpoint
  assert.equal((await fs.readFile('/data/recovery-point-offset-checkpoint')).toString().split('\n')[1], '2');
  for (let i = 0; i < 4; i++) await mgr.getLog('t', 0)!.append(batchOf(1, { valueSize: 100 }));
  fs.powerLoss();
  const again = await LogManager.open('/data', { fs, clock, resolveConfig: defaults, partitions: tps('t', 2) });
  assert.equal(again.getLog('t', 0)!.logEndOffset, 10);
  assert.equal(again.getLog('t', 1)!.logEndOffset, 6);
  const s0 = again.recoverySummaries.find((s) => s.dir.endsWith('t-0'))!;
  const s1 = again.recoverySummaries.find((s) => s.dir.endsWith('t-1'))!;
  assert.equal(s0.recoveryPoint, 6);
  assert.ok(s0.recovered.length >= 1, 'segments past the recovery point were validated');
  assert.equal(s1.recovered.length, 0);
  await again.closeAll();
  await settle();
});

test('start without a clean-shutdown file, real files: segment tails read at start-up give the log ends', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // As the broker runs it: real files behind the descriptor cache (start-up mode reads tails by blocking calls).
    const opts = {
      fs: new CachingFileSystem(new NodeFileSystem(), { maxOpen: 8 }),
      clock: new FakeClock(),
      resolveConfig: logConfigResolver({ segmentBytes: 700 }),
    };
    const mgr = await LogManager.open(dir, opts);
    for (let p = 0; p < 3; p++) await mgr.createLog('t', p);
    for (let i = 0; i < 20; i++) {
      await mgr.getLog('t', i % 3)!.append(batchOf(1 + (i % 2), { valueSize: 90, timestamp: 1000 + i }));
    }
    const ends = [0, 1, 2].map((p) => mgr.getLog('t', p)!.logEndOffset);
    assert.ok(mgr.getLog('t', 0)!.segmentCount > 1, 'the logs rolled');
    await mgr.closeAll();
    await rm(path.join(dir, CLEAN_SHUTDOWN_FILE)); // as after kill -9 with everything flushed
    const again = await LogManager.open(dir, { ...opts, partitions: tps('t', 3) });
    assert.deepEqual(
      [0, 1, 2].map((p) => again.getLog('t', p)!.logEndOffset),
      ends,
    );
    const log = again.getLog('t', 1)!;
    await log.append(batchOf(1, { valueSize: 10, timestamp: 5000 }));
    const offsets = decodeRecords((await log.read(ends[1]!, 1 << 20)).records).map((r) => r.offset);
    assert.deepEqual(offsets, [ends[1]]);
    await again.closeAll();
  } finally {
    await cleanup();
  }
});

test('createLogs: a batch of new logs; a power loss keeps their directories, flushed offsets and epochs', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const resolveConfig = logConfigResolver({ flushMessages: 1 });
  const mgr = await LogManager.open('/data', { fs, clock, resolveConfig, recoveryPointCheckpointIntervalMs: 1000 });
  const logs = await mgr.createLogs([...tps('a', 3), ...tps('b', 2), { topic: 'a', partition: 0 }]);
  assert.deepEqual(
    logs.map((l) => `${l.topic}-${l.partition}`),
    ['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'a-0'],
  );
  assert.equal(logs[5], logs[0], 'a partition given twice is one log');
  assert.equal(await mgr.createLog('b', 1), logs[4], 'an open log is returned as it is');
  // Leader at epoch 3: recorded, not written yet; the acknowledged (flushed) append does not write it either.
  const [a0, a1] = [logs[0]!, logs[1]!];
  await a0.assignLeaderEpoch(3);
  await a1.assignLeaderEpoch(3);
  assert.equal(await fs.exists('/data/a-0/leader-epoch-checkpoint'), false);
  await a0.append(batchOf(2), { leaderEpoch: 3 });
  await a1.append(batchOf(1), { leaderEpoch: 3 });
  assert.equal(a0.recoveryPoint, 2);
  assert.equal(await fs.exists('/data/a-0/leader-epoch-checkpoint'), false);
  await clock.advanceAndSettle(1000); // the recovery point checkpoint writes the epochs below it first
  assert.equal((await fs.readFile('/data/a-0/leader-epoch-checkpoint')).toString(), '0\n1\n3 0\n');
  await a0.append(batchOf(1), { leaderEpoch: 3 }); // flushed, above the checkpointed recovery point
  fs.powerLoss();
  const again = await LogManager.open('/data', {
    fs,
    clock,
    resolveConfig,
    partitions: [...tps('a', 3), ...tps('b', 2)],
  });
  assert.deepEqual(again.orphanDirs, []);
  assert.deepEqual(
    again
      .allLogs()
      .map((l) => [`${l.topic}-${l.partition}`, l.logEndOffset, l.leaderEpochCache.all()])
      .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    [
      ['a-0', 3, [{ epoch: 3, startOffset: 0 }]],
      ['a-1', 1, [{ epoch: 3, startOffset: 0 }]],
      ['a-2', 0, []],
      ['b-0', 0, []],
      ['b-1', 0, []],
    ],
  );
  await again.closeAll();
});

test('a crash before the recovery point checkpoint: the load re-learns a recorded epoch from the batches', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const resolveConfig = logConfigResolver({ flushMessages: 1 });
  const mgr = await LogManager.open('/data', { fs, clock, resolveConfig });
  const [log] = await mgr.createLogs(tps('t', 1));
  await log!.assignLeaderEpoch(5);
  await log!.append(batchOf(2), { leaderEpoch: 5 });
  fs.powerLoss();
  const again = await LogManager.open('/data', { fs, clock, resolveConfig, partitions: tps('t', 1) });
  const l2 = again.getLog('t', 0)!;
  assert.equal(l2.logEndOffset, 2);
  assert.deepEqual(l2.leaderEpochCache.all(), [{ epoch: 5, startOffset: 0 }]);
  await again.closeAll();
  // A clean close writes it: the next (clean) start has it without recovery.
  const third = await LogManager.open('/data', { fs, clock, resolveConfig, partitions: tps('t', 1) });
  assert.deepEqual(third.getLog('t', 0)!.leaderEpochCache.all(), [{ epoch: 5, startOffset: 0 }]);
  assert.equal(third.recoverySummaries[0]!.recovered.length, 0);
  await third.closeAll();
});
