import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { addPartitions, endTxn, initTxn, listTxns } from '../../helpers/txn-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({ topics: [{ name: 'l', partitions: 1 }] });

const ids = (r: { transactionStates: { transactionalId: string }[] }) =>
  r.transactionStates.map((t) => t.transactionalId).sort();

test('v0-v2: state, producer id, duration and pattern filters', async () => {
  const a = await initTxn(env.broker, 'list-a');
  const o = await initTxn(env.broker, 'list-ongoing');
  await addPartitions(env.client, 3, o, [{ name: 'l', partitions: [0] }]);
  const cm = await initTxn(env.broker, 'other-committed');
  await addPartitions(env.client, 3, cm, [{ name: 'l', partitions: [0] }]);
  // the ongoing one holds the partition's LSO; commit on another partition is still fine
  assert.equal(await endTxn(env.client, 3, cm, true), 0);

  for (const v of [0, 1, 2]) {
    assert.deepEqual(ids(await listTxns(env.client, v)), ['list-a', 'list-ongoing', 'other-committed']);
    const st = await listTxns(env.client, v, { stateFilters: ['Ongoing', 'Bogus'] });
    assert.deepEqual(ids(st), ['list-ongoing']);
    assert.deepEqual(st.unknownStateFilters, ['Bogus']);
    assert.deepEqual(st.transactionStates[0], {
      transactionalId: 'list-ongoing',
      producerId: o.pid,
      transactionState: 'Ongoing',
    });
    assert.deepEqual(ids(await listTxns(env.client, v, { producerIdFilters: [a.pid, cm.pid] })), [
      'list-a',
      'other-committed',
    ]);
  }
  assert.deepEqual(ids(await listTxns(env.client, 1, { durationFilter: 0n })), ['list-ongoing']);
  assert.deepEqual(ids(await listTxns(env.client, 1, { durationFilter: 3_600_000n })), []);
  assert.deepEqual(ids(await listTxns(env.client, 2, { transactionalIdPattern: 'list-.*' })), [
    'list-a',
    'list-ongoing',
  ]);
  assert.deepEqual(
    ids(await listTxns(env.client, 2, { transactionalIdPattern: 'list' })),
    [],
    'the pattern must match the whole id',
  );
  assert.equal((await listTxns(env.client, 2, { transactionalIdPattern: '(' })).errorCode, ErrorCode.INVALID_REQUEST);
});
