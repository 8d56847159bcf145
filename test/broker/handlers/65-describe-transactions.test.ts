import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { addPartitions, describeTxns, endTxn, initTxn } from '../../helpers/txn-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({ topics: [{ name: 'd', partitions: 4 }] });

test('v0: state, timeout, producer, start time and partitions; unknown ids', async () => {
  const p = await initTxn(env.broker, 'desc', 12_345);
  const before = Date.now();
  let r = await describeTxns(env.client, ['desc', 'missing']);
  assert.equal(r.transactionStates.length, 2);
  const [d, missing] = r.transactionStates;
  assert.deepEqual(
    { ...d!, transactionStartTimeMs: 0n },
    {
      errorCode: 0,
      transactionalId: 'desc',
      transactionState: 'Empty',
      transactionTimeoutMs: 12_345,
      transactionStartTimeMs: 0n,
      producerId: p.pid,
      producerEpoch: p.epoch,
      topics: [],
    },
  );
  assert.equal(missing!.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  await addPartitions(env.client, 3, p, [{ name: 'd', partitions: [3, 1] }]);
  r = await describeTxns(env.client, ['desc']);
  const o = r.transactionStates[0]!;
  assert.equal(o.transactionState, 'Ongoing');
  assert.ok(Number(o.transactionStartTimeMs) >= before - 1000 && Number(o.transactionStartTimeMs) <= Date.now());
  assert.deepEqual(o.topics, [{ topic: 'd', partitions: [1, 3] }]);
  assert.equal(await endTxn(env.client, 3, p, false), 0);
  // Decided: PrepareAbort until the markers are written (in the background), then CompleteAbort.
  const state = async () => (await describeTxns(env.client, ['desc'])).transactionStates[0]!.transactionState;
  assert.match(await state(), /^(PrepareAbort|CompleteAbort)$/);
  await env.broker.broker.transactions.idle();
  assert.equal(await state(), 'CompleteAbort');
});
