/**
 * EndTxn while a marker destination is unreachable, in a replicated cluster: a real etcd and three in-process
 * brokers. The transaction coordinator is broker 2 (leader of the only `__transaction_state` partition, replicas
 * 2 and 1); topic `held` lives on broker 3 alone, topic `free` on brokers 1 and 2. A kafkajs transactional
 * producer writes to both, broker 3 stops (`held` has no leader), and the commit
 * is answered all the same once PrepareCommit is durable; the id's requests get CONCURRENT_TRANSACTIONS
 * meanwhile; `free` gets its marker; when broker 3 is back the marker reaches it, CompleteCommit is written
 * and a read_committed consumer sees both records. Every wait is bounded; only 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../../broker/index.js';
import { TRANSACTION_STATE_TOPIC } from '../../../broker/txn/index.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  decodeInitProducerIdResponse,
  type InitProducerIdResponse,
} from '../../../protocol/generated/init-producer-id-response.js';
import {
  defaultInitProducerIdRequest,
  encodeInitProducerIdRequest,
} from '../../../protocol/generated/init-producer-id-request.js';
import { startEtcd, type EtcdProcess } from '../../helpers/etcd.js';
import { waitFor } from '../../helpers/etcd-nodes.js';
import { RawClient } from '../../helpers/raw-client.js';
import { call } from '../../helpers/test-broker.js';
import { addPartitions, endTxn, type Producer } from '../../helpers/txn-client.js';

const HELD = 'held';
const FREE = 'free';
const TXN_ID = 'held-tx';
const COORDINATOR = 2;

let etcd: EtcdProcess;
const brokers = new Map<number, RunningBroker>();
const dir3 = mkdtempSync(join(tmpdir(), 'runnel-endtxn-3-'));

function startNode(nodeId: number): Promise<RunningBroker> {
  return startBroker({
    ...(nodeId === 3 ? { dataDir: dir3 } : {}),
    config: {
      'node.id': nodeId,
      'etcd.endpoints': etcd.endpoint,
      'cluster.name': 'endtxn-test',
      'broker.session.timeout.ms': 3000,
      'replica.fetch.wait.max.ms': 100,
      'replica.fetch.backoff.ms': 100,
      'offsets.topic.num.partitions': 1,
      'transaction.state.log.num.partitions': 1,
      // Broker 3 leads a partition nobody else holds: it stops at once instead of trying to hand it over.
      'controlled.shutdown.enable': false,
    },
  });
}

function kafka(clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers.values()].map((b) => b.bootstrapServers),
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

before(async () => {
  etcd = await startEtcd();
  for (const nodeId of [1, 2, 3]) brokers.set(nodeId, await startNode(nodeId));
  await waitFor(
    () => [...brokers.values()].every((b) => b.broker.metadata.image.liveBrokers().length === 3),
    30_000,
    'every broker sees 3 live brokers',
  );
});

after(async () => {
  for (const b of brokers.values()) await b.stop();
  await etcd?.cleanup();
  rmSync(dir3, { recursive: true, force: true });
});

/** Resolves with `p`, or fails after `ms` (an EndTxn that waited for the unreachable leader). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

test('EndTxn is answered while a partition leader is down; the commit completes when it is back', {
  timeout: 240_000,
}, async () => {
  const b1 = brokers.get(1)!;
  await b1.broker.metadata.createTopic(HELD, { partitions: 1, replicas: [[3]] });
  await b1.broker.metadata.createTopic(FREE, { partitions: 1, replicas: [[1, 2]] });
  await b1.broker.metadata.createTopic(TRANSACTION_STATE_TOPIC, {
    partitions: 1,
    replicas: [[COORDINATOR, 1]],
    configs: { 'cleanup.policy': 'compact' },
  });
  await waitFor(
    () =>
      [...brokers.values()].every((b) => {
        const img = b.broker.metadata.image;
        return (
          img.partition(HELD, 0)?.leader === 3 &&
          img.partition(FREE, 0)?.isr.length === 2 &&
          img.partition(TRANSACTION_STATE_TOPIC, 0)?.leader === COORDINATOR
        );
      }),
    30_000,
    'the data partitions and the state log placed',
  );
  const coordinator = brokers.get(COORDINATOR)!;

  const producer = kafka('endtxn-producer').producer({
    transactionalId: TXN_ID,
    maxInFlightRequests: 1,
    idempotent: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const raw = await RawClient.connect(coordinator.port);
  try {
    const txn = await producer.transaction();
    await txn.send({ topic: HELD, messages: [{ value: 'h0' }] });
    await txn.send({ topic: FREE, messages: [{ value: 'f0' }] });

    // Broker 3 goes away: `held` has no leader; its marker cannot be written.
    await brokers.get(3)!.stop();
    brokers.delete(3);
    await waitFor(
      () => [...brokers.values()].every((b) => b.broker.metadata.image.partition(HELD, 0)?.leader === -1),
      30_000,
      '`held` without a leader',
    );

    await within(txn.commit(), 30_000, 'the commit');
    const md = coordinator.broker.transactions.txns.get(TXN_ID)!;
    assert.equal(md.state, 'PrepareCommit', 'decided, markers pending');
    const p: Producer = { id: TXN_ID, pid: BigInt(md.producerId), epoch: md.producerEpoch };

    // Meanwhile the transactional id is busy: clients get CONCURRENT_TRANSACTIONS and retry.
    assert.equal(await endTxn(raw, 3, p, true), ErrorCode.CONCURRENT_TRANSACTIONS, 'a retried commit');
    assert.deepEqual(
      [...(await addPartitions(raw, 3, p, [{ name: FREE, partitions: [0] }])).values()],
      [ErrorCode.CONCURRENT_TRANSACTIONS],
    );
    const init: InitProducerIdResponse = await call(
      raw,
      22,
      4,
      encodeInitProducerIdRequest,
      decodeInitProducerIdResponse,
      { ...defaultInitProducerIdRequest(), transactionalId: TXN_ID, transactionTimeoutMs: 60_000 },
    );
    assert.equal(init.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);

    // The leader of `free` got its marker: nothing holds its LSO.
    const freeLeader = brokers.get(coordinator.broker.metadata.image.partition(FREE, 0)!.leader)!;
    const freeLog = freeLeader.broker.logs.getLog(FREE, 0)!;
    await waitFor(() => freeLog.lastStableOffset === freeLog.logEndOffset, 30_000, 'the marker on `free`');
    assert.equal(coordinator.broker.transactions.txns.get(TXN_ID)!.state, 'PrepareCommit');

    // Broker 3 is back: the marker reaches it and the transaction completes.
    brokers.set(3, await startNode(3));
    await waitFor(
      () => coordinator.broker.transactions.txns.get(TXN_ID)?.state === 'CompleteCommit',
      60_000,
      'CompleteCommit',
    );
    assert.equal(await endTxn(raw, 3, p, true), ErrorCode.NONE, 'a retried commit of the completed transaction');
  } finally {
    raw.close();
    await producer.disconnect();
  }

  // A read_committed consumer sees both committed records.
  const consumer = kafka('endtxn-consumer').consumer({ groupId: 'endtxn-check', readUncommitted: false });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [HELD, FREE], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
      },
    });
    await waitFor(() => seen.length >= 2, 60_000, 'both records read_committed');
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(seen.sort(), ['f0', 'h0']);
  const heldLog = brokers.get(3)!.broker.logs.getLog(HELD, 0)!;
  assert.equal(heldLog.lastStableOffset, heldLog.logEndOffset, 'the marker on `held`');
});
