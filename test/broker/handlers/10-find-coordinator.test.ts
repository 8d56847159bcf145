import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  defaultFindCoordinatorRequest,
  encodeFindCoordinatorRequest,
} from '../../../protocol/generated/find-coordinator-request.js';
import { decodeFindCoordinatorResponse } from '../../../protocol/generated/find-coordinator-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const env = useBrokerAndClient({ config: { 'offsets.topic.num.partitions': 3 } });

const find = (v: number, over: object) =>
  call(env.client, 10, v, encodeFindCoordinatorRequest, decodeFindCoordinatorResponse, {
    ...defaultFindCoordinatorRequest(),
    ...over,
  });

test('v0-3: this node coordinates groups and transactions; __consumer_offsets is created', async () => {
  assert.equal(env.broker.broker.metadata.image.topic('__consumer_offsets'), undefined);
  for (let v = 0; v <= 3; v++) {
    for (const keyType of v >= 1 ? [0, 1] : [0]) {
      const r = await find(v, { key: 'grp', keyType });
      assert.equal(r.errorCode, 0);
      assert.equal(r.nodeId, env.broker.broker.started.nodeId);
      assert.equal(r.host, '127.0.0.1');
      assert.equal(r.port, env.broker.port);
    }
  }
  assert.equal(env.broker.broker.metadata.image.topic('__consumer_offsets')?.partitions, 3);
  const bad = await find(2, { key: 'x', keyType: 5 });
  assert.equal(bad.errorCode, ErrorCode.INVALID_REQUEST);
  assert.ok(bad.errorMessage);
});

test('v4-6: batched keys, one coordinator each', async () => {
  for (let v = 4; v <= 6; v++) {
    const r = await find(v, { keyType: 0, coordinatorKeys: ['a', 'b', 'c'] });
    assert.deepEqual(
      r.coordinators.map((x) => [x.key, x.nodeId, x.port, x.errorCode]),
      ['a', 'b', 'c'].map((k) => [k, env.broker.broker.started.nodeId, env.broker.port, 0]),
    );
    const t = await find(v, { keyType: 1, coordinatorKeys: ['txn'] });
    assert.equal(t.coordinators[0]!.errorCode, 0);
  }
});
