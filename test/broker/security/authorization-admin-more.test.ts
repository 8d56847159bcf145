/**
 * Authorization of the remaining admin handlers over raw protocol requests with a RuleAuthorizer: DeleteRecords
 * (DELETE topic), DescribeConfigs (DESCRIBE_CONFIGS topic / CLUSTER), AlterConfigs and IncrementalAlterConfigs
 * (ALTER_CONFIGS), CreatePartitions (ALTER topic), ElectLeaders and AlterPartitionReassignments (ALTER CLUSTER),
 * AlterClientQuotas (ALTER_CONFIGS CLUSTER), AlterUserScramCredentials (ALTER CLUSTER), DescribeProducers (READ
 * topic): denied answers Kafka's code and changes or reveals nothing; allowed works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { RuleAuthorizer } from '../../helpers/rule-authorizer.js';
import { AclOperation as Op, AclResourceType as Res, CLUSTER_RESOURCE } from '../../../broker/authorizer.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { defaultProduceRequest, encodeProduceRequest } from '../../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../../protocol/generated/produce-response.js';
import { encodeDeleteRecordsRequest } from '../../../protocol/generated/delete-records-request.js';
import { decodeDeleteRecordsResponse } from '../../../protocol/generated/delete-records-response.js';
import { encodeDescribeConfigsRequest } from '../../../protocol/generated/describe-configs-request.js';
import { decodeDescribeConfigsResponse } from '../../../protocol/generated/describe-configs-response.js';
import { encodeAlterConfigsRequest } from '../../../protocol/generated/alter-configs-request.js';
import { decodeAlterConfigsResponse } from '../../../protocol/generated/alter-configs-response.js';
import { encodeIncrementalAlterConfigsRequest } from '../../../protocol/generated/incremental-alter-configs-request.js';
import * as m1 from '../../../protocol/generated/incremental-alter-configs-response.js';
import { encodeCreatePartitionsRequest } from '../../../protocol/generated/create-partitions-request.js';
import { decodeCreatePartitionsResponse } from '../../../protocol/generated/create-partitions-response.js';
import { encodeElectLeadersRequest } from '../../../protocol/generated/elect-leaders-request.js';
import { decodeElectLeadersResponse } from '../../../protocol/generated/elect-leaders-response.js';
import * as m2 from '../../../protocol/generated/alter-partition-reassignments-request.js';
import * as m3 from '../../../protocol/generated/alter-partition-reassignments-response.js';
import { encodeAlterClientQuotasRequest } from '../../../protocol/generated/alter-client-quotas-request.js';
import { decodeAlterClientQuotasResponse } from '../../../protocol/generated/alter-client-quotas-response.js';
import * as m4 from '../../../protocol/generated/alter-user-scram-credentials-request.js';
import * as m5 from '../../../protocol/generated/alter-user-scram-credentials-response.js';
import { encodeDescribeProducersRequest } from '../../../protocol/generated/describe-producers-request.js';
import { decodeDescribeProducersResponse } from '../../../protocol/generated/describe-producers-response.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';
const auth = new RuleAuthorizer();
const env = useBrokerAndClient({
  topics: [
    { name: 't', partitions: 1 },
    { name: 'g', partitions: 1 },
  ],
  setup: async (b) => {
    b.broker.authorizer = auth;
  },
});
const CLUSTER = { resourceType: Res.CLUSTER, name: CLUSTER_RESOURCE };
const image = () => env.broker.broker.metadata.image;

test('DeleteRecords: DELETE on the topic, else TOPIC_AUTHORIZATION_FAILED and the log start stays', async () => {
  const p = defaultProduceRequest();
  p.acks = -1;
  p.timeoutMs = 5000;
  const batch = Buffer.from(await buildRecordBatch([{ key: 'k', value: 'v' }]));
  p.topicData = [{ name: 't', topicId: ZERO, partitionData: [{ index: 0, records: batch }] }];
  auth.set([{ operation: Op.WRITE, resourceType: Res.TOPIC, name: 't' }]);
  await call(env.client, 0, 9, encodeProduceRequest, decodeProduceResponse, p);
  const req = { timeoutMs: 5000, topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: -1n }] }] };
  req.topics.push({ name: 'no-such', partitions: [{ partitionIndex: 0, offset: -1n }] });
  auth.set([{ operation: Op.READ, resourceType: Res.TOPIC, name: '*' }]);
  const denied = await call(env.client, 21, 2, encodeDeleteRecordsRequest, decodeDeleteRecordsResponse, req);
  assert.deepEqual(
    denied.topics.map((t) => [t.name, t.partitions[0]!.errorCode, t.partitions[0]!.lowWatermark]),
    [
      ['t', ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n],
      ['no-such', ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n],
    ],
  );
  assert.equal(env.broker.broker.logs.getLog('t', 0)!.logStartOffset, 0);
  auth.set([{ operation: Op.DELETE, resourceType: Res.TOPIC, name: '*' }]);
  const ok = await call(env.client, 21, 2, encodeDeleteRecordsRequest, decodeDeleteRecordsResponse, req);
  assert.equal(ok.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.ok(ok.topics[0]!.partitions[0]!.lowWatermark > 0n);
  assert.equal(ok.topics[1]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

test('DescribeConfigs: DESCRIBE_CONFIGS on the topic, on the CLUSTER for a broker; denied: no configs', async () => {
  const req = {
    includeSynonyms: false,
    includeDocumentation: false,
    resources: [
      { resourceType: 2, resourceName: 't', configurationKeys: null },
      { resourceType: 4, resourceName: String(env.broker.broker.started.nodeId), configurationKeys: null },
    ],
  };
  auth.set([
    { operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: '*' },
    { operation: Op.DESCRIBE, ...CLUSTER },
  ]);
  const denied = await call(env.client, 32, 4, encodeDescribeConfigsRequest, decodeDescribeConfigsResponse, req);
  assert.deepEqual(
    denied.results.map((r) => [r.errorCode, r.errorMessage, r.configs.length]),
    [
      [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.', 0],
      [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.', 0],
    ],
  );
  auth.set([
    { operation: Op.ALTER_CONFIGS, resourceType: Res.TOPIC, name: 't' },
    { operation: Op.DESCRIBE_CONFIGS, ...CLUSTER },
  ]);
  const ok = await call(env.client, 32, 4, encodeDescribeConfigsRequest, decodeDescribeConfigsResponse, req);
  assert.deepEqual(
    ok.results.map((r) => r.errorCode),
    [ErrorCode.NONE, ErrorCode.NONE],
  );
  assert.ok(ok.results.every((r) => r.configs.length > 0));
  // Mixed: as Kafka, the allowed resources' results come first, the denied ones after them.
  auth.set([{ operation: Op.DESCRIBE_CONFIGS, ...CLUSTER }]);
  const mixed = await call(env.client, 32, 4, encodeDescribeConfigsRequest, decodeDescribeConfigsResponse, req);
  assert.deepEqual(
    mixed.results.map((r) => [r.resourceType, r.errorCode, r.configs.length > 0]),
    [
      [4, ErrorCode.NONE, true],
      [2, ErrorCode.TOPIC_AUTHORIZATION_FAILED, false],
    ],
  );
});

test('AlterConfigs and IncrementalAlterConfigs: ALTER_CONFIGS; denied changes nothing', async () => {
  const topicConfigs = () => ({ ...image().topic('t')!.configs });
  const before = topicConfigs();
  const legacy = {
    validateOnly: false,
    resources: [
      { resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', value: '12345' }] },
      { resourceType: 4, resourceName: '', configs: [] },
    ],
  };
  auth.set([{ operation: Op.DESCRIBE_CONFIGS, resourceType: Res.TOPIC, name: '*' }]);
  const denied = await call(env.client, 33, 2, encodeAlterConfigsRequest, decodeAlterConfigsResponse, legacy);
  assert.deepEqual(
    denied.responses.map((r) => [r.errorCode, r.errorMessage]),
    [
      [ErrorCode.TOPIC_AUTHORIZATION_FAILED, null],
      [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null],
    ],
  );
  const incr = {
    validateOnly: false,
    resources: [
      { resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', configOperation: 0, value: '777' }] },
    ],
  };
  const dec = m1.decodeIncrementalAlterConfigsResponse;
  const deniedIncr = await call(env.client, 44, 1, encodeIncrementalAlterConfigsRequest, dec, incr);
  assert.equal(deniedIncr.responses[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.deepEqual(topicConfigs(), before);
  auth.set([{ operation: Op.ALTER_CONFIGS, resourceType: Res.TOPIC, name: 't' }]);
  const ok = await call(env.client, 44, 1, encodeIncrementalAlterConfigsRequest, dec, incr);
  assert.equal(ok.responses[0]!.errorCode, ErrorCode.NONE);
  assert.equal(topicConfigs()['retention.ms'], '777');
});

test('CreatePartitions: ALTER on the topic; denied (even unknown) topics are not grown', async () => {
  const req = {
    timeoutMs: 5000,
    validateOnly: false,
    topics: [
      { name: 'g', count: 2, assignments: null },
      { name: 'no-such', count: 2, assignments: null },
    ],
  };
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: '*' }]);
  const denied = await call(env.client, 37, 3, encodeCreatePartitionsRequest, decodeCreatePartitionsResponse, req);
  assert.deepEqual(
    denied.results.map((r) => [r.name, r.errorCode]),
    [
      ['g', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ['no-such', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ],
  );
  assert.equal(image().topic('g')!.partitions, 1);
  auth.set([{ operation: Op.ALTER, resourceType: Res.TOPIC, name: '*' }]);
  const ok = await call(env.client, 37, 3, encodeCreatePartitionsRequest, decodeCreatePartitionsResponse, req);
  assert.deepEqual(
    ok.results.map((r) => r.errorCode),
    [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  assert.equal(image().topic('g')!.partitions, 2);
});

test('ElectLeaders and AlterPartitionReassignments: ALTER on the CLUSTER', async () => {
  const elect = { electionType: 0, timeoutMs: 5000, topicPartitions: [{ topic: 't', partitions: [0] }] };
  auth.set([{ operation: Op.ALTER_CONFIGS, ...CLUSTER }]);
  const d1 = await call(env.client, 43, 2, encodeElectLeadersRequest, decodeElectLeadersResponse, elect);
  assert.equal(d1.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal(d1.replicaElectionResults[0]!.partitionResult[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const nodeId = env.broker.broker.started.nodeId;
  const move = {
    timeoutMs: 5000,
    allowReplicationFactorChange: true,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, replicas: [nodeId] }] }],
  };
  const decR = m3.decodeAlterPartitionReassignmentsResponse;
  const d2 = await call(env.client, 45, 0, m2.encodeAlterPartitionReassignmentsRequest, decR, move);
  assert.equal(d2.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal(d2.responses[0]!.partitions[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  auth.set([{ operation: Op.ALTER, ...CLUSTER }]);
  const ok1 = await call(env.client, 43, 2, encodeElectLeadersRequest, decodeElectLeadersResponse, elect);
  assert.equal(ok1.errorCode, ErrorCode.NONE);
  assert.equal(ok1.replicaElectionResults[0]!.partitionResult[0]!.errorCode, ErrorCode.ELECTION_NOT_NEEDED);
  const ok2 = await call(env.client, 45, 0, m2.encodeAlterPartitionReassignmentsRequest, decR, move);
  assert.equal(ok2.errorCode, ErrorCode.NONE);
});

test('AlterClientQuotas (ALTER_CONFIGS) and AlterUserScramCredentials (ALTER) on the CLUSTER', async () => {
  const quotas = {
    validateOnly: false,
    entries: [
      {
        entity: [{ entityType: 'client-id', entityName: 'c1' }],
        ops: [{ key: 'producer_byte_rate', value: 1000, remove: false }],
      },
    ],
  };
  const scram = {
    deletions: [
      { name: 'bob', mechanism: 1 },
      { name: 'al', mechanism: 1 },
    ],
    upsertions: [],
  };
  auth.set([{ operation: Op.ALTER, ...CLUSTER }]);
  const d1 = await call(env.client, 49, 1, encodeAlterClientQuotasRequest, decodeAlterClientQuotasResponse, quotas);
  assert.equal(d1.entries[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const decS = m5.decodeAlterUserScramCredentialsResponse;
  auth.set([{ operation: Op.ALTER_CONFIGS, ...CLUSTER }]);
  const ok1 = await call(env.client, 49, 1, encodeAlterClientQuotasRequest, decodeAlterClientQuotasResponse, quotas);
  assert.equal(ok1.entries[0]!.errorCode, ErrorCode.NONE);
  const d2 = await call(env.client, 51, 0, m4.encodeAlterUserScramCredentialsRequest, decS, scram);
  assert.deepEqual(
    d2.results.map((r) => [r.user, r.errorCode]),
    [
      ['al', ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
      ['bob', ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
    ],
  );
  auth.set([{ operation: Op.ALTER, ...CLUSTER }]);
  const ok2 = await call(env.client, 51, 0, m4.encodeAlterUserScramCredentialsRequest, decS, scram);
  assert.ok(ok2.results.every((r) => r.errorCode === ErrorCode.RESOURCE_NOT_FOUND));
});

test('DescribeProducers: READ on the topic, else TOPIC_AUTHORIZATION_FAILED', async () => {
  const req = { topics: [{ name: 't', partitionIndexes: [0] }] };
  auth.set([{ operation: Op.DESCRIBE, resourceType: Res.TOPIC, name: '*' }]);
  const denied = await call(env.client, 61, 0, encodeDescribeProducersRequest, decodeDescribeProducersResponse, req);
  assert.equal(denied.topics[0]!.partitions[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  auth.set([{ operation: Op.READ, resourceType: Res.TOPIC, name: 't' }]);
  const ok = await call(env.client, 61, 0, encodeDescribeProducersRequest, decodeDescribeProducersResponse, req);
  assert.equal(ok.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
});
