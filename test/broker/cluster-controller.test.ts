/**
 * The controller's duties in a replicated cluster, end to end: a real etcd and three in-process brokers started
 * with `etcd.endpoints` (test/helpers/cluster.ts), driven by kafkajs and a raw client. CreateTopics /
 * CreatePartitions with replica assignments (and Kafka's refusals), DeleteTopics on every node, ElectLeaders,
 * controlled shutdown under an acks=all producer, and the preferred leader election after a broker returns
 * (leader.imbalance.check.interval.seconds = 1 here). Every wait is bounded; everything listens on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import type { RunningBroker } from '../../broker/index.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { encodeElectLeadersRequest, type ElectLeadersRequest } from '../../protocol/generated/elect-leaders-request.js';
import {
  decodeElectLeadersResponse,
  type ElectLeadersResponse,
} from '../../protocol/generated/elect-leaders-response.js';
import { NO_LEADER } from '../../replication/metadata/image.js';
import { TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/etcd-nodes.js';
import { RawClient } from '../helpers/raw-client.js';
import { call } from '../helpers/test-broker.js';

let cluster: TestCluster;
const live = (): RunningBroker[] => cluster.live();
const b = (id: number): RunningBroker => cluster.broker(id);
const kafka = (bootstrap?: RunningBroker[]): Kafka => cluster.kafka({ bootstrap });

async function withAdmin<T>(fn: (a: Admin) => Promise<T>, bootstrap?: RunningBroker[]): Promise<T> {
  const a = kafka(bootstrap).admin();
  await a.connect();
  try {
    return await fn(a);
  } finally {
    await a.disconnect();
  }
}

/** The Kafka error type names of a failed admin call (kafkajs aggregates per-topic errors). */
async function adminErrors(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    const err = e as { errors?: { type?: string }[]; type?: string };
    return err.errors ? err.errors.map((x) => x.type ?? '?') : [err.type ?? String(e)];
  }
  return [];
}

const partitionOf = (node: number, topic: string, p: number) => b(node).broker.metadata.image.partition(topic, p);

/** Waits until every running broker's image satisfies `cond` for `topic-p`. */
function waitAll(topic: string, p: number, cond: (x: ReturnType<typeof partitionOf>) => boolean, what: string) {
  return waitFor(() => live().every((x) => cond(x.broker.metadata.image.partition(topic, p))), 30_000, what);
}

async function elect(node: number, req: ElectLeadersRequest): Promise<ElectLeadersResponse> {
  const c = await RawClient.connect(b(node).port);
  try {
    return await call(c, 43, 2, encodeElectLeadersRequest, decodeElectLeadersResponse, req, 30_000);
  } finally {
    c.close();
  }
}

const results = (r: ElectLeadersResponse) =>
  r.replicaElectionResults.map((t) => [t.topic, t.partitionResult.map((p) => [p.partitionId, p.errorCode])]);

before(async () => {
  cluster = await TestCluster.start({
    name: 'cluster-controller-test',
    config: {
      'broker.session.timeout.ms': 3000,
      'leader.imbalance.check.interval.seconds': 1,
      // Only a broker leading none of what it prefers triggers it here (ElectLeaders moves one leader by hand).
      'leader.imbalance.per.broker.percentage': 50,
      'controlled.shutdown.retry.backoff.ms': 10_000,
    },
  });
});

after(async () => {
  await cluster?.close();
});

test('CreateTopics with replica assignments places replicas as asked; bad assignments get Kafka errors', async () => {
  await withAdmin(async (a) => {
    const assignment = [
      { partition: 0, replicas: [2, 3] },
      { partition: 1, replicas: [3, 1] },
    ];
    assert.deepEqual(
      await adminErrors(
        a.createTopics({
          validateOnly: true,
          waitForLeaders: false,
          topics: [{ topic: 'asg', replicaAssignment: assignment }],
        }),
      ),
      [],
    );
    assert.equal(b(1).broker.metadata.image.topic('asg'), undefined, 'validateOnly creates nothing');
    assert.equal(await a.createTopics({ topics: [{ topic: 'asg', replicaAssignment: assignment }] }), true);
    for (const [topic, replicas] of [
      ['unknown-broker', [[1, 9]]],
      ['duplicate', [[2, 2]]],
      ['unequal', [[1, 2], [3]]],
    ] as const) {
      const replicaAssignment = replicas.map((r, partition) => ({ partition, replicas: [...r] }));
      assert.deepEqual(
        await adminErrors(a.createTopics({ topics: [{ topic, replicaAssignment }] })),
        ['INVALID_REPLICA_ASSIGNMENT'],
        topic,
      );
    }
    const gap = [
      { partition: 0, replicas: [1] },
      { partition: 2, replicas: [2] },
    ];
    assert.deepEqual(await adminErrors(a.createTopics({ topics: [{ topic: 'gap', replicaAssignment: gap }] })), [
      'INVALID_REPLICA_ASSIGNMENT',
    ]);
    assert.deepEqual(
      await adminErrors(a.createTopics({ topics: [{ topic: 'rf4', numPartitions: 1, replicationFactor: 4 }] })),
      ['INVALID_REPLICATION_FACTOR'],
    );
    for (const t of ['unknown-broker', 'duplicate', 'unequal', 'gap', 'rf4'])
      assert.equal(b(1).broker.metadata.image.topic(t), undefined, `${t} not created`);
  });
  await waitFor(
    () => live().every((x) => x.broker.metadata.image.partitions('asg').length === 2),
    20_000,
    'every broker sees asg',
  );
  for (const x of live()) {
    const parts = x.broker.metadata.image.partitions('asg');
    assert.deepEqual(
      parts.map((p) => [p.replicas, p.leader]),
      [
        [[2, 3], 2],
        [[3, 1], 3],
      ],
    );
  }
  // Logs exist on exactly the assigned replicas.
  await waitFor(
    () =>
      existsSync(join(b(2).dataDir, 'asg-0')) &&
      existsSync(join(b(3).dataDir, 'asg-0')) &&
      existsSync(join(b(3).dataDir, 'asg-1')) &&
      existsSync(join(b(1).dataDir, 'asg-1')),
    20_000,
    'asg logs on their replicas',
  );
  assert.equal(existsSync(join(b(1).dataDir, 'asg-0')), false);
  assert.equal(existsSync(join(b(2).dataDir, 'asg-1')), false);
});

test('CreatePartitions with assignments, wrong counts and sizes refused; DeleteTopics on every replica', async () => {
  await withAdmin(async (a) => {
    assert.deepEqual(
      await adminErrors(a.createPartitions({ topicPartitions: [{ topic: 'asg', count: 4, assignments: [[1, 2]] }] })),
      ['INVALID_REPLICA_ASSIGNMENT'],
      'one assignment for two new partitions',
    );
    assert.deepEqual(
      await adminErrors(
        a.createPartitions({ topicPartitions: [{ topic: 'asg', count: 3, assignments: [[1, 2, 3]] }] }),
      ),
      ['INVALID_REPLICA_ASSIGNMENT'],
      'three replicas where the topic has two',
    );
    assert.deepEqual(
      await adminErrors(a.createPartitions({ topicPartitions: [{ topic: 'asg', count: 3, assignments: [[1, 7]] }] })),
      ['INVALID_REPLICA_ASSIGNMENT'],
      'unknown broker',
    );
    await a.createPartitions({ topicPartitions: [{ topic: 'asg', count: 3, assignments: [[1, 2]] }] });
  });
  await waitFor(
    () => live().every((x) => x.broker.metadata.image.partitions('asg').length === 3),
    20_000,
    'every broker sees asg-2',
  );
  assert.deepEqual(b(3).broker.metadata.image.partition('asg', 2)?.replicas, [1, 2]);
  await waitFor(
    () => existsSync(join(b(1).dataDir, 'asg-2')) && existsSync(join(b(2).dataDir, 'asg-2')),
    20_000,
    'asg-2 logs on 1 and 2',
  );
  assert.equal(existsSync(join(b(3).dataDir, 'asg-2')), false);

  await withAdmin((a) => a.deleteTopics({ topics: ['asg'] }));
  const leftovers = (): string[] =>
    live().flatMap((x) =>
      readdirSync(x.dataDir)
        .filter((d) => d.startsWith('asg-'))
        .map((d) => `${x.dataDir}/${d}`),
    );
  await waitFor(() => leftovers().length === 0, 20_000, `asg directories removed on every node (${leftovers()})`);
  for (const x of live()) assert.equal(x.broker.metadata.image.topic('asg'), undefined);
});

test('ElectLeaders: PREFERRED moves leadership back to the first replica; not needed; unknown partitions', async () => {
  const assignment = Array.from({ length: 4 }, (_, partition) => ({ partition, replicas: [1, 2, 3] }));
  await withAdmin((a) => a.createTopics({ topics: [{ topic: 'el', replicaAssignment: assignment }] }));
  await waitAll('el', 0, (p) => p?.leader === 1 && p.isr.length === 3, 'el-0 led by 1, all in sync');
  await waitAll('el', 2, (p) => p?.leader === 1 && p.isr.length === 3, 'el-2 led by 1, all in sync');
  const before = partitionOf(1, 'el', 0)!;
  // Lead el-0 and el-2 from replica 2 (by-hand CAS writes, as a reassignment tool might leave them).
  await b(1).broker.metadata.alterPartition('el', 0, before.partitionEpoch, { leader: 2 });
  await b(1).broker.metadata.alterPartition('el', 2, partitionOf(1, 'el', 2)!.partitionEpoch, { leader: 2 });
  await waitAll('el', 0, (p) => p?.leader === 2, 'el-0 led by 2');
  await waitAll('el', 2, (p) => p?.leader === 2, 'el-2 led by 2');
  const deltas: number[][] = [];
  const unsubscribe = b(3).broker.metadata.subscribe((d) => {
    const parts = d.changes.flatMap((c) =>
      c.type === 'partition-changed' && c.topic.name === 'el' ? [c.partition.partition] : [],
    );
    if (parts.length) deltas.push(parts);
  });
  const res = await elect(3, {
    electionType: 0,
    timeoutMs: 30_000,
    topicPartitions: [
      { topic: 'el', partitions: [0, 1, 2, 9] },
      { topic: 'nope', partitions: [0] },
    ],
  });
  unsubscribe();
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.deepEqual(results(res), [
    [
      'el',
      [
        [0, ErrorCode.NONE],
        [1, ErrorCode.ELECTION_NOT_NEEDED],
        [2, ErrorCode.NONE],
        [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    ],
    ['nope', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
  ]);
  assert.equal(partitionOf(3, 'el', 0)?.leader, 1, 'the receiving broker sees the new leader when it answers');
  assert.equal(partitionOf(3, 'el', 2)?.leader, 1);
  assert.deepEqual(deltas, [[0, 2]], 'both elections published as one batch (one delta)');
  await waitAll('el', 0, (p) => p?.leader === 1 && p.leaderEpoch === before.leaderEpoch + 2, 'el-0 led by 1 again');
  // Unclean: every partition has a live leader.
  const unclean = await elect(2, {
    electionType: 1,
    timeoutMs: 30_000,
    topicPartitions: [{ topic: 'el', partitions: [0] }],
  });
  assert.deepEqual(results(unclean), [['el', [[0, ErrorCode.ELECTION_NOT_NEEDED]]]]);
  // All partitions (null): nothing to elect, so nothing reported.
  const all = await elect(1, { electionType: 0, timeoutMs: 30_000, topicPartitions: null });
  assert.deepEqual(
    all.replicaElectionResults.flatMap((t) => t.partitionResult),
    [],
  );
});

test('controlled shutdown: leadership moves before the broker closes; an acks=all producer sees no error', async () => {
  const assignment = [
    { partition: 0, replicas: [3, 1, 2] },
    { partition: 1, replicas: [3, 2, 1] },
    { partition: 2, replicas: [1, 2, 3] },
  ];
  await withAdmin((a) => a.createTopics({ topics: [{ topic: 'cs', replicaAssignment: assignment }] }));
  for (let p = 0; p < 3; p++) await waitAll('cs', p, (x) => x?.isr.length === 3, `cs-${p} fully in sync`);
  const epochs = [0, 1].map((p) => partitionOf(1, 'cs', p)!.leaderEpoch);
  // What broker 1 sees, in order: cs leaders moving off 3 and 3 leaving ISRs, then 3's registration going.
  const seen: string[] = [];
  const off = b(1).broker.metadata.subscribe((d) => {
    for (const c of d.changes) {
      if (c.type === 'partition-changed' && c.topic.name === 'cs')
        seen.push(`cs-${c.partition.partition} leader ${c.partition.leader} isr ${c.partition.isr.join(',')}`);
      if (c.type === 'broker-fenced') seen.push(`fenced ${c.broker.nodeId}`);
    }
  });
  const producer = kafka([b(1), b(2)]).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const sent: string[] = [];
  const errors: string[] = [];
  let stopProducing = false;
  const loop = (async () => {
    for (let i = 0; i < 100_000 && !stopProducing; i++) {
      const value = `cs-value-${i}-end`;
      try {
        await producer.send({ topic: 'cs', acks: -1, messages: [{ partition: i % 3, value }] });
        sent.push(value);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  })();
  try {
    await waitFor(() => sent.length >= 30, 30_000, 'the producer is producing');
    await cluster.stopNode(3);
    const atStop = sent.length;
    await waitFor(() => sent.length >= atStop + 30 || errors.length > 0, 30_000, 'the producer goes on');
  } finally {
    stopProducing = true;
    await loop;
    await producer.disconnect();
    off();
  }
  assert.deepEqual(errors, [], 'no error reached the producer');
  const fenced = seen.indexOf('fenced 3');
  assert.ok(fenced >= 0, `broker 3's registration went (${seen})`);
  const moved0 = seen.findIndex((s) => s.startsWith('cs-0 leader 1 isr 1,2'));
  const moved1 = seen.findIndex((s) => s.startsWith('cs-1 leader 2 isr 2,1'));
  const left2 = seen.indexOf('cs-2 leader 1 isr 1,2');
  assert.ok(moved0 >= 0 && moved0 < fenced, `cs-0 moved to 1 before 3 went: ${seen}`);
  assert.ok(moved1 >= 0 && moved1 < fenced, `cs-1 moved to 2 before 3 went: ${seen}`);
  assert.ok(left2 >= 0 && left2 < fenced, `3 left cs-2's ISR before it went: ${seen}`);
  assert.equal(partitionOf(1, 'cs', 0)!.leaderEpoch, epochs[0] + 1);
  assert.equal(partitionOf(1, 'cs', 1)!.leaderEpoch, epochs[1] + 1);

  // Nothing acknowledged is lost: every value is in its partition below the high watermark, at the leader.
  for (let p = 0; p < 3; p++) {
    const { bytes } = await cluster.logBytes(partitionOf(1, 'cs', p)!.leader, 'cs', p, 'hw');
    const missing = sent.filter((v) => Number(v.split('-')[2]) % 3 === p && !bytes.includes(Buffer.from(v)));
    assert.deepEqual(missing, [], `cs-${p} has every acknowledged record`);
  }
});

test('with broker 3 down: PREFERRED not available, UNCLEAN elects a live replica or finds none', async () => {
  const pref = await elect(1, {
    electionType: 0,
    timeoutMs: 30_000,
    topicPartitions: [{ topic: 'cs', partitions: [0] }],
  });
  assert.deepEqual(results(pref), [['cs', [[0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]]]]);
  await withAdmin((a) =>
    a.createTopics({
      topics: [
        {
          topic: 'u',
          replicaAssignment: [
            { partition: 0, replicas: [1, 3] },
            { partition: 1, replicas: [1, 3] },
          ],
        },
      ],
    }),
  );
  await waitAll('u', 1, (p) => p?.leader === 1, 'u-1 led by 1');
  // u-0: offline with only the lost broker 3 in sync; u-1: only broker 3 as replica (by-hand CAS writes).
  const u0 = partitionOf(1, 'u', 0)!;
  await b(1).broker.metadata.alterPartition('u', 0, u0.partitionEpoch, { leader: NO_LEADER, isr: [3] });
  const u1 = partitionOf(1, 'u', 1)!;
  await b(1).broker.metadata.alterPartition('u', 1, u1.partitionEpoch, { replicas: [3], isr: [3], leader: NO_LEADER });
  await waitAll('u', 1, (p) => p?.leader === NO_LEADER && p.replicas.length === 1, 'u-1 offline on 3');
  const res = await elect(2, {
    electionType: 1,
    timeoutMs: 30_000,
    topicPartitions: [{ topic: 'u', partitions: [0, 1] }],
  });
  assert.deepEqual(results(res), [
    [
      'u',
      [
        [0, ErrorCode.NONE],
        [1, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE],
      ],
    ],
  ]);
  const after0 = partitionOf(2, 'u', 0)!;
  assert.deepEqual([after0.leader, after0.isr], [1, [1]]);
});

test('preferred leader election: a returning broker leads its preferred partitions again', async () => {
  const before = [0, 1].map((p) => partitionOf(1, 'cs', p)!);
  assert.deepEqual(
    before.map((p) => p.leader),
    [1, 2],
  );
  await cluster.startNode(3);
  await waitAll('cs', 0, (p) => p?.leader === 3 && p.isr.includes(3), 'cs-0 led by 3 again');
  await waitAll('cs', 1, (p) => p?.leader === 3 && p.isr.includes(3), 'cs-1 led by 3 again');
  assert.equal(partitionOf(3, 'cs', 0)!.leaderEpoch, before[0].leaderEpoch + 1);
  assert.equal(partitionOf(3, 'cs', 2)!.leader, 1, 'cs-2 stays with its preferred replica');
});
