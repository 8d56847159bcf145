/**
 * Coordinator ownership following partition leadership (broker/coordinator-partitions.ts), with a fake clock and
 * a fake replica manager that reports leadership: loading and unloading partitions, NOT_COORDINATOR /
 * COORDINATOR_LOAD_IN_PROGRESS per key, the group coordinator dropping a lost partition's groups (pending joins
 * answered NOT_COORDINATOR) and replaying a regained one, and the transaction coordinator using the partition's
 * leader epoch as coordinator epoch, stopping the marker writes of a lost partition and completing a loaded
 * PrepareCommit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../storage/clock.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { CoordinatorPartitions, type CoordinatorPartitionsOptions } from '../../broker/coordinator-partitions.js';
import type { LeadershipListener } from '../../replication/replica-manager.js';
import { GroupCoordinator, type JoinParams } from '../../broker/groups/coordinator.js';
import { MemoryGroupLog } from '../../broker/groups/offsets-log.js';
import { commitOffsets, fetchOffsets, listGroups } from '../../broker/groups/offsets.js';
import { offsetsPartitionFor } from '../../broker/groups/records.js';
import { TransactionCoordinator, type TxnMarker } from '../../broker/txn/coordinator.js';
import { MemoryTxnStateStore } from '../../broker/txn/state-log.js';
import { txnLogKey } from '../../broker/txn/records.js';
import { GROUP_CFG, joinParams } from '../helpers/classic-groups.js';

const PARTITIONS = 4;

/** A replica manager reduced to its leadership events. */
class FakeReplicas {
  private readonly listeners = new Set<LeadershipListener>();
  private readonly led = new Map<number, number>();
  onLeadershipChange(topic: string, l: LeadershipListener): () => void {
    this.listeners.add(l);
    for (const [partition, leaderEpoch] of this.led) l({ topic, partition, leader: true, leaderEpoch });
    return () => this.listeners.delete(l);
  }
  lead(partition: number, leaderEpoch: number): void {
    this.led.set(partition, leaderEpoch);
    for (const l of this.listeners) l({ topic: 't', partition, leader: true, leaderEpoch });
  }
  lose(partition: number): void {
    this.led.delete(partition);
    for (const l of this.listeners) l({ topic: 't', partition, leader: false, leaderEpoch: -1 });
  }
}

/** A key of `partition` (of PARTITIONS). */
function keyIn(partition: number, prefix = 'k'): string {
  for (let i = 0; i < 10_000; i++)
    if (offsetsPartitionFor(`${prefix}${i}`, PARTITIONS) === partition) return `${prefix}${i}`;
  throw new Error('no key found');
}

/** A gate a load waits on. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

const tick = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function ownership(over: Partial<CoordinatorPartitionsOptions> = {}) {
  const replicas = new FakeReplicas();
  const unloaded: number[] = [];
  const o = new CoordinatorPartitions({
    topic: 't',
    replicas,
    partitionCount: () => PARTITIONS,
    leadsAll: false,
    needsLoad: () => true,
    load: async () => undefined,
    unload: (p) => unloaded.push(p),
    ...over,
  });
  return { o, replicas, unloaded };
}

test('keys of partitions led here are coordinated once loaded; others NOT_COORDINATOR; the epoch follows', async () => {
  const g = gate();
  const { o, replicas, unloaded } = ownership({ load: () => g.wait });
  replicas.lead(1, 3);
  o.start();
  const k1 = keyIn(1);
  const k2 = keyIn(2);
  assert.equal(o.status(k1), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 'led at start: loading');
  assert.equal(o.status(k2), ErrorCode.NOT_COORDINATOR);
  assert.equal(o.anyLoading, true);
  g.open();
  await o.settled();
  assert.equal(o.status(k1), ErrorCode.NONE);
  assert.equal(o.epochOf(k1), 3);
  assert.equal(o.anyLoading, false);
  // Re-elected at a newer epoch without losing it: no reload, the epoch moves.
  replicas.lead(1, 4);
  assert.equal(o.status(k1), ErrorCode.NONE);
  assert.equal(o.epochOf(k1), 4);
  replicas.lose(1);
  assert.equal(o.status(k1), ErrorCode.NOT_COORDINATOR);
  assert.deepEqual(unloaded, [1]);
  assert.deepEqual(o.partitions, []);
});

test('an empty partition is owned at once; a load overtaken by the loss is unloaded again', async () => {
  const g = gate();
  let loads = 0;
  const { o, replicas, unloaded } = ownership({
    needsLoad: (p) => p === 0,
    load: async (_p, current) => {
      loads++;
      await g.wait;
      assert.equal(current(), false, 'the load sees it was superseded');
    },
  });
  o.start();
  replicas.lead(3, 0);
  assert.equal(o.status(keyIn(3)), ErrorCode.NONE, 'nothing to replay: owned without a loading window');
  replicas.lead(0, 1);
  assert.equal(o.status(keyIn(0)), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  await tick();
  assert.equal(loads, 1, 'the load runs');
  replicas.lose(0);
  assert.equal(o.status(keyIn(0)), ErrorCode.NOT_COORDINATOR);
  assert.deepEqual(unloaded, [0]);
  g.open();
  await o.settled();
  assert.equal(loads, 1);
  assert.deepEqual(unloaded, [0, 0], 'what the late load replayed is dropped');
  assert.equal(o.status(keyIn(0)), ErrorCode.NOT_COORDINATOR);
});

test('partitions load two at a time, in the order elected; a failed load frees its slot', async () => {
  const gates = Array.from({ length: PARTITIONS }, () => gate());
  const started: number[] = [];
  const { o, replicas } = ownership({
    load: async (p) => {
      started.push(p);
      await gates[p]!.wait;
      if (p === 0) throw new Error('unreadable');
    },
  });
  o.start();
  for (let p = 0; p < PARTITIONS; p++) replicas.lead(p, 0);
  await tick();
  assert.deepEqual(started, [0, 1], 'two loads at once');
  gates[0]!.open();
  await tick();
  assert.deepEqual(started, [0, 1, 2], 'the failed one gave its slot to the next');
  assert.equal(o.status(keyIn(0)), ErrorCode.NOT_COORDINATOR);
  assert.equal(o.status(keyIn(3)), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 'waiting for a slot: loading');
  gates[1]!.open();
  gates[2]!.open();
  gates[3]!.open();
  await o.settled();
  assert.deepEqual(started, [0, 1, 2, 3]);
  for (const p of [1, 2, 3]) assert.equal(o.status(keyIn(p)), ErrorCode.NONE);
});

test('before the topic exists nobody coordinates; a single node (leadsAll) owns every key not loading', async () => {
  let count: number | undefined;
  const cluster = ownership({ partitionCount: () => count });
  cluster.o.start();
  assert.equal(cluster.o.status('g'), ErrorCode.NOT_COORDINATOR);
  const g = gate();
  const single = ownership({ partitionCount: () => count, leadsAll: true, load: () => g.wait });
  single.o.start();
  assert.equal(single.o.status('g'), ErrorCode.NONE);
  count = PARTITIONS;
  single.replicas.lead(offsetsPartitionFor('g', PARTITIONS), 0);
  assert.equal(single.o.status('g'), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(single.o.status(keyIn((offsetsPartitionFor('g', PARTITIONS) + 1) % PARTITIONS)), ErrorCode.NONE);
  g.open();
  await single.o.settled();
  assert.equal(single.o.status('g'), ErrorCode.NONE);
});

const jp = (groupId: string, over: Partial<JoinParams> = {}): JoinParams => joinParams({ groupId, ...over });

/** A group coordinator whose partitions follow FakeReplicas; loads replay `log`'s records of the partition. */
function groupSetup() {
  const clock = new FakeClock(1_000_000);
  const log = new MemoryGroupLog();
  const byGroup: { groupId: string; key: Buffer; value: Buffer | null }[] = [];
  const store = {
    write: async (groupId: string, records: { key: Buffer; value: Buffer | null }[], ts: number) => {
      await log.write(groupId, records);
      for (const r of records) byGroup.push({ groupId, ...r });
      void ts;
    },
  };
  const c = new GroupCoordinator(GROUP_CFG, clock, store);
  const { o, replicas } = ownership({
    needsLoad: (p) => byGroup.some((r) => offsetsPartitionFor(r.groupId, PARTITIONS) === p),
    load: async (p) => {
      for (const r of byGroup) if (offsetsPartitionFor(r.groupId, PARTITIONS) === p) c.applyRecord(r.key, r.value);
    },
    loaded: (p) => c.finishLoading((id) => o.inPartition(id, p)),
    unload: (p) => c.unloadPartition(p),
  });
  c.ownership = o;
  o.start();
  return { c, clock, replicas, o };
}

test('group coordinator: a lost partition drops its groups (joins: NOT_COORDINATOR); regained: replays', async () => {
  const { c, clock, replicas, o } = groupSetup();
  const a = keyIn(0, 'group-');
  const b = keyIn(1, 'group-');
  replicas.lead(0, 1);
  assert.equal((await c.join(jp(b))).errorCode, ErrorCode.NOT_COORDINATOR, 'partition 1 is not led here');
  assert.deepEqual(
    await commitOffsets(
      c,
      {
        groupId: b,
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        partitions: [{ topic: 'x', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }],
      },
      () => 1,
    ),
    [ErrorCode.NOT_COORDINATOR],
  );
  assert.equal(fetchOffsets(c, b, null).errorCode, ErrorCode.NOT_COORDINATOR);

  // A stable one-member group in partition 0 commits offset 42.
  const joined = await c.join(jp(a));
  assert.equal(joined.errorCode, ErrorCode.NONE);
  const sync = await c.sync({
    groupId: a,
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('as') }],
  });
  assert.equal(sync.errorCode, ErrorCode.NONE);
  const commit = (offset: number) =>
    commitOffsets(
      c,
      {
        groupId: a,
        generationId: joined.generationId,
        memberId: joined.memberId,
        groupInstanceId: null,
        partitions: [{ topic: 'x', partition: 0, offset, leaderEpoch: -1, metadata: null }],
      },
      () => 1,
    );
  assert.deepEqual(await commit(42), [ErrorCode.NONE]);
  assert.deepEqual(
    listGroups(c, [], []).groups.map((g) => g.groupId),
    [a],
  );

  // A second member's join waits for the rebalance; the partition moves away: it is answered NOT_COORDINATOR.
  const pending = c.join(jp(a, { clientId: 'second' }));
  replicas.lose(0);
  assert.equal((await pending).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(c.groups.has(a), false, 'the group left memory');
  assert.equal(c.heartbeat(a, joined.memberId, null, joined.generationId), ErrorCode.NOT_COORDINATOR);
  assert.deepEqual(listGroups(c, [], []).groups, []);
  assert.equal(clock.pendingTimers, 0, 'no timer of the dropped group is left');

  // Led again: replayed from the log; the member must heartbeat within its session or is removed.
  replicas.lead(0, 2);
  await o.settled();
  assert.equal(c.status(a), ErrorCode.NONE);
  const fetched = fetchOffsets(c, a, [{ name: 'x', partitions: [0] }]);
  assert.equal(fetched.offsets[0]?.offset, 42);
  assert.equal(c.groups.get(a)?.members.size, 1);
  clock.advance(1001);
  await tick();
  assert.equal(c.groups.get(a)?.members.size, 0, 'the silent loaded member expired');
  c.shutdown();
});

const TXN_CFG = {
  maxTimeoutMs: 60_000,
  abortCheckIntervalMs: 1_000,
  idExpirationMs: 100_000,
  expireCheckIntervalMs: 10_000,
};

/** The txn coordinator's `__transaction_state` ownership over a memory store (replays the partition's ids). */
function txnOwnership(txn: TransactionCoordinator, store: MemoryTxnStateStore) {
  const own = ownership({
    needsLoad: () => true,
    load: async (p) => {
      for (const r of store.records)
        if (offsetsPartitionFor(r.transactionalId, PARTITIONS) === p)
          txn.applyRecord(txnLogKey(r.transactionalId), r.value);
    },
    loaded: (p) => void txn.finishLoading((id) => own.o.inPartition(id, p)),
    unload: (p) => txn.unloadPartition(p),
  });
  txn.ownership = own.o;
  own.o.start();
  return own;
}

test('txn coordinator: NOT_COORDINATOR off its partitions, markers at the leader epoch, unload, reload', async () => {
  const clock = new FakeClock(1_000_000);
  const store = new MemoryTxnStateStore();
  const markers: (TxnMarker & { topic: string; partition: number })[] = [];
  let pid = 1000;
  let writeMarkerHook = async (): Promise<void> => undefined;
  const txn = new TransactionCoordinator(TXN_CFG, {
    clock,
    store,
    allocateProducerId: async () => pid++,
    partitionsOf: () => 3,
    writeMarker: async (topic, partition, m) => {
      await writeMarkerHook();
      markers.push({ topic, partition, ...m });
    },
    groupPartition: async () => ({ topic: '__consumer_offsets', partition: 0 }),
  });
  const { o, replicas } = txnOwnership(txn, store);
  const id = keyIn(2, 'txn-');
  const init = { transactionalId: id, transactionTimeoutMs: 10_000, producerId: -1, producerEpoch: -1 };
  assert.equal((await txn.initProducerId(init)).errorCode, ErrorCode.NOT_COORDINATOR);
  replicas.lead(2, 7);
  await o.settled();
  const r = await txn.initProducerId(init);
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(
    await txn.addPartitions(id, r.producerId, r.producerEpoch, [{ topic: 'data', partition: 1 }]).then((c) => c[0]),
    ErrorCode.NONE,
  );
  assert.equal(await txn.endTxn(id, r.producerId, r.producerEpoch, true), ErrorCode.NONE);
  await txn.idle();
  assert.deepEqual(
    markers.map((m) => [m.topic, m.partition, m.coordinatorEpoch, m.commit]),
    [['data', 1, 7, true]],
    'the coordinator epoch is the partition leader epoch',
  );

  // The next transaction's markers fail after PrepareCommit was written; then the partition moves away.
  let failMarkers = true;
  writeMarkerHook = async () => {
    if (failMarkers) throw new Error('injected marker failure');
  };
  assert.equal((await txn.addPartitions(id, r.producerId, r.producerEpoch, [{ topic: 'data', partition: 2 }]))[0], 0);
  assert.equal(await txn.endTxn(id, r.producerId, r.producerEpoch, true), ErrorCode.NONE);
  assert.equal(txn.txns.get(id)?.state, 'PrepareCommit');
  replicas.lose(2);
  assert.equal(txn.txns.has(id), false, 'the id left memory');
  const init2 = await txn.initProducerId({ ...init, producerId: r.producerId, producerEpoch: r.producerEpoch });
  assert.equal(init2.errorCode, ErrorCode.NOT_COORDINATOR);
  failMarkers = false;
  clock.advance(1000);
  await tick();
  assert.equal(markers.length, 1, 'no retry once the partition is unloaded');

  // Led again at epoch 9 (as on a new coordinator): the loaded PrepareCommit is completed at the new epoch.
  replicas.lead(2, 9);
  await o.settled();
  await tick();
  await txn.idle();
  assert.deepEqual(
    markers.slice(1).map((m) => [m.topic, m.partition, m.coordinatorEpoch, m.commit]),
    [['data', 2, 9, true]],
  );
  assert.equal(txn.txns.get(id)?.state, 'CompleteCommit');
  txn.shutdown();
});

test('txn coordinator: losing the partition stops a held marker; the next leader completes it', async () => {
  const clock = new FakeClock(1_000_000);
  const store = new MemoryTxnStateStore();
  const markers: (TxnMarker & { topic: string; partition: number })[] = [];
  const signals: AbortSignal[] = [];
  let hold = true;
  let pid = 1000;
  const txn = new TransactionCoordinator(TXN_CFG, {
    clock,
    store,
    allocateProducerId: async () => pid++,
    partitionsOf: () => 3,
    writeMarker: async (topic, partition, m, signal) => {
      if (hold) {
        // An unreachable leader: retried until the signal fires.
        assert.ok(signal, 'a signal comes with every marker');
        signals.push(signal);
        await new Promise<void>((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        );
      }
      markers.push({ topic, partition, ...m });
    },
    groupPartition: async () => ({ topic: '__consumer_offsets', partition: 0 }),
  });
  const { o, replicas } = txnOwnership(txn, store);
  const id = keyIn(1, 'held-');
  const other = keyIn(3, 'held-');
  replicas.lead(1, 4);
  replicas.lead(3, 4);
  await o.settled();
  const r = await txn.initProducerId({
    transactionalId: id,
    transactionTimeoutMs: 10_000,
    producerId: -1,
    producerEpoch: -1,
  });
  const q = await txn.initProducerId({
    transactionalId: other,
    transactionTimeoutMs: 10_000,
    producerId: -1,
    producerEpoch: -1,
  });
  await txn.addPartitions(id, r.producerId, r.producerEpoch, [{ topic: 'data', partition: 0 }]);
  await txn.addPartitions(other, q.producerId, q.producerEpoch, [{ topic: 'data', partition: 1 }]);
  assert.equal(await txn.endTxn(id, r.producerId, r.producerEpoch, true), ErrorCode.NONE, 'answered while held');
  assert.equal(await txn.endTxn(other, q.producerId, q.producerEpoch, false), ErrorCode.NONE);
  await tick();
  assert.equal(signals.length, 2);
  assert.ok(signals.every((s) => !s.aborted));
  assert.equal(await txn.endTxn(id, r.producerId, r.producerEpoch, true), ErrorCode.CONCURRENT_TRANSACTIONS);

  // Partition 1 moves away: only its transaction's marker stops; the id leaves memory.
  replicas.lose(1);
  assert.deepEqual(
    signals.map((s) => s.aborted),
    [true, false],
  );
  await tick();
  assert.equal(txn.txns.has(id), false);
  assert.equal(await txn.endTxn(id, r.producerId, r.producerEpoch, true), ErrorCode.NOT_COORDINATOR);
  clock.advance(5000);
  await tick();
  assert.equal(markers.length, 0, 'nothing written for the lost partition');
  assert.equal(txn.txns.get(other)?.state, 'PrepareAbort', 'the other partition still waits for its marker');

  // Led again at epoch 6: the PrepareCommit read back is completed at the new coordinator epoch.
  hold = false;
  replicas.lead(1, 6);
  await o.settled();
  await tick();
  assert.deepEqual(
    markers.map((m) => [m.topic, m.partition, m.coordinatorEpoch, m.commit]),
    [['data', 0, 6, true]],
  );
  assert.equal(txn.txns.get(id)?.state, 'CompleteCommit');
  txn.shutdown();
  assert.ok(signals[1]!.aborted, 'shutdown ends the marker still held');
  await txn.idle();
  assert.equal(txn.txns.get(other)?.state, 'PrepareAbort');
});
