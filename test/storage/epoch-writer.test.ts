import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogManager } from '../../storage/log-manager.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { logConfigResolver } from '../helpers/log-config.js';
import { batchOf } from './helpers.js';

const tps = (topic: string, n: number) => Array.from({ length: n }, (_, partition) => ({ topic, partition }));

test('recorded epochs are written in the background a second after the last one, not for empty logs', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const mgr = await LogManager.open('/data', { fs, clock, resolveConfig: logConfigResolver({}) });
  const [a, b, empty] = await mgr.createLogs(tps('t', 3));
  await a!.assignLeaderEpoch(2);
  await a!.append(batchOf(3), { leaderEpoch: 2 });
  await clock.advanceAndSettle(600);
  await b!.assignLeaderEpoch(2); // re-arms the timer
  await b!.append(batchOf(1), { leaderEpoch: 2 });
  await empty!.assignLeaderEpoch(2);
  await clock.advanceAndSettle(600);
  assert.equal(await fs.exists('/data/t-0/leader-epoch-checkpoint'), false, 'not yet: debounced');
  await clock.advanceAndSettle(600);
  assert.equal((await fs.readFile('/data/t-0/leader-epoch-checkpoint')).toString(), '0\n1\n2 0\n');
  assert.equal((await fs.readFile('/data/t-1/leader-epoch-checkpoint')).toString(), '0\n1\n2 0\n');
  assert.equal(await fs.exists('/data/t-2/leader-epoch-checkpoint'), false, 'an empty log needs none');
  assert.equal(a!.recoveryPoint, 3, 'and the log was flushed');
  // What was written survives a power loss (directory entries of the new logs included).
  fs.powerLoss();
  const again = await LogManager.open('/data', {
    fs,
    clock,
    resolveConfig: logConfigResolver({}),
    partitions: tps('t', 3),
  });
  assert.deepEqual(again.getLog('t', 0)!.leaderEpochCache.all(), [{ epoch: 2, startOffset: 0 }]);
  assert.equal(again.getLog('t', 0)!.logEndOffset, 3);
  await again.closeAll();
});
