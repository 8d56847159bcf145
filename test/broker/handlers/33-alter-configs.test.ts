import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigResourceTypes } from 'kafkajs';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  defaultAlterConfigsRequest,
  encodeAlterConfigsRequest,
  type AlterConfigsResource,
} from '../../../protocol/generated/alter-configs-request.js';
import {
  decodeAlterConfigsResponse,
  type AlterConfigsResponse,
} from '../../../protocol/generated/alter-configs-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { quietKafkajs } from '../../helpers/kafkajs.js';

const TOPIC = 2;
const BROKER = 4;
const DAY = 86_400_000;
const env = useBrokerAndClient();

function alter(v: number, resources: AlterConfigsResource[], validateOnly = false): Promise<AlterConfigsResponse> {
  const req = { ...defaultAlterConfigsRequest(), resources, validateOnly };
  return call(env.client, 33, v, encodeAlterConfigsRequest, decodeAlterConfigsResponse, req);
}

function topicRes(name: string, configs: Record<string, string | null>): AlterConfigsResource {
  return {
    resourceType: TOPIC,
    resourceName: name,
    configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
  };
}

test('v0-2 replace the whole set of overrides and apply live to the open logs', async () => {
  for (let v = 0; v <= 2; v++) {
    const name = `ac-v${v}`;
    await env.broker.broker.metadata.createTopic(name, { partitions: 2, configs: { 'segment.bytes': '1048576' } });
    const log = env.broker.broker.logs.getLog(name, 1)!;
    assert.equal(log.logConfig.retentionMs, 7 * DAY);
    const res = await alter(v, [topicRes(name, { 'retention.ms': '60000', 'cleanup.policy': 'compact' })]);
    assert.deepEqual(res.responses, [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: name }]);
    assert.deepEqual(env.broker.broker.metadata.image.topic(name)!.configs, {
      'retention.ms': '60000',
      'cleanup.policy': 'compact',
    });
    assert.equal(log.logConfig.retentionMs, 60000, 'live on the open log');
    assert.deepEqual(log.logConfig.cleanupPolicy, ['compact']);
    assert.equal(log.logConfig.segmentBytes, 1 << 30, 'segment.bytes not given: back to the broker default');
  }
});

test('validation: unknown name, bad or null value → INVALID_CONFIG, no change; validateOnly: no change', async () => {
  await env.broker.broker.metadata.createTopic('ac-valid', { partitions: 1, configs: { 'retention.ms': '1000' } });
  const res = await alter(1, [topicRes('ac-valid', { 'retention.ms': '5', 'no.such': 'x' })]);
  assert.equal(res.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(res.responses[0]!.errorMessage!, /no\.such/);
  const bad = await alter(2, [topicRes('ac-valid', { 'retention.ms': '-7' })]);
  assert.equal(bad.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(bad.responses[0]!.errorMessage!, /retention\.ms/);
  const nul = await alter(2, [topicRes('ac-valid', { 'retention.ms': null })]);
  assert.equal(nul.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
  const dry = await alter(2, [topicRes('ac-valid', { 'retention.ms': '2000' })], true);
  assert.equal(dry.responses[0]!.errorCode, 0);
  assert.deepEqual(env.broker.broker.metadata.image.topic('ac-valid')!.configs, { 'retention.ms': '1000' });
  assert.equal(env.broker.broker.logs.getLog('ac-valid', 0)!.logConfig.retentionMs, 1000);
});

test('resource errors: unknown topic, duplicate resource, static broker config, unknown type', async () => {
  const node = String(env.broker.broker.started.nodeId);
  const res = await alter(2, [
    topicRes('ac-missing', { 'retention.ms': '1' }),
    topicRes('ac-twice', {}),
    topicRes('ac-twice', {}),
    { resourceType: BROKER, resourceName: node, configs: [{ name: 'num.partitions', value: '3' }] },
    { resourceType: BROKER, resourceName: '', configs: [] },
    { resourceType: BROKER, resourceName: '42', configs: [] },
    { resourceType: 8, resourceName: node, configs: [] },
  ]);
  assert.deepEqual(
    res.responses.map((r) => [r.resourceType, r.resourceName, r.errorCode]),
    [
      [TOPIC, 'ac-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [TOPIC, 'ac-twice', ErrorCode.INVALID_REQUEST],
      [BROKER, node, ErrorCode.INVALID_REQUEST],
      [BROKER, '', 0],
      [BROKER, '42', ErrorCode.INVALID_REQUEST],
      [8, node, ErrorCode.INVALID_REQUEST],
    ],
  );
  assert.equal(res.responses[2]!.errorMessage, 'Cannot update these configs dynamically: Set(num.partitions)');
});

test('kafkajs admin alterConfigs (v1) changes retention in storage; the override survives a restart', async () => {
  const kafka = quietKafkajs(env.broker);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: 'ac-kafkajs', numPartitions: 2 }] });
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: TOPIC as ConfigResourceTypes,
          name: 'ac-kafkajs',
          configEntries: [
            { name: 'retention.ms', value: '120000' },
            { name: 'retention.bytes', value: '5000000' },
          ],
        },
      ],
    });
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: TOPIC as ConfigResourceTypes, name: 'ac-kafkajs', configNames: ['retention.ms'] }],
    });
    assert.equal(described.resources[0]!.configEntries[0]!.configValue, '120000');
    await assert.rejects(
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: TOPIC as ConfigResourceTypes,
            name: 'ac-kafkajs',
            configEntries: [{ name: 'retention.ms', value: 'never' }],
          },
        ],
      }),
    );
  } finally {
    await admin.disconnect();
  }
  for (const p of [0, 1]) {
    assert.equal(env.broker.broker.logs.getLog('ac-kafkajs', p)!.logConfig.retentionMs, 120000);
    assert.equal(env.broker.broker.logs.getLog('ac-kafkajs', p)!.logConfig.retentionBytes, 5000000);
  }
  await env.restart();
  assert.deepEqual(env.broker.broker.metadata.image.topic('ac-kafkajs')!.configs, {
    'retention.ms': '120000',
    'retention.bytes': '5000000',
  });
  assert.equal(env.broker.broker.logs.getLog('ac-kafkajs', 1)!.logConfig.retentionMs, 120000);
});

test('@platformatic/kafka Admin alterConfigs (v2)', async () => {
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  try {
    await admin.createTopics({ topics: ['ac-platformatic'], partitions: 1 });
    await admin.alterConfigs({
      resources: [
        {
          resourceType: TOPIC,
          resourceName: 'ac-platformatic',
          configs: [{ name: 'max.message.bytes', value: '4096' }],
        },
      ],
    });
    assert.equal(env.broker.broker.logs.getLog('ac-platformatic', 0)!.logConfig.maxMessageBytes, 4096);
    await admin.alterConfigs({ resources: [{ resourceType: TOPIC, resourceName: 'ac-platformatic', configs: [] }] });
    assert.deepEqual(env.broker.broker.metadata.image.topic('ac-platformatic')!.configs, {});
    assert.equal(env.broker.broker.logs.getLog('ac-platformatic', 0)!.logConfig.maxMessageBytes, 1048588);
    await assert.rejects(
      admin.alterConfigs({
        resources: [{ resourceType: TOPIC, resourceName: 'ac-platformatic', configs: [{ name: 'bogus', value: '1' }] }],
      }),
    );
  } finally {
    await admin.close();
  }
});

test('broker resources: given configs replace the dynamic set of the level; refusals are INVALID_REQUEST', async () => {
  const node = String(env.broker.broker.started.nodeId);
  const broker = (name: string, configs: Record<string, string | null>): AlterConfigsResource => ({
    resourceType: BROKER,
    resourceName: name,
    configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
  });
  await env.broker.broker.metadata.createTopic('ac-broker', { partitions: 1 });
  const log = env.broker.broker.logs.getLog('ac-broker', 0)!;
  const ok = await alter(2, [
    broker(node, { 'log.retention.ms': '5000', 'message.max.bytes': '2000' }),
    broker('', { 'log.segment.bytes': '1048576' }),
  ]);
  assert.deepEqual(
    ok.responses.map((r) => r.errorCode),
    [0, 0],
  );
  assert.equal(log.logConfig.retentionMs, 5000, 'applied at once to a topic without an override');
  assert.equal(log.logConfig.maxMessageBytes, 2000);
  assert.equal(log.logConfig.segmentBytes, 1048576, 'cluster default');
  assert.deepEqual(env.broker.broker.dynamicConfigs.get(node), {
    'log.retention.ms': '5000',
    'message.max.bytes': '2000',
  });
  const replaced = await alter(0, [broker(node, { 'message.max.bytes': '3000' })]);
  assert.equal(replaced.responses[0]!.errorCode, 0);
  assert.equal(log.logConfig.retentionMs, 7 * DAY, 'not given again: back to the static value');
  assert.equal(log.logConfig.maxMessageBytes, 3000);
  const cases: Array<[Record<string, string | null>, RegExp]> = [
    [{ 'log.retention.ms': null }, /Null value not supported/],
    [{ 'log.retention.ms': 'soon' }, /log\.retention\.ms/],
    [{ 'no.such.config': '1' }, /no\.such\.config/],
    [
      { 'auto.create.topics.enable': 'false' },
      /Cannot update these configs dynamically: Set\(auto\.create\.topics\.enable\)/,
    ],
    [{ 'log.message.format.version': '0.10.0' }, /dynamically/],
  ];
  for (const [configs, message] of cases) {
    const r = await alter(1, [broker(node, configs)]);
    assert.equal(r.responses[0]!.errorCode, ErrorCode.INVALID_REQUEST, JSON.stringify(configs));
    assert.match(r.responses[0]!.errorMessage!, message);
  }
  const dry = await alter(1, [broker(node, { 'message.max.bytes': '10' })], true);
  assert.equal(dry.responses[0]!.errorCode, 0);
  assert.equal(log.logConfig.maxMessageBytes, 3000, 'validateOnly changes nothing');
  const cleared = await alter(1, [broker(node, {}), broker('', {})]);
  assert.deepEqual(
    cleared.responses.map((r) => r.errorCode),
    [0, 0],
  );
  assert.equal(log.logConfig.maxMessageBytes, 1_048_588);
  assert.equal(log.logConfig.segmentBytes, 1 << 30);
  assert.deepEqual(env.broker.broker.dynamicConfigs.snapshot().entities, {});
});

test('topic configs removed in 4.0 are accepted as in 3.x (message.timestamp.difference.max.ms mapped)', async () => {
  await env.broker.broker.metadata.createTopic('ac-legacy', { partitions: 1 });
  const res = await alter(0, [
    topicRes('ac-legacy', {
      'message.format.version': '0.10.0',
      'message.downconversion.enable': 'false',
      'message.timestamp.difference.max.ms': '60000',
    }),
  ]);
  assert.equal(res.responses[0]!.errorCode, 0);
  const log = env.broker.broker.logs.getLog('ac-legacy', 0)!;
  assert.equal(log.logConfig.messageTimestampBeforeMaxMs, 60000);
  assert.equal(log.logConfig.messageTimestampAfterMaxMs, 60000);
  const bad = await alter(0, [topicRes('ac-legacy', { 'message.format.version': 'latest' })]);
  assert.equal(bad.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
});
