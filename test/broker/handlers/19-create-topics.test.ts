import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestCreatableTopic,
  encodeCreateTopicsRequest,
  type CreateTopicsRequestCreatableTopic,
} from '../../../protocol/generated/create-topics-request.js';
import {
  decodeCreateTopicsResponse,
  type CreateTopicsResponse,
} from '../../../protocol/generated/create-topics-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { run } from '../../helpers/broker-process.js';
import { PY } from '../../helpers/python-records.js';
import { quietKafkajs } from '../../helpers/kafkajs.js';

const env = useBrokerAndClient({ config: { 'num.partitions': 3, 'log.retention.ms': 3_600_000 } });

function topic(name: string, over: Partial<CreateTopicsRequestCreatableTopic> = {}): CreateTopicsRequestCreatableTopic {
  return { ...defaultCreateTopicsRequestCreatableTopic(), name, numPartitions: -1, replicationFactor: -1, ...over };
}

function create(
  v: number,
  topics: CreateTopicsRequestCreatableTopic[],
  validateOnly = false,
): Promise<CreateTopicsResponse> {
  const req = { ...defaultCreateTopicsRequest(), topics, timeoutMs: 5000, validateOnly };
  return call(env.client, 19, v, encodeCreateTopicsRequest, decodeCreateTopicsResponse, req);
}

test('every version 0-7 creates a topic; v5+ return the layout and configs, v7 the topic id', async () => {
  for (let v = 0; v <= 7; v++) {
    const name = `ct-v${v}`;
    const res = await create(v, [
      topic(name, { numPartitions: v === 0 ? 2 : -1, configs: [{ name: 'retention.ms', value: '1000' }] }),
    ]);
    assert.equal(res.topics.length, 1);
    const r = res.topics[0]!;
    assert.equal(r.name, name);
    assert.equal(r.errorCode, 0, `v${v}: ${r.errorMessage}`);
    const meta = env.broker.broker.metadata.image.topic(name);
    assert.ok(meta, `v${v}: topic exists`);
    assert.equal(meta.partitions, v === 0 ? 2 : 3, 'numPartitions -1 → num.partitions');
    assert.deepEqual(meta.configs, { 'retention.ms': '1000' });
    assert.equal(env.broker.broker.logs.getLog(name, 0)!.logConfig.retentionMs, 1000);
    if (v >= 5) {
      assert.equal(r.numPartitions, meta.partitions);
      assert.equal(r.replicationFactor, 1);
      const byName = new Map(r.configs!.map((x) => [x.name, x]));
      assert.deepEqual(byName.get('retention.ms'), {
        name: 'retention.ms',
        value: '1000',
        readOnly: false,
        configSource: 1,
        isSensitive: false,
      });
      assert.equal(byName.get('segment.bytes')!.configSource, 5);
      assert.equal(byName.get('segment.bytes')!.value, '1073741824');
      assert.equal(byName.get('flush.messages')!.value, '9223372036854775807');
      assert.equal(byName.get('cleanup.policy')!.value, 'delete');
    }
    if (v >= 7) assert.equal(r.topicId, meta.topicId);
  }
});

test('a created topic can be produced to at once (kafkajs, no leader wait)', async () => {
  await create(4, [topic('ct-produce')]);
  const kafka = quietKafkajs(env.broker, 1);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const [r] = await producer.send({ topic: 'ct-produce', messages: [{ value: 'x', partition: 2 }] });
    assert.equal(r!.errorCode, 0);
    assert.equal(env.broker.broker.logs.getLog('ct-produce', 2)!.logEndOffset, 1);
  } finally {
    await producer.disconnect();
  }
});

test('errors: duplicate, invalid name, existing, configs, partitions, replication factor', async () => {
  await create(7, [topic('ct-exists')]);
  const res = await create(7, [
    topic('ct-dup'),
    topic('ct-dup'),
    topic('bad name!'),
    topic('ct-exists'),
    topic('ct-unknown-config', { configs: [{ name: 'no.such.config', value: '1' }] }),
    topic('ct-bad-value', { configs: [{ name: 'retention.ms', value: 'soon' }] }),
    topic('ct-bad-enum', { configs: [{ name: 'cleanup.policy', value: 'compact,shred' }] }),
    topic('ct-null-value', { configs: [{ name: 'retention.ms', value: null }] }),
    topic('ct-lag', {
      configs: [
        { name: 'min.compaction.lag.ms', value: '10' },
        { name: 'max.compaction.lag.ms', value: '5' },
      ],
    }),
    topic('ct-zero-partitions', { numPartitions: 0 }),
    topic('ct-rf0', { replicationFactor: 0 }),
    topic('ct-rf3', { replicationFactor: 3 }),
  ]);
  const byName = new Map(res.topics.map((t) => [t.name, t]));
  assert.equal(res.topics.filter((t) => t.name === 'ct-dup').length, 1);
  const expect: Record<string, number> = {
    'ct-dup': ErrorCode.INVALID_REQUEST,
    'bad name!': ErrorCode.INVALID_TOPIC_EXCEPTION,
    'ct-exists': ErrorCode.TOPIC_ALREADY_EXISTS,
    'ct-unknown-config': ErrorCode.INVALID_CONFIG,
    'ct-bad-value': ErrorCode.INVALID_CONFIG,
    'ct-bad-enum': ErrorCode.INVALID_CONFIG,
    'ct-null-value': ErrorCode.INVALID_CONFIG,
    'ct-lag': ErrorCode.INVALID_CONFIG,
    'ct-zero-partitions': ErrorCode.INVALID_PARTITIONS,
    'ct-rf0': ErrorCode.INVALID_REPLICATION_FACTOR,
    'ct-rf3': ErrorCode.INVALID_REPLICATION_FACTOR,
  };
  for (const [name, code] of Object.entries(expect)) {
    const r = byName.get(name);
    assert.ok(r, name);
    assert.equal(r.errorCode, code, `${name}: ${r.errorMessage}`);
    assert.ok(r.errorMessage && r.errorMessage.length > 0, `${name} has a message`);
    assert.equal(r.numPartitions, -1);
    if (name !== 'ct-exists')
      assert.equal(env.broker.broker.metadata.image.topic(name), undefined, `${name} not created`);
  }
  assert.match(byName.get('ct-unknown-config')!.errorMessage!, /no\.such\.config/);
  assert.match(byName.get('ct-bad-value')!.errorMessage!, /retention\.ms/);
  assert.match(byName.get('ct-rf3')!.errorMessage!, /replicat/i);
});

test('many topics in one request: one metadata delta, answers in request order, every log there', async () => {
  const metadata = env.broker.broker.metadata;
  const deltas: number[] = [];
  const off = metadata.subscribe((d) => {
    deltas.push(d.changes.length);
  });
  try {
    const names = Array.from({ length: 40 }, (_, i) => `ct-many-${i}`);
    const asked = [
      ...names.slice(0, 20).map((n) => topic(n)),
      topic('bad name!'),
      ...names.slice(20).map((n) => topic(n)),
    ];
    const res = await create(7, asked);
    assert.deepEqual(
      res.topics.map((t) => t.name),
      asked.map((t) => t.name),
    );
    assert.deepEqual(
      res.topics.map((t) => t.errorCode),
      asked.map((t) => (t.name === 'bad name!' ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.NONE)),
    );
    assert.deepEqual(deltas, [40], 'one delta for the 40 topics');
    for (const [i, name] of names.entries()) {
      const r = res.topics.find((t) => t.name === name)!;
      assert.equal(r.topicId, metadata.image.topic(name)!.topicId, name);
      assert.equal(r.numPartitions, 3);
      for (let p = 0; p < 3; p++) assert.ok(env.broker.broker.logs.getLog(name, p), `${name}-${p} (${i})`);
    }
  } finally {
    off();
  }
});

test('manual assignments: only this node, numbered from 0, with numPartitions and replicationFactor -1', async () => {
  const node = env.broker.broker.started.nodeId;
  const ok = await create(5, [
    topic('ct-assigned', {
      assignments: [
        { partitionIndex: 1, brokerIds: [node] },
        { partitionIndex: 0, brokerIds: [node] },
      ],
    }),
  ]);
  assert.equal(ok.topics[0]!.errorCode, 0, ok.topics[0]!.errorMessage ?? '');
  assert.equal(ok.topics[0]!.numPartitions, 2);
  assert.equal(env.broker.broker.metadata.image.topic('ct-assigned')!.partitions, 2);
  const res = await create(5, [
    topic('ct-a-other', { assignments: [{ partitionIndex: 0, brokerIds: [node + 1] }] }),
    topic('ct-a-gap', { assignments: [{ partitionIndex: 1, brokerIds: [node] }] }),
    topic('ct-a-twice', { assignments: [{ partitionIndex: 0, brokerIds: [node, node] }] }),
    topic('ct-a-count', { numPartitions: 1, assignments: [{ partitionIndex: 0, brokerIds: [node] }] }),
  ]);
  assert.deepEqual(
    res.topics.map((t) => [t.name, t.errorCode]),
    [
      ['ct-a-other', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['ct-a-gap', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['ct-a-twice', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['ct-a-count', ErrorCode.INVALID_REQUEST],
    ],
  );
});

test('validateOnly validates and creates nothing', async () => {
  const res = await create(
    7,
    [
      topic('ct-validate', { numPartitions: 4, configs: [{ name: 'cleanup.policy', value: 'compact' }] }),
      topic('ct-validate-bad', { numPartitions: -5 }),
    ],
    true,
  );
  assert.equal(res.topics[0]!.errorCode, 0);
  assert.equal(res.topics[0]!.numPartitions, 4);
  assert.equal(res.topics[0]!.configs!.find((x) => x.name === 'cleanup.policy')!.value, 'compact');
  assert.equal(res.topics[1]!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.equal(env.broker.broker.metadata.image.topic('ct-validate'), undefined);
});

test('kafkajs admin createTopics (v3) with configEntries', async () => {
  const kafka = quietKafkajs(env.broker);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: [
        {
          topic: 'ct-kafkajs',
          numPartitions: 2,
          configEntries: [
            { name: 'segment.bytes', value: '1048576' },
            { name: 'cleanup.policy', value: 'compact,delete' },
          ],
        },
      ],
    });
    assert.equal(created, true);
    const log = env.broker.broker.logs.getLog('ct-kafkajs', 1)!;
    assert.equal(log.logConfig.segmentBytes, 1048576);
    assert.deepEqual(log.logConfig.cleanupPolicy, ['compact', 'delete']);
    assert.equal(log.logConfig.retentionMs, 3_600_000, 'broker log.retention.ms applies');
    assert.equal(await admin.createTopics({ topics: [{ topic: 'ct-kafkajs' }] }), false, 'already exists → false');
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'ct-kafkajs-rf', replicationFactor: 2 }] }),
      (err: { errors?: { type: string; message: string }[] }) => {
        assert.equal(err.errors?.[0]?.type, 'INVALID_REPLICATION_FACTOR');
        assert.match(err.errors![0]!.message, /replicat/i);
        return true;
      },
    );
    await assert.rejects(
      admin.createTopics({
        topics: [{ topic: 'ct-kafkajs-cfg', configEntries: [{ name: 'retention.ms', value: 'x' }] }],
      }),
    );
  } finally {
    await admin.disconnect();
  }
});

test('@platformatic/kafka Admin createTopics (v7) returns id, layout and configuration', async () => {
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  try {
    const [created] = await admin.createTopics({
      topics: ['ct-platformatic'],
      partitions: 2,
      configs: [{ name: 'max.message.bytes', value: '2000000' }],
    });
    assert.ok(created);
    assert.equal(created.name, 'ct-platformatic');
    const hex = Buffer.from(env.broker.broker.metadata.image.topic('ct-platformatic')!.topicId, 'base64url').toString(
      'hex',
    );
    assert.equal(created.id.replace(/-/g, ''), hex);
    assert.equal(created.partitions, 2);
    assert.equal(created.replicas, 1);
    assert.equal(created.configuration['max.message.bytes'], '2000000');
    assert.equal(created.configuration['retention.ms'], '3600000');
    assert.equal(env.broker.broker.logs.getLog('ct-platformatic', 0)!.logConfig.maxMessageBytes, 2000000);
    const [dflt] = await admin.createTopics({ topics: ['ct-platformatic-default'] });
    assert.equal(dflt!.partitions, 3);
    await assert.rejects(admin.createTopics({ topics: ['ct-platformatic'] }));
  } finally {
    await admin.close();
  }
});

test('kafkajs, kafka-python: configs Kafka 4.0 removed, sent by old clients, are accepted and read back', async () => {
  const kafka = new Kafka({ clientId: 't', brokers: [env.broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.equal(
      await admin.createTopics({
        topics: [
          {
            topic: 'ct-legacy-kafkajs',
            configEntries: [
              { name: 'message.format.version', value: '0.10.0' },
              { name: 'message.timestamp.difference.max.ms', value: '60000' },
            ],
          },
        ],
      }),
      true,
    );
    const d = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: 'ct-legacy-kafkajs' }],
    });
    const by = new Map(d.resources[0]!.configEntries.map((e) => [e.configName, e]));
    assert.equal(by.get('message.format.version')!.configValue, '0.10.0');
    assert.equal(by.get('message.format.version')!.configSource, 1, 'DYNAMIC_TOPIC_CONFIG');
    assert.equal(by.get('message.timestamp.before.max.ms')!.configValue, '60000', 'mapped (KIP-937)');
    assert.equal(by.get('message.downconversion.enable'), undefined, 'not set: not listed, as Kafka 4');
  } finally {
    await admin.disconnect();
  }
  const log = env.broker.broker.logs.getLog('ct-legacy-kafkajs', 0)!;
  assert.equal(log.logConfig.messageTimestampAfterMaxMs, 60000);
  const r = await run(PY, [
    '-c',
    `from kafka.admin import KafkaAdminClient, NewTopic
a = KafkaAdminClient(bootstrap_servers='127.0.0.1:${env.broker.port}')
cfg = {'message.format.version': '0.10.0', 'message.downconversion.enable': 'true'}
r = a.create_topics([NewTopic('ct-legacy-python', 1, 1, topic_configs=cfg)])
print('OK', [list(t[:2]) for t in r.topic_errors])`,
  ]);
  assert.match(r.stdout, /^OK \[\['ct-legacy-python', 0\]\]/m, r.stderr.slice(-1500));
  assert.deepEqual(env.broker.broker.metadata.image.topic('ct-legacy-python')!.configs, {
    'message.format.version': '0.10.0',
    'message.downconversion.enable': 'true',
  });
});
