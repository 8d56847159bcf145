import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readdir, rm } from 'node:fs/promises';
import { PartitionLog } from '../../storage/partition-log.js';
import type { AppendResult } from '../../storage/partition-log.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import type { LogConfig } from '../../storage/log-config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { InvalidProducerEpochError, OutOfOrderSequenceError } from '../../storage/producer-state.js';
import { buildRecordBatchSync } from '../../protocol/records/builder.js';
import { RecordBatch, iterateBatches } from '../../protocol/records/batch.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { tempDir } from './helpers.js';

const cfg = (o: Partial<LogConfig> = {}): LogConfig => ({ ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'], ...o });

/** A fresh batch (appends stamp offsets in place, so every append gets its own buffer). */
function pb(
  producerId: number,
  epoch: number,
  seq: number,
  count: number,
  o: { transactional?: boolean; ts?: number; size?: number } = {},
): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({
    key: `k${seq + i}`,
    value: 'v'.repeat(o.size ?? 10),
    timestamp: o.ts ?? 1_000_000,
  }));
  return buildRecordBatchSync(records, {
    producerId,
    producerEpoch: epoch,
    baseSequence: seq,
    transactional: o.transactional ?? false,
  });
}

async function memLog(
  config = cfg(),
  fs = new MemoryFileSystem(),
  clock = new FakeClock(1_000_000),
): Promise<{ log: PartitionLog; fs: MemoryFileSystem; clock: FakeClock }> {
  return { log: await PartitionLog.open('/data/t-0', config, { fs, clock }), fs, clock };
}

/** Every batch of the log: [baseOffset, producerId, baseSequence, control]. */
async function batchesOf(log: PartitionLog): Promise<Array<[number, number, number, boolean]>> {
  const out: Array<[number, number, number, boolean]> = [];
  let next = log.logStartOffset;
  for (let i = 0; i < 10_000 && next < log.logEndOffset; i++) {
    const r = await log.read(next, 1 << 20);
    if (r.records.length === 0) break;
    for (const b of iterateBatches(r.records)) {
      out.push([Number(b.baseOffset), Number(b.producerId), b.baseSequence, b.isControl]);
      next = Number(b.lastOffset) + 1;
    }
  }
  return out;
}

test('a retried batch is answered with its original offsets and written once', async () => {
  const { log } = await memLog();
  const r0 = await log.append(pb(7, 0, 0, 3));
  const r1 = await log.append(pb(7, 0, 3, 2));
  assert.deepEqual([r0.baseOffset, r1.baseOffset], [0, 3]);
  const again = await log.append(pb(7, 0, 0, 3));
  assert.deepEqual([again.baseOffset, again.lastOffset, again.duplicate], [0, 2, true]);
  assert.equal(log.logEndOffset, 5);
  assert.deepEqual(await batchesOf(log), [
    [0, 7, 0, false],
    [3, 7, 3, false],
  ]);
  assert.equal(r1.duplicate, undefined);
});

test('pipelined appends in one write group: duplicates inside the group, errors reject only their append', async () => {
  const { log } = await memLog();
  await log.append(pb(1, 0, 0, 1));
  const settled = await Promise.allSettled([
    log.append(pb(1, 0, 1, 2)), // offsets 1-2
    log.append(pb(1, 0, 3, 1)), // 3
    log.append(pb(1, 0, 1, 2)), // duplicate of the first, still in the same group
    log.append(pb(1, 0, 9, 1)), // gap
    log.append(pb(2, 5, 0, 1)), // another producer: 4
    log.append(pb(1, 0, 4, 1)), // 5
  ]);
  const v = settled.map((s) =>
    s.status === 'fulfilled' ? [s.value.baseOffset, !!s.value.duplicate] : (s.reason as Error).constructor.name,
  );
  assert.deepEqual(v, [[1, false], [3, false], [1, true], 'OutOfOrderSequenceError', [4, false], [5, false]]);
  assert.equal(log.logEndOffset, 6);
  assert.equal((settled[3] as PromiseRejectedResult).reason.kafkaCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
});

test('epochs: stale epochs are fenced, a new epoch restarts at sequence 0', async () => {
  const { log } = await memLog();
  await log.append(pb(3, 1, 0, 1));
  await assert.rejects(
    log.append(pb(3, 0, 1, 1)),
    (e: unknown) => e instanceof InvalidProducerEpochError && e.kafkaCode === ErrorCode.INVALID_PRODUCER_EPOCH,
  );
  await assert.rejects(log.append(pb(3, 2, 5, 1)), OutOfOrderSequenceError);
  assert.equal((await log.append(pb(3, 2, 0, 1))).baseOffset, 1);
  assert.equal(log.logEndOffset, 2);
  assert.deepEqual(
    log.activeProducers().map((p) => [p.producerId, p.producerEpoch, p.lastSequence]),
    [[3, 2, 0]],
  );
});

test('transaction markers move the last stable offset and index aborted transactions', async () => {
  const { log, fs } = await memLog();
  await log.append(pb(1, 0, 0, 3, { transactional: true })); // 0-2
  await log.append(pb(9, 0, 0, 1)); // 3: idempotent, not transactional
  await log.append(pb(2, 0, 0, 2, { transactional: true })); // 4-5
  assert.equal(log.lastStableOffset, 0);
  assert.equal(log.highWatermark, 6);
  await assert.rejects(
    log.appendTxnMarker({ producerId: 1, producerEpoch: -1 + 0 - 0 - 1, coordinatorEpoch: 0, commit: true }),
    InvalidProducerEpochError,
  );
  const c = await log.appendTxnMarker({ producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, commit: true });
  assert.equal(c.baseOffset, 6);
  assert.equal(log.lastStableOffset, 4);
  await log.append(pb(1, 0, 3, 1, { transactional: true })); // 7: a new transaction of producer 1
  const a = await log.appendTxnMarker({ producerId: 2, producerEpoch: 0, coordinatorEpoch: 0, commit: false });
  assert.equal(a.baseOffset, 8);
  assert.equal(log.lastStableOffset, 7);
  await log.appendTxnMarker({ producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, commit: false }); // 9
  assert.equal(log.lastStableOffset, 10);
  assert.deepEqual(await log.abortedTransactions(0, 10), [
    { producerId: 2, firstOffset: 4 },
    { producerId: 1, firstOffset: 7 },
  ]);
  assert.deepEqual(await log.abortedTransactions(0, 4), [], 'the first abort starts at 4');
  assert.deepEqual(await log.abortedTransactions(9, 10), [{ producerId: 1, firstOffset: 7 }]);
  assert.deepEqual(await log.abortedTransactions(10, 10), []);
  assert.equal(fs.peek('/data/t-0/00000000000000000000.txnindex')?.length, 2 * 34);
  // The markers are control batches of the producer.
  const control = (await batchesOf(log)).filter((b) => b[3]).map((b) => [b[0], b[1]]);
  assert.deepEqual(control, [
    [6, 1],
    [8, 2],
    [9, 1],
  ]);
  const r = await log.read(8, 1 << 20);
  assert.equal((await RecordBatch.at(r.records).controlRecord()).type, 0);
  // A non-transactional batch while a transaction is open is refused.
  await log.append(pb(5, 0, 0, 1, { transactional: true }));
  await assert.rejects(
    log.append(pb(5, 0, 1, 1)),
    (e: unknown) => (e as { kafkaCode?: number }).kafkaCode === ErrorCode.INVALID_TXN_STATE,
  );
});

test('the LSO waits for the high watermark to pass a marker (replication-driven high watermark)', async () => {
  const fs = new MemoryFileSystem();
  const log = await PartitionLog.open('/data/t-0', cfg(), {
    fs,
    clock: new FakeClock(),
    autoAdvanceHighWatermark: false,
  });
  await log.append(pb(1, 0, 0, 2, { transactional: true }));
  await log.appendTxnMarker({ producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, commit: true });
  log.updateHighWatermark(2);
  assert.equal(log.lastStableOffset, 0, 'marker at 2 not yet below the HW');
  log.updateHighWatermark(3);
  assert.equal(log.lastStableOffset, 3);
});

test('producer state and aborted transactions survive close/reopen and a crash (real files)', async (t) => {
  const tmp = await tempDir();
  t.after(() => tmp.cleanup());
  const dir = path.join(tmp.dir, 'p-0');
  const config = cfg({ segmentBytes: 400 });
  const clock = new FakeClock(1_000_000);
  let log = await PartitionLog.open(dir, config, { clock });
  for (let s = 0; s < 10; s++) await log.append(pb(11, 0, s, 1));
  await log.append(pb(12, 0, 0, 2, { transactional: true }));
  await log.appendTxnMarker({ producerId: 12, producerEpoch: 0, coordinatorEpoch: 4, commit: false });
  assert.ok(log.segmentCount > 2);
  const before = log.activeProducers();
  const leo = log.logEndOffset;
  await log.close();
  let names = await readdir(dir);
  assert.ok(names.includes(`${String(leo).padStart(20, '0')}.snapshot`), names.join());

  log = await PartitionLog.open(dir, config, { clock });
  assert.deepEqual(log.activeProducers(), before);
  const dup = await log.append(pb(11, 0, 9, 1));
  assert.deepEqual([dup.duplicate, dup.baseOffset], [true, 9]);
  const dup5 = await log.append(pb(11, 0, 5, 1));
  assert.deepEqual([dup5.duplicate, dup5.baseOffset], [true, 5], 'all five batches survive the snapshot');
  await assert.rejects(log.append(pb(11, 0, 4, 1)), OutOfOrderSequenceError);
  assert.deepEqual(await log.abortedTransactions(0, leo), [{ producerId: 12, firstOffset: 10 }]);

  // Crash: more appends (an open transaction and another abort), then reopen without close. The
  // replayed region's txn index is rebuilt even if its file was lost.
  await log.append(pb(11, 0, 10, 1));
  await log.append(pb(13, 2, 0, 1, { transactional: true }));
  await log.append(pb(14, 0, 0, 1, { transactional: true }));
  const ab = await log.appendTxnMarker({ producerId: 14, producerEpoch: 0, coordinatorEpoch: 0, commit: false });
  const lso = log.lastStableOffset;
  const crashedState = log.activeProducers();
  names = await readdir(dir);
  const seg = log
    .segmentBaseOffsets()
    .filter((b) => b <= ab.baseOffset)
    .pop()!;
  await rm(path.join(dir, `${String(seg).padStart(20, '0')}.txnindex`), { force: true });
  const again = await PartitionLog.open(dir, config, { clock });
  assert.deepEqual(again.activeProducers(), crashedState);
  assert.equal(again.lastStableOffset, lso);
  assert.equal(lso, ab.baseOffset - 2, 'producer 13 keeps its transaction open');
  assert.deepEqual(await again.abortedTransactions(0, again.logEndOffset), [
    { producerId: 12, firstOffset: 10 },
    { producerId: 14, firstOffset: ab.baseOffset - 1 },
  ]);
  assert.equal((await again.append(pb(11, 0, 10, 1))).duplicate, true);
  await again.close();
  await log.closeWithoutFlush();
});

test('acknowledged idempotent appends stay deduplicated after a power loss (flush.messages=1)', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock(1_000_000);
  const config = cfg({ flushMessages: 1, segmentBytes: 500 });
  const log = await PartitionLog.open('/data/t-0', config, { fs: fs.session(), clock });
  const acked: AppendResult[] = [];
  for (let s = 0; s < 12; s++) acked.push(await log.append(pb(21, 3, s, 1)));
  void log.append(pb(21, 3, 12, 1)).catch(() => undefined); // in flight when the power goes
  fs.powerLoss();
  const again = await PartitionLog.open('/data/t-0', config, { fs: fs.session(), clock });
  assert.ok(again.logEndOffset >= 12);
  for (const s of [7, 8, 9, 10, 11]) {
    const r = await again.append(pb(21, 3, s, 1));
    assert.deepEqual([r.duplicate, r.baseOffset], [true, acked[s]!.baseOffset]);
  }
  const next = again.logEndOffset === 12 ? 12 : 13;
  assert.equal((await again.append(pb(21, 3, next, 1))).duplicate, undefined);
  assert.equal(again.activeProducers()[0]!.lastSequence, next);
});

test('snapshots: one per roll, removed with their segments; truncation rebuilds the state', async () => {
  const { log, fs, clock } = await memLog(cfg({ segmentBytes: 300, retentionMs: 1000 }));
  for (let s = 0; s < 8; s++) await log.append(pb(4, 0, s, 1, { ts: clock.now() }));
  const snaps = async (): Promise<number[]> =>
    (await fs.readdir('/data/t-0'))
      .filter((n) => n.endsWith('.snapshot'))
      .map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b);
  assert.deepEqual(await snaps(), log.segmentBaseOffsets().slice(1));
  clock.advance(5000);
  await log.append(pb(4, 0, 8, 1, { ts: clock.now() }));
  assert.ok((await log.deleteOldSegments()) > 0);
  const first = log.segmentBaseOffsets()[0]!;
  assert.ok((await snaps()).every((o) => o >= first));
  assert.ok((await snaps()).length > 0);

  await log.truncateTo(log.logEndOffset - 2);
  assert.equal(log.activeProducers()[0]!.lastSequence, 6);
  assert.ok((await snaps()).every((o) => o <= log.logEndOffset));
  assert.equal((await log.append(pb(4, 0, 7, 1))).duplicate, undefined);
});

test('idle producers expire after producer.id.expiration.ms, open transactions do not', async () => {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock(1_000_000);
  const log = await PartitionLog.open('/data/t-0', cfg(), { fs, clock, producerIdExpirationMs: 60_000 });
  await log.append(pb(1, 0, 0, 1, { ts: clock.now() }));
  await log.append(pb(2, 0, 0, 1, { ts: clock.now(), transactional: true }));
  clock.advance(59_999);
  assert.equal(log.removeExpiredProducers(), 0);
  clock.advance(1);
  assert.equal(log.removeExpiredProducers(), 1);
  assert.deepEqual(
    log.activeProducers().map((p) => p.producerId),
    [2],
  );
  // An expired producer is unknown: any sequence is accepted again.
  assert.equal((await log.append(pb(1, 0, 50, 1))).duplicate, undefined);
});
