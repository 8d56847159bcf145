/**
 * The ACL APIs (29/30/31) and Metadata against a broker running the real StandardAuthorizer: cluster
 * permissions, real results, durability across a restart, kafkajs and kafka-python admin clients, and topics
 * hidden from a principal without DESCRIBE. On PLAINTEXT every client is User:ANONYMOUS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { useBrokerAndClient, call, testBroker } from '../../../helpers/test-broker.js';
import { encodeDescribeClusterRequest } from '../../../../protocol/generated/describe-cluster-request.js';
import { decodeDescribeClusterResponse } from '../../../../protocol/generated/describe-cluster-response.js';
import * as dtpRequest from '../../../../protocol/generated/describe-topic-partitions-request.js';
import * as dtpResponse from '../../../../protocol/generated/describe-topic-partitions-response.js';
import { run } from '../../../helpers/broker-process.js';
import { quietKafkajs } from '../../../helpers/kafkajs.js';
import { ErrorCode } from '../../../../protocol/generated/error-codes.js';
import {
  defaultDescribeAclsRequest,
  encodeDescribeAclsRequest,
} from '../../../../protocol/generated/describe-acls-request.js';
import { decodeDescribeAclsResponse } from '../../../../protocol/generated/describe-acls-response.js';
import { encodeCreateAclsRequest } from '../../../../protocol/generated/create-acls-request.js';
import { decodeCreateAclsResponse } from '../../../../protocol/generated/create-acls-response.js';
import { encodeDeleteAclsRequest } from '../../../../protocol/generated/delete-acls-request.js';
import { decodeDeleteAclsResponse } from '../../../../protocol/generated/delete-acls-response.js';
import { defaultMetadataRequest, encodeMetadataRequest } from '../../../../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../../../../protocol/generated/metadata-response.js';
import type { AclBinding } from '../../../../broker/authorizer.js';

const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;
const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../test/helpers/clients'));
const ANON = 'User:ANONYMOUS';

const env = useBrokerAndClient({
  config: { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer' },
  topics: ['visible', 'hidden', 'app.one'],
});

const clusterAcl = (operation: number): AclBinding => ({
  resourceType: 4,
  resourceName: 'kafka-cluster',
  patternType: 3,
  principal: ANON,
  host: '*',
  operation,
  permissionType: 3,
});

function describeAll(v = 3) {
  const req = defaultDescribeAclsRequest();
  req.resourceTypeFilter = 1;
  req.patternTypeFilter = v === 0 ? 3 : 1;
  req.operation = 1;
  req.permissionType = 1;
  req.resourceNameFilter = null;
  req.principalFilter = null;
  req.hostFilter = null;
  return call(env.client, 29, v, encodeDescribeAclsRequest, decodeDescribeAclsResponse, req);
}

const topicCreation = (name: string, operation = 8) => ({
  resourceType: 2,
  resourceName: name,
  resourcePatternType: 3,
  principal: ANON,
  host: '*',
  operation,
  permissionType: 3,
});

test('without CLUSTER permissions the ACL APIs answer CLUSTER_AUTHORIZATION_FAILED and change nothing', async () => {
  const d = await describeAll();
  assert.equal(d.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.deepEqual(d.resources, []);
  const c = await call(env.client, 30, 3, encodeCreateAclsRequest, decodeCreateAclsResponse, {
    creations: [topicCreation('visible'), topicCreation('hidden')],
  });
  assert.deepEqual(
    c.results.map((r) => r.errorCode),
    [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
  );
  const del = await call(env.client, 31, 3, encodeDeleteAclsRequest, decodeDeleteAclsResponse, {
    filters: [
      {
        resourceTypeFilter: 1,
        resourceNameFilter: null,
        patternTypeFilter: 1,
        principalFilter: null,
        hostFilter: null,
        operation: 1,
        permissionType: 1,
      },
    ],
  });
  assert.equal(del.filterResults[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.deepEqual(env.broker.broker.authorizer!.acls({ ...filterAll }), []);
  // DESCRIBE on the CLUSTER alone allows DescribeAcls but not CreateAcls.
  await env.broker.broker.authorizer!.createAcls([clusterAcl(8)]);
  assert.equal((await describeAll()).errorCode, 0);
  const c2 = await call(env.client, 30, 3, encodeCreateAclsRequest, decodeCreateAclsResponse, {
    creations: [topicCreation('visible')],
  });
  assert.equal(c2.results[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
});

const filterAll = {
  resourceType: 1,
  resourceName: null,
  patternType: 1,
  principal: null,
  host: null,
  operation: 1,
  permissionType: 1,
};

test('with ALTER on the CLUSTER: create (validated per ACL), describe, delete; durable across restart', async () => {
  await env.broker.broker.authorizer!.createAcls([clusterAcl(7)]);
  const c = await call(env.client, 30, 2, encodeCreateAclsRequest, decodeCreateAclsResponse, {
    creations: [topicCreation('visible'), { ...topicCreation('x'), resourcePatternType: 2 }, topicCreation('gone', 3)],
  });
  assert.deepEqual(
    c.results.map((r) => [r.errorCode, r.errorMessage]),
    [
      [0, null],
      [ErrorCode.INVALID_REQUEST, 'Invalid patternType MATCH'],
      [0, null],
    ],
  );
  const v0 = await describeAll(0);
  assert.equal(v0.errorCode, 0);
  assert.deepEqual(v0.resources.map((r) => [r.resourceType, r.resourceName, r.acls.map((a) => a.operation)]).sort(), [
    [2, 'gone', [3]],
    [2, 'visible', [8]],
    [4, 'kafka-cluster', [8, 7]],
  ]);
  const del = await call(env.client, 31, 3, encodeDeleteAclsRequest, decodeDeleteAclsResponse, {
    filters: [
      {
        resourceTypeFilter: 2,
        resourceNameFilter: 'gone',
        patternTypeFilter: 2,
        principalFilter: ANON,
        hostFilter: null,
        operation: 1,
        permissionType: 1,
      },
      {
        resourceTypeFilter: 0,
        resourceNameFilter: null,
        patternTypeFilter: 1,
        principalFilter: null,
        hostFilter: null,
        operation: 1,
        permissionType: 1,
      },
    ],
  });
  assert.deepEqual(
    del.filterResults.map((f) => [f.errorCode, f.errorMessage, f.matchingAcls.map((m) => m.resourceName)]),
    [
      [0, null, ['gone']],
      [ErrorCode.INVALID_REQUEST, 'Unknown patternFilter.', []],
    ],
  );
  await env.restart();
  const after = await describeAll();
  assert.deepEqual(after.resources.map((r) => r.resourceName).sort(), ['kafka-cluster', 'visible']);
});

test('Metadata hides topics without DESCRIBE (kafkajs listTopics / fetchTopicMetadata)', async () => {
  // From the previous test: DESCRIBE and ALTER on the CLUSTER, DESCRIBE on "visible".
  await env.broker.broker.authorizer!.createAcls([
    { ...clusterAcl(4), resourceType: 2, resourceName: 'app.', patternType: 4 },
  ]);
  const admin = quietKafkajs(env.broker).admin();
  await admin.connect();
  try {
    assert.deepEqual((await admin.listTopics()).sort(), ['app.one', 'visible']);
    const meta = await admin.fetchTopicMetadata({ topics: ['visible'] });
    assert.equal(meta.topics[0].name, 'visible');
    await assert.rejects(admin.fetchTopicMetadata({ topics: ['hidden'] }), { type: 'TOPIC_AUTHORIZATION_FAILED' });
  } finally {
    await admin.disconnect();
  }
  const req = defaultMetadataRequest();
  req.topics = ['hidden', 'visible', 'no-such', 'app.new'].map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }));
  req.allowAutoTopicCreation = true;
  req.includeTopicAuthorizedOperations = true;
  req.includeClusterAuthorizedOperations = true;
  const res = await call(env.client, 3, 10, encodeMetadataRequest, decodeMetadataResponse, req);
  assert.deepEqual(
    res.topics.map((t) => [t.name, t.errorCode, t.topicId === 'AAAAAAAAAAAAAAAAAAAAAA', t.topicAuthorizedOperations]),
    [
      ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED, true, -2147483648],
      ['visible', 0, false, 1 << 8],
      ['no-such', ErrorCode.TOPIC_AUTHORIZATION_FAILED, true, -2147483648],
      // WRITE on app.* allows DESCRIBE, not CREATE: not auto-created.
      ['app.new', ErrorCode.TOPIC_AUTHORIZATION_FAILED, true, -2147483648],
    ],
  );
  assert.equal(res.clusterAuthorizedOperations, (1 << 7) | (1 << 8));
  assert.equal((await env.broker.broker.authorizer!.acls({ ...filterAll, resourceName: 'app.new' })).length, 0);
  // CREATE on the CLUSTER allows auto-creation.
  await env.broker.broker.authorizer!.createAcls([clusterAcl(5)]);
  const created = await call(env.client, 3, 10, encodeMetadataRequest, decodeMetadataResponse, {
    ...req,
    topics: [{ name: 'app.new', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
  });
  assert.equal(created.topics[0].errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
});

test('kafkajs admin createAcls / describeAcls / deleteAcls against the real authorizer', async () => {
  const admin = quietKafkajs(env.broker).admin();
  await admin.connect();
  try {
    const acl = {
      resourceType: AclResourceTypes.GROUP,
      resourceName: 'g-',
      resourcePatternType: ResourcePatternTypes.PREFIXED,
      principal: 'User:alice',
      host: '*',
      operation: AclOperationTypes.READ,
      permissionType: AclPermissionTypes.ALLOW,
    };
    await admin.createAcls({ acl: [acl] });
    const filter = {
      resourceType: AclResourceTypes.GROUP,
      resourceName: 'g-1',
      resourcePatternType: ResourcePatternTypes.MATCH,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    };
    const described = await admin.describeAcls(filter);
    assert.deepEqual(described.resources, [
      {
        resourceType: AclResourceTypes.GROUP,
        resourceName: 'g-',
        resourcePatternType: ResourcePatternTypes.PREFIXED,
        acls: [{ principal: 'User:alice', host: '*', operation: AclOperationTypes.READ, permissionType: 3 }],
      },
    ]);
    const deleted = await admin.deleteAcls({ filters: [filter] });
    assert.equal(deleted.filterResponses[0].matchingAcls.length, 1);
    assert.deepEqual((await admin.describeAcls(filter)).resources, []);
  } finally {
    await admin.disconnect();
  }
});

test('kafka-python 2.0.2 admin create/describe/delete_acls against the real authorizer', async () => {
  const r = await run(
    '/usr/bin/python3',
    [join(clients, 'admin_acls.py'), env.broker.bootstrapServers, 'authorizer'],
    60_000,
  );
  assert.match(r.stdout, /^OK$/m, `${r.stdout}\n${r.stderr.slice(-1500)}`);
  assert.match(r.stdout, /^create: 1 \[\]$/m);
  assert.match(r.stdout, /^describe: \[\('t1', 'User:alice', 'READ'\)\]$/m);
  assert.match(r.stdout, /^delete: \[\(1, 'NoError'\)\]$/m);
});

test('DescribeCluster: authorized operations need DESCRIBE on the CLUSTER (else 0); brokers answered', async () => {
  const ask = () =>
    call(env.client, 60, 1, encodeDescribeClusterRequest, decodeDescribeClusterResponse, {
      includeClusterAuthorizedOperations: true,
      endpointType: 1,
      includeFencedBrokers: false,
    });
  // From the tests before: DESCRIBE, ALTER and CREATE on the CLUSTER.
  const res = await ask();
  assert.equal(res.errorCode, 0);
  assert.equal(res.clusterAuthorizedOperations, (1 << 5) | (1 << 7) | (1 << 8));
  // ALTER implies DESCRIBE: only CREATE left is not enough.
  await env.broker.broker.authorizer!.deleteAcls([{ ...filterAll, resourceType: 4, operation: 8 }]);
  assert.equal((await ask()).clusterAuthorizedOperations, (1 << 5) | (1 << 7) | (1 << 8));
  await env.broker.broker.authorizer!.deleteAcls([{ ...filterAll, resourceType: 4, operation: 7 }]);
  const denied = await ask();
  assert.equal(denied.clusterAuthorizedOperations, 0);
  assert.equal(denied.brokers.length, 1);
  await env.broker.broker.authorizer!.createAcls([clusterAcl(7), clusterAcl(8)]);
});

test('DescribeTopicPartitions: hidden when listing all, TOPIC_AUTHORIZATION_FAILED last when listed', async () => {
  const ask = (names: string[]) =>
    call(
      env.client,
      75,
      0,
      dtpRequest.encodeDescribeTopicPartitionsRequest,
      dtpResponse.decodeDescribeTopicPartitionsResponse,
      {
        topics: names.map((name) => ({ name })),
        responsePartitionLimit: 2000,
        cursor: null,
      },
    );
  const all = await ask([]);
  assert.deepEqual(
    all.topics.map((t) => [t.name, t.errorCode, t.topicAuthorizedOperations]),
    [
      ['app.new', 0, (1 << 4) | (1 << 8)],
      ['app.one', 0, (1 << 4) | (1 << 8)],
      ['visible', 0, 1 << 8],
    ],
  );
  const listed = await ask(['hidden', 'visible', 'nope']);
  assert.deepEqual(
    listed.topics.map((t) => [t.name, t.errorCode, t.topicId]),
    [
      ['visible', 0, listed.topics[0].topicId],
      ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'AAAAAAAAAAAAAAAAAAAAAA'],
      ['nope', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'AAAAAAAAAAAAAAAAAAAAAA'],
    ],
  );
});

test('an authorizer.class.name Runnel does not serve refuses start-up', async () => {
  await assert.rejects(
    testBroker({ storage: 'memory', config: { 'authorizer.class.name': 'com.example.MyAuthorizer' } }),
    /authorizer.class.name com.example.MyAuthorizer is not supported/,
  );
});
