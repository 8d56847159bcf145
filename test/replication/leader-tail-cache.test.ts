import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../storage/partition-log.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { LeaderTailCache, TailCacheBudget } from '../../replication/leader-tail-cache.js';
import { Partition } from '../../replication/partition.js';
import type { PartitionRegistration } from '../../replication/metadata/image.js';
import { readForReplica } from '../../replication/replica-reads.js';
import { batchOf, buildBatch, decodeRecords } from '../storage/helpers.js';
import { requestFrameMemory } from '../../protocol/frame-memory.js';

const buf = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

test('reads whole appends from an entry start, up to maxBytes; anything else is not cached', () => {
  const budget = new TailCacheBudget(1 << 20);
  const c = new LeaderTailCache(budget);
  c.add(10, 13, buf(100, 1));
  c.add(13, 15, buf(50, 2));
  c.add(15, 20, buf(80, 3));
  assert.deepEqual(c.read(10, 1000, true), Buffer.concat([buf(100, 1), buf(50, 2), buf(80, 3)]));
  assert.deepEqual(c.read(13, 1000, true), Buffer.concat([buf(50, 2), buf(80, 3)]));
  assert.deepEqual(c.read(10, 160, true), Buffer.concat([buf(100, 1), buf(50, 2)]), 'stops before what does not fit');
  assert.equal(c.read(11, 1000, true), undefined, 'inside an append: the log answers');
  assert.equal(c.read(20, 1000, true), undefined, 'the log end');
  assert.equal(c.read(9, 1000, true), undefined);
  // The first append above maxBytes: only a single batch goes (minOneBatch); these fakes are not batches.
  assert.equal(c.read(10, 99, true), undefined);
  assert.equal(c.read(10, 99, false), undefined);
  assert.equal(budget.bytes, 230);
});

test('a gap starts the cache over; evictBelow drops what every follower has; clear releases the budget', () => {
  const budget = new TailCacheBudget(1 << 20);
  const c = new LeaderTailCache(budget);
  c.add(0, 5, buf(10, 1));
  c.add(5, 9, buf(10, 2));
  c.add(10, 12, buf(10, 3)); // offset 9 (a marker) was not cached
  assert.equal(c.read(0, 100, true), undefined);
  assert.deepEqual(c.read(10, 100, true), buf(10, 3));
  assert.equal(budget.bytes, 10);
  c.add(12, 14, buf(20, 4));
  c.evictBelow(12);
  assert.equal(c.read(10, 100, true), undefined);
  assert.deepEqual(c.read(12, 100, true), buf(20, 4));
  assert.equal(budget.bytes, 20);
  c.clear();
  assert.equal(budget.bytes, 0);
  assert.equal(c.read(12, 100, true), undefined);
});

test('the budget bounds every cache together, oldest appends of any partition first', () => {
  const budget = new TailCacheBudget(300);
  const a = new LeaderTailCache(budget);
  const b = new LeaderTailCache(budget);
  a.add(0, 1, buf(100, 1));
  b.add(0, 1, buf(100, 2));
  a.add(1, 2, buf(100, 3));
  b.add(1, 2, buf(100, 4)); // over 300: a's first append leaves
  assert.equal(budget.bytes, 300);
  assert.equal(a.read(0, 1000, true), undefined);
  assert.deepEqual(a.read(1, 1000, true), buf(100, 3));
  assert.deepEqual(b.read(0, 1000, true), Buffer.concat([buf(100, 2), buf(100, 4)]));
  a.add(2, 3, buf(400, 5)); // larger than the whole budget: not cached, and the cache starts over after it
  assert.equal(a.read(2, 1000, true), undefined);
  assert.ok(budget.bytes <= 300);
  // Many adds and evictions keep the accounting exact.
  for (let i = 2; i < 2000; i++) b.add(i, i + 1, buf(7, i & 0xff));
  b.evictBelow(1990);
  assert.equal(budget.bytes, a.bytes + b.bytes);
  assert.equal(b.bytes, 10 * 7);
});

async function leader(budget: TailCacheBudget | undefined) {
  const clock = new FakeClock(1_000_000);
  const log = await PartitionLog.open(
    '/data/t-0',
    { ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'] },
    { fs: new MemoryFileSystem(), clock, autoAdvanceHighWatermark: false },
  );
  const p = new Partition(log, { localId: 1, leaderEpoch: 0, ...(budget ? { tailCache: budget } : {}) });
  const reg: PartitionRegistration = {
    partition: 0,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    leader: 1,
    leaderEpoch: 1,
    partitionEpoch: 0,
  };
  p.makeLeader(1, reg, clock.now());
  return { log, p, clock };
}

test("a leader's follower reads answer the log's bytes, from memory; the HW leaves the cache behind", async () => {
  const budget = new TailCacheBudget(1 << 20);
  const { log, p, clock } = await leader(budget);
  const source = { getPartitionOrError: () => p, delayFetch: async () => undefined };
  for (let i = 0; i < 3; i++) await p.appendAsLeader(batchOf(4, { tag: `b${i}` }));
  assert.ok(budget.bytes > 0, 'the appends are cached');
  const fromLog = await p.readLocal(4, 1 << 20);
  const fromCache = await p.readForFollower(4, 1 << 20);
  assert.deepEqual(fromCache.records, fromLog.records, 'the same bytes as the log holds');
  assert.equal(fromCache.logEndOffset, 12);
  // Follower 2 at 4, follower 3 at 8: the HW is 4, then 8; what lies below it leaves the cache.
  const it = { topic: 't', partition: 0, currentLeaderEpoch: 1, maxBytes: 1 << 20 };
  const r2 = await readForReplica(source, clock, 2, { ...it, fetchOffset: 4 });
  assert.equal(r2.errorCode, ErrorCode.NONE);
  assert.deepEqual(r2.records, fromLog.records);
  const r3 = await readForReplica(source, clock, 3, { ...it, fetchOffset: 8 });
  assert.equal(r3.highWatermark, 4, 'the answer carries the HW its fetch moved');
  // Follower 2 lags: a consumer sees nothing past the HW though the cache holds [4, 12).
  assert.equal((await p.read(4, 1 << 20)).records.length, 0);
  assert.deepEqual(
    decodeRecords((await p.read(0, 1 << 20)).records).map((x) => x.offset),
    [0, 1, 2, 3],
  );
  await readForReplica(source, clock, 2, { ...it, fetchOffset: 8 });
  assert.equal(p.highWatermark, 8);
  const left = budget.bytes;
  assert.ok(left > 0 && left < fromLog.records.length, 'only the last append is left');
  assert.deepEqual((await p.readForFollower(8, 1 << 20)).records, (await p.readLocal(8, 1 << 20)).records);
  // Not a follower: NOT_LEADER_OR_FOLLOWER; past the log end: OFFSET_OUT_OF_RANGE, nothing recorded.
  assert.equal(
    (await readForReplica(source, clock, 7, { ...it, fetchOffset: 8 })).errorCode,
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
  );
  assert.equal(
    (await readForReplica(source, clock, 3, { ...it, fetchOffset: 99 })).errorCode,
    ErrorCode.OFFSET_OUT_OF_RANGE,
  );
  assert.equal(p.followerState(3)?.logEndOffset, 8);
  // A new leadership (or becoming a follower) empties the cache.
  p.makeFollower(2, 2);
  assert.equal(budget.bytes, 0);
  await log.close();
});

test('without a budget (a single node) nothing is cached and follower reads come from the log', async () => {
  const { log, p } = await leader(undefined);
  await p.appendAsLeader(batchOf(2));
  const r = await p.readForFollower(0, 1 << 20);
  assert.deepEqual(r.records, (await p.readLocal(0, 1 << 20)).records);
  assert.equal(r.records.length > 0, true);
  await log.close();
});

test('a read stops where a log segment begins, as the log reads one segment', () => {
  const c = new LeaderTailCache(new TailCacheBudget(1 << 20));
  c.add(0, 2, buf(10, 1));
  c.add(2, 4, buf(10, 2));
  c.add(4, 6, buf(10, 3));
  assert.deepEqual(
    c.read(0, 100, true, (o) => o === 4),
    Buffer.concat([buf(10, 1), buf(10, 2)]),
  );
  assert.deepEqual(
    c.read(4, 100, true, (o) => o === 4),
    buf(10, 3),
    'the first append may start one',
  );
});

test('an append in a lent request frame is cached as a copy: reusing the frame changes nothing', async () => {
  const budget = new TailCacheBudget(1 << 20);
  const { log, p } = await leader(budget);
  const batch = batchOf(4, { valueSize: 30_000 });
  // As a Produce frame of >= 64 KiB lends it (protocol/frame-memory.ts), the records a slice of it.
  const frame = requestFrameMemory.alloc(batch.length + 100);
  const records = frame.subarray(100);
  batch.copy(records);
  await p.appendAsLeader(records);
  const fromLog = await p.readLocal(0, 1 << 20);
  requestFrameMemory.recycle(frame); // the request is done: the next frame takes this memory
  requestFrameMemory.alloc(frame.length).fill(0xee);
  const fromCache = await p.readForFollower(0, 1 << 20);
  assert.ok(budget.bytes > 0, 'the append is cached');
  assert.deepEqual(fromCache.records, fromLog.records);
  await log.close();
});

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
