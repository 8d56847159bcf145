import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { addPartitions, describeTxns, initTxn } from '../../helpers/txn-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  encodeApiVersionsRequest,
  defaultApiVersionsRequest,
} from '../../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../../protocol/generated/api-versions-response.js';

const env = useBrokerAndClient({ topics: [{ name: 't', partitions: 3 }] });

test('advertised as 0-3 (the client form only)', async () => {
  const r = await call(env.client, 18, 3, encodeApiVersionsRequest, decodeApiVersionsResponse, {
    ...defaultApiVersionsRequest(),
    clientSoftwareName: 'x',
    clientSoftwareVersion: '1',
  });
  const k = r.apiKeys.find((a) => a.apiKey === 24)!;
  assert.deepEqual([k.minVersion, k.maxVersion], [0, 3]);
});

test('v0-v3: partitions join the transaction; unknown partitions; fencing and mapping errors', async () => {
  for (const v of [0, 1, 2, 3]) {
    const p = await initTxn(env.broker, `apt-${v}`);
    const ok = await addPartitions(env.client, v, p, [{ name: 't', partitions: [0, 2] }]);
    assert.deepEqual([...ok.values()], [0, 0], `v${v}`);
    const d = (await describeTxns(env.client, [p.id])).transactionStates[0]!;
    assert.equal(d.transactionState, 'Ongoing');
    assert.deepEqual(d.topics, [{ topic: 't', partitions: [0, 2] }]);

    const mixed = await addPartitions(env.client, v, p, [
      { name: 't', partitions: [1, 9] },
      { name: 'nope', partitions: [0] },
    ]);
    assert.deepEqual(Object.fromEntries(mixed), {
      't-1': ErrorCode.OPERATION_NOT_ATTEMPTED,
      't-9': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      'nope-0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    });

    const stale = await addPartitions(env.client, v, { ...p, epoch: p.epoch - 1 }, [{ name: 't', partitions: [1] }]);
    assert.equal(stale.get('t-1'), v < 2 ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.PRODUCER_FENCED);
    const other = await addPartitions(env.client, v, { ...p, pid: p.pid + 100n }, [{ name: 't', partitions: [1] }]);
    assert.equal(other.get('t-1'), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const unknown = await addPartitions(env.client, v, { ...p, id: 'never-initialized' }, [
      { name: 't', partitions: [1] },
    ]);
    assert.equal(unknown.get('t-1'), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  }
});
