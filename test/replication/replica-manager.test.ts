import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../storage/partition-log.js';
import { DEFAULT_LOG_CONFIG, resolveLogConfig } from '../helpers/log-config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { LogApplier } from '../../replication/log-applier.js';
import { LocalMetadataStore } from '../../replication/metadata/local-store.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { RunnelError } from '../../protocol/errors.js';
import { Partition } from '../../replication/partition.js';
import { ReplicaManager, type LogSource } from '../../replication/replica-manager.js';
import { batchOf, buildBatch } from '../storage/helpers.js';
import { MemoryCluster } from '../helpers/memory-cluster.js';

/** A log source over a map the test edits (as the log manager creates and deletes logs). */
class Logs implements LogSource {
  readonly map = new Map<string, PartitionLog>();
  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.map.get(`${topic}-${partition}`);
  }
  allLogs(): PartitionLog[] {
    return [...this.map.values()];
  }
  async add(topic: string, partition: number, clock: FakeClock): Promise<PartitionLog> {
    const log = await PartitionLog.open(
      `/data/${topic}-${partition}`,
      { ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'] },
      { fs: new MemoryFileSystem(), clock, autoAdvanceHighWatermark: false },
    );
    this.map.set(`${topic}-${partition}`, log);
    return log;
  }
}

test('partitions follow the logs: created on first use, replaced with a new log, gone with it', async () => {
  const clock = new FakeClock(0);
  const logs = new Logs();
  const rm = new ReplicaManager(logs, { clock });
  assert.equal(rm.getPartition('t', 0), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const log = await logs.add('t', 0, clock);
  const p = rm.getPartition('t', 0);
  assert.ok(p instanceof Partition);
  assert.equal(p.log, log);
  assert.equal(p.leaderEpoch, 0);
  assert.equal(rm.getPartition('t', 0), p, 'one Partition per log');
  assert.deepEqual(rm.allPartitions(), [p]);
  await log.close();
  const again = await logs.add('t', 0, clock);
  const p2 = rm.getPartition('t', 0) as Partition;
  assert.notEqual(p2, p);
  assert.equal(p2.log, again);
  logs.map.clear();
  assert.equal(rm.getPartition('t', 0), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  await again.close();
});

test('getPartitionOrError checks the current leader epoch', async () => {
  const clock = new FakeClock(0);
  const logs = new Logs();
  const rm = new ReplicaManager(logs, { clock, leaderEpoch: 5 });
  const log = await logs.add('t', 0, clock);
  assert.ok(rm.getPartitionOrError('t', 0) instanceof Partition);
  assert.ok(rm.getPartitionOrError('t', 0, 5) instanceof Partition);
  assert.equal(rm.getPartitionOrError('t', 0, 6), ErrorCode.UNKNOWN_LEADER_EPOCH);
  assert.equal(rm.getPartitionOrError('t', 0, 4), ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal(rm.getPartitionOrError('t', 1, 5), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  (rm.getPartition('t', 0) as Partition).makeFollower(6);
  assert.equal(rm.getPartitionOrError('t', 0, 6), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  await assert.rejects(rm.appendRecords('t', 0, batchOf(1)), (e: unknown) => {
    assert.ok(e instanceof RunnelError);
    assert.equal(e.kafkaCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return true;
  });
  await assert.rejects(rm.appendRecords('nope', 0, batchOf(1)), { kafkaCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
  await log.close();
});

test('appendRecords moves the HW, wakes a delayed fetch, and completes acks=all at once on one node', async () => {
  const clock = new FakeClock(0);
  const logs = new Logs();
  const rm = new ReplicaManager(logs, { clock });
  const log = await logs.add('t', 0, clock);
  let woke = false;
  const fetch = rm.delayFetch([['t', 0]], 10000).then(() => (woke = true));
  const r1 = await rm.appendRecords('t', 0, batchOf(2), { requiredAcks: 1 });
  assert.deepEqual([r1.errorCode, r1.baseOffset, log.highWatermark], [ErrorCode.NONE, 0, 2]);
  await fetch;
  assert.ok(woke);
  const r2 = await rm.appendRecords('t', 0, batchOf(3), { requiredAcks: -1, timeoutMs: 1000 });
  assert.deepEqual([r2.errorCode, r2.baseOffset, log.highWatermark], [ErrorCode.NONE, 2, 5]);
  assert.equal(rm.purgatory.waitingProduces, 0);
  assert.equal(clock.pendingTimers, 0, 'nothing left waiting');
  await log.close();
});

test('a duplicate batch does not wake fetches; a transaction marker does', async () => {
  const clock = new FakeClock(0);
  const logs = new Logs();
  const rm = new ReplicaManager(logs, { clock });
  const log = await logs.add('t', 0, clock);
  const batch = (): Buffer =>
    buildBatch([{ value: 'a' }], { attributes: 0x10, producerId: 9n, producerEpoch: 0, baseSequence: 0 });
  await rm.appendRecords('t', 0, batch());
  let woke = false;
  const fetch = rm.delayFetch([['t', 0]], 10000).then(() => (woke = true));
  const dup = await rm.appendRecords('t', 0, batch());
  assert.equal(dup.duplicate, true);
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.equal(woke, false);
  assert.equal(rm.purgatory.waitingFetches, 1);
  const m = await rm.appendTxnMarker('t', 0, { producerId: 9, producerEpoch: 0, coordinatorEpoch: 0, commit: false });
  assert.equal(m?.baseOffset, 1);
  await fetch;
  assert.ok(woke);
  assert.equal(
    await rm.appendTxnMarker('gone', 0, { producerId: 9, producerEpoch: 0, coordinatorEpoch: 0, commit: false }),
    undefined,
  );
  await log.close();
});

test('acks=all times out with REQUEST_TIMED_OUT when the HW does not pass the batch', async () => {
  const clock = new FakeClock(0);
  const logs = new Logs();
  const rm = new ReplicaManager(logs, { clock });
  const log = await logs.add('t', 0, clock);
  const p = rm.getPartition('t', 0) as Partition;
  // A lagging in-sync follower holds the HW back (what replication will do).
  p.updateFollowerEnd(2, 0);
  const pending = rm.appendRecords('t', 0, batchOf(1), { requiredAcks: -1, timeoutMs: 500 });
  for (let i = 0; i < 50 && rm.purgatory.waitingProduces === 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(rm.purgatory.waitingProduces, 1);
  assert.equal(log.highWatermark, 0);
  clock.advance(500);
  const r = await pending;
  assert.equal(r.errorCode, ErrorCode.REQUEST_TIMED_OUT);
  assert.equal(r.baseOffset, 0, 'the records are written');
  p.updateFollowerEnd(2, 1);
  assert.equal(log.highWatermark, 1, 'the follower caught up: the HW moves');
  await log.close();
});

test('with a log manager following the metadata, partitions appear and disappear with its topics', async () => {
  const clock = new FakeClock(0);
  const fs = new MemoryFileSystem();
  const store = await LocalMetadataStore.open('/data', { nodeId: 1, fs });
  const applier = await LogApplier.open(store, '/data', {
    fs,
    clock,
    autoAdvanceHighWatermark: false,
    resolveConfig: resolveLogConfig,
  });
  const mgr = applier.logs;
  const rm = new ReplicaManager(mgr, { clock });
  await store.createTopic('orders', { partitions: 2 });
  assert.equal(rm.allPartitions().length, 2);
  await rm.appendRecords('orders', 1, batchOf(2));
  assert.equal(mgr.getLog('orders', 1)!.highWatermark, 2);
  await store.deleteTopic('orders');
  assert.equal(rm.getPartition('orders', 1), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(rm.allPartitions().length, 0);
  await applier.close();
});

test('leadership events: a single node reports hosted and new partitions at epoch 0, deleted ones not', async () => {
  const clock = new FakeClock(0);
  const fs = new MemoryFileSystem();
  const store = await LocalMetadataStore.open('/data', { nodeId: 1, fs });
  await store.createTopic('before', { partitions: 2 });
  const applier = await LogApplier.open(store, '/data', {
    fs,
    clock,
    autoAdvanceHighWatermark: false,
    resolveConfig: resolveLogConfig,
  });
  const rm = new ReplicaManager(applier.logs, { clock, localStore: store });
  rm.start();
  const seen: string[] = [];
  rm.onLeadershipChange('before', (c) => seen.push(`${c.topic}-${c.partition}:${c.leader}@${c.leaderEpoch}`));
  const stop = rm.onLeadershipChange('later', (c) =>
    seen.push(`${c.topic}-${c.partition}:${c.leader}@${c.leaderEpoch}`),
  );
  assert.deepEqual(seen.sort(), ['before-0:true@0', 'before-1:true@0']);
  seen.length = 0;
  await store.createTopic('later', { partitions: 1 });
  await store.createTopic('other', { partitions: 1 });
  assert.deepEqual(seen, ['later-0:true@0'], 'only the subscribed topic, once its log exists');
  await store.deleteTopic('later');
  assert.deepEqual(seen, ['later-0:true@0', 'later-0:false@0']);
  stop();
  await store.createTopic('later', { partitions: 1 });
  assert.equal(seen.length, 2, 'unsubscribed');
  rm.shutdown();
  await applier.close();
});

test('leadership events follow the image: leader at each new epoch, not leader as follower', async () => {
  const clock = new FakeClock(0);
  const meta = new MemoryCluster([1, 2]);
  const store = meta.view(1);
  const fs = new MemoryFileSystem();
  const applier = await LogApplier.open(store, '/data', {
    fs,
    clock,
    autoAdvanceHighWatermark: false,
    resolveConfig: resolveLogConfig,
  });
  const rm = new ReplicaManager(applier.logs, { clock, store });
  const seen: string[] = [];
  rm.onLeadershipChange('t', (c) => seen.push(`${c.partition}:${c.leader}@${c.leaderEpoch}`));
  rm.start();
  await meta.createTopic('t', {
    partitions: 2,
    replicas: [
      [1, 2],
      [2, 1],
    ],
  });
  assert.deepEqual(seen, ['0:true@0'], 'partition 1 is led by node 2');
  await meta.alterPartition('t', 0, 0, { isr: [2, 1], leader: 2 });
  assert.deepEqual(seen.at(-1), '0:false@1');
  const p0 = meta.image.partition('t', 0)!;
  await meta.alterPartition('t', 0, p0.partitionEpoch, { leader: 1 });
  assert.deepEqual(seen.at(-1), '0:true@2');
  await meta.alterPartition('t', 1, meta.image.partition('t', 1)!.partitionEpoch, { leader: 1 });
  assert.deepEqual(seen.at(-1), '1:true@1');
  // The replica moves off this node: no longer led here.
  await meta.alterPartition('t', 1, meta.image.partition('t', 1)!.partitionEpoch, {
    replicas: [2],
    isr: [2],
    leader: 2,
  });
  assert.deepEqual(seen.at(-1), '1:false@2');
  rm.shutdown();
  await applier.close();
});
