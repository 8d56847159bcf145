import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import {
  defaultIncrementalAlterConfigsRequest,
  encodeIncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestAlterConfigsResource,
} from '../../../protocol/generated/incremental-alter-configs-request.js';
import {
  decodeIncrementalAlterConfigsResponse,
  type IncrementalAlterConfigsResponse,
} from '../../../protocol/generated/incremental-alter-configs-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const TOPIC = 2;
const BROKER = 4;
const [SET, DELETE, APPEND, SUBTRACT] = [0, 1, 2, 3];
const env = useBrokerAndClient();

type Op = [name: string, op: number, value: string | null];

function res(name: string, ops: Op[], type = TOPIC): IncrementalAlterConfigsRequestAlterConfigsResource {
  return {
    resourceType: type,
    resourceName: name,
    configs: ops.map(([n, configOperation, value]) => ({ name: n, configOperation, value })),
  };
}

function alter(
  v: number,
  resources: IncrementalAlterConfigsRequestAlterConfigsResource[],
  validateOnly = false,
): Promise<IncrementalAlterConfigsResponse> {
  const req = { ...defaultIncrementalAlterConfigsRequest(), resources, validateOnly };
  return call(env.client, 44, v, encodeIncrementalAlterConfigsRequest, decodeIncrementalAlterConfigsResponse, req);
}

test('v0-1 SET and DELETE change single overrides, keep the others, apply live and persist', async () => {
  for (let v = 0; v <= 1; v++) {
    const name = `iac-v${v}`;
    await env.broker.broker.metadata.createTopic(name, {
      partitions: 1,
      configs: { 'segment.bytes': '1048576', 'retention.bytes': '1000000' },
    });
    const out = await alter(v, [
      res(name, [
        ['retention.ms', SET, '90000'],
        ['retention.bytes', DELETE, null],
        ['flush.ms', DELETE, null],
      ]),
    ]);
    assert.deepEqual(out.responses, [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: name }]);
    assert.deepEqual(env.broker.broker.metadata.image.topic(name)!.configs, {
      'segment.bytes': '1048576',
      'retention.ms': '90000',
    });
    const cfg = env.broker.broker.logs.getLog(name, 0)!.logConfig;
    assert.equal(cfg.retentionMs, 90000);
    assert.equal(cfg.retentionBytes, -1);
    assert.equal(cfg.segmentBytes, 1048576);
  }
});

test('APPEND and SUBTRACT edit list configs (cleanup.policy), starting from the value in force', async () => {
  await env.broker.broker.metadata.createTopic('iac-list', { partitions: 1 });
  await alter(1, [res('iac-list', [['cleanup.policy', APPEND, 'compact']])]);
  assert.equal(env.broker.broker.metadata.image.topic('iac-list')!.configs['cleanup.policy'], 'delete,compact');
  assert.deepEqual(env.broker.broker.logs.getLog('iac-list', 0)!.logConfig.cleanupPolicy, ['delete', 'compact']);
  await alter(1, [res('iac-list', [['cleanup.policy', APPEND, 'compact']])]);
  assert.equal(
    env.broker.broker.metadata.image.topic('iac-list')!.configs['cleanup.policy'],
    'delete,compact',
    'APPEND of a present item is a no-op',
  );
  await alter(1, [res('iac-list', [['cleanup.policy', SUBTRACT, 'delete']])]);
  assert.deepEqual(env.broker.broker.logs.getLog('iac-list', 0)!.logConfig.cleanupPolicy, ['compact']);
  const notList = await alter(1, [res('iac-list', [['retention.ms', APPEND, '5']])]);
  assert.equal(notList.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(notList.responses[0]!.errorMessage!, /not LIST/);
});

test('errors: unknown name, bad value, duplicate key, unknown operation, unknown topic; validateOnly', async () => {
  await env.broker.broker.metadata.createTopic('iac-err', { partitions: 1, configs: { 'retention.ms': '1000' } });
  const out = await alter(1, [
    res('iac-err', [['no.such', SET, '1']]),
    res('iac-missing', [['retention.ms', SET, '1']]),
  ]);
  assert.deepEqual(
    out.responses.map((r) => r.errorCode),
    [ErrorCode.INVALID_CONFIG, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  const cases: Array<[Op[], number]> = [
    [[['retention.ms', SET, 'abc']], ErrorCode.INVALID_CONFIG],
    [[['message.timestamp.type', SET, 'WallClock']], ErrorCode.INVALID_CONFIG],
    [[['retention.ms', SET, null]], ErrorCode.INVALID_CONFIG],
    [
      [
        ['retention.ms', SET, '5'],
        ['retention.ms', DELETE, null],
      ],
      ErrorCode.INVALID_REQUEST,
    ],
    [[['retention.ms', 9, '5']], ErrorCode.INVALID_REQUEST],
  ];
  for (const [ops, code] of cases) {
    const r = await alter(0, [res('iac-err', ops)]);
    assert.equal(r.responses[0]!.errorCode, code, JSON.stringify(ops));
    assert.ok(r.responses[0]!.errorMessage);
  }
  const dry = await alter(1, [res('iac-err', [['retention.ms', DELETE, null]])], true);
  assert.equal(dry.responses[0]!.errorCode, 0);
  assert.deepEqual(env.broker.broker.metadata.image.topic('iac-err')!.configs, { 'retention.ms': '1000' });
});

test('broker resources: SET/DELETE/APPEND of dynamic broker configs apply; refusals are INVALID_REQUEST', async () => {
  const node = String(env.broker.broker.started.nodeId);
  await env.broker.broker.metadata.createTopic('iac-broker', { partitions: 1, configs: { 'retention.ms': '1000' } });
  await env.broker.broker.metadata.createTopic('iac-broker-plain', { partitions: 1 });
  const own = env.broker.broker.logs.getLog('iac-broker', 0)!;
  const plain = env.broker.broker.logs.getLog('iac-broker-plain', 0)!;
  const set = await alter(1, [
    res(node, [['log.retention.ms', SET, '5000']], BROKER),
    res('', [['log.cleanup.policy', APPEND, 'compact']], BROKER),
  ]);
  assert.deepEqual(
    set.responses.map((r) => r.errorCode),
    [0, 0],
  );
  assert.equal(plain.logConfig.retentionMs, 5000, 'a topic without an override takes the new default');
  assert.equal(own.logConfig.retentionMs, 1000, 'a topic override still wins');
  assert.deepEqual(plain.logConfig.cleanupPolicy, ['delete', 'compact'], 'APPEND starts from the value in force');
  assert.deepEqual(env.broker.broker.dynamicConfigs.get(''), { 'log.cleanup.policy': 'delete,compact' });
  const cases: Array<[Op[], RegExp]> = [
    [[['num.partitions', SET, '4']], /Cannot update these configs dynamically: Set\(num\.partitions\)/],
    [[['log.retention.ms', SET, null]], /Null value not supported/],
    [[['log.retention.ms', SET, '-5']], /log\.retention\.ms/],
    [[['retention.ms', SET, '1']], /retention\.ms/],
  ];
  for (const [ops, message] of cases) {
    const r = await alter(0, [res(node, ops, BROKER)]);
    assert.equal(r.responses[0]!.errorCode, ErrorCode.INVALID_REQUEST, JSON.stringify(ops));
    assert.match(r.responses[0]!.errorMessage!, message);
  }
  const dry = await alter(1, [res(node, [['log.retention.ms', DELETE, null]], BROKER)], true);
  assert.equal(dry.responses[0]!.errorCode, 0);
  assert.equal(plain.logConfig.retentionMs, 5000, 'validateOnly changes nothing');
  const del = await alter(0, [
    res(node, [['log.retention.ms', DELETE, null]], BROKER),
    res('', [['log.cleanup.policy', DELETE, null]], BROKER),
  ]);
  assert.deepEqual(
    del.responses.map((r) => r.errorCode),
    [0, 0],
  );
  assert.equal(plain.logConfig.retentionMs, 7 * 86_400_000);
  assert.deepEqual(plain.logConfig.cleanupPolicy, ['delete']);
});

test('concurrent changes from several connections are not lost', async () => {
  await env.broker.broker.metadata.createTopic('iac-race', { partitions: 1 });
  const names = [
    'retention.ms',
    'segment.ms',
    'flush.ms',
    'delete.retention.ms',
    'min.compaction.lag.ms',
    'segment.jitter.ms',
    'file.delete.delay.ms',
    'flush.messages',
  ];
  const clients = await Promise.all(names.map(() => RawClient.connect(env.broker.port)));
  try {
    names.forEach((n, i) => {
      const req = {
        ...defaultIncrementalAlterConfigsRequest(),
        resources: [res('iac-race', [[n, SET, String(1000 + i)]])],
      };
      clients[i]!.send(44, 1, (w) => encodeIncrementalAlterConfigsRequest(w, 1, req));
    });
    for (const client of clients) {
      const r = await client.response(1);
      assert.equal(decodeIncrementalAlterConfigsResponse(r!.body, 1).responses[0]!.errorCode, 0);
    }
    assert.deepEqual(
      Object.keys(env.broker.broker.metadata.image.topic('iac-race')!.configs).sort(),
      [...names].sort(),
    );
  } finally {
    for (const client of clients) client.close();
  }
});

test('@platformatic/kafka incrementalAlterConfigs (v1): lower retention.ms deletes segments, persists', async () => {
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  const kafka = new Kafka({
    clientId: 't',
    brokers: [env.broker.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await admin.createTopics({
      topics: ['iac-retention'],
      partitions: 1,
      configs: [{ name: 'segment.bytes', value: '200' }],
    });
    const old = String(Date.now() - 3_600_000);
    for (let i = 0; i < 5; i++) {
      await producer.send({ topic: 'iac-retention', messages: [{ value: 'x'.repeat(150), timestamp: old }] });
    }
    const log = env.broker.broker.logs.getLog('iac-retention', 0)!;
    assert.ok(log.segmentCount > 2, `rolled into ${log.segmentCount} segments`);
    assert.equal(await env.broker.broker.logs.runRetention(), 0, 'default retention (7 days) keeps everything');
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: TOPIC,
          resourceName: 'iac-retention',
          configs: [{ name: 'retention.ms', configOperation: SET as 0, value: '60000' }],
        },
      ],
    });
    assert.equal(log.logConfig.retentionMs, 60000);
    assert.ok((await env.broker.broker.logs.runRetention()) > 0, 'old segments deleted under the new retention');
    assert.equal(log.logStartOffset, 4, 'only the active segment is left');
    await assert.rejects(
      admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 'iac-retention',
            configs: [{ name: 'retention.ms', configOperation: 0, value: 'x' }],
          },
        ],
      }),
    );
  } finally {
    await producer.disconnect();
    await admin.close();
  }
  await env.restart();
  assert.deepEqual(env.broker.broker.metadata.image.topic('iac-retention')!.configs, {
    'segment.bytes': '200',
    'retention.ms': '60000',
  });
  assert.equal(env.broker.broker.logs.getLog('iac-retention', 0)!.logConfig.retentionMs, 60000);
  assert.deepEqual(env.broker.broker.metadata.image.topic('iac-list')!.configs, { 'cleanup.policy': 'compact' });
});
