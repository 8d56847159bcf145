import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../storage/partition-log.js';
import type { LogSegment } from '../../storage/segment.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { abortedTransactionsIn } from '../../storage/txn-queries.js';
import type { AbortedTxn } from '../../storage/txn-index.js';
import { buildRecordBatchSync } from '../../protocol/records/builder.js';

function txnBatch(producerId: number, seq: number, count: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${seq + i}`, value: 'v', timestamp: 1_000_000 }));
  return buildRecordBatchSync(records, { producerId, producerEpoch: 0, baseSequence: seq, transactional: true });
}

const marker = (producerId: number, commit: boolean) => ({ producerId, producerEpoch: 0, coordinatorEpoch: 0, commit });

/** The original full scan (every segment from the first), as the reference the start-at-floor scan must match. */
function fullScan(segments: readonly LogSegment[], fetchOffset: number, upperBound: number): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (const seg of segments) {
    if (seg.nextOffset <= fetchOffset) continue;
    const { aborted, complete } = seg.txnIndex.collect(fetchOffset, upperBound);
    out.push(...aborted);
    if (complete) break;
  }
  return out;
}

/**
 * Segments (base offsets 0, 4, 7, 10, 13, 14, ...):
 *   [0]  0-1 p1 data (txn open until 9) | 2 p2 data | 3 ABORT p2        -> txnindex {p2, 2..3}
 *   [4]  4 p1 data | 5 p3 data | 6 ABORT p3                             -> txnindex {p3, 5..6}
 *   [7]  7 p4 data | 8 COMMIT p4 | 9 ABORT p1 (txn started in segment 0) -> txnindex {p1, 0..9}
 *   [10] 10-11 p5 data | 12 ABORT p5                                    -> txnindex {p5, 10..12}
 *   then `extra` segments of one committed transaction each.
 */
async function multiSegmentLog(extra: number): Promise<PartitionLog> {
  const log = await PartitionLog.open(
    '/data/t-0',
    { ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'] },
    { fs: new MemoryFileSystem(), clock: new FakeClock(1_000_000) },
  );
  await log.append(txnBatch(1, 0, 2));
  await log.append(txnBatch(2, 0, 1));
  await log.appendTxnMarker(marker(2, false));
  await log.forceRoll();
  await log.append(txnBatch(1, 2, 1));
  await log.append(txnBatch(3, 0, 1));
  await log.appendTxnMarker(marker(3, false));
  await log.forceRoll();
  await log.append(txnBatch(4, 0, 1));
  await log.appendTxnMarker(marker(4, true));
  await log.appendTxnMarker(marker(1, false));
  await log.forceRoll();
  await log.append(txnBatch(5, 0, 2));
  await log.appendTxnMarker(marker(5, false));
  for (let i = 0; i < extra; i++) {
    await log.forceRoll();
    await log.append(txnBatch(6, i, 1));
    await log.appendTxnMarker(marker(6, true));
  }
  await log.forceRoll(); // every written segment is now closed; the active one is empty
  return log;
}

test("read_committed aborted transactions: a fetch offset in a later segment gives a full scan's result", async () => {
  const log = await multiSegmentLog(0);
  const segs = log.closedSegments();
  assert.deepEqual(
    segs.map((s) => [s.baseOffset, s.txnIndex.count]),
    [
      [0, 1],
      [4, 1],
      [7, 1],
      [10, 1],
    ],
    'each abort is indexed in the segment holding its marker',
  );
  const leo = log.logEndOffset;
  assert.equal(leo, 13);

  // Fetch offsets in later segments: an abort whose data began in segment 0 but whose marker is in a
  // later segment is still found; aborts whose markers lie before the fetch offset are not.
  assert.deepEqual(await log.abortedTransactions(7, leo), [
    { producerId: 1, firstOffset: 0 },
    { producerId: 5, firstOffset: 10 },
  ]);
  assert.deepEqual(await log.abortedTransactions(5, 8), [
    { producerId: 3, firstOffset: 5 },
    { producerId: 1, firstOffset: 0 },
  ]);
  assert.deepEqual(await log.abortedTransactions(10, leo), [{ producerId: 5, firstOffset: 10 }]);
  assert.deepEqual(await log.abortedTransactions(4, 5), [{ producerId: 1, firstOffset: 0 }]);
  assert.deepEqual(await log.abortedTransactions(12, 13), [{ producerId: 5, firstOffset: 10 }]);
  assert.deepEqual(await log.abortedTransactions(13, 13), []);

  // Every (fetchOffset, upperBound) pair matches the full scan, through the log and directly.
  for (let f = 0; f <= leo; f++) {
    for (let u = f; u <= leo + 1; u++) {
      const want = fullScan(segs, f, u);
      assert.deepEqual(abortedTransactionsIn(segs, f, u), want, `fetch ${f}, upper bound ${u}`);
      assert.deepEqual(log.abortedTransactionRanges(f, u), want, `log: fetch ${f}, upper bound ${u}`);
      assert.deepEqual(
        await log.abortedTransactions(f, u),
        want.map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset })),
      );
    }
  }
  await log.close();
});

test("aborted transactions lookup starts at the fetch offset's segment (no walk from the first segment)", async () => {
  const log = await multiSegmentLog(60);
  const segs = log.closedSegments();
  assert.equal(segs.length, 64);
  // Count reads of segments before the one holding the fetch offset: only binary-search probes.
  let floorIndex = 0;
  let earlierReads = 0;
  const counted = new Proxy(segs, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop) && Number(prop) < floorIndex) earlierReads++;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  for (const k of [3, 40, segs.length - 1]) {
    floorIndex = k;
    earlierReads = 0;
    for (const f of [segs[k]!.baseOffset, segs[k]!.nextOffset - 1]) {
      assert.deepEqual(
        abortedTransactionsIn(counted, f, log.logEndOffset),
        fullScan(segs, f, log.logEndOffset),
        `fetch ${f}`,
      );
      assert.deepEqual(abortedTransactionsIn(counted, f, f + 1), fullScan(segs, f, f + 1), `fetch ${f}`);
    }
    assert.ok(earlierReads <= 4 * 7, `${earlierReads} reads of the ${k} segments before the fetch offset's`);
  }
  assert.deepEqual(
    abortedTransactionsIn(segs, 11, 12).map((a) => [a.producerId, a.firstOffset, a.lastOffset]),
    [[5, 10, 12]],
  );
  // Fetch offsets before the first segment (e.g. below a moved log start) still scan from the start.
  assert.deepEqual(abortedTransactionsIn(segs.slice(2), 0, 9), fullScan(segs.slice(2), 0, 9));
  await log.close();
});
