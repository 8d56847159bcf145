/**
 * Dynamic broker configs with real clients: kafka-python and confluent-kafka (AlterConfigs/DescribeConfigs
 * on BROKER resources) and kafkajs; applied at once (message.max.bytes refuses the next produce) and kept
 * across a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigResourceTypes } from 'kafkajs';
import { quietKafkajs } from '../helpers/kafkajs.js';
import { call, useBrokerAndClient } from '../helpers/test-broker.js';
import {
  defaultAlterConfigsRequest,
  encodeAlterConfigsRequest,
} from '../../protocol/generated/alter-configs-request.js';
import { decodeAlterConfigsResponse } from '../../protocol/generated/alter-configs-response.js';
import {
  defaultDescribeConfigsRequest,
  encodeDescribeConfigsRequest,
} from '../../protocol/generated/describe-configs-request.js';
import { decodeDescribeConfigsResponse } from '../../protocol/generated/describe-configs-response.js';
import { run } from '../helpers/broker-process.js';
import { PY } from '../helpers/python-records.js';

const BROKER = 4 as ConfigResourceTypes;
const env = useBrokerAndClient({ topics: [{ name: 'bc-topic', partitions: 1 }] });

/** AlterConfigs v2 of the cluster-wide default entity ("": kafkajs and confluent-kafka refuse an empty name). */
async function setClusterDefaults(configs: Record<string, string>): Promise<number> {
  const req = {
    ...defaultAlterConfigsRequest(),
    resources: [
      { resourceType: 4, resourceName: '', configs: Object.entries(configs).map(([name, value]) => ({ name, value })) },
    ],
  };
  const res = await call(env.client, 33, 2, encodeAlterConfigsRequest, decodeAlterConfigsResponse, req);
  return res.responses[0]!.errorCode;
}

async function python(code: string): Promise<unknown> {
  const r = await run(PY, ['-c', code], 60_000);
  assert.equal(r.code, 0, r.stderr.slice(-1500));
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('kafka-python alter_configs / describe_configs on this broker; kept across a restart', async () => {
  const node = env.broker.broker.started.nodeId;
  const out = (await python(`
import json
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers='127.0.0.1:${env.broker.port}')
r = a.alter_configs([ConfigResource(ConfigResourceType.BROKER, '${node}', configs={'log.retention.ms': '120000'})])
alter = [list(x[:2]) for x in r.resources]
keys = {'log.retention.ms': None, 'num.partitions': None}
d = a.describe_configs([ConfigResource(ConfigResourceType.BROKER, '${node}', configs=keys)])
print(json.dumps({'alter': alter, 'describe': [[list(e[:4]) for e in res[4]] for res in d[0].resources]}))
`)) as { alter: unknown[]; describe: unknown[][] };
  assert.deepEqual(out.alter, [[0, null]]);
  // DescribeConfigs v1 entries: name, value, read_only, config_source.
  assert.deepEqual(
    out.describe[0]!.sort(),
    [
      ['log.retention.ms', '120000', false, 2 /* DYNAMIC_BROKER_CONFIG */],
      ['num.partitions', '1', true, 5 /* DEFAULT_CONFIG */],
    ].sort(),
  );
  const log = env.broker.broker.logs.getLog('bc-topic', 0)!;
  assert.equal(log.logConfig.retentionMs, 120000, 'applied to the open log');
  await env.restart();
  assert.equal(env.broker.broker.config.int('log.retention.ms'), 120000, 'kept across a restart');
  assert.equal(env.broker.broker.logs.getLog('bc-topic', 0)!.logConfig.retentionMs, 120000);
  await python(`
import json
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers='127.0.0.1:${env.broker.port}')
r = a.alter_configs([ConfigResource(ConfigResourceType.BROKER, '${node}', configs={})])
print(json.dumps([list(x[:2]) for x in r.resources]))
`);
  assert.equal(env.broker.broker.logs.getLog('bc-topic', 0)!.logConfig.retentionMs, 7 * 86_400_000);
});

test('confluent-kafka alter_configs / describe_configs on this broker', async () => {
  const node = env.broker.broker.started.nodeId;
  const out = (await python(`
import json
from confluent_kafka.admin import AdminClient, ConfigResource
a = AdminClient({'bootstrap.servers': '127.0.0.1:${env.broker.port}'})
res = ConfigResource('BROKER', '${node}')
res.set_config('log.segment.bytes', '2097152')
for f in a.alter_configs([res]).values(): f.result(timeout=30)
d = list(a.describe_configs([ConfigResource('BROKER', '${node}')]).values())[0].result(timeout=30)
keep = ('log.segment.bytes', 'node.id')
print(json.dumps({k: [v.value, v.source, v.is_read_only] for k, v in d.items() if k in keep}))
`)) as Record<string, [string, number, boolean]>;
  assert.deepEqual(out, {
    'log.segment.bytes': ['2097152', 2 /* DYNAMIC_BROKER_CONFIG */, false],
    'node.id': [String(node), 5 /* DEFAULT_CONFIG */, true],
  });
  assert.equal(env.broker.broker.logs.getLog('bc-topic', 0)!.logConfig.segmentBytes, 2097152);
  assert.deepEqual(env.broker.broker.dynamicConfigs.get(String(node)), { 'log.segment.bytes': '2097152' });
});

test('kafkajs: a lowered message.max.bytes refuses the next produce; synonyms show where values are from', async () => {
  const node = String(env.broker.broker.started.nodeId);
  const kafka = quietKafkajs(env.broker);
  const admin = kafka.admin();
  const producer = kafka.producer();
  await admin.connect();
  await producer.connect();
  try {
    await producer.send({ topic: 'bc-topic', messages: [{ value: 'x'.repeat(2000) }] });
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: BROKER, name: node, configEntries: [{ name: 'message.max.bytes', value: '1000' }] }],
    });
    assert.equal(await setClusterDefaults({ 'log.segment.bytes': '3145728' }), 0);
    await assert.rejects(producer.send({ topic: 'bc-topic', messages: [{ value: 'x'.repeat(2000) }] }), (e: Error) =>
      /too large|MESSAGE_TOO_LARGE|larger/i.test(`${e.message} ${(e as { type?: string }).type ?? ''}`),
    );
    const d = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [{ type: BROKER, name: node, configNames: ['message.max.bytes', 'log.segment.bytes'] }],
    });
    const by = new Map(d.resources[0]!.configEntries.map((e) => [e.configName, e]));
    assert.equal(by.get('message.max.bytes')!.configValue, '1000');
    assert.equal(by.get('message.max.bytes')!.readOnly, false);
    assert.deepEqual(
      by.get('message.max.bytes')!.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]),
      [
        ['message.max.bytes', '1000', 2],
        ['message.max.bytes', '1048588', 5],
      ],
    );
    assert.deepEqual(
      by.get('log.segment.bytes')!.configSynonyms.map((s) => [s.configValue, s.configSource]),
      [
        ['3145728', 3],
        ['1073741824', 5],
      ],
      "AlterConfigs replaced the node's set (the previous test's value is gone): cluster default, table default",
    );
    const cluster = await call(env.client, 32, 4, encodeDescribeConfigsRequest, decodeDescribeConfigsResponse, {
      ...defaultDescribeConfigsRequest(),
      includeSynonyms: true,
      resources: [{ resourceType: 4, resourceName: '', configurationKeys: null }],
    });
    assert.deepEqual(
      cluster.results[0]!.configs.map((e) => [e.name, e.value, e.readOnly, e.configSource, e.synonyms.length]),
      [['log.segment.bytes', '3145728', false, 3, 1]],
      'the "" resource lists only the dynamic cluster defaults',
    );
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: BROKER, name: node, configEntries: [] }],
    });
    assert.equal(await setClusterDefaults({}), 0);
    await producer.send({ topic: 'bc-topic', messages: [{ value: 'x'.repeat(2000) }] });
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});
