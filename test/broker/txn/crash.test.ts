/**
 * kill -9 of a real broker process with transactions in every phase: one committed (with offsets), one
 * Ongoing with a short timeout (with offsets), one whose PrepareCommit reached `__transaction_state`
 * before the crash but none of its markers (the record is appended to the stopped broker's log the way
 * EndTxn's first step writes it). After the restart: the partition is readable, the PrepareCommit
 * transaction completes (its records and offsets become visible), the open one is aborted after its
 * timeout (records hidden from read_committed, offsets never visible), committed data is intact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrokerProcess, waitExit } from '../../helpers/broker-process.js';
import { RawClient } from '../../helpers/raw-client.js';
import { committedOffsets, describeTxns } from '../../helpers/txn-client.js';
import { LogApplier } from '../../../replication/log-applier.js';
import { LocalMetadataStore } from '../../../replication/metadata/local-store.js';
import { resolveLogConfig } from '../../helpers/log-config.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { iterateBatches } from '../../../protocol/records/batch.js';
import {
  TRANSACTION_STATE_TOPIC,
  decodeTxnLogKey,
  decodeTxnLogValue,
  txnLogKey,
  txnLogValue,
  txnStatePartitionFor,
} from '../../../broker/txn/records.js';
import { Kafka, logLevel } from 'kafkajs';
import { consumeUntil, waitUntil } from '../../helpers/kafkajs.js';

const TOPIC = 'crash-txn';

/** Write PrepareCommit for `id` after its last state record, as EndTxn's first step does (broker stopped). */
async function appendPrepareCommit(dataDir: string, id: string): Promise<void> {
  const store = await LocalMetadataStore.open(dataDir, { nodeId: 1 });
  const applier = await LogApplier.open(store, dataDir, { resolveConfig: resolveLogConfig, cleanerEnabled: false });
  const logs = applier.logs;
  try {
    const partition = txnStatePartitionFor(id, store.image.topic(TRANSACTION_STATE_TOPIC)!.partitions);
    const log = logs.getLog(TRANSACTION_STATE_TOPIC, partition)!;
    const res = await log.read(0, 1 << 22, { maxOffset: log.logEndOffset });
    let last: ReturnType<typeof decodeTxnLogValue> | undefined;
    for (const batch of iterateBatches(res.records)) {
      for (const rec of await batch.recordsArray())
        if (rec.key && decodeTxnLogKey(rec.key) === id && rec.value) last = decodeTxnLogValue(rec.value);
    }
    assert.equal(last?.state, 'Ongoing', `${id} is Ongoing before the crash`);
    const value = txnLogValue({ ...last!, state: 'PrepareCommit', lastUpdateTimestamp: Date.now() });
    await log.append(await buildRecordBatch([{ key: txnLogKey(id), value }]), { leaderEpoch: 0 });
  } finally {
    await applier.close();
  }
}

test('kill -9 mid-transaction: restart completes PrepareCommit, aborts the open transaction after its timeout', {
  timeout: 120_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-txn-crash-'));
  const set = [
    '--set',
    'transaction.abort.timed.out.transaction.cleanup.interval.ms=200',
    '--set',
    'transaction.state.log.num.partitions=4',
    '--set',
    'offsets.topic.num.partitions=4',
  ];
  try {
    const b1 = await startBrokerProcess(dataDir, set);
    const k1 = new Kafka({
      clientId: 'crash',
      brokers: [b1.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 50 },
    });
    const admin = k1.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
    await admin.disconnect();
    const producers = [];
    const committed = k1.producer({ transactionalId: 'committed-tx', maxInFlightRequests: 1, idempotent: true });
    const prepared = k1.producer({ transactionalId: 'prep-tx', maxInFlightRequests: 1, idempotent: true });
    const open = k1.producer({
      transactionalId: 'open-tx',
      transactionTimeout: 3000,
      maxInFlightRequests: 1,
      idempotent: true,
    });
    producers.push(committed, prepared, open);
    for (const p of producers) await p.connect();
    const t1 = await committed.transaction();
    await t1.send({ topic: TOPIC, messages: [{ value: 'c1' }, { value: 'c2' }] });
    await t1.sendOffsets({
      consumerGroupId: 'g-committed',
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '11' }] }],
    });
    await t1.commit();
    const t2 = await prepared.transaction();
    await t2.send({ topic: TOPIC, messages: [{ value: 'p1' }, { value: 'p2' }] });
    await t2.sendOffsets({
      consumerGroupId: 'g-prepared',
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '22' }] }],
    });
    const t3 = await open.transaction();
    await t3.send({ topic: TOPIC, messages: [{ value: 'o1' }] });
    await t3.sendOffsets({
      consumerGroupId: 'g-open',
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '33' }] }],
    });
    for (const p of producers) await p.disconnect();
    b1.child.kill('SIGKILL');
    await waitExit(b1.child);

    await appendPrepareCommit(dataDir, 'prep-tx');

    const b2 = await startBrokerProcess(dataDir, set);
    const c = await RawClient.connect(b2.port);
    try {
      const state = async (id: string) => (await describeTxns(c, [id])).transactionStates[0]!.transactionState;
      await waitUntil('prep-tx to complete', async () => (await state('prep-tx')) === 'CompleteCommit');
      assert.equal(await state('committed-tx'), 'CompleteCommit');
      await waitUntil(
        'open-tx to be aborted by its timeout',
        async () => (await state('open-tx')) === 'CompleteAbort',
        30_000,
      );
      const k2 = new Kafka({
        clientId: 'crash2',
        brokers: [b2.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 5, initialRetryTime: 50 },
      });
      const plain = k2.producer();
      await plain.connect();
      await plain.send({ topic: TOPIC, messages: [{ value: 'after' }] });
      await plain.disconnect();
      assert.deepEqual(await consumeUntil(k2, TOPIC, 'after', false, 'rc'), ['c1', 'c2', 'p1', 'p2', 'after']);
      assert.deepEqual(await consumeUntil(k2, TOPIC, 'after', true, 'ru'), ['c1', 'c2', 'p1', 'p2', 'o1', 'after']);
      assert.deepEqual(
        await committedOffsets(c, 'g-committed', TOPIC, [0]),
        new Map([[0, 11]]),
        'committed offsets replayed',
      );
      assert.deepEqual(
        await committedOffsets(c, 'g-prepared', TOPIC, [0]),
        new Map([[0, 22]]),
        'PrepareCommit offsets materialized',
      );
      assert.deepEqual(await committedOffsets(c, 'g-open', TOPIC, [0]), new Map(), 'aborted offsets never visible');
    } finally {
      c.close();
      b2.child.kill('SIGTERM');
      assert.equal(await waitExit(b2.child), 0, b2.output().slice(-2000));
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
