import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { addPartitions, describeTxns, endTxn, initTxn, type Producer } from '../../helpers/txn-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { iterateBatches, parseControlRecordKey } from '../../../protocol/records/batch.js';
import { partitionOf } from '../../helpers/partitions.js';

const env = useBrokerAndClient({ topics: [{ name: 'e', partitions: 2 }] });

/** Append a transactional batch of the producer to e-partition (as Produce would). */
async function produceTxn(p: Producer, partition: number, seq: number): Promise<number> {
  const batch = await buildRecordBatch([{ value: `v${seq}` }], {
    producerId: p.pid,
    producerEpoch: p.epoch,
    baseSequence: seq,
    transactional: true,
  });
  return (await partitionOf(env.broker.broker, 'e', partition).appendAsLeader(batch)).baseOffset;
}

/** Control batches of e-partition: [offset, producerId, type] (type 1 COMMIT, 0 ABORT). */
async function markers(partition: number): Promise<[number, bigint, number][]> {
  const log = env.broker.broker.logs.getLog('e', partition)!;
  const res = await log.read(0, 1 << 20, { maxOffset: log.logEndOffset });
  const out: [number, bigint, number][] = [];
  for (const batch of iterateBatches(res.records)) {
    if (!batch.isControl) continue;
    const [rec] = await batch.recordsArray();
    out.push([Number(batch.baseOffset), batch.producerId, parseControlRecordKey(rec!.key).type]);
  }
  return out;
}

test("v0-v4: commit and abort write markers to every partition, complete; wrong calls get Kafka's errors", async () => {
  let seq0 = 0;
  let seq1 = 0;
  for (const v of [0, 1, 2, 3, 4]) {
    const p = await initTxn(env.broker, `end-${v}`);
    seq0 = 0;
    seq1 = 0;
    assert.equal(await endTxn(env.client, v, p, true), ErrorCode.INVALID_TXN_STATE, 'nothing to end');
    await addPartitions(env.client, 3, p, [{ name: 'e', partitions: [0, 1] }]);
    const first = await produceTxn(p, 0, seq0++);
    await produceTxn(p, 1, seq1++);
    assert.equal(env.broker.broker.logs.getLog('e', 0)!.lastStableOffset, first, 'open transaction holds the LSO');
    const commit = v % 2 === 0;
    assert.equal(
      await endTxn(env.client, v, { ...p, epoch: p.epoch + 1 }, commit),
      v < 2 ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.PRODUCER_FENCED,
    );
    assert.equal(await endTxn(env.client, v, { ...p, pid: p.pid + 7n }, commit), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(await endTxn(env.client, v, p, commit), 0);
    // EndTxn answered once the decision was durable; the markers follow in the background.
    await env.broker.broker.transactions.idle();
    for (const part of [0, 1]) {
      const m = (await markers(part)).filter(([, pid]) => pid === p.pid);
      assert.equal(m.length, 1, `one marker on e-${part}`);
      assert.equal(m[0]![2], commit ? 1 : 0);
      const log = env.broker.broker.logs.getLog('e', part)!;
      assert.equal(log.lastStableOffset, log.logEndOffset, 'marker releases the LSO');
    }
    const d = (await describeTxns(env.client, [p.id])).transactionStates[0]!;
    assert.equal(d.transactionState, commit ? 'CompleteCommit' : 'CompleteAbort');
    assert.deepEqual(d.topics, []);
    assert.equal(await endTxn(env.client, v, p, commit), 0, 'retry of a completed EndTxn');
    assert.equal(await endTxn(env.client, v, p, !commit), ErrorCode.INVALID_TXN_STATE);
  }
});
