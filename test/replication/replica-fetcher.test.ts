import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../storage/clock.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { LogApplier } from '../../replication/log-applier.js';
import type { Partition } from '../../replication/partition.js';
import { ReplicaManager } from '../../replication/replica-manager.js';
import { localTransport, ReplicaFetcherManager, type ReplicaTransport } from '../../replication/replica-fetcher.js';
import { MemoryCluster } from '../helpers/memory-cluster.js';
import { fetchHandler } from '../../broker/handlers/01-fetch.js';
import { FetchSessionCache } from '../../broker/fetch-sessions.js';
import { defaultFetchPartition, defaultFetchRequest } from '../../protocol/generated/fetch-request.js';
import type { RequestContext } from '../../broker/handlers/registry.js';
import { logConfigResolver } from '../helpers/log-config.js';
import { QuotaManager } from '../../broker/quotas/quota-manager.js';
import { RequestQuota } from '../../broker/quotas/request-quota.js';
import { batchOf, decodeRecords } from '../storage/helpers.js';

interface Node {
  id: number;
  applier: LogApplier;
  rm: ReplicaManager;
  fetchers: ReplicaFetcherManager;
  fs: MemoryFileSystem;
}

/** 2-3 in-process nodes over one memory cluster; fetchers call the leader's replica manager directly. */
async function cluster(
  ids: number[],
  segmentBytes = 1048576,
  wrap: (t: ReplicaTransport) => ReplicaTransport = (t) => t,
) {
  const clock = new FakeClock(1000);
  const meta = new MemoryCluster(ids);
  const nodes = new Map<number, Node>();
  for (const id of ids) {
    const store = meta.view(id);
    const fs = new MemoryFileSystem();
    const applier = await LogApplier.open(store, '/data', {
      fs,
      clock,
      resolveConfig: logConfigResolver({ segmentBytes }),
      autoAdvanceHighWatermark: false,
      cleanerEnabled: false,
    });
    const rm = new ReplicaManager(applier.logs, { clock, store, replicaLagTimeMaxMs: 30000 });
    const fetchers = new ReplicaFetcherManager(rm, (leader) => wrap(localTransport(nodes.get(leader)!.rm)), clock, {
      maxWaitMs: 0,
      backoffMs: 100,
    });
    rm.followers = fetchers;
    rm.start();
    nodes.set(id, { id, applier, rm, fetchers, fs });
  }
  const node = (id: number): Node => nodes.get(id)!;
  const part = (id: number, topic = 't'): Partition => node(id).rm.getPartition(topic, 0) as Partition;
  /** One fetch round on every follower, `rounds` times (bounded). */
  const replicate = async (rounds = 1): Promise<void> => {
    for (let i = 0; i < rounds; i++) {
      for (const n of nodes.values()) for (const f of n.fetchers.all()) await f.runOnce();
    }
  };
  const close = async (): Promise<void> => {
    for (const n of nodes.values()) {
      n.rm.shutdown();
      await n.fetchers.stop();
      await n.applier.close();
    }
  };
  return { clock, meta, node, part, replicate, close };
}

/** Let pending I/O run until `cond` holds (bounded). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), what);
}

async function readAll(p: Partition): Promise<Buffer> {
  const r = await p.readLocal(p.logStartOffset, 64 * 1048576);
  return r.records;
}

test('a follower copies the leader batches byte for byte; the HW moves only once the ISR has them', async () => {
  const c = await cluster([1, 2, 3]);
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2, 3]] });
  const leader = c.part(1);
  assert.equal(leader.isLeader, true);
  assert.equal(c.part(2).isLeader, false);
  assert.equal(c.part(2).leaderId, 1);
  await c.node(1).rm.appendRecords('t', 0, batchOf(3), { requiredAcks: 1 });
  await c.node(1).rm.appendRecords('t', 0, batchOf(2, { tag: 'w' }), { requiredAcks: 1 });
  assert.equal(leader.logEndOffset, 5);
  assert.equal(leader.highWatermark, 0, 'no follower has the data yet');
  await c.replicate(1); // followers fetch the data
  assert.equal(c.part(2).logEndOffset, 5);
  assert.equal(leader.highWatermark, 0, 'the leader learns their ends from their next fetch');
  await c.replicate(1);
  assert.equal(leader.highWatermark, 5);
  await c.replicate(1);
  for (const id of [2, 3]) {
    assert.deepEqual(await readAll(c.part(id)), await readAll(leader), `node ${id} byte-identical`);
    assert.equal(c.part(id).highWatermark, 5, 'the follower learned the HW');
    assert.deepEqual(c.part(id).log.leaderEpochCache.all(), leader.log.leaderEpochCache.all());
  }
  await c.close();
});

test('acks=all completes when the ISR has the batch, and times out with REQUEST_TIMED_OUT otherwise', async () => {
  const c = await cluster([1, 2]);
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2]] });
  const rm = c.node(1).rm;
  let done: number | undefined;
  const pending = rm.appendRecords('t', 0, batchOf(2), { requiredAcks: -1, timeoutMs: 5000 }).then((r) => {
    done = r.errorCode;
    return r;
  });
  await until(() => rm.purgatory.waitingProduces === 1, 'the produce waits');
  assert.equal(done, undefined);
  await c.replicate(2);
  const r = await pending;
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(r.baseOffset, 0);
  // No replication: the wait ends at the deadline.
  const late = rm.appendRecords('t', 0, batchOf(1), { requiredAcks: -1, timeoutMs: 5000 });
  await until(() => rm.purgatory.waitingProduces === 1, 'the produce waits');
  await c.clock.advanceAndSettle(5000);
  assert.equal((await late).errorCode, ErrorCode.REQUEST_TIMED_OUT);
  assert.equal(c.part(1).logEndOffset, 3, 'the timed out batch is written');
  await c.close();
});

test('the ISR shrinks after replica.lag.time.max.ms and expands when the follower catches up', async () => {
  const c = await cluster([1, 2, 3]);
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2, 3]], configs: {} });
  const rm1 = c.node(1).rm;
  await rm1.appendRecords('t', 0, batchOf(2));
  await c.replicate(2);
  assert.equal(c.part(1).highWatermark, 2);
  // Node 3 stops fetching; node 2 keeps up.
  await c.node(3).fetchers.stop();
  c.node(3).fetchers.unfollow('t', 0);
  await rm1.appendRecords('t', 0, batchOf(3));
  for (const f of c.node(2).fetchers.all()) await f.runOnce();
  for (const f of c.node(2).fetchers.all()) await f.runOnce();
  assert.equal(c.part(1).highWatermark, 2, 'node 3 holds the HW back');
  assert.equal(rm1.shrinkIsrs(), 0, 'not lagging long enough yet');
  c.clock.advance(30001);
  for (const f of c.node(2).fetchers.all()) await f.runOnce();
  assert.equal(rm1.shrinkIsrs(), 1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([...c.meta.image.partition('t', 0)!.isr], [1, 2]);
  assert.deepEqual([...c.part(1).isr], [1, 2]);
  assert.equal(c.part(1).highWatermark, 5, 'the HW moves without node 3');
  // Node 3 fetches again and reaches the HW: it is proposed back.
  c.node(3).fetchers.follow(1, 't', 0, c.part(3).leaderEpoch);
  for (let i = 0; i < 4 && c.meta.image.partition('t', 0)!.isr.length < 3; i++) {
    for (const f of c.node(3).fetchers.all()) await f.runOnce();
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual([...c.meta.image.partition('t', 0)!.isr], [1, 2, 3]);
  assert.deepEqual(
    c.meta.alterCalls.map((a) => a.change.isr),
    [
      [1, 2],
      [1, 2, 3],
    ],
  );
  await c.close();
});

test('min.insync.replicas: NOT_ENOUGH_REPLICAS writes nothing; a later shrink gives ..._AFTER_APPEND', async () => {
  const c = await cluster([1, 2]);
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2]], configs: { 'min.insync.replicas': '2' } });
  const rm = c.node(1).rm;
  assert.equal(c.part(1).logConfig.minInsyncReplicas, 2);
  // ISR shrinks to the leader alone.
  await c.meta.alterPartition('t', 0, 0, { isr: [1] });
  await assert.rejects(rm.appendRecords('t', 0, batchOf(1), { requiredAcks: -1 }), {
    kafkaCode: ErrorCode.NOT_ENOUGH_REPLICAS,
  });
  assert.equal(c.part(1).logEndOffset, 0, 'nothing written');
  const one = await rm.appendRecords('t', 0, batchOf(1), { requiredAcks: 1 });
  assert.equal(one.errorCode, ErrorCode.NONE, 'acks=1 is not held to the minimum');
  // Back to two; an acks=all append waits; the ISR shrinks before the HW passes it.
  await c.meta.alterPartition('t', 0, 1, { isr: [1, 2] });
  const pending = rm.appendRecords('t', 0, batchOf(1), { requiredAcks: -1, timeoutMs: 60000 });
  await until(() => rm.purgatory.waitingProduces === 1, 'the produce waits');
  await c.meta.alterPartition('t', 0, 2, { isr: [1] });
  const r = await pending;
  assert.equal(r.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
  await c.close();
});

test('leader change: the old leader truncates what it wrote past the HW in its old epoch, then follows', async () => {
  const c = await cluster([1, 2]);
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2]] });
  await c.node(1).rm.appendRecords('t', 0, batchOf(2, { tag: 'a' }));
  await c.replicate(2);
  assert.equal(c.part(1).highWatermark, 2);
  // Node 1 writes 3 more records no one copies (the follower is cut off).
  await c.node(1).rm.appendRecords('t', 0, batchOf(3, { tag: 'lost' }));
  assert.equal(c.part(1).logEndOffset, 5);
  // Node 2 becomes leader at epoch 1 (ISR: node 1 dropped first, as a controller would).
  await c.meta.alterPartition('t', 0, 0, { isr: [2], leader: 2 });
  assert.equal(c.part(2).isLeader, true);
  assert.equal(c.part(2).leaderEpoch, 1);
  assert.equal(c.part(1).isLeader, false);
  await c.node(2).rm.appendRecords('t', 0, batchOf(2, { tag: 'new' }));
  // Node 1 truncates (OffsetForLeaderEpoch: epoch 0 ends at 2 on node 2), then copies epoch 1.
  await c.replicate(3);
  assert.equal(c.part(1).logEndOffset, 4);
  assert.deepEqual(await readAll(c.part(1)), await readAll(c.part(2)));
  const values = decodeRecords(await readAll(c.part(1))).map((r) => r.value?.toString());
  assert.deepEqual(values, ['a0', 'a1', 'new0', 'new1']);
  assert.deepEqual(c.part(1).log.leaderEpochCache.all(), [
    { epoch: 0, startOffset: 0 },
    { epoch: 1, startOffset: 2 },
  ]);
  // The leader's fetcher for node 1 is gone on node 2; node 1 has one for node 2.
  assert.equal(c.node(2).fetchers.fetcher(1)?.size ?? 0, 0);
  assert.equal(c.node(1).fetchers.fetcher(2)?.has('t', 0), true);
  await c.close();
});

test('a follower far behind catches up across rolled segments', async () => {
  const c = await cluster([1, 2], 2048);
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2]] });
  c.node(2).fetchers.unfollow('t', 0);
  for (let i = 0; i < 30; i++) await c.node(1).rm.appendRecords('t', 0, batchOf(2, { valueSize: 200 }));
  assert.ok(c.part(1).log.segmentCount > 5, `leader rolled (${c.part(1).log.segmentCount} segments)`);
  c.node(2).fetchers.follow(1, 't', 0, 0);
  for (let i = 0; i < 100 && c.part(2).logEndOffset < 60; i++) await c.replicate(1);
  await c.replicate(2);
  assert.equal(c.part(2).logEndOffset, 60);
  assert.deepEqual(await readAll(c.part(2)), await readAll(c.part(1)));
  assert.equal(c.part(1).highWatermark, 60);
  assert.equal(c.part(2).highWatermark, 60);
  await c.close();
});

test('behind the leader log start: the log start comes from ListOffsets and the follower restarts there', async () => {
  let asked = 0;
  // Over the network a Fetch error carries log start -1 (as Kafka's): the follower must ask for it.
  const c = await cluster([1, 2], 1048576, (t) => ({
    ...t,
    fetch: async (id, items, wait) =>
      (await t.fetch(id, items, wait)).map((d) => (d.errorCode === ErrorCode.NONE ? d : { ...d, logStartOffset: -1 })),
    logStartOffsets: (id, items) => {
      asked++;
      return t.logStartOffsets(id, items);
    },
  }));
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2]] });
  for (let i = 0; i < 10; i++) await c.node(1).rm.appendRecords('t', 0, batchOf(2));
  for (let i = 0; i < 20 && c.part(1).highWatermark < 20; i++) await c.replicate(1);
  assert.equal(c.part(1).highWatermark, 20);
  c.node(2).fetchers.unfollow('t', 0);
  await c.part(2).truncateTo(0);
  await c.part(1).deleteRecordsBefore(10);
  c.node(2).fetchers.follow(1, 't', 0, 0);
  for (let i = 0; i < 20 && c.part(2).logEndOffset < 20; i++) await c.replicate(1);
  assert.ok(asked > 0, 'the follower asked the leader for its log start');
  assert.equal(c.part(2).logStartOffset, 10);
  assert.equal(c.part(2).logEndOffset, 20);
  await c.close();
});

test('replica fetches from a non-replica or a stale epoch are refused', async () => {
  const c = await cluster([1, 2, 3]);
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2]] });
  const rm = c.node(1).rm;
  await rm.appendRecords('t', 0, batchOf(1));
  const item = { topic: 't', partition: 0, fetchOffset: 0, currentLeaderEpoch: 0, maxBytes: 1 << 20 };
  const [fromStranger] = await rm.fetchForReplica(3, [item], 0);
  assert.equal(fromStranger!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const [stale] = await rm.fetchForReplica(2, [{ ...item, currentLeaderEpoch: 7 }], 0);
  assert.equal(stale!.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  const [onFollower] = await c.node(2).rm.fetchForReplica(1, [item], 0);
  assert.equal(onFollower!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const [ok] = await rm.fetchForReplica(2, [item], 0);
  assert.equal(ok!.errorCode, ErrorCode.NONE);
  assert.ok(ok!.records.length > 0, 'a replica reads past the HW (0) up to the log end');
  assert.equal(ok!.highWatermark, 0);
  await c.close();
});

test('the Fetch handler serves replica fetches up to the log end and records the follower end (v12, v15)', async () => {
  const c = await cluster([1, 2]);
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2]] });
  c.node(2).fetchers.unfollow('t', 0);
  const rm = c.node(1).rm;
  await rm.appendRecords('t', 0, batchOf(3));
  const call = async (v: number, fetchOffset: number) => {
    const req = defaultFetchRequest();
    if (v >= 15) req.replicaState.replicaId = 2;
    else req.replicaId = 2;
    req.maxWaitMs = 0;
    req.minBytes = 1;
    req.maxBytes = 1 << 20;
    req.sessionEpoch = -1;
    const fp = defaultFetchPartition();
    fp.fetchOffset = BigInt(fetchOffset);
    fp.partitionMaxBytes = 1 << 20;
    fp.currentLeaderEpoch = 0;
    req.topics.push({ topic: 't', topicId: c.meta.image.topic('t')!.topicId, partitions: [fp] });
    // No client quotas are set (a replica fetch is exempt anyway).
    const quotas = new QuotaManager({
      source: { quotaValue: () => undefined },
      clock: c.clock,
      numSamples: 11,
      windowMs: 1000,
      mutationSamples: 11,
      mutationWindowMs: 1000,
    });
    const ctx = {
      apiVersion: v,
      quota: new RequestQuota(quotas, 'User:ANONYMOUS', 'replica', 0),
      services: {
        clock: c.clock,
        metadata: c.meta.view(1),
        fetchSessions: new FetchSessionCache(),
        partitions: rm,
        stopping: new AbortController().signal,
      },
    } as unknown as RequestContext;
    const res = await fetchHandler.handle(req, ctx);
    return res!.responses[0]!.partitions[0]!;
  };
  const first = await call(12, 0);
  assert.equal(first.errorCode, ErrorCode.NONE);
  assert.equal(first.highWatermark, 0n, 'the HW waits for the follower');
  assert.deepEqual(first.records, await readAll(c.part(1)), 'read past the HW to the log end');
  const second = await call(15, 3);
  assert.equal(second.errorCode, ErrorCode.NONE);
  assert.equal(second.highWatermark, 3n, 'the fetch at 3 told the leader the follower has everything');
  assert.equal(c.part(1).followerState(2)?.logEndOffset, 3);
  await c.close();
});

test('a transport gets the answers back (release) only once their appends are written', async () => {
  // As the network transport: records in memory of their own, which release() hands on for reuse (scribbled
  // here, so a release before the appends were written would show in the followers' logs).
  let released = 0;
  const c = await cluster([1, 2, 3], 1048576, (t) => ({
    ...t,
    fetch: async (replicaId, items, maxWaitMs) =>
      (await t.fetch(replicaId, items, maxWaitMs)).map((a) => ({ ...a, records: Buffer.from(a.records) })),
    release: (answers) => {
      for (const a of answers) if (a.records.length > 0) a.records.fill(0xee);
      released++;
    },
  }));
  await c.meta.createTopic('t', { partitions: 1, replicas: [[1, 2, 3]] });
  for (let i = 0; i < 3; i++) {
    await c.node(1).rm.appendRecords('t', 0, batchOf(2, { tag: `r${i}` }), { requiredAcks: 1 });
    await c.replicate(1);
  }
  await c.replicate(2);
  for (const id of [2, 3]) {
    assert.equal(c.part(id).logEndOffset, 6);
    assert.deepEqual(await readAll(c.part(id)), await readAll(c.part(1)), `node ${id} byte-identical`);
  }
  assert.ok(released >= 6, `every round released its answers (${released})`);
  await c.close();
});

test('one round appends every partition it fetched: a failed write on one does not hold back the others', async () => {
  const c = await cluster([1, 2]);
  await c.meta.createTopic('t', {
    partitions: 2,
    replicas: [
      [1, 2],
      [1, 2],
    ],
  });
  await c.replicate(1); // the follower's first round: epochs, nothing to copy yet
  await c.node(1).rm.appendRecords('t', 0, batchOf(2), { requiredAcks: 1 });
  await c.node(1).rm.appendRecords('t', 1, batchOf(3, { tag: 'p1' }), { requiredAcks: 1 });
  const follower = (p: number): Partition => c.node(2).rm.getPartition('t', p) as Partition;
  c.node(2).fs.failNextWrite({ path: 't-0/' });
  const fetcher = c.node(2).fetchers.fetcher(1)!;
  await fetcher.runOnce();
  assert.equal(fetcher.failures, 1, 'the round failed');
  assert.equal(follower(0).logEndOffset, 0, 't-0: its write failed');
  assert.equal(follower(1).logEndOffset, 3, 't-1 was appended in the same round');
  await c.close();
});
