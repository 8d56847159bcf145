import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  defaultDeleteRecordsRequest,
  encodeDeleteRecordsRequest,
  type DeleteRecordsTopic,
} from '../../../protocol/generated/delete-records-request.js';
import {
  decodeDeleteRecordsResponse,
  type DeleteRecordsResponse,
} from '../../../protocol/generated/delete-records-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

let kafka: Kafka;
let producer: Producer;
const env = useBrokerAndClient({
  // Again after each restart: a producer connected to the running broker.
  setup: async (b) => {
    kafka = new Kafka({
      clientId: 't',
      brokers: [b.bootstrapServers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  },
  teardown: () => producer.disconnect(),
});

function deleteRecords(v: number, topics: DeleteRecordsTopic[]): Promise<DeleteRecordsResponse> {
  const req = { ...defaultDeleteRecordsRequest(), topics, timeoutMs: 5000 };
  return call(env.client, 21, v, encodeDeleteRecordsRequest, decodeDeleteRecordsResponse, req);
}

async function fill(topic: string, partitions: number, n: number, configs: Record<string, string> = {}): Promise<void> {
  await env.broker.broker.metadata.createTopic(topic, { partitions, configs });
  for (let p = 0; p < partitions; p++) {
    await producer.send({
      topic,
      messages: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `m${i}`, partition: p })),
    });
  }
}

test('v0-2 move the low watermark: an offset, -1 = high watermark, above it OFFSET_OUT_OF_RANGE', async () => {
  for (let v = 0; v <= 2; v++) {
    const topic = `dr-v${v}`;
    await fill(topic, 2, 10);
    const res = await deleteRecords(v, [
      {
        name: topic,
        partitions: [
          { partitionIndex: 0, offset: 4n },
          { partitionIndex: 1, offset: -1n },
        ],
      },
      { name: 'dr-missing', partitions: [{ partitionIndex: 0, offset: 1n }] },
    ]);
    assert.deepEqual(res.topics, [
      {
        name: topic,
        partitions: [
          { partitionIndex: 0, lowWatermark: 4n, errorCode: 0 },
          { partitionIndex: 1, lowWatermark: 10n, errorCode: 0 },
        ],
      },
      {
        name: 'dr-missing',
        partitions: [{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
      },
    ]);
    assert.equal(env.broker.broker.logs.getLog(topic, 0)!.logStartOffset, 4);
    assert.equal(env.broker.broker.logs.getLog(topic, 1)!.logStartOffset, 10);
    const again = await deleteRecords(v, [
      {
        name: topic,
        partitions: [
          { partitionIndex: 0, offset: 11n },
          { partitionIndex: 1, offset: 2n },
          { partitionIndex: 5, offset: 0n },
        ],
      },
    ]);
    assert.deepEqual(again.topics[0]!.partitions, [
      { partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
      { partitionIndex: 1, lowWatermark: 10n, errorCode: 0 },
      { partitionIndex: 5, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ]);
  }
});

test('compacted topics: POLICY_VIOLATION; internal: INVALID_TOPIC_EXCEPTION; offsets below -1: range', async () => {
  await fill('dr-compacted', 1, 3, { 'cleanup.policy': 'compact' });
  await env.broker.broker.metadata.createTopic('__consumer_offsets', { partitions: 1 });
  await fill('dr-negative', 1, 3);
  const res = await deleteRecords(2, [
    { name: 'dr-compacted', partitions: [{ partitionIndex: 0, offset: 1n }] },
    { name: '__consumer_offsets', partitions: [{ partitionIndex: 0, offset: 0n }] },
    { name: 'dr-negative', partitions: [{ partitionIndex: 0, offset: -2n }] },
  ]);
  assert.deepEqual(
    res.topics.map((t) => t.partitions[0]!.errorCode),
    [ErrorCode.POLICY_VIOLATION, ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.OFFSET_OUT_OF_RANGE],
  );
  assert.equal(env.broker.broker.logs.getLog('dr-compacted', 0)!.logStartOffset, 0);
});

test('kafkajs deleteTopicRecords (v1) and fetchTopicOffsets; the low watermark survives a restart', async () => {
  await fill('dr-kafkajs', 2, 8);
  const admin = kafka.admin();
  await admin.connect();
  try {
    // kafkajs looks the leaders up in its cached metadata: load the topic's first.
    assert.deepEqual(
      (await admin.fetchTopicOffsets('dr-kafkajs')).map((o) => o.low),
      ['0', '0'],
    );
    await admin.deleteTopicRecords({
      topic: 'dr-kafkajs',
      partitions: [
        { partition: 0, offset: '5' },
        { partition: 1, offset: '-1' },
      ],
    });
    const offsets = await admin.fetchTopicOffsets('dr-kafkajs');
    const byPartition = new Map(offsets.map((o) => [o.partition, o]));
    assert.equal(byPartition.get(0)!.low, '5');
    assert.equal(byPartition.get(0)!.high, '8');
    assert.equal(byPartition.get(1)!.low, '8');
    await assert.rejects(
      admin.deleteTopicRecords({ topic: 'dr-kafkajs', partitions: [{ partition: 0, offset: '100' }] }),
    );
  } finally {
    await admin.disconnect();
  }
  await env.restart();
  assert.equal(env.broker.broker.logs.getLog('dr-kafkajs', 0)!.logStartOffset, 5);
  assert.equal(env.broker.broker.logs.getLog('dr-kafkajs', 1)!.logStartOffset, 8);
});

test('@platformatic/kafka Admin deleteRecords (v2)', async () => {
  await fill('dr-platformatic', 1, 6);
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  try {
    const [t] = await admin.deleteRecords({
      topics: [{ name: 'dr-platformatic', partitions: [{ partition: 0, offset: 3n }] }],
    });
    assert.deepEqual(t, { name: 'dr-platformatic', partitions: [{ partition: 0, lowWatermark: 3n }] });
    assert.equal(env.broker.broker.logs.getLog('dr-platformatic', 0)!.logStartOffset, 3);
  } finally {
    await admin.close();
  }
});
