import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigResourceTypes } from 'kafkajs';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  defaultDescribeConfigsRequest,
  encodeDescribeConfigsRequest,
  type DescribeConfigsResource,
} from '../../../protocol/generated/describe-configs-request.js';
import {
  decodeDescribeConfigsResponse,
  type DescribeConfigsResponse,
} from '../../../protocol/generated/describe-configs-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { CONFIG_DEFS } from '../../../broker/config.js';
import { quietKafkajs } from '../../helpers/kafkajs.js';

const TOPIC = 2;
const BROKER = 4;
const env = useBrokerAndClient({
  config: { 'log.retention.ms': 3_600_000 },
  topics: [
    { name: 'dc-topic', partitions: 1, configs: { 'segment.bytes': '1048576', 'cleanup.policy': 'compact,delete' } },
  ],
});

function describe(
  v: number,
  resources: DescribeConfigsResource[],
  includeSynonyms = false,
  includeDocumentation = false,
): Promise<DescribeConfigsResponse> {
  const req = { ...defaultDescribeConfigsRequest(), resources, includeSynonyms, includeDocumentation };
  return call(env.client, 32, v, encodeDescribeConfigsRequest, decodeDescribeConfigsResponse, req);
}

test('every version 0-4 lists every topic config with the value in force and where it comes from', async () => {
  for (let v = 0; v <= 4; v++) {
    const res = await describe(
      v,
      [{ resourceType: TOPIC, resourceName: 'dc-topic', configurationKeys: null }],
      true,
      true,
    );
    const r = res.results[0]!;
    assert.equal(r.errorCode, 0);
    assert.equal(r.resourceName, 'dc-topic');
    const current = CONFIG_DEFS.filter((d) => d.topic && !d.removed).map((d) => d.topic!);
    assert.deepEqual(r.configs.map((x) => x.name).sort(), current.sort());
    const by = new Map(r.configs.map((x) => [x.name, x]));
    assert.equal(by.get('segment.bytes')!.value, '1048576');
    assert.equal(by.get('cleanup.policy')!.value, 'compact,delete');
    assert.equal(by.get('retention.ms')!.value, '3600000');
    assert.equal(by.get('flush.ms')!.value, '9223372036854775807');
    assert.equal(by.get('max.message.bytes')!.value, '1048588');
    assert.equal(by.get('message.timestamp.type')!.value, 'CreateTime');
    assert.equal(by.get('min.insync.replicas')!.value, '1');
    for (const x of r.configs) assert.equal(x.readOnly, false);
    if (v === 0) {
      assert.equal(by.get('segment.bytes')!.isDefault, false);
      assert.equal(by.get('retention.ms')!.isDefault, false, 'set at start: not the default');
      assert.equal(by.get('flush.ms')!.isDefault, true);
      continue;
    }
    assert.equal(by.get('segment.bytes')!.configSource, 1, 'DYNAMIC_TOPIC_CONFIG');
    assert.equal(by.get('retention.ms')!.configSource, 4, 'STATIC_BROKER_CONFIG');
    assert.equal(by.get('flush.ms')!.configSource, 5, 'DEFAULT_CONFIG');
    assert.deepEqual(by.get('segment.bytes')!.synonyms, [
      { name: 'segment.bytes', value: '1048576', source: 1 },
      { name: 'log.segment.bytes', value: '1073741824', source: 5 },
    ]);
    assert.deepEqual(by.get('retention.ms')!.synonyms, [
      { name: 'log.retention.ms', value: '3600000', source: 4 },
      { name: 'log.retention.ms', value: '604800000', source: 5 },
    ]);
    assert.deepEqual(by.get('preallocate')!.synonyms, [{ name: 'log.preallocate', value: 'false', source: 5 }]);
    if (v >= 3) {
      assert.equal(by.get('segment.bytes')!.configType, 3, 'INT');
      assert.equal(by.get('retention.ms')!.configType, 5, 'LONG');
      assert.equal(by.get('cleanup.policy')!.configType, 7, 'LIST');
      assert.equal(by.get('compression.type')!.configType, 2, 'STRING');
      assert.equal(by.get('preallocate')!.configType, 1, 'BOOLEAN');
      assert.equal(by.get('min.cleanable.dirty.ratio')!.configType, 6, 'DOUBLE');
      assert.ok(by.get('retention.ms')!.documentation!.length > 10);
    }
  }
});

test('synonyms and documentation only when asked; configurationKeys filters (unknown keys skipped)', async () => {
  const res = await describe(3, [
    {
      resourceType: TOPIC,
      resourceName: 'dc-topic',
      configurationKeys: ['retention.ms', 'no.such.key', 'segment.bytes'],
    },
  ]);
  const r = res.results[0]!;
  assert.deepEqual(r.configs.map((x) => x.name).sort(), ['retention.ms', 'segment.bytes']);
  for (const x of r.configs) {
    assert.deepEqual(x.synonyms, []);
    assert.equal(x.documentation, null);
  }
});

test('broker resources: this node lists every broker config, "" the (empty) defaults, other ids refused', async () => {
  const node = String(env.broker.broker.started.nodeId);
  const res = await describe(
    4,
    [
      { resourceType: BROKER, resourceName: node, configurationKeys: null },
      { resourceType: BROKER, resourceName: '', configurationKeys: null },
      { resourceType: BROKER, resourceName: '99', configurationKeys: null },
      { resourceType: BROKER, resourceName: 'x', configurationKeys: null },
      { resourceType: 8, resourceName: node, configurationKeys: null },
    ],
    true,
  );
  const [mine, defaults, other, notInt, logger] = res.results;
  assert.equal(mine!.errorCode, 0);
  const by = new Map(mine!.configs.map((x) => [x.name, x]));
  assert.equal(by.get('log.retention.ms')!.value, '3600000');
  assert.equal(by.get('log.retention.ms')!.configSource, 4);
  assert.equal(by.get('num.partitions')!.value, '1');
  assert.equal(by.get('num.partitions')!.configSource, 5);
  assert.equal(by.get('log.cleanup.policy')!.value, 'delete');
  assert.equal(by.get('node.id')!.readOnly, true);
  assert.equal(by.get('advertised.host')!.value, null);
  assert.deepEqual(by.get('num.partitions')!.synonyms, [{ name: 'num.partitions', value: '1', source: 5 }]);
  assert.equal(defaults!.errorCode, 0);
  assert.deepEqual(defaults!.configs, []);
  assert.equal(other!.errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(notInt!.errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(logger!.errorCode, ErrorCode.INVALID_REQUEST);
});

test('topic errors: unknown, illegal name, empty name', async () => {
  const res = await describe(1, [
    { resourceType: TOPIC, resourceName: 'dc-missing', configurationKeys: null },
    { resourceType: TOPIC, resourceName: 'bad/name', configurationKeys: null },
    { resourceType: TOPIC, resourceName: '', configurationKeys: null },
  ]);
  assert.deepEqual(
    res.results.map((r) => [r.resourceName, r.errorCode, r.configs.length]),
    [
      ['dc-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION, 0],
      ['', ErrorCode.INVALID_REQUEST, 0],
    ],
  );
});

test('kafkajs admin describeConfigs (v2) for a topic and the broker', async () => {
  const kafka = quietKafkajs(env.broker);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const res = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [
        { type: TOPIC as ConfigResourceTypes, name: 'dc-topic', configNames: ['segment.bytes', 'retention.ms'] },
        {
          type: BROKER as ConfigResourceTypes,
          name: String(env.broker.broker.started.nodeId),
          configNames: ['log.segment.bytes'],
        },
      ],
    });
    const topic = res.resources.find((r) => r.resourceType === TOPIC)!;
    assert.equal(topic.errorCode, 0);
    const seg = topic.configEntries.find((e) => e.configName === 'segment.bytes')!;
    assert.equal(seg.configValue, '1048576');
    assert.equal(seg.isDefault, false);
    assert.equal(seg.configSynonyms.length, 2);
    const broker = res.resources.find((r) => r.resourceType === BROKER)!;
    assert.deepEqual(
      broker.configEntries.map((e) => [e.configName, e.configValue]),
      [['log.segment.bytes', '1073741824']],
    );
  } finally {
    await admin.disconnect();
  }
});

test('@platformatic/kafka Admin describeConfigs (v4) with synonyms and documentation', async () => {
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  try {
    const [d] = await admin.describeConfigs({
      resources: [{ resourceType: TOPIC, resourceName: 'dc-topic', configurationKeys: ['cleanup.policy'] }],
      includeSynonyms: true,
      includeDocumentation: true,
    });
    assert.equal(d!.resourceName, 'dc-topic');
    const [cfg] = d!.configs;
    assert.equal(cfg!.name, 'cleanup.policy');
    assert.equal(cfg!.value, 'compact,delete');
    assert.equal(cfg!.configSource, 1);
    assert.equal(cfg!.configType, 7);
    assert.ok(cfg!.documentation);
    assert.deepEqual(
      cfg!.synonyms.map((s) => [s.name, s.value, s.source]),
      [
        ['cleanup.policy', 'compact,delete', 1],
        ['log.cleanup.policy', 'delete', 5],
      ],
    );
    await assert.rejects(admin.describeConfigs({ resources: [{ resourceType: TOPIC, resourceName: 'dc-missing' }] }));
  } finally {
    await admin.close();
  }
});
