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
import { batchOf, decodeRecords } from '../storage/helpers.js';
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
