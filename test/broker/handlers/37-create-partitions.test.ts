import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partitioners } from 'kafkajs';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  defaultCreatePartitionsRequest,
  encodeCreatePartitionsRequest,
  type CreatePartitionsTopic,
} from '../../../protocol/generated/create-partitions-request.js';
import {
  decodeCreatePartitionsResponse,
  type CreatePartitionsResponse,
} from '../../../protocol/generated/create-partitions-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { quietKafkajs } from '../../helpers/kafkajs.js';

const env = useBrokerAndClient();

function grow(v: number, topics: CreatePartitionsTopic[], validateOnly = false): Promise<CreatePartitionsResponse> {
  const req = { ...defaultCreatePartitionsRequest(), topics, timeoutMs: 5000, validateOnly };
  return call(env.client, 37, v, encodeCreatePartitionsRequest, decodeCreatePartitionsResponse, req);
}

test('v0-3 add partitions; the new logs exist at once', async () => {
  for (let v = 0; v <= 3; v++) {
    const name = `cp-v${v}`;
    await env.broker.broker.metadata.createTopic(name, { partitions: 1 });
    const res = await grow(v, [{ name, count: 3, assignments: null }]);
    assert.deepEqual(res.results, [{ name, errorCode: 0, errorMessage: null }]);
    assert.equal(env.broker.broker.metadata.image.topic(name)!.partitions, 3);
    assert.ok(env.broker.broker.logs.getLog(name, 2));
  }
});

test('errors: same count, fewer, unknown topic, duplicate, bad assignments; validateOnly changes nothing', async () => {
  await env.broker.broker.metadata.createTopic('cp-err', { partitions: 2 });
  const node = env.broker.broker.started.nodeId;
  const res = await grow(3, [
    { name: 'cp-missing', count: 2, assignments: null },
    { name: 'cp-dup', count: 2, assignments: null },
    { name: 'cp-dup', count: 3, assignments: null },
  ]);
  assert.deepEqual(
    res.results.map((r) => [r.name, r.errorCode]),
    [
      ['cp-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['cp-dup', ErrorCode.INVALID_REQUEST],
    ],
  );
  const same = await grow(3, [{ name: 'cp-err', count: 2, assignments: null }]);
  assert.equal(same.results[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.match(same.results[0]!.errorMessage!, /already has 2 partition/);
  const fewer = await grow(1, [{ name: 'cp-err', count: 1, assignments: null }]);
  assert.equal(fewer.results[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
  const wrongCount = await grow(2, [{ name: 'cp-err', count: 4, assignments: [{ brokerIds: [node] }] }]);
  assert.equal(wrongCount.results[0]!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  const otherBroker = await grow(2, [{ name: 'cp-err', count: 3, assignments: [{ brokerIds: [node + 7] }] }]);
  assert.equal(otherBroker.results[0]!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  const validated = await grow(3, [{ name: 'cp-err', count: 5, assignments: null }], true);
  assert.equal(validated.results[0]!.errorCode, 0);
  assert.equal(env.broker.broker.metadata.image.topic('cp-err')!.partitions, 2);
  const assigned = await grow(3, [
    { name: 'cp-err', count: 4, assignments: [{ brokerIds: [node] }, { brokerIds: [node] }] },
  ]);
  assert.equal(assigned.results[0]!.errorCode, 0);
  assert.equal(env.broker.broker.metadata.image.topic('cp-err')!.partitions, 4);
});

test('kafkajs admin createPartitions (v1), then produce to a new partition', async () => {
  const kafka = quietKafkajs(env.broker);
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await admin.connect();
  await producer.connect();
  try {
    await admin.createTopics({ topics: [{ topic: 'cp-kafkajs', numPartitions: 1 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'cp-kafkajs', count: 3 }] });
    const meta = await admin.fetchTopicMetadata({ topics: ['cp-kafkajs'] });
    assert.equal(meta.topics[0]!.partitions.length, 3);
    const [r] = await producer.send({ topic: 'cp-kafkajs', messages: [{ value: 'v', partition: 2 }] });
    assert.equal(r!.errorCode, 0);
    assert.equal(env.broker.broker.logs.getLog('cp-kafkajs', 2)!.logEndOffset, 1);
    await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'cp-kafkajs', count: 2 }] }));
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});

test('@platformatic/kafka Admin createPartitions (v3)', async () => {
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  try {
    await admin.createTopics({ topics: ['cp-platformatic'], partitions: 1 });
    await admin.createPartitions({ topics: [{ name: 'cp-platformatic', count: 2 }], validateOnly: true });
    assert.equal(env.broker.broker.metadata.image.topic('cp-platformatic')!.partitions, 1);
    await admin.createPartitions({ topics: [{ name: 'cp-platformatic', count: 2 }] });
    assert.equal(env.broker.broker.metadata.image.topic('cp-platformatic')!.partitions, 2);
    await assert.rejects(admin.createPartitions({ topics: [{ name: 'cp-platformatic', count: 2 }] }));
  } finally {
    await admin.close();
  }
});
