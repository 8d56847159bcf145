/**
 * Compaction removes COMMIT/ABORT markers as Kafka does (KIP-534): a marker whose transaction has no
 * data left is stamped with a delete horizon by the first clean and dropped by a clean after it; a
 * marker with surviving data stays; read_committed and read_uncommitted reads of the cleaned log (real
 * files, fake clock) return exactly the committed latest values, also after a reopen (producer state
 * replayed from the cleaned log leaves no transaction open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { LogCleaner } from '../../storage/log-cleaner.js';
import { compactLogConfig } from '../helpers/log-config.js';
import type { LogConfig } from '../../storage/log-config.js';
import { FakeClock } from '../../storage/clock.js';
import { buildRecordBatchSync } from '../../protocol/records/builder.js';
import { iterateBatches } from '../../protocol/records/batch.js';
import { decodePartitionRecords } from '../../client/fetcher.js';
import { tempDir } from './helpers.js';

const RETENTION = 5000;
const T0 = 1_000_000;
const cfg = (o: Partial<LogConfig> = {}): LogConfig => compactLogConfig({ deleteRetentionMs: RETENTION, ...o });

const txn = (pid: number, seq: number, kv: Array<[string, string]>): Buffer =>
  buildRecordBatchSync(
    kv.map(([key, value]) => ({ key, value, timestamp: T0 })),
    { producerId: pid, producerEpoch: 0, baseSequence: seq, transactional: true },
  );
const plain = (kv: Array<[string, string]>): Buffer =>
  buildRecordBatchSync(kv.map(([key, value]) => ({ key, value, timestamp: T0 })));
const commit = (log: PartitionLog, pid: number): Promise<unknown> =>
  log.appendTxnMarker({ producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, commit: true });
const abort = (log: PartitionLog, pid: number): Promise<unknown> =>
  log.appendTxnMarker({ producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, commit: false });

/** Control batches as [baseOffset, deleteHorizon | null], every batch CRC-checked. */
async function markers(log: PartitionLog): Promise<Array<[number, number | null]>> {
  const out: Array<[number, number | null]> = [];
  let next = log.logStartOffset;
  for (let i = 0; i < 1000 && next < log.logEndOffset; i++) {
    const r = await log.read(next, 1 << 20);
    if (r.records.length === 0) break;
    for (const b of iterateBatches(r.records)) {
      b.validate();
      next = Number(b.lastOffset) + 1;
      if (b.isControl) out.push([Number(b.baseOffset), b.deleteHorizonMs === null ? null : Number(b.deleteHorizonMs)]);
    }
  }
  return out;
}

/**
 * What a consumer reads from the log start ("offset:key=value"): read_committed up to the LSO with the aborted
 * list, else up to the HW.
 */
async function consume(log: PartitionLog, committed: boolean): Promise<string[]> {
  const out: string[] = [];
  const upper = committed ? log.lastStableOffset : log.highWatermark;
  let next = log.logStartOffset;
  for (let i = 0; i < 1000 && next < upper; i++) {
    const r = await log.read(next, 1 << 20, { maxOffset: upper });
    assert.equal(r.errorCode, 0);
    if (r.records.length === 0) break;
    const aborted = committed
      ? (await log.abortedTransactions(next, upper)).map((a) => ({
          producerId: BigInt(a.producerId),
          firstOffset: BigInt(a.firstOffset),
        }))
      : null;
    const d = await decodePartitionRecords('t', 0, next, r.records, aborted);
    for (const rec of d.records) out.push(`${rec.offset}:${rec.key?.toString()}=${rec.value?.toString()}`);
    if (d.nextOffset <= next) break;
    next = d.nextOffset;
  }
  return out;
}

async function withLog(
  fn: (open: () => Promise<PartitionLog>, clock: FakeClock) => Promise<void>,
  o: Partial<LogConfig> = {},
): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const clock = new FakeClock(T0);
  try {
    await fn(() => PartitionLog.open(path.join(dir, 't-0'), cfg(o), { clock }), clock);
  } finally {
    await cleanup();
  }
}

test('COMMIT marker of a fully superseded transaction: horizon stamped, then removed after delete.retention.ms', () =>
  withLog(async (open, clock) => {
    let log = await open();
    await log.append(
      txn(1, 0, [
        ['k', 'a1'],
        ['j', 'j1'],
      ]),
    ); // 0-1
    await commit(log, 1); // 2
    await log.append(plain([['k', 'a2']])); // 3
    await log.append(plain([['j', 'j2']])); // 4
    await log.forceRoll();
    await log.append(plain([['x', 'x']])); // 5 (active)
    const cleaner = new LogCleaner({ clock });
    const expected = ['3:k=a2', '4:j=j2', '5:x=x'];

    const first = await cleaner.cleanLog(log);
    assert.equal(first.cleaned, true);
    assert.equal(first.recordsRemoved, 2);
    assert.equal(first.markersRemoved, 0);
    assert.deepEqual(await markers(log), [[2, T0 + RETENTION]], 'kept, with its delete horizon');
    assert.deepEqual(await consume(log, true), expected);
    assert.deepEqual(await consume(log, false), expected);

    clock.advance(RETENTION - 1);
    const early = await cleaner.cleanLog(log);
    assert.equal(early.cleaned, false, 'nothing due before the horizon');
    assert.deepEqual(await markers(log), [[2, T0 + RETENTION]]);

    clock.advance(1);
    const late = await cleaner.cleanLog(log);
    assert.equal(late.cleaned, true);
    assert.equal(late.reason, 'delete-horizon');
    assert.equal(late.markersRemoved, 1);
    assert.deepEqual(await markers(log), []);
    assert.equal(log.logEndOffset, 6);
    assert.equal(log.lastStableOffset, 6);
    assert.deepEqual(await consume(log, true), expected);
    assert.deepEqual(await consume(log, false), expected);
    const again = await cleaner.cleanLog(log);
    assert.equal(again.cleaned, false, 'no pending horizon is left');

    await log.close();
    log = await open();
    assert.equal(log.lastStableOffset, 6, 'replayed producer state has no open transaction');
    assert.deepEqual(await consume(log, true), expected);
    assert.deepEqual(await consume(log, false), expected);
    await log.close();
  }));

test('aborted transaction: data dropped at the first clean, ABORT marker dropped after the horizon', () =>
  withLog(async (open, clock) => {
    let log = await open();
    await log.append(
      txn(2, 0, [
        ['k', 'bad'],
        ['z', 'zbad'],
      ]),
    ); // 0-1
    await abort(log, 2); // 2
    await log.append(plain([['k', 'good']])); // 3
    await log.forceRoll();
    await log.append(plain([['x', 'x']])); // 4 (active)
    const expected = ['3:k=good', '4:x=x'];
    assert.deepEqual(await consume(log, true), expected);
    assert.deepEqual((await log.abortedTransactions(0, 5)).length, 1);
    const cleaner = new LogCleaner({ clock });

    const first = await cleaner.cleanLog(log);
    assert.equal(first.recordsRemoved, 2);
    assert.equal(first.markersRemoved, 0);
    assert.deepEqual(await markers(log), [[2, T0 + RETENTION]]);
    assert.deepEqual(await consume(log, true), expected);
    assert.deepEqual(await consume(log, false), expected);

    clock.advance(RETENTION);
    const late = await cleaner.cleanLog(log);
    assert.equal(late.reason, 'delete-horizon');
    assert.equal(late.markersRemoved, 1);
    assert.deepEqual(await markers(log), []);
    // The rewritten segment indexes no aborted transaction; none of its data is left to filter.
    assert.deepEqual(await log.abortedTransactions(0, log.logEndOffset), []);
    assert.deepEqual(await consume(log, true), expected);
    assert.deepEqual(await consume(log, false), expected);

    await log.close();
    log = await open();
    assert.equal(log.lastStableOffset, log.logEndOffset);
    assert.deepEqual(await consume(log, true), expected);
    assert.deepEqual(await consume(log, false), expected);
    await log.close();
  }));

test('a committed transaction with a surviving record keeps its marker (no horizon) across cleans', () =>
  withLog(async (open, clock) => {
    const log = await open();
    await log.append(
      txn(3, 0, [
        ['k', 'v1'],
        ['j', 'j1'],
      ]),
    ); // 0-1
    await commit(log, 3); // 2
    await log.append(plain([['j', 'j2']])); // 3
    await log.forceRoll();
    await log.append(plain([['x', 'x']])); // 4 (active)
    const cleaner = new LogCleaner({ clock });
    for (let round = 0; round < 3; round++) {
      const r = await cleaner.cleanLog(log);
      assert.equal(r.cleaned, true);
      assert.equal(r.markersRemoved, 0);
      assert.deepEqual(await markers(log), [[2, null]]);
      clock.advance(RETENTION * 10);
      await log.append(plain([['x', `x${round}`]]));
      await log.forceRoll();
    }
    const committed = await consume(log, true);
    assert.deepEqual(committed.slice(0, 2), ['0:k=v1', '3:j=j2']);
    assert.deepEqual(committed, await consume(log, false));
    await log.close();
  }));

test('a removable marker that is the last batch of its cleaned group stays (the group ends at its offset)', () =>
  withLog(async (open, clock) => {
    const log = await open();
    await log.append(txn(5, 0, [['k', 'old']])); // 0
    await commit(log, 5); // 1
    await log.forceRoll();
    const firstSeg = log.closedSegments()[0]!.size;
    await log.append(plain([['k', 'new']])); // 2
    await log.forceRoll();
    await log.append(plain([['x', 'x']])); // 3 (active)
    // segment.bytes below the two closed segments together: each is its own group.
    log.updateConfig({ ...log.logConfig, segmentBytes: firstSeg + 10 });
    const cleaner = new LogCleaner({ clock });
    const r = await cleaner.cleanLog(log);
    assert.equal(r.recordsRemoved, 1);
    assert.deepEqual(await markers(log), [[1, null]]);
    clock.advance(RETENTION * 10);
    await cleaner.cleanLog(log);
    assert.deepEqual(await markers(log), [[1, null]]);
    assert.equal(log.closedSegments()[0]!.nextOffset, 2);
    assert.deepEqual(await consume(log, true), ['2:k=new', '3:x=x']);
    await log.close();
  }));

test('read_committed of a cleaned log returns exactly the latest committed value of each key', () =>
  withLog(async (open, clock) => {
    let log = await open();
    await log.append(txn(10, 0, [['k1', 'a']])); // 0
    await log.append(txn(11, 0, [['k2', 'aborted']])); // 1
    await log.append(plain([['k3', 'c']])); // 2
    await log.append(txn(10, 1, [['k2', 'a2']])); // 3
    await commit(log, 10); // 4
    await abort(log, 11); // 5
    await log.forceRoll();
    await log.append(plain([['k1', 'z']])); // 6
    await log.append(txn(12, 0, [['k3', 't']])); // 7
    await commit(log, 12); // 8
    await log.forceRoll();
    await log.append(txn(10, 2, [['k4', 'q']])); // 9
    await commit(log, 10); // 10
    await log.append(plain([['k5', 'e']])); // 11
    await log.append(
      txn(11, 1, [
        ['k5', 'aborted2'],
        ['k6', 'aborted2'],
      ]),
    ); // 12-13
    await abort(log, 11); // 14
    await log.append(plain([['k6', 'f']])); // 15
    await log.forceRoll();
    await log.append(plain([['k7', 'g']])); // 16 (active)
    const expected = ['3:k2=a2', '6:k1=z', '7:k3=t', '9:k4=q', '11:k5=e', '15:k6=f', '16:k7=g'];
    const cleaner = new LogCleaner({ clock });
    const first = await cleaner.cleanLog(log);
    assert.equal(first.cleaned, true);
    assert.deepEqual(await markers(log), [
      [4, null],
      [5, T0 + RETENTION],
      [8, null],
      [10, null],
      [14, T0 + RETENTION],
    ]);
    assert.deepEqual(await consume(log, true), expected);
    assert.deepEqual(await consume(log, false), expected);
    clock.advance(RETENTION);
    const late = await cleaner.cleanLog(log);
    assert.equal(late.markersRemoved, 2);
    assert.deepEqual(await markers(log), [
      [4, null],
      [8, null],
      [10, null],
    ]);
    assert.deepEqual(await consume(log, true), expected);
    assert.deepEqual(await consume(log, false), expected);
    await log.close();
    log = await open();
    assert.equal(log.lastStableOffset, 17);
    assert.deepEqual(await consume(log, true), expected);
    await log.close();
  }));
