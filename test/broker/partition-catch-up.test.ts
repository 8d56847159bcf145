/**
 * A leader that has not applied a topic just created through another node (real etcd, three in-process
 * brokers): a Produce that reaches it first waits until it caught up with etcd instead of answering
 * UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER_OR_FOLLOWER (sarama 1.22's idempotent producer retries those without
 * backoff and gave up within milliseconds, right after CreateTopics). Broker 3's metadata delivery is held by a
 * gated subscriber to make its lag certain. Every wait is bounded; everything listens on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { startEtcd, type EtcdProcess } from '../helpers/etcd.js';
import { waitFor } from '../helpers/etcd-nodes.js';
import { call } from '../helpers/test-broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { defaultProduceRequest, encodeProduceRequest } from '../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../protocol/generated/produce-response.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import '../helpers/test-broker.js';

let etcd: EtcdProcess;
const brokers = new Map<number, RunningBroker>();
const clients: RawClient[] = [];
/** While set, broker 3's metadata deliveries wait for it (the feed delivers one revision at a time). */
let gate: Promise<void> | undefined;

function b(id: number): RunningBroker {
  const x = brokers.get(id);
  if (!x) throw new Error(`broker ${id} is not running`);
  return x;
}

before(async () => {
  etcd = await startEtcd();
  for (const nodeId of [1, 2, 3]) {
    const x = await startBroker({
      config: {
        'node.id': nodeId,
        'etcd.endpoints': etcd.endpoint,
        'cluster.name': 'catch-up-test',
        'offsets.topic.num.partitions': 1,
        'transaction.state.log.num.partitions': 1,
      },
    });
    brokers.set(nodeId, x);
  }
  await waitFor(
    () => [...brokers.values()].every((x) => x.broker.metadata.image.liveBrokers().length === 3),
    20_000,
    'every broker sees 3 live brokers',
  );
  b(3).broker.metadata.subscribe(async () => {
    if (gate) await gate;
  });
});

after(async () => {
  for (const c of clients) c.close();
  for (const x of brokers.values()) await x.stop();
  await etcd?.cleanup();
});

async function createThroughBroker1(topic: string, replicas: number[]): Promise<void> {
  const admin = new Kafka({
    clientId: 'catch-up-test',
    brokers: [b(1).bootstrapServers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    // No waitForLeaders: kafkajs would poll a broker's metadata, and broker 3's is held back on purpose.
    const created = await admin.createTopics({
      topics: [{ topic, replicaAssignment: [{ partition: 0, replicas }] }],
      waitForLeaders: false,
    });
    assert.equal(created, true, `${topic} created`);
  } finally {
    await admin.disconnect();
  }
}

async function produce(port: number, topic: string, acks: number) {
  const c = await RawClient.connect(port);
  clients.push(c);
  const r = defaultProduceRequest();
  r.acks = acks;
  r.timeoutMs = 10_000;
  const records = await buildRecordBatch([{ key: 'k', value: 'first' }]);
  r.topicData = [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }];
  const res = await call(c, 0, 9, encodeProduceRequest, decodeProduceResponse, r);
  return res.responses[0].partitionResponses[0];
}

test('a leader that has not applied a new topic yet catches up with etcd before answering a Produce', async () => {
  let release!: () => void;
  gate = new Promise<void>((resolve) => (release = resolve));
  try {
    // A change broker 3 must apply: its delivery now waits at the gate, and every later revision behind it.
    await createThroughBroker1('held-back', [1]);
    await waitFor(() => b(3).broker.metadata.image.topic('held-back') !== undefined, 20_000, 'broker 3 at the gate');
    // Created through broker 1 (which answers once it applied it), led by broker 3, which has not seen it.
    await createThroughBroker1('fresh', [3]);
    assert.equal(b(1).broker.metadata.image.partition('fresh', 0)?.leader, 3);
    assert.equal(b(3).broker.metadata.image.topic('fresh'), undefined, 'broker 3 has not applied the new topic');
    const answer = produce(b(3).port, 'fresh', -1);
    let answered = false;
    void answer.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(answered, false, 'the Produce waits while broker 3 lags');
    release();
    const p = await answer;
    assert.equal(p.errorCode, ErrorCode.NONE);
    assert.equal(p.baseOffset, 0n);
  } finally {
    gate = undefined;
    release?.();
  }
  const log = b(3).broker.replicaManager.getPartition('fresh', 0);
  assert.notEqual(typeof log, 'number', 'broker 3 hosts fresh-0');
  if (typeof log !== 'number') assert.equal(log.logEndOffset, 1);
});

test('caught up: unknown topic UNKNOWN_TOPIC_OR_PARTITION, led elsewhere NOT_LEADER_OR_FOLLOWER', async () => {
  assert.equal((await produce(b(3).port, 'never-created', 1)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  await createThroughBroker1('led-by-1', [1]);
  await waitFor(() => b(2).broker.metadata.image.topic('led-by-1') !== undefined, 20_000, 'broker 2 sees led-by-1');
  assert.equal((await produce(b(2).port, 'led-by-1', 1)).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal((await produce(b(1).port, 'led-by-1', 1)).errorCode, ErrorCode.NONE);
});
