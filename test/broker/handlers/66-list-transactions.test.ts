import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testBroker } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { addPartitions, endTxn, initTxn, listTxns } from '../../helpers/txn-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import type { RunningBroker } from '../../../broker/index.js';

let b: RunningBroker;
let c: RawClient;
before(async () => {
  b = await testBroker();
  await b.broker.logs.createTopic('l', { partitions: 1 });
  c = await RawClient.connect(b.port);
});
after(async () => {
  c.close();
  await b.stop();
});

const ids = (r: { transactionStates: { transactionalId: string }[] }) => r.transactionStates.map((t) => t.transactionalId).sort();

test('v0-v2: state, producer id, duration and pattern filters', async () => {
  const a = await initTxn(b, 'list-a');
  const o = await initTxn(b, 'list-ongoing');
  await addPartitions(c, 3, o, [{ name: 'l', partitions: [0] }]);
  const cm = await initTxn(b, 'other-committed');
  await addPartitions(c, 3, cm, [{ name: 'l', partitions: [0] }]);
  // the ongoing one holds the partition's LSO; commit on another partition is still fine
  assert.equal(await endTxn(c, 3, cm, true), 0);

  for (const v of [0, 1, 2]) {
    assert.deepEqual(ids(await listTxns(c, v)), ['list-a', 'list-ongoing', 'other-committed']);
    const st = await listTxns(c, v, { stateFilters: ['Ongoing', 'Bogus'] });
    assert.deepEqual(ids(st), ['list-ongoing']);
    assert.deepEqual(st.unknownStateFilters, ['Bogus']);
    assert.deepEqual(st.transactionStates[0], { transactionalId: 'list-ongoing', producerId: o.pid, transactionState: 'Ongoing' });
    assert.deepEqual(ids(await listTxns(c, v, { producerIdFilters: [a.pid, cm.pid] })), ['list-a', 'other-committed']);
  }
  assert.deepEqual(ids(await listTxns(c, 1, { durationFilter: 0n })), ['list-ongoing']);
  assert.deepEqual(ids(await listTxns(c, 1, { durationFilter: 3_600_000n })), []);
  assert.deepEqual(ids(await listTxns(c, 2, { transactionalIdPattern: 'list-.*' })), ['list-a', 'list-ongoing']);
  assert.deepEqual(ids(await listTxns(c, 2, { transactionalIdPattern: 'list' })), [], 'the pattern must match the whole id');
  assert.equal((await listTxns(c, 2, { transactionalIdPattern: '(' })).errorCode, ErrorCode.INVALID_REQUEST);
});
