/**
 * The tail cache policy of a Partition without followers (replication/partition-tail.ts): consumers at the log
 * end are answered with the log's very batches from memory, and appends are copied only while one reads there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../storage/partition-log.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { TailCacheBudget } from '../../replication/leader-tail-cache.js';
import { Partition } from '../../replication/partition.js';
import { batchOf, buildBatch, decodeRecords } from '../storage/helpers.js';

/**
 * A leader without followers on a consumer budget; `logReads` counts the reads that reached the log. Unless
 * `reader` is false a consumer has read at the log end already, so the appends that follow are cached.
 */
async function single(budget: TailCacheBudget | undefined, reader = true) {
  const log = await PartitionLog.open(
    '/data/s-0',
    { ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'] },
    { fs: new MemoryFileSystem(), clock: new FakeClock(1_000_000), autoAdvanceHighWatermark: false },
  );
  const p = new Partition(log, { localId: 1, leaderEpoch: 0, ...(budget ? { localTailCache: budget } : {}) });
  if (reader) await p.read(0, 1 << 20);
  const logRead = log.read.bind(log);
  const counter = { logReads: 0 };
  log.read = (...a: Parameters<typeof log.read>) => {
    counter.logReads++;
    return logRead(...a);
  };
  return { log, p, logRead, counter };
}

test("consumer reads at the log end come from memory, the log's very batches below the HW", async () => {
  const budget = new TailCacheBudget(1 << 20);
  const { log, p, logRead, counter } = await single(budget);
  p.updateFollowerEnd(2, 0); // a lagging replica (without an assignment) holds the HW at 0
  await p.appendAsLeader(batchOf(3, { tag: 'a' })); // [0, 3)
  await p.appendAsLeader(Buffer.concat([batchOf(2, { tag: 'b' }), batchOf(4, { tag: 'c' })])); // [3, 5) [5, 9)
  await p.appendAsLeader(batchOf(1, { valueSize: 500 })); // [9, 10)
  await p.appendAsLeader(batchOf(5, { tag: 'd' })); // [10, 15)
  assert.ok(budget.bytes > 0, 'cached without followers');
  assert.equal((await p.read(0, 1 << 20)).records.length, 0, 'nothing below the HW yet');
  counter.logReads = 0;
  let expectedLogReads = 0;
  for (const hw of [5, 7, 10, 15]) {
    p.updateFollowerEnd(2, hw);
    assert.equal(p.highWatermark, hw);
    for (const offset of [0, 3, 9, 10]) {
      if (offset >= hw) continue;
      for (const maxBytes of [1, 60, 100, 150, 250, 700, 1 << 20]) {
        for (const minOneBatch of [true, false]) {
          const want = await logRead(offset, maxBytes, { maxOffset: hw, minOneBatch });
          const got = await p.read(offset, maxBytes, { minOneBatch });
          const what = `hw ${hw} offset ${offset} maxBytes ${maxBytes} minOneBatch ${minOneBatch}`;
          assert.deepEqual(got.records, want.records, what);
          assert.equal(got.highWatermark, hw);
          assert.equal(got.logEndOffset, 15);
          // Only what the cache cannot answer (not even one batch goes) reaches the log.
          if (want.records.length === 0) expectedLogReads++;
          assert.equal(counter.logReads, expectedLogReads, what);
        }
      }
    }
  }
  // Inside an append: the log answers.
  const inside = await p.read(5, 1 << 20);
  assert.equal(counter.logReads, expectedLogReads + 1);
  assert.deepEqual(inside.records, (await logRead(5, 1 << 20, { maxOffset: 15 })).records);
  await log.close();
});

test('read_committed consumers stop at the LSO; a marker starts the cache over', async () => {
  const budget = new TailCacheBudget(1 << 20);
  const { log, p, logRead, counter } = await single(budget);
  await p.appendAsLeader(batchOf(2)); // [0, 2)
  const txn = buildBatch([{ value: 'x' }, { value: 'y' }], {
    attributes: 0x10,
    producerId: 7n,
    producerEpoch: 0,
    baseSequence: 0,
  });
  await p.appendAsLeader(txn); // [2, 4), open
  await p.appendAsLeader(batchOf(3)); // [4, 7)
  assert.equal(p.lastStableOffset, 2);
  counter.logReads = 0;
  const committed = await p.read(0, 1 << 20, { readCommitted: true });
  assert.deepEqual(committed.records, (await logRead(0, 1 << 20, { maxOffset: 2 })).records);
  assert.deepEqual(
    decodeRecords(committed.records).map((x) => x.offset),
    [0, 1],
  );
  assert.equal(committed.lastStableOffset, 2);
  const uncommitted = await p.read(0, 1 << 20);
  assert.deepEqual(uncommitted.records, (await logRead(0, 1 << 20, { maxOffset: 7 })).records);
  assert.equal(decodeRecords(uncommitted.records).length, 7);
  assert.equal(counter.logReads, 0, 'both from memory');
  assert.equal((await p.read(2, 1 << 20, { readCommitted: true })).records.length, 0, 'at the LSO: nothing');
  await p.appendTxnMarker({ producerId: 7, producerEpoch: 0, coordinatorEpoch: 0, commit: true }); // 7
  await p.appendAsLeader(batchOf(2)); // [8, 10): not after the last cached append, the cache starts over
  counter.logReads = 0;
  const all = await p.read(0, 1 << 20, { readCommitted: true });
  assert.equal(counter.logReads, 1, 'what went before the marker is read from the log');
  assert.deepEqual(all.records, (await logRead(0, 1 << 20, { maxOffset: 10 })).records);
  const last = await p.read(8, 1 << 20, { readCommitted: true });
  assert.equal(counter.logReads, 1);
  assert.deepEqual(last.records, (await logRead(8, 1 << 20, { maxOffset: 10 })).records);
  await log.close();
});

test('a rolled segment (the cleaner may rewrite it) is read from the log, the active one from memory', async () => {
  const budget = new TailCacheBudget(1 << 20);
  const { log, p, logRead, counter } = await single(budget);
  await p.appendAsLeader(batchOf(3)); // [0, 3)
  await p.appendAsLeader(batchOf(2)); // [3, 5)
  await log.forceRoll();
  await p.appendAsLeader(batchOf(4)); // [5, 9), the active segment
  counter.logReads = 0;
  for (const [offset, logReads] of [
    [0, 1],
    [3, 2],
    [5, 2],
  ] as const) {
    const r = await p.read(offset, 1 << 20);
    assert.deepEqual(r.records, (await logRead(offset, 1 << 20, { maxOffset: 9 })).records, `offset ${offset}`);
    assert.equal(counter.logReads, logReads, `offset ${offset}`);
  }
  await log.close();
});

test('the consumer budget evicts the oldest appends; evicted offsets are read from the log', async () => {
  const one = batchOf(1, { valueSize: 200 }).length;
  const budget = new TailCacheBudget(3 * one);
  const { log, p, logRead, counter } = await single(budget);
  for (let i = 0; i < 10; i++) await p.appendAsLeader(batchOf(1, { valueSize: 200 }));
  assert.equal(budget.bytes, 3 * one, 'the three latest');
  counter.logReads = 0;
  for (let o = 0; o < 10; o++) {
    const r = await p.read(o, 1 << 20);
    assert.deepEqual(r.records, (await logRead(o, 1 << 20, { maxOffset: 10 })).records);
    assert.equal(counter.logReads, Math.min(o + 1, 7), `offset ${o}`);
  }
  // Without a budget (log.tail.cache.max.bytes=0) nothing is cached.
  const none = await single(undefined);
  await none.p.appendAsLeader(batchOf(2));
  await none.p.read(0, 1 << 20);
  assert.equal(none.counter.logReads, 1);
  await none.log.close();
  await log.close();
});

test('without followers appends are copied into memory only while a consumer reads at the log end', async () => {
  const budget = new TailCacheBudget(1 << 20);
  const { log, p, logRead, counter } = await single(budget, false);
  for (let i = 0; i < 3; i++) await p.appendAsLeader(batchOf(2)); // [0, 6), nobody reading
  assert.equal(budget.bytes, 0, 'a produce stream without readers takes no copies');
  await p.read(0, 1 << 20); // a consumer catching up from the log
  assert.equal(budget.bytes, 0, 'a read below the log end does not start the cache');
  const waiting = await p.read(6, 1 << 20); // caught up: waits at the log end
  assert.equal(waiting.records.length, 0);
  await p.appendAsLeader(batchOf(3)); // [6, 9)
  assert.ok(budget.bytes > 0, 'cached once a consumer reads at the end');
  counter.logReads = 0;
  const r = await p.read(6, 1 << 20);
  assert.deepEqual(r.records, (await logRead(6, 1 << 20, { maxOffset: 9 })).records);
  assert.equal(counter.logReads, 0, 'answered from memory');
  // That read keeps it going for 64 more appends; past them, with no reader, the cache is let go.
  for (let i = 0; i < 64; i++) await p.appendAsLeader(batchOf(1));
  assert.ok(budget.bytes > 0);
  await p.appendAsLeader(batchOf(1));
  assert.equal(budget.bytes, 0, 'no reader for 64 appends: memory given back, copies stop');
  const end = log.logEndOffset;
  const late = await p.read(end - 1, 1 << 20);
  assert.deepEqual(late.records, (await logRead(end - 1, 1 << 20, { maxOffset: end })).records);
  assert.equal(counter.logReads, 1, 'read from the log');
  await log.close();
});
