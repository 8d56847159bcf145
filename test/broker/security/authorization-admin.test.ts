/**
 * Authorization of the cluster-level admin handlers over raw protocol requests with a RuleAuthorizer:
 * DescribeLogDirs (DESCRIBE CLUSTER) and DescribeClientQuotas (DESCRIBE_CONFIGS CLUSTER) answer
 * CLUSTER_AUTHORIZATION_FAILED and describe nothing when denied, and work when allowed; DeleteTopics (DELETE topic).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { RuleAuthorizer } from '../../helpers/rule-authorizer.js';
import { AclOperation as Op, AclResourceType as Res, CLUSTER_RESOURCE } from '../../../broker/authorizer.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  defaultDescribeLogDirsRequest,
  encodeDescribeLogDirsRequest,
} from '../../../protocol/generated/describe-log-dirs-request.js';
import { decodeDescribeLogDirsResponse } from '../../../protocol/generated/describe-log-dirs-response.js';
import {
  defaultDescribeClientQuotasRequest,
  encodeDescribeClientQuotasRequest,
} from '../../../protocol/generated/describe-client-quotas-request.js';
import { decodeDescribeClientQuotasResponse } from '../../../protocol/generated/describe-client-quotas-response.js';
import {
  defaultDeleteTopicsRequest,
  encodeDeleteTopicsRequest,
} from '../../../protocol/generated/delete-topics-request.js';
import { decodeDeleteTopicsResponse } from '../../../protocol/generated/delete-topics-response.js';

const auth = new RuleAuthorizer();
const env = useBrokerAndClient({
  topics: [{ name: 'd', partitions: 1 }],
  setup: async (b) => {
    b.broker.authorizer = auth;
  },
});

test('DescribeLogDirs: DESCRIBE on the CLUSTER, else CLUSTER_AUTHORIZATION_FAILED and no log dirs', async () => {
  const req = defaultDescribeLogDirsRequest();
  req.topics = null;
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: '*' }]);
  const denied = await call(env.client, 35, 4, encodeDescribeLogDirsRequest, decodeDescribeLogDirsResponse, req);
  assert.equal(denied.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.deepEqual(denied.results, []);
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.CLUSTER, name: CLUSTER_RESOURCE }]);
  const ok = await call(env.client, 35, 4, encodeDescribeLogDirsRequest, decodeDescribeLogDirsResponse, req);
  assert.equal(ok.errorCode, ErrorCode.NONE);
  assert.ok(ok.results[0]!.topics.some((t) => t.name === 'd'));
});

test('DescribeClientQuotas: DESCRIBE_CONFIGS on the CLUSTER (ALTER_CONFIGS implies it)', async () => {
  const req = defaultDescribeClientQuotasRequest();
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.CLUSTER, name: CLUSTER_RESOURCE }]);
  const denied = await call(
    env.client,
    48,
    1,
    encodeDescribeClientQuotasRequest,
    decodeDescribeClientQuotasResponse,
    req,
  );
  assert.equal(denied.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal(denied.entries, null);
  auth.set([{ operation: Op.ALTER_CONFIGS, resourceType: Res.CLUSTER, name: CLUSTER_RESOURCE }]);
  const ok = await call(env.client, 48, 1, encodeDescribeClientQuotasRequest, decodeDescribeClientQuotasResponse, req);
  assert.equal(ok.errorCode, ErrorCode.NONE);
});

test('DeleteTopics: DELETE per topic, checked before existence; a denied topic stays', async () => {
  const req = defaultDeleteTopicsRequest();
  req.topicNames = ['d', 'no-such'];
  req.timeoutMs = 5000;
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: '*' }]);
  const res = await call(env.client, 20, 4, encodeDeleteTopicsRequest, decodeDeleteTopicsResponse, req);
  assert.deepEqual(
    res.responses.map((r) => [r.name, r.errorCode]),
    [
      ['d', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ['no-such', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ],
  );
  assert.ok(env.broker.broker.metadata.image.topic('d'));
  auth.set([{ operation: Op.DELETE, resourceType: Res.TOPIC, name: '*' }]);
  const ok = await call(env.client, 20, 4, encodeDeleteTopicsRequest, decodeDeleteTopicsResponse, req);
  assert.deepEqual(
    ok.responses.map((r) => [r.name, r.errorCode]),
    [
      ['d', ErrorCode.NONE],
      ['no-such', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ],
  );
  assert.equal(env.broker.broker.metadata.image.topic('d'), undefined);
});
