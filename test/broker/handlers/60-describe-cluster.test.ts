import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  defaultDescribeClusterRequest,
  encodeDescribeClusterRequest,
  type DescribeClusterRequest,
} from '../../../protocol/generated/describe-cluster-request.js';
import {
  decodeDescribeClusterResponse,
  type DescribeClusterResponse,
} from '../../../protocol/generated/describe-cluster-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { ALL_CLUSTER_OPERATIONS } from '../../../broker/handlers/60-describe-cluster.js';

const env = useBrokerAndClient({ config: { 'node.id': 7 } });

async function describeCluster(
  v: number,
  over: Partial<DescribeClusterRequest> = {},
): Promise<DescribeClusterResponse> {
  return call(env.client, 60, v, encodeDescribeClusterRequest, decodeDescribeClusterResponse, {
    ...defaultDescribeClusterRequest(),
    ...over,
  });
}

test('v0-2 describe a one-broker cluster led by this node', async () => {
  for (let v = 0; v <= 2; v++) {
    const res = await describeCluster(v, v >= 2 ? { includeFencedBrokers: true } : {});
    assert.equal(res.errorCode, 0);
    assert.equal(res.errorMessage, null);
    assert.equal(res.clusterId, env.broker.broker.started.clusterId);
    assert.equal(res.controllerId, 7);
    assert.deepEqual(res.brokers, [
      { brokerId: 7, host: '127.0.0.1', port: env.broker.port, rack: null, isFenced: false },
    ]);
    assert.equal(res.clusterAuthorizedOperations, -2147483648);
    if (v >= 1) assert.equal(res.endpointType, 1);
  }
});

test('cluster authorized operations when asked', async () => {
  const res = await describeCluster(1, { includeClusterAuthorizedOperations: true });
  assert.equal(res.clusterAuthorizedOperations, ALL_CLUSTER_OPERATIONS);
  assert.ok(res.clusterAuthorizedOperations & (1 << 8), 'DESCRIBE');
  assert.equal(res.clusterAuthorizedOperations & (1 << 3), 0, 'READ is not a cluster operation');
});

test('endpointType 2 (controllers) or unknown → UNSUPPORTED_ENDPOINT_TYPE', async () => {
  for (const endpointType of [2, 0, 9]) {
    const res = await describeCluster(2, { endpointType });
    assert.equal(res.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
    assert.ok(res.errorMessage);
    assert.deepEqual(res.brokers, []);
  }
});
