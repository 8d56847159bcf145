import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogManager, CLEANER_OFFSET_CHECKPOINT } from '../../storage/log-manager.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { resolveLogConfig } from '../helpers/log-config.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import type { PartitionLog } from '../../storage/partition-log.js';

async function fill(log: PartitionLog, now: number): Promise<void> {
  for (let round = 0; round < 4; round++) {
    await log.append(
      await buildRecordBatch([
        { key: 'a', value: `a${round}`, timestamp: now },
        { key: 'b', value: `b${round}`, timestamp: now },
      ]),
    );
    if (round % 2 === 1) await log.forceRoll();
  }
  await log.append(await buildRecordBatch([{ key: 'c', value: 'active', timestamp: now }]));
}

test('runCleaner cleans only compacted topics, persists cleaner-offset-checkpoint; the clock schedules', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock(1_000_000);
  const configs: Record<string, Record<string, string>> = {
    compacted: { 'cleanup.policy': 'compact', 'file.delete.delay.ms': '0' },
    both: { 'cleanup.policy': 'compact,delete', 'file.delete.delay.ms': '0' },
  };
  const topicConfigs = (topic: string) => configs[topic];
  const opts = { resolveConfig: resolveLogConfig, topicConfigs, fs, clock };
  const mgr = await LogManager.open('/data', { ...opts, cleanerBackoffMs: 15000 });
  for (const t of ['compacted', 'both', 'plain']) await mgr.createLog(t, 0);
  for (const t of ['compacted', 'both', 'plain']) await fill(mgr.getLog(t, 0)!, clock.now());
  assert.equal(await fs.exists(`/data/${CLEANER_OFFSET_CHECKPOINT}`), false);

  const plainSize = mgr.getLog('plain', 0)!.size;
  const results = await mgr.runCleaner();
  assert.deepEqual(results.map((r) => [r.topic, r.result.cleaned]).sort(), [
    ['both', true],
    ['compacted', true],
  ]);
  assert.equal(mgr.getLog('plain', 0)!.size, plainSize);
  assert.ok(mgr.getLog('compacted', 0)!.size < plainSize);
  const text = (await fs.readFile(`/data/${CLEANER_OFFSET_CHECKPOINT}`)).toString();
  assert.match(text, /^0\n2\n/);
  assert.match(text, /compacted 0 8\n/);
  assert.match(text, /both 0 8\n/);

  // Scheduled run: new dirty data in a closed segment gets cleaned after log.cleaner.backoff.ms.
  const log = mgr.getLog('compacted', 0)!;
  await log.append(await buildRecordBatch([{ key: 'a', value: 'newest', timestamp: clock.now() }]));
  await log.forceRoll();
  await log.append(await buildRecordBatch([{ key: 'd', value: 'active', timestamp: clock.now() }]));
  await clock.advanceAndSettle(15000, 200);
  assert.match((await fs.readFile(`/data/${CLEANER_OFFSET_CHECKPOINT}`)).toString(), /compacted 0 10\n/);
  await mgr.closeAll();

  const again = await LogManager.open('/data', { ...opts, partitions: [{ topic: 'compacted', partition: 0 }] });
  assert.equal(again.cleaner.checkpoints().get('compacted-0'), 10);
  assert.equal(again.cleaner.firstDirtyOffset(again.getLog('compacted', 0)!), 10);
  await again.closeAll();
});
