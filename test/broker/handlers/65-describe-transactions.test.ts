import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testBroker } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { addPartitions, describeTxns, endTxn, initTxn } from '../../helpers/txn-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import type { RunningBroker } from '../../../broker/index.js';

let b: RunningBroker;
let c: RawClient;
before(async () => {
  b = await testBroker();
  await b.broker.logs.createTopic('d', { partitions: 4 });
  c = await RawClient.connect(b.port);
});
after(async () => {
  c.close();
  await b.stop();
});

test('v0: state, timeout, producer, start time and partitions; unknown ids', async () => {
  const p = await initTxn(b, 'desc', 12_345);
  const before = Date.now();
  let r = await describeTxns(c, ['desc', 'missing']);
  assert.equal(r.transactionStates.length, 2);
  const [d, missing] = r.transactionStates;
  assert.deepEqual({ ...d!, transactionStartTimeMs: 0n }, {
    errorCode: 0, transactionalId: 'desc', transactionState: 'Empty', transactionTimeoutMs: 12_345, transactionStartTimeMs: 0n, producerId: p.pid, producerEpoch: p.epoch, topics: [],
  });
  assert.equal(missing!.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  await addPartitions(c, 3, p, [{ name: 'd', partitions: [3, 1] }]);
  r = await describeTxns(c, ['desc']);
  const o = r.transactionStates[0]!;
  assert.equal(o.transactionState, 'Ongoing');
  assert.ok(Number(o.transactionStartTimeMs) >= before - 1000 && Number(o.transactionStartTimeMs) <= Date.now());
  assert.deepEqual(o.topics, [{ topic: 'd', partitions: [1, 3] }]);
  await endTxn(c, 3, p, false);
  assert.equal((await describeTxns(c, ['desc'])).transactionStates[0]!.transactionState, 'CompleteAbort');
});
