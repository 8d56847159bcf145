/**
 * Partition reassignment (KIP-455) in a replicated cluster: a real etcd and three in-process brokers started
 * with `etcd.endpoints`, driven by kafkajs (alter, list, produce, consume) and by raw requests where kafkajs
 * cannot go (cancel, per-partition errors). Catch-up is made slow enough to observe by filling the partitions
 * with small batches first and keeping replica.fetch.max.bytes small. Every wait is bounded; 127.0.0.1 only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { RunningBroker } from '../../broker/index.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import {
  type AlterPartitionReassignmentsRequestReassignableTopic,
  encodeAlterPartitionReassignmentsRequest,
} from '../../protocol/generated/alter-partition-reassignments-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeAlterPartitionReassignmentsResponse,
} from '../../protocol/generated/alter-partition-reassignments-response.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  encodeListPartitionReassignmentsRequest,
} from '../../protocol/generated/list-partition-reassignments-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeListPartitionReassignmentsResponse,
} from '../../protocol/generated/list-partition-reassignments-response.js';
import { iterateBatches } from '../../protocol/records/batch.js';
import { RawClient } from '../helpers/raw-client.js';
import { call } from '../helpers/test-broker.js';
import { waitFor } from '../helpers/etcd-nodes.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
const all = (): RunningBroker[] => cluster.live();
const node = (id: number): RunningBroker => cluster.broker(id);
const kafka = (): Kafka => cluster.kafka();

before(async () => {
  cluster = await TestCluster.start({
    name: 'reassign-test',
    config: { 'replica.fetch.max.bytes': 16384 },
    retries: 15,
  });
});

after(async () => {
  await cluster?.close();
});

/** Creates `topic` (one partition on [1, 2]) and fills it with `batches` acks=1 batches of 16 x 1 KiB. */
async function createFilled(k: Kafka, topic: string, batches: number): Promise<void> {
  const admin = k.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [1, 2] }] }] });
  } finally {
    await admin.disconnect();
  }
  await waitFor(() => all().every((b) => b.broker.metadata.image.topic(topic)), 20_000, `every broker sees ${topic}`);
  const producer = k.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const value = Buffer.alloc(1024, 'x');
    for (let i = 0; i < batches; i++)
      await producer.send({ topic, acks: 1, messages: Array.from({ length: 16 }, () => ({ key: 'fill', value })) });
  } finally {
    await producer.disconnect();
  }
}

/** The partition's registration as broker `id` sees it. */
const state = (id: number, topic: string) => node(id).broker.metadata.image.partition(topic, 0)!;

const settled = (topic: string, replicas: number[]) => () =>
  all().every((b) => {
    const p = b.broker.metadata.image.partition(topic, 0)!;
    return JSON.stringify(p.replicas) === JSON.stringify(replicas) && !p.addingReplicas && !p.removingReplicas;
  });

/** Whether broker `id` holds a log (open, or its directory) of `topic`-0. */
function hasLog(id: number, topic: string): boolean {
  const b = node(id);
  return (
    b.broker.replicaManager.getPartition(topic, 0) !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ||
    existsSync(join(b.dataDir, `${topic}-0`))
  );
}

/** The bytes of `topic`-0's log on broker `id`, log start to log end. */
async function logBytes(id: number, topic: string): Promise<Buffer> {
  return (await cluster.logBytes(id, topic, 0)).bytes;
}

/** The values of the records in `bytes` (v2 batches), in offset order. */
async function values(bytes: Buffer): Promise<string[]> {
  const out: string[] = [];
  for (const batch of iterateBatches(bytes)) for await (const r of batch.records()) out.push(r.value?.toString() ?? '');
  return out;
}

async function raw<T>(id: number, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(node(id).port);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

async function alterRaw(id: number, topics: AlterPartitionReassignmentsRequestReassignableTopic[], opts = {}) {
  return raw(id, async (c) => {
    const res = await call(
      c,
      45,
      1,
      encodeAlterPartitionReassignmentsRequest,
      decodeAlterPartitionReassignmentsResponse,
      { timeoutMs: 30_000, allowReplicationFactorChange: true, topics, ...opts },
      40_000,
    );
    return res.responses.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode]));
  });
}

async function listRaw(id: number, topics: Array<{ name: string; partitionIndexes: number[] }> | null) {
  return raw(id, async (c) => {
    const res = await call(
      c,
      46,
      0,
      encodeListPartitionReassignmentsRequest,
      decodeListPartitionReassignmentsResponse,
      {
        timeoutMs: 10_000,
        topics,
      },
    );
    assert.equal(res.errorCode, 0);
    return res.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => [p.partitionIndex, p.replicas, p.addingReplicas, p.removingReplicas]),
    }));
  });
}

test('reassign [1,2] -> [2,3] under acks=all produce: listed while running, then [2,3]; 1 drops its log', async () => {
  const TOPIC = 'moving';
  const k = kafka();
  await createFilled(k, TOPIC, 200);
  assert.deepEqual(state(1, TOPIC).replicas, [1, 2]);
  assert.equal(hasLog(3, TOPIC), false);

  // An idempotent acks=all producer sends numbered records, one small batch after another, until stopped.
  const acked: string[] = [];
  let stop = false;
  const producer = k.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const running = (async () => {
    for (let n = 0; n < 5000 && !stop; n++) {
      const values = [0, 1, 2].map((j) => `r${n * 3 + j}`);
      await producer.send({ topic: TOPIC, acks: -1, timeout: 30_000, messages: values.map((value) => ({ value })) });
      acked.push(...values);
    }
  })();
  try {
    await waitFor(() => acked.length >= 30, 30_000, 'the producer runs');
    const admin = k.admin();
    await admin.connect();
    try {
      await admin.alterPartitionReassignments({
        topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [2, 3] }] }],
      });
      const listed = await admin.listPartitionReassignments({});
      assert.deepEqual(listed.topics as unknown, [
        // kafkajs 2.2 decodes the topics as { name, partitions: [{ partition, ... }] } despite its typings.
        {
          name: TOPIC,
          partitions: [{ partition: 0, replicas: [2, 3, 1], addingReplicas: [3], removingReplicas: [1] }],
        },
      ]);
      // Metadata shows the full replica set while it runs, as Kafka.
      const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
      assert.deepEqual(md.topics[0].partitions[0].replicas, [2, 3, 1]);
      await waitFor(settled(TOPIC, [2, 3]), 60_000, 'the reassignment completes on every broker');
      assert.deepEqual(await admin.listPartitionReassignments({}), { topics: [] });
    } finally {
      await admin.disconnect();
    }
    await waitFor(() => acked.length >= 60 + 30, 30_000, 'the producer goes on after the move');
  } finally {
    stop = true;
    await running.finally(() => producer.disconnect());
  }

  const after = state(2, TOPIC);
  assert.deepEqual([after.replicas, after.leader, [...after.isr].sort()], [[2, 3], 2, [2, 3]]);
  assert.ok(after.leaderEpoch >= 1, 'the leader moved: epoch bumped');
  await waitFor(() => !hasLog(1, TOPIC), 20_000, 'node 1 deleted its log');

  // Every acknowledged record is there once and in order, byte-identical on 2 and 3.
  await waitFor(
    () => {
      const a = node(2).broker.replicaManager.getPartition(TOPIC, 0);
      const b = node(3).broker.replicaManager.getPartition(TOPIC, 0);
      return typeof a !== 'number' && typeof b !== 'number' && a.logEndOffset === b.logEndOffset;
    },
    30_000,
    'node 3 caught up',
  );
  assert.ok((await logBytes(2, TOPIC)).equals(await logBytes(3, TOPIC)), 'logs of 2 and 3 are identical');
  const seen = await values(await logBytes(2, TOPIC));
  assert.equal(seen.filter((v) => v === 'x'.repeat(1024)).length, 200 * 16, 'the fill records are all there');
  // Every send was acknowledged (a failed one fails the producer loop): each record once, in order.
  assert.deepEqual(
    seen.filter((v) => v.startsWith('r')),
    acked,
  );
});

test('cancel a running reassignment: back to the original replicas; the added replica drops its log', async () => {
  const TOPIC = 'cancelled';
  await createFilled(kafka(), TOPIC, 300);
  const target = [{ name: TOPIC, partitions: [{ partitionIndex: 0, replicas: [2, 3] }] }];
  assert.deepEqual(await alterRaw(2, target), [[TOPIC, 0, ErrorCode.NONE]]);
  // Any broker lists it, for all topics and for the named partition; other names are left out.
  assert.deepEqual(
    await listRaw(3, [
      { name: TOPIC, partitionIndexes: [0, 1] },
      { name: 'nope', partitionIndexes: [0] },
    ]),
    [{ name: TOPIC, partitions: [[0, [2, 3, 1], [3], [1]]] }],
  );
  assert.deepEqual(await alterRaw(1, [{ name: TOPIC, partitions: [{ partitionIndex: 0, replicas: null }] }]), [
    [TOPIC, 0, ErrorCode.NONE],
  ]);
  // Kafka's revert keeps the current order of the original replicas: [2, 1]; leader 1 stays.
  await waitFor(settled(TOPIC, [2, 1]), 20_000, 'cancelled on every broker');
  assert.equal(state(1, TOPIC).leader, 1);
  assert.deepEqual(await listRaw(1, null), []);
  await waitFor(() => !hasLog(3, TOPIC), 20_000, 'node 3 deleted its log');
  assert.deepEqual(await alterRaw(1, [{ name: TOPIC, partitions: [{ partitionIndex: 0, replicas: null }] }]), [
    [TOPIC, 0, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS],
  ]);
});

test('errors per partition as Kafka; a request out of time answers REQUEST_TIMED_OUT', async () => {
  const TOPIC = 'moving';
  const p = (partitionIndex: number, replicas: number[] | null) => ({ partitionIndex, replicas });
  assert.deepEqual(
    await alterRaw(3, [
      { name: TOPIC, partitions: [p(0, [2, 9]), p(0, [2, 2]), p(0, []), p(4, [1, 2]), p(0, [3, 2])] },
      { name: 'nope', partitions: [p(0, [1])] },
    ]),
    [
      [TOPIC, 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      [TOPIC, 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      [TOPIC, 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      [TOPIC, 4, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [TOPIC, 0, ErrorCode.NONE],
      ['nope', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ],
  );
  // [3, 2] only reorders the replicas: no data moves, done at once.
  await waitFor(settled(TOPIC, [3, 2]), 20_000, 'reordered on every broker');
  assert.deepEqual(
    await alterRaw(1, [{ name: TOPIC, partitions: [p(0, [1, 2, 3])] }], { allowReplicationFactorChange: false }),
    [[TOPIC, 0, ErrorCode.INVALID_REPLICATION_FACTOR]],
  );
  assert.deepEqual(await alterRaw(1, [{ name: TOPIC, partitions: [p(0, [1, 2])] }], { timeoutMs: 0 }), [
    [TOPIC, 0, ErrorCode.REQUEST_TIMED_OUT],
  ]);
  assert.deepEqual(state(1, TOPIC).replicas, [3, 2], 'nothing written');
});
