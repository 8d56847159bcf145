import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import { unpack } from 'msgpackr';
import { LogManager, RECOVERY_POINT_CHECKPOINT, LOG_START_OFFSET_CHECKPOINT } from '../../storage/log-manager.js';
import { logConfigResolver, resolveLogConfig } from '../helpers/log-config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { NodeFileSystem } from '../../storage/fs.js';
import { FakeClock } from '../../storage/clock.js';
import { StorageError } from '../../protocol/errors.js';
import { InvalidConfigError } from '../../storage/log-config.js';
import { batchOf, decodeRecords, settle, tempDir } from './helpers.js';

test('topic metadata and data are restored after reopen (real files)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const opts = { resolveConfig: resolveLogConfig, fs: new NodeFileSystem(), clock: new FakeClock() };
    const mgr = await LogManager.open(dir, opts);
    const orders = await mgr.createTopic('orders', {
      partitions: 3,
      configs: { 'retention.ms': '3600000', 'segment.bytes': '1048576' },
    });
    const events = await mgr.createTopic('app.events_v1', { partitions: 1 });
    assert.match(orders.topicId, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    assert.notEqual(orders.topicId, events.topicId);
    assert.equal(mgr.logConfigFor('orders').retentionMs, 3600000);
    assert.equal(mgr.getLog('orders', 2)!.logConfig.segmentBytes, 1048576);
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i <= p; i++) await mgr.getLog('orders', p)!.append(batchOf(2), { leaderEpoch: 0 });
    }
    await mgr.closeAll();
    assert.deepEqual((await readdir(dir)).sort(), [
      'app.events_v1-0',
      LOG_START_OFFSET_CHECKPOINT,
      'orders-0',
      'orders-1',
      'orders-2',
      RECOVERY_POINT_CHECKPOINT,
      'topics.msgpack',
    ]);
    const doc = unpack(await readFile(path.join(dir, 'topics.msgpack'))) as {
      version: number;
      topics: Array<{ name: string }>;
    };
    assert.equal(doc.version, 1);
    assert.deepEqual(doc.topics.map((t) => t.name).sort(), ['app.events_v1', 'orders']);
    const rp = (await readFile(path.join(dir, RECOVERY_POINT_CHECKPOINT), 'utf8')).split('\n');
    assert.equal(rp[0], '0');
    assert.equal(rp[1], '4');
    assert.ok(rp.includes('orders-x 0 0') === false && rp.includes('orders 2 6'));

    const again = await LogManager.open(dir, {
      resolveConfig: resolveLogConfig,
      fs: new NodeFileSystem(),
      clock: new FakeClock(),
    });
    assert.deepEqual(again.topic('orders'), orders);
    assert.deepEqual(again.topicById(events.topicId), events);
    assert.equal(again.topics().length, 2);
    assert.equal(again.logConfigFor('orders').retentionMs, 3600000);
    for (let p = 0; p < 3; p++) assert.equal(again.getLog('orders', p)!.logEndOffset, 2 * (p + 1));
    assert.ok(
      again.recoverySummaries.every((s) => s.recovered.length === 0),
      'clean shutdown: nothing to recover',
    );
    await again.closeAll();
  } finally {
    await cleanup();
  }
});

test('admin errors are coded', async () => {
  const mgr = await LogManager.open('/data', {
    resolveConfig: resolveLogConfig,
    fs: new MemoryFileSystem(),
    clock: new FakeClock(),
  });
  await mgr.createTopic('t', { partitions: 1 });
  await assert.rejects(
    mgr.createTopic('t', { partitions: 1 }),
    (e: unknown) => e instanceof StorageError && e.kafkaCode === 36,
  );
  await assert.rejects(
    mgr.createTopic('bad/name', { partitions: 1 }),
    (e: unknown) => e instanceof StorageError && e.kafkaCode === 17,
  );
  await assert.rejects(
    mgr.createTopic('u', { partitions: 0 }),
    (e: unknown) => e instanceof StorageError && e.kafkaCode === 37,
  );
  await assert.rejects(
    mgr.createTopic('v', { partitions: 1, configs: { 'retention.ms': 'soon' } }),
    (e: unknown) => e instanceof InvalidConfigError,
  );
  assert.equal(mgr.topic('v'), undefined);
  await assert.rejects(mgr.createPartitions('t', 1), (e: unknown) => e instanceof StorageError && e.kafkaCode === 37);
  await assert.rejects(
    mgr.alterTopicConfigs('nope', {}),
    (e: unknown) => e instanceof StorageError && e.kafkaCode === 3,
  );
  await mgr.closeAll();
  await assert.rejects(mgr.createTopic('w', { partitions: 1 }), /closed/);
});

test('delete topic removes its directories; a recreated topic starts empty', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const mgr = await LogManager.open('/data', { resolveConfig: resolveLogConfig, fs, clock });
  const first = await mgr.createTopic('t', { partitions: 2 });
  await mgr.getLog('t', 0)!.append(batchOf(5));
  assert.equal(await mgr.deleteTopic('t'), true);
  assert.equal(await mgr.deleteTopic('t'), false);
  assert.equal(mgr.getLog('t', 0), undefined);
  assert.deepEqual(
    (await fs.readdir('/data')).filter((n) => n.startsWith('t-')),
    [],
  );
  const second = await mgr.createTopic('t', { partitions: 1 });
  assert.notEqual(second.topicId, first.topicId);
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
    const mgr = await LogManager.open(dir, {
      resolveConfig: resolveLogConfig,
      fs: new NodeFileSystem(),
      clock: new FakeClock(),
    });
    assert.deepEqual(mgr.orphanDirs, ['stale-0']);
    assert.ok(!(await readdir(dir)).includes('gone-0.abcdef-delete'));
    await mgr.createTopic('stale', { partitions: 1 });
    assert.deepEqual(mgr.orphanDirs, []);
    assert.equal(mgr.getLog('stale', 0)!.logEndOffset, 0);
    await mgr.closeAll();
  } finally {
    await cleanup();
  }
});

test('alter configs and add partitions persist', async () => {
  const fs = new MemoryFileSystem();
  const mgr = await LogManager.open('/data', { resolveConfig: resolveLogConfig, fs, clock: new FakeClock() });
  await mgr.createTopic('t', { partitions: 1 });
  await mgr.alterTopicConfigs('t', { 'retention.bytes': '1000' });
  assert.equal(mgr.getLog('t', 0)!.logConfig.retentionBytes, 1000);
  await mgr.createPartitions('t', 3);
  assert.equal(mgr.getLog('t', 2)!.logConfig.retentionBytes, 1000);
  await mgr.closeAll();
  const again = await LogManager.open('/data', { resolveConfig: resolveLogConfig, fs, clock: new FakeClock() });
  assert.deepEqual(again.topic('t')!.configs, { 'retention.bytes': '1000' });
  assert.equal(again.topic('t')!.partitions, 3);
  assert.ok(again.getLog('t', 2));
  await again.closeAll();
});

test('periodic retention runs on the clock', async () => {
  const clock = new FakeClock();
  const mgr = await LogManager.open('/data', {
    fs: new MemoryFileSystem(),
    clock,
    retentionCheckIntervalMs: 10_000,
    resolveConfig: logConfigResolver({ segmentBytes: 500, fileDeleteDelayMs: 0 }),
  });
  await mgr.createTopic('t', { partitions: 1, configs: { 'retention.bytes': '600' } });
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
  await mgr.createTopic('t', { partitions: 1 });
  const log = mgr.getLog('t', 0)!;
  for (let i = 0; i < 10; i++) await log.append(batchOf(1));
  assert.deepEqual(await log.deleteRecordsBefore(4), { errorCode: 0, lowWatermark: 4 });
  const cp = (await fs.readFile('/data/log-start-offset-checkpoint')).toString();
  assert.equal(cp, '0\n1\nt 0 4\n');
  fs.powerLoss();
  const again = await LogManager.open('/data', { resolveConfig: resolveLogConfig, fs, clock });
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
  await mgr.createTopic('t', { partitions: 2 });
  for (let i = 0; i < 12; i++) await mgr.getLog('t', i % 2)!.append(batchOf(1, { valueSize: 100 }));
  await clock.advanceAndSettle(1000); // periodic recovery point checkpoint
  assert.equal((await fs.readFile('/data/recovery-point-offset-checkpoint')).toString().split('\n')[1], '2');
  for (let i = 0; i < 4; i++) await mgr.getLog('t', 0)!.append(batchOf(1, { valueSize: 100 }));
  fs.powerLoss();
  const again = await LogManager.open('/data', { fs, clock, resolveConfig: defaults });
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
