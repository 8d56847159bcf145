/**
 * Transaction markers in a replicated cluster: a real etcd and three in-process brokers; a topic whose three
 * partitions are led by brokers 1, 2 and 3; the transaction coordinator on broker 2 (the leader of the only
 * `__transaction_state` partition, and the only bootstrap broker of the producer). A librdkafka transactional
 * producer commits, aborts and commits again over all three partitions: broker 2 appends its own partition's
 * markers and sends the others with WriteTxnMarkers to brokers 1 and 3; read_committed consumers see exactly the
 * committed records, and every replica holds the same markers. Then the leader of partition 2 (broker 3) stops
 * and the next transactions' markers for it go to its new leader. Every wait is bounded; only 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningBroker } from '../../../broker/index.js';
import { TRANSACTION_STATE_TOPIC } from '../../../broker/txn/index.js';
import { iterateBatches, parseControlRecordKey } from '../../../protocol/records/batch.js';
import { TestCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/etcd-nodes.js';
import { run } from '../../helpers/broker-process.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/helpers/clients'));
const PY = '/usr/bin/python3';
const TOPIC = 'txn-data';
const COORDINATOR = 2;
/** Partition p is led by broker p + 1. */
const REPLICAS = [
  [1, 2, 3],
  [2, 3, 1],
  [3, 1, 2],
];

let cluster: TestCluster;
/** WriteTxnMarkers requests each broker served: [topic, partition, commit] per partition. */
const served = new Map<number, [string, number, boolean][]>();

before(async () => {
  cluster = await TestCluster.start({
    name: 'markers-test',
    onStart: (nodeId, b) => {
      served.set(nodeId, []);
      b.broker.requestObserver = (e) => {
        if (e.apiKey !== 27) return;
        const req = e.request as {
          markers: { transactionResult: boolean; topics: { name: string; partitionIndexes: number[] }[] }[];
        };
        for (const m of req.markers)
          for (const t of m.topics)
            for (const p of t.partitionIndexes) served.get(nodeId)!.push([t.name, p, m.transactionResult]);
      };
    },
  });
});

after(async () => {
  await cluster?.close();
});

/** Runs txn_markers_cluster.py (3 transactions: commit, abort, commit) through the coordinator; its RESULT. */
async function runTransactions(): Promise<{ committed_view: string[]; uncommitted_view: string[] }> {
  const coordinator = cluster.broker(COORDINATOR);
  const everyone = cluster
    .live()
    .map((b) => b.bootstrapServers)
    .join(',');
  const r = await run(
    PY,
    [join(clients, 'txn_markers_cluster.py'), coordinator.bootstrapServers, everyone, TOPIC, '3'],
    200_000,
  );
  const result = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(result, `${r.stdout.slice(-1500)}\n${r.stderr.slice(-3000)}`);
  return JSON.parse(result.slice(7)) as { committed_view: string[]; uncommitted_view: string[] };
}

/** Waits until every running broker's log of `TOPIC`-p has the same end, for each p of `partitions`. */
function waitSameEnds(partitions: number[], what: string): Promise<void> {
  return waitFor(
    () =>
      partitions.every((p) => {
        const ends = cluster.live().map((b) => b.broker.logs.getLog(TOPIC, p)!.logEndOffset);
        return ends.every((e) => e === ends[0]);
      }),
    30_000,
    what,
  );
}

/** Control batches of a partition on one broker: 'COMMIT' / 'ABORT' in log order. */
async function markersOn(b: RunningBroker, partition: number): Promise<string[]> {
  const log = b.broker.logs.getLog(TOPIC, partition)!;
  const res = await log.read(0, 1 << 22, { maxOffset: log.logEndOffset });
  const out: string[] = [];
  for (const batch of iterateBatches(res.records)) {
    if (!batch.isControl) continue;
    const [rec] = await batch.recordsArray();
    out.push(parseControlRecordKey(rec!.key).type === 1 ? 'COMMIT' : 'ABORT');
  }
  return out;
}

test('markers reach the leaders on every broker: read_committed sees exactly the committed records', {
  timeout: 240_000,
}, async () => {
  const b1 = cluster.broker(1);
  await b1.broker.metadata.createTopic(TOPIC, { partitions: 3, replicas: REPLICAS });
  // The coordinator's state log, placed on broker 2 as the coordinator would create it.
  await b1.broker.metadata.createTopic(TRANSACTION_STATE_TOPIC, {
    partitions: 1,
    replicas: [[COORDINATOR, 3, 1]],
    configs: { 'cleanup.policy': 'compact' },
  });
  await cluster.waitAll(
    (b) => {
      const img = b.broker.metadata.image;
      const data = img.partitions(TOPIC);
      return (
        data.length === 3 &&
        data.every((p) => p.leader === p.partition + 1 && p.isr.length === 3) &&
        img.partition(TRANSACTION_STATE_TOPIC, 0)?.leader === COORDINATOR
      );
    },
    30_000,
    'leaders 1, 2, 3 and the state log on broker 2',
  );

  const res = await runTransactions();
  const committed = [0, 1, 2].flatMap((p) => [`c0-${p}`, `c1-${p}`, `d-${p}`]);
  assert.deepEqual(res.committed_view.sort(), committed.sort());
  assert.deepEqual(res.uncommitted_view.sort(), [...committed, 'a-0', 'a-1', 'a-2'].sort());

  // Broker 2 wrote its own partition's markers itself; brokers 1 and 3 got theirs with WriteTxnMarkers.
  const sorted = (n: number) => served.get(n)!.map((x) => x.join(':'));
  assert.deepEqual(sorted(1), [`${TOPIC}:0:true`, `${TOPIC}:0:false`, `${TOPIC}:0:true`]);
  assert.deepEqual(sorted(3), [`${TOPIC}:2:true`, `${TOPIC}:2:false`, `${TOPIC}:2:true`]);
  assert.deepEqual(sorted(COORDINATOR), []);

  // Every replica holds the three markers, and on the leaders they no longer hold the LSO back.
  await waitSameEnds([0, 1, 2], 'replicas caught up');
  for (const [nodeId, b] of cluster.brokers) {
    for (const p of [0, 1, 2]) {
      assert.deepEqual(await markersOn(b, p), ['COMMIT', 'ABORT', 'COMMIT'], `broker ${nodeId}, partition ${p}`);
    }
  }
  for (const p of [0, 1, 2]) {
    const leader = cluster.broker(p + 1).broker.logs.getLog(TOPIC, p)!;
    assert.equal(leader.lastStableOffset, leader.logEndOffset, `partition ${p}: no open transaction`);
  }
});

test('after a leader stops, markers follow the new leader from the metadata image', { timeout: 240_000 }, async () => {
  const oldEpoch = cluster.image(3).partition(TOPIC, 2)!.leaderEpoch;
  await cluster.stopNode(3);
  await cluster.waitNewLeader(TOPIC, 2, 3, oldEpoch);
  const leader = cluster.image(COORDINATOR).partition(TOPIC, 2)!.leader;
  for (const n of [1, COORDINATOR]) served.get(n)!.length = 0;

  const res = await runTransactions();
  const once = [0, 1, 2].flatMap((p) => [`c0-${p}`, `c1-${p}`, `d-${p}`]);
  assert.deepEqual(res.committed_view.sort(), [...once, ...once].sort(), 'both runs, committed records only');

  // Partition 2's markers went to its new leader: over the network to broker 1, or appended by broker 2.
  const to1 = served.get(1)!.filter(([, p]) => p === 2).length;
  assert.equal(to1, leader === 1 ? 3 : 0, `new leader ${leader}`);
  assert.deepEqual(served.get(COORDINATOR), [], 'the coordinator never sends WriteTxnMarkers to itself');
  await waitSameEnds([2], 'partition 2 replicated');
  for (const [nodeId, b] of cluster.brokers) {
    assert.deepEqual(
      await markersOn(b, 2),
      ['COMMIT', 'ABORT', 'COMMIT', 'COMMIT', 'ABORT', 'COMMIT'],
      `broker ${nodeId}, partition 2`,
    );
  }
});
