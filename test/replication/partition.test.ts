import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../storage/partition-log.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { Partition, PartitionStateError } from '../../replication/partition.js';
import { batchOf, buildBatch, decodeRecords } from '../storage/helpers.js';

async function open(opts: { leaderEpoch?: number; isLeader?: boolean } = {}) {
  const clock = new FakeClock(1_000_000);
  const log = await PartitionLog.open(
    '/data/t-0',
    { ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'] },
    { fs: new MemoryFileSystem(), clock, autoAdvanceHighWatermark: false },
  );
  const changes: number[] = [];
  const p = new Partition(log, { ...opts, onChange: (x) => changes.push(x.highWatermark) });
  return { log, p, changes, clock };
}

test('epoch checks: -1 unchecked, newer → UNKNOWN_LEADER_EPOCH, older → FENCED_LEADER_EPOCH', async () => {
  const { p, log } = await open({ leaderEpoch: 3 });
  assert.equal(p.leaderEpoch, 3);
  assert.equal(p.checkEpoch(), ErrorCode.NONE);
  assert.equal(p.checkEpoch(-1), ErrorCode.NONE);
  assert.equal(p.checkEpoch(3), ErrorCode.NONE);
  assert.equal(p.checkEpoch(4), ErrorCode.UNKNOWN_LEADER_EPOCH);
  assert.equal(p.checkEpoch(2), ErrorCode.FENCED_LEADER_EPOCH);
  await log.close();
});

test('a follower answers NOT_LEADER_OR_FOLLOWER to leader-only requests and refuses appends', async () => {
  const { p, log } = await open({ isLeader: false });
  assert.equal(p.checkEpoch(), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(p.checkEpoch(-1, false), ErrorCode.NONE);
  assert.equal(p.checkEpoch(1), ErrorCode.UNKNOWN_LEADER_EPOCH, 'the epoch is checked first, as Kafka');
  await assert.rejects(p.appendAsLeader(batchOf(1)), (e: unknown) => {
    assert.ok(e instanceof PartitionStateError);
    assert.equal(e.kafkaCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return true;
  });
  assert.equal(log.logEndOffset, 0, 'nothing written');
  p.makeLeader(1);
  assert.equal(p.checkEpoch(1), ErrorCode.NONE);
  assert.equal(p.checkEpoch(0), ErrorCode.FENCED_LEADER_EPOCH);
  assert.throws(() => p.makeFollower(0), PartitionStateError);
  await log.close();
});

test('appendAsLeader stamps the epoch and the Partition moves the high watermark', async () => {
  const { p, log, changes } = await open({ leaderEpoch: 2 });
  // The log alone does not advance it.
  await log.append(batchOf(2), { leaderEpoch: 2 });
  assert.equal(log.highWatermark, 0);
  const batch = batchOf(3);
  let queued = false;
  const r = await p.appendAsLeader(batch, {}, () => (queued = true));
  assert.ok(queued);
  assert.deepEqual([r.baseOffset, r.lastOffset], [2, 4]);
  assert.equal(batch.readInt32BE(12), 2, 'partitionLeaderEpoch stamped');
  assert.equal(p.highWatermark, 5);
  assert.equal(log.highWatermark, 5);
  assert.deepEqual(changes, [5]);
  assert.deepEqual(p.endOffsetForEpoch(2), { epoch: 2, endOffset: 5 });
  await log.close();
});

test('read stops at the high watermark, or at the last stable offset for read_committed', async () => {
  const { p, log } = await open();
  await p.appendAsLeader(batchOf(2));
  const txn = buildBatch([{ value: 'x' }], { attributes: 0x10, producerId: 7n, producerEpoch: 0, baseSequence: 0 });
  await p.appendAsLeader(txn);
  assert.equal(p.highWatermark, 3);
  assert.equal(p.lastStableOffset, 2, 'the open transaction holds the LSO');
  const all = await p.read(0, 1 << 20);
  assert.deepEqual(
    decodeRecords(all.records).map((x) => x.offset),
    [0, 1, 2],
  );
  assert.equal(all.lastStableOffset, 2);
  const committed = await p.read(0, 1 << 20, { readCommitted: true });
  assert.deepEqual(
    decodeRecords(committed.records).map((x) => x.offset),
    [0, 1],
  );
  await p.appendTxnMarker({ producerId: 7, producerEpoch: 0, coordinatorEpoch: 0, commit: true });
  assert.equal(p.highWatermark, 4);
  assert.equal(p.lastStableOffset, 4);
  assert.equal(p.activeProducers()[0]?.producerId, 7);
  // A write the Partition did not make stays invisible to consumers.
  await log.append(batchOf(1));
  assert.equal((await p.read(4, 1 << 20)).records.length, 0);
  assert.equal((await p.readLocal(4, 1 << 20)).records.length > 0, true);
  await log.close();
});

test('DeleteRecords goes through the Partition, bounded by its high watermark', async () => {
  const { p, log } = await open();
  await p.appendAsLeader(batchOf(4));
  await log.append(batchOf(2));
  assert.equal((await p.deleteRecordsBefore(5)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.deepEqual(await p.deleteRecordsBefore(-1), { errorCode: ErrorCode.NONE, lowWatermark: 4 });
  assert.equal(p.logStartOffset, 4);
  await log.close();
});

test('the current epoch ends at the log end before anything was appended at it', async () => {
  const { p, log } = await open({ leaderEpoch: 0 });
  assert.deepEqual(p.endOffsetForEpoch(0), { epoch: 0, endOffset: 0 });
  assert.deepEqual(p.endOffsetForEpoch(1), { epoch: -1, endOffset: -1 });
  await log.close();
});
