/**
 * Client routing in a replicated cluster (real etcd, three in-process brokers in racks r1, r2, r3 with the
 * rack-aware replica selector; test/helpers/cluster.ts): NOT_LEADER_OR_FOLLOWER on every leader-only API with
 * KIP-951 hints, kafkajs re-routing from a bootstrap of one non-replica, KIP-392 fetching from the client's
 * rack, DescribeLogDirs per broker, OffsetForLeaderEpoch across a leader change and the
 * replication-offset-checkpoint of a clean stop. Every wait is bounded; everything listens on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { RunningBroker } from '../../broker/index.js';
import type { RequestEvent } from '../../broker/connection.js';
import { TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/etcd-nodes.js';
import { call } from '../helpers/test-broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { defaultProduceRequest, encodeProduceRequest } from '../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../protocol/generated/produce-response.js';
import { defaultFetchRequest, encodeFetchRequest, type FetchRequest } from '../../protocol/generated/fetch-request.js';
import { decodeFetchResponse } from '../../protocol/generated/fetch-response.js';
import { encodeListOffsetsRequest } from '../../protocol/generated/list-offsets-request.js';
import { decodeListOffsetsResponse } from '../../protocol/generated/list-offsets-response.js';
import { encodeDeleteRecordsRequest } from '../../protocol/generated/delete-records-request.js';
import { decodeDeleteRecordsResponse } from '../../protocol/generated/delete-records-response.js';
import { encodeOffsetForLeaderEpochRequest } from '../../protocol/generated/offset-for-leader-epoch-request.js';
import { decodeOffsetForLeaderEpochResponse } from '../../protocol/generated/offset-for-leader-epoch-response.js';
import { encodeDescribeLogDirsRequest } from '../../protocol/generated/describe-log-dirs-request.js';
import { decodeDescribeLogDirsResponse } from '../../protocol/generated/describe-log-dirs-response.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import { RACK_AWARE_REPLICA_SELECTOR } from '../../replication/replica-selector.js';
import { REPLICATION_OFFSET_CHECKPOINT } from '../../replication/hw-checkpoint.js';

/** 1 partition on brokers 1 and 2 (leader 1); broker 3 hosts no replica. */
const ROUTED = 'routed';
/** 1 partition on all three (leader 1, rack r1). */
const RACKED = 'racked';

let cluster: TestCluster;
const clients: RawClient[] = [];
/** Consumer fetches (replica id -1) answered with records of RACKED, per broker. */
const consumerFetches = new Map<number, number>();

const b = (id: number): RunningBroker => cluster.broker(id);
const kafka = (bootstrap: RunningBroker[]): Kafka => cluster.kafka({ bootstrap });

async function client(id: number): Promise<RawClient> {
  const c = await RawClient.connect(b(id).port);
  clients.push(c);
  return c;
}

function countFetches(nodeId: number, e: RequestEvent): void {
  if (e.apiKey !== 1) return;
  const req = e.request as FetchRequest;
  const replicaId = e.apiVersion >= 15 ? req.replicaState.replicaId : req.replicaId;
  if (replicaId >= 0) return;
  const res = e.response as { responses: { topic: string; partitions: { records: Buffer | null }[] }[] } | null;
  const got = res?.responses.some((t) => t.topic === RACKED && t.partitions.some((p) => (p.records?.length ?? 0) > 0));
  if (got) consumerFetches.set(nodeId, (consumerFetches.get(nodeId) ?? 0) + 1);
}

before(async () => {
  cluster = await TestCluster.start({
    name: 'routing-test',
    config: {
      'replica.selector.class': RACK_AWARE_REPLICA_SELECTOR,
      'broker.session.timeout.ms': 3000,
      'offsets.topic.replication.factor': 3,
    },
    nodeConfig: (nodeId) => ({ 'broker.rack': `r${nodeId}` }),
    onStart: (nodeId, x) => {
      x.broker.requestObserver = (e) => countFetches(nodeId, e);
    },
  });
  const admin = kafka([b(1)]).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        { topic: ROUTED, replicaAssignment: [{ partition: 0, replicas: [1, 2] }] },
        { topic: RACKED, replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }] },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  await cluster.waitAll(
    (x) => {
      const img = x.broker.metadata.image;
      return img.partition(ROUTED, 0)?.leader === 1 && img.partition(RACKED, 0)?.leader === 1;
    },
    20_000,
    'every broker sees both topics led by broker 1',
  );
});

after(async () => {
  for (const c of clients) c.close();
  await cluster?.close();
});

async function produceRaw(c: RawClient, v: number, topic: string, n: number, acks = -1) {
  const r = defaultProduceRequest();
  r.acks = acks;
  r.timeoutMs = 10_000;
  const records = await buildRecordBatch(Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
  r.topicData = [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }];
  return call(c, 0, v, encodeProduceRequest, decodeProduceResponse, r);
}

function fetchReq(topic: string, offset: bigint, epoch = -1, rackId = ''): FetchRequest {
  const r = defaultFetchRequest();
  r.maxWaitMs = 0;
  r.rackId = rackId;
  r.topics = [
    {
      topic,
      topicId: b(1).broker.metadata.image.topic(topic)!.topicId,
      partitions: [
        {
          partition: 0,
          currentLeaderEpoch: epoch,
          fetchOffset: offset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: 1 << 20,
          replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
          highWatermark: 0n,
        },
      ],
    },
  ];
  return r;
}

const fetch = (c: RawClient, v: number, req: FetchRequest) =>
  call(c, 1, v, encodeFetchRequest, decodeFetchResponse, req);

test('non-leaders answer NOT_LEADER_OR_FOLLOWER; Produce v10+ and Fetch v16+ name the leader (KIP-951)', async () => {
  const reg = b(1).broker.metadata.image.partition(ROUTED, 0)!;
  const leaderPort = b(1).port;
  const follower = await client(2);
  const outsider = await client(3);
  for (const [name, c] of [
    ['follower', follower],
    ['non-replica', outsider],
  ] as const) {
    const old = await produceRaw(c, 9, ROUTED, 1);
    assert.equal(old.responses[0].partitionResponses[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, `${name} v9`);
    const res = await produceRaw(c, 11, ROUTED, 1);
    const p = res.responses[0].partitionResponses[0];
    assert.equal(p.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, name);
    assert.deepEqual(p.currentLeader, { leaderId: 1, leaderEpoch: reg.leaderEpoch }, name);
    assert.deepEqual(
      res.nodeEndpoints.map((e) => [e.nodeId, e.host, e.port, e.rack]),
      [[1, '127.0.0.1', leaderPort, 'r1']],
      name,
    );
  }
  assert.equal(b(2).broker.logs.getLog(ROUTED, 0)!.logEndOffset, 0, 'nothing written on the follower');

  // Fetch: a consumer before v11 (no KIP-392) only reads from the leader; the non-replica never serves.
  const v10 = await fetch(follower, 10, fetchReq(ROUTED, 0n));
  assert.equal(v10.responses[0].partitions[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const out = await fetch(outsider, 16, fetchReq(ROUTED, 0n));
  const op = out.responses[0].partitions[0];
  assert.equal(op.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.deepEqual(op.currentLeader, { leaderId: 1, leaderEpoch: reg.leaderEpoch });
  assert.deepEqual(
    out.nodeEndpoints.map((e) => [e.nodeId, e.port]),
    [[1, leaderPort]],
  );
  // A fenced epoch at v16 names the leader too; at v15 there is no NodeEndpoints.
  const stale = reg.leaderEpoch - 1;
  if (stale >= 0) {
    const fenced = await fetch(follower, 16, fetchReq(ROUTED, 0n, stale));
    assert.equal(fenced.responses[0].partitions[0].errorCode, ErrorCode.FENCED_LEADER_EPOCH);
    assert.equal(fenced.responses[0].partitions[0].currentLeader.leaderId, 1);
  }
  const newer = await fetch(follower, 16, fetchReq(ROUTED, 0n, reg.leaderEpoch + 1));
  assert.equal(newer.responses[0].partitions[0].errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);

  // ListOffsets, DeleteRecords and OffsetForLeaderEpoch (from a consumer) only on the leader.
  for (const c of [follower, outsider]) {
    const lo = await call(c, 2, 7, encodeListOffsetsRequest, decodeListOffsetsResponse, {
      replicaId: -1,
      isolationLevel: 0,
      timeoutMs: 0,
      topics: [
        { name: ROUTED, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] },
      ],
    });
    assert.equal(lo.topics[0].partitions[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const dr = await call(c, 21, 2, encodeDeleteRecordsRequest, decodeDeleteRecordsResponse, {
      timeoutMs: 1000,
      topics: [{ name: ROUTED, partitions: [{ partitionIndex: 0, offset: 0n }] }],
    });
    assert.equal(dr.topics[0].partitions[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const oe = await call(c, 23, 4, encodeOffsetForLeaderEpochRequest, decodeOffsetForLeaderEpochResponse, {
      replicaId: -1,
      topics: [{ topic: ROUTED, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: reg.leaderEpoch }] }],
    });
    assert.equal(oe.topics[0].partitions[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  }
});

test('kafkajs bootstrapped on a non-replica produces to and consumes from the leader', async () => {
  const k = kafka([b(3)]);
  const producer = k.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const before = b(1).broker.logs.getLog(ROUTED, 0)!.logEndOffset;
  try {
    for (let i = 0; i < 20; i += 5) {
      await producer.send({
        topic: ROUTED,
        acks: -1,
        messages: Array.from({ length: 5 }, (_, j) => ({ key: `r${i + j}`, value: `routed-${i + j}` })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  assert.equal(b(1).broker.logs.getLog(ROUTED, 0)!.logEndOffset, before + 20);
  const consumer = k.consumer({ groupId: 'routing-test-g1', maxWaitTimeInMs: 200 });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: ROUTED, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const v = message.value?.toString() ?? '';
        if (v.startsWith('routed-')) seen.push(v);
      },
    });
    await waitFor(() => seen.length >= 20, 60_000, 'the consumer reads the 20 records');
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 20 }, (_, i) => `routed-${i}`),
  );
});

test('KIP-392: the leader points a consumer to its rack, the follower serves up to its HW', async () => {
  const leader = await client(1);
  const res = await produceRaw(leader, 11, RACKED, 30);
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
  await waitFor(() => hwOf(3) === 30, 20_000, 'broker 3 knows HW 30');
  // The leader's view of follower 3 reaches offset 0 once it fetched: it is then preferred for rack r3.
  let pointed: number | undefined;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const r = await fetch(leader, 11, fetchReq(RACKED, 0n, -1, 'r3'));
    const p = r.responses[0].partitions[0];
    assert.equal(p.errorCode, ErrorCode.NONE);
    if (p.preferredReadReplica >= 0) {
      assert.equal(p.records?.length ?? 0, 0, 'no records with a preferred read replica');
      assert.equal(p.highWatermark, 30n);
      pointed = p.preferredReadReplica;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(pointed, 3);
  // Same rack as the leader, or no rack: read at the leader.
  for (const rack of ['r1', '']) {
    const here = (await fetch(leader, 11, fetchReq(RACKED, 0n, -1, rack))).responses[0].partitions[0];
    assert.equal(here.preferredReadReplica, -1, `rack ${JSON.stringify(rack)}`);
    assert.ok((here.records?.length ?? 0) > 0);
  }
  // The follower serves v11+ consumer fetches: records up to its HW; past its end without an epoch, empty.
  const f3 = await client(3);
  const got = (await fetch(f3, 12, fetchReq(RACKED, 0n, -1, 'r3'))).responses[0].partitions[0];
  assert.equal(got.errorCode, ErrorCode.NONE);
  assert.equal(got.highWatermark, 30n);
  assert.ok((got.records?.length ?? 0) > 0);
  const past = (await fetch(f3, 12, fetchReq(RACKED, 1000n))).responses[0].partitions[0];
  assert.equal(past.errorCode, ErrorCode.NONE);
  assert.equal(past.records?.length ?? 0, 0);
  const epoch = b(3).broker.metadata.image.partition(RACKED, 0)!.leaderEpoch;
  const pastWithEpoch = (await fetch(f3, 12, fetchReq(RACKED, 1000n, epoch))).responses[0].partitions[0];
  assert.equal(pastWithEpoch.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);

  // kafkajs with rackId r3 ends up fetching from broker 3 and reads every record.
  consumerFetches.clear();
  const consumer = kafka([b(1)]).consumer({ groupId: 'routing-test-rack', rackId: 'r3', maxWaitTimeInMs: 200 });
  let count = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: RACKED, fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        count++;
      },
    });
    await waitFor(() => count >= 30, 60_000, 'the rack consumer reads the 30 records');
  } finally {
    await consumer.disconnect();
  }
  assert.equal(count, 30);
  assert.ok((consumerFetches.get(3) ?? 0) > 0, `broker 3 served records: ${JSON.stringify([...consumerFetches])}`);
  assert.equal(consumerFetches.get(1) ?? 0, 0, 'the leader (rack r1) served no records to the r3 consumer');
});

function hwOf(id: number): number {
  const p = b(id).broker.replicaManager.getPartition(RACKED, 0);
  return typeof p === 'number' ? -1 : p.highWatermark;
}

test('DescribeLogDirs: each broker reports its own data dir and the replicas it hosts', async () => {
  const hosts: Record<number, string[]> = {};
  for (const id of [1, 2, 3]) {
    const c = await client(id);
    const res = await call(c, 35, 4, encodeDescribeLogDirsRequest, decodeDescribeLogDirsResponse, { topics: null });
    assert.equal(res.results.length, 1);
    const r = res.results[0];
    assert.equal(r.errorCode, 0);
    assert.equal(r.logDir, b(id).broker.started.dataDir);
    hosts[id] = r.topics
      .filter((t) => t.name === ROUTED || t.name === RACKED)
      .map((t) => t.name)
      .sort();
    for (const t of r.topics) {
      for (const p of t.partitions) {
        if (t.name !== ROUTED && t.name !== RACKED) continue; // internal topics may grow meanwhile
        assert.equal(p.offsetLag, 0n);
        const log = b(id).broker.logs.getLog(t.name, p.partitionIndex)!;
        assert.equal(p.partitionSize, BigInt(log.size));
      }
    }
  }
  assert.deepEqual(hosts, { 1: [RACKED, ROUTED], 2: [RACKED, ROUTED], 3: [RACKED] });
});

test('OffsetForLeaderEpoch across a leader change; the stopped leader checkpointed its high watermarks', async () => {
  const e0 = b(2).broker.metadata.image.partition(ROUTED, 0)!.leaderEpoch;
  const end0 = b(1).broker.logs.getLog(ROUTED, 0)!.logEndOffset;
  await waitFor(() => b(2).broker.logs.getLog(ROUTED, 0)!.logEndOffset === end0, 20_000, 'broker 2 caught up');
  await cluster.stopNode(1);
  const text = await readFile(join(cluster.dataDir(1), REPLICATION_OFFSET_CHECKPOINT), 'utf8');
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], '0');
  assert.equal(Number(lines[1]), lines.length - 2);
  assert.ok(lines.includes(`${ROUTED} 0 ${end0}`), text);
  assert.ok(lines.includes(`${RACKED} 0 30`), text);

  await waitFor(
    () => [2, 3].every((id) => b(id).broker.metadata.image.partition(ROUTED, 0)!.leader === 2),
    30_000,
    'broker 2 leads routed-0',
  );
  const e1 = b(2).broker.metadata.image.partition(ROUTED, 0)!.leaderEpoch;
  assert.ok(e1 > e0);
  const c2 = await client(2);
  const res = await produceRaw(c2, 11, ROUTED, 3, 1);
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
  const ask = (leaderEpoch: number, currentLeaderEpoch = -1) =>
    call(c2, 23, 4, encodeOffsetForLeaderEpochRequest, decodeOffsetForLeaderEpochResponse, {
      replicaId: -1,
      topics: [{ topic: ROUTED, partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }],
    }).then((r) => r.topics[0].partitions[0]);
  // The old epoch ends where the new one starts; the current one at the log end; a newer one is unknown.
  const old = await ask(e0, e1);
  assert.deepEqual([old.errorCode, old.leaderEpoch, old.endOffset], [0, e0, BigInt(end0)]);
  const cur = await ask(e1);
  assert.deepEqual([cur.errorCode, cur.leaderEpoch, cur.endOffset], [0, e1, BigInt(end0 + 3)]);
  const newer = await ask(e1 + 5);
  assert.deepEqual([newer.errorCode, newer.leaderEpoch, newer.endOffset], [0, -1, -1n]);
  if (e0 > 0) {
    // Older than every cached epoch: Kafka answers the requested epoch and the first cached epoch's start.
    const older = await ask(e0 - 1);
    assert.deepEqual([older.errorCode, older.leaderEpoch, older.endOffset], [0, e0 - 1, 0n]);
  }
  // A client that still believes the old epoch current is fenced.
  const fenced = await ask(e1, e0);
  assert.equal(fenced.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
});
