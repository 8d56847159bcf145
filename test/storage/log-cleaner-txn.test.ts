/**
 * Compaction and transactions: aborted records are dropped and never displace committed values, markers
 * stay at the first clean (removal after the delete horizon: log-cleaner-markers.test.ts), and nothing at
 * or above the last stable offset (an open transaction) is cleaned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../storage/partition-log.js';
import { LogCleaner } from '../../storage/log-cleaner.js';
import { compactLogConfig } from '../helpers/log-config.js';
import { FakeClock } from '../../storage/clock.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { buildRecordBatchSync } from '../../protocol/records/builder.js';
import { iterateBatches } from '../../protocol/records/batch.js';

const cfg = compactLogConfig;

const txn = (pid: number, seq: number, kv: Array<[string, string]>): Buffer =>
  buildRecordBatchSync(
    kv.map(([key, value]) => ({ key, value })),
    { producerId: pid, producerEpoch: 0, baseSequence: seq, transactional: true },
  );

/** Records as "offset:key=value", and the offsets of control batches. */
async function contents(log: PartitionLog): Promise<{ records: string[]; control: number[] }> {
  const records: string[] = [];
  const control: number[] = [];
  let next = log.logStartOffset;
  for (let i = 0; i < 1000 && next < log.logEndOffset; i++) {
    const r = await log.read(next, 1 << 20);
    if (r.records.length === 0) break;
    for (const b of iterateBatches(r.records)) {
      next = Number(b.lastOffset) + 1;
      if (b.isControl) {
        control.push(Number(b.baseOffset));
        continue;
      }
      for (const rec of await b.recordsArray()) records.push(`${rec.offset}:${rec.key}=${rec.value}`);
    }
  }
  return { records, control };
}

test('compaction removes aborted records, which do not shadow committed ones; markers stay at 1st clean', async () => {
  const clock = new FakeClock(1_000_000);
  const log = await PartitionLog.open('/d/c-0', cfg(), { fs: new MemoryFileSystem(), clock });
  await log.append(
    txn(1, 0, [
      ['k', 'committed'],
      ['j', 'j1'],
    ]),
  ); // 0-1
  await log.appendTxnMarker({ producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, commit: true }); // 2
  await log.append(
    txn(2, 0, [
      ['k', 'aborted'],
      ['z', 'z-aborted'],
    ]),
  ); // 3-4
  await log.appendTxnMarker({ producerId: 2, producerEpoch: 0, coordinatorEpoch: 0, commit: false }); // 5
  await log.append(txn(1, 2, [['j', 'j2']])); // 6
  await log.appendTxnMarker({ producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, commit: true }); // 7
  await log.forceRoll();
  await log.append(buildRecordBatchSync([{ key: 'x', value: 'x' }])); // 8, active segment
  const cleaner = new LogCleaner({ clock });
  const r = await cleaner.cleanLog(log);
  assert.equal(r.cleaned, true);
  const c = await contents(log);
  assert.deepEqual(c.records, ['0:k=committed', '6:j=j2', '8:x=x']);
  assert.deepEqual(c.control, [2, 5, 7]);
  assert.equal(log.logEndOffset, 9);
  await log.close();
});

test('segments at or above the last stable offset are not cleaned', async () => {
  const clock = new FakeClock(1_000_000);
  const log = await PartitionLog.open('/d/c-0', cfg(), { fs: new MemoryFileSystem(), clock });
  await log.append(buildRecordBatchSync([{ key: 'a', value: 'a1' }])); // 0
  await log.forceRoll();
  await log.append(txn(3, 0, [['a', 'open']])); // 1: open transaction
  await log.append(buildRecordBatchSync([{ key: 'a', value: 'a2' }])); // 2
  await log.forceRoll();
  await log.append(buildRecordBatchSync([{ key: 'a', value: 'a3' }])); // 3
  await log.forceRoll();
  assert.equal(log.lastStableOffset, 1);
  const cleaner = new LogCleaner({ clock });
  await cleaner.cleanLog(log);
  // Only the segment below the LSO could be cleaned; a1 is its only record and is the latest there.
  assert.deepEqual((await contents(log)).records, ['0:a=a1', '1:a=open', '2:a=a2', '3:a=a3']);
  await log.appendTxnMarker({ producerId: 3, producerEpoch: 0, coordinatorEpoch: 0, commit: false });
  await log.forceRoll();
  await cleaner.cleanLog(log);
  assert.deepEqual((await contents(log)).records, ['3:a=a3']);
  await log.close();
});
