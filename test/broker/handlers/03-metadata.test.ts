import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  encodeMetadataRequest,
  defaultMetadataRequest,
  type MetadataRequest,
} from '../../../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../../../protocol/generated/metadata-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { Kafka, logLevel } from 'kafkajs';
import { run } from '../../helpers/broker-process.js';
import { PY } from '../../helpers/python-records.js';

const env = useBrokerAndClient({ config: { 'num.partitions': 3 }, topics: [{ name: 'existing', partitions: 2 }] });

function req(topics: string[] | null, allow = true): MetadataRequest {
  const r = defaultMetadataRequest();
  r.topics = topics === null ? null : topics.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }));
  r.allowAutoTopicCreation = allow;
  return r;
}
const metadata = (v: number, r: MetadataRequest) =>
  call(env.client, 3, v, encodeMetadataRequest, decodeMetadataResponse, r);

test('every version 0-12 lists this broker and the requested topic with a leader', async () => {
  for (let v = 0; v <= 12; v++) {
    const res = await metadata(v, req(['existing']));
    assert.deepEqual(
      res.brokers.map((x) => [x.nodeId, x.host, x.port]),
      [[1, '127.0.0.1', env.broker.port]],
      `v${v}`,
    );
    const t = res.topics[0];
    assert.equal(t.errorCode, 0);
    assert.equal(t.name, 'existing');
    assert.deepEqual(
      t.partitions.map((p) => [p.partitionIndex, p.leaderId, p.replicaNodes, p.isrNodes]),
      [
        [0, 1, [1], [1]],
        [1, 1, [1], [1]],
      ],
    );
    if (v >= 2) assert.equal(res.clusterId, env.broker.broker.started.clusterId);
    if (v >= 1) assert.equal(res.controllerId, 1);
    if (v >= 10) assert.equal(t.topicId, env.broker.broker.metadata.image.topic('existing')!.topicId);
  }
});

test('all topics: v0 empty list, v1+ null; v1+ empty list = none', async () => {
  assert.ok((await metadata(0, req([]))).topics.some((t) => t.name === 'existing'));
  assert.ok((await metadata(9, req(null))).topics.some((t) => t.name === 'existing'));
  assert.equal((await metadata(9, req([]))).topics.length, 0);
});

test('auto-creation: LEADER_NOT_AVAILABLE first, then num.partitions; refused when disallowed or invalid', async () => {
  const res = await metadata(9, req(['auto-made']));
  assert.equal(res.topics[0].errorCode, ErrorCode.LEADER_NOT_AVAILABLE, 'as Kafka: creation in progress');
  assert.equal(res.topics[0].name, 'auto-made');
  assert.deepEqual(res.topics[0].partitions, []);
  assert.ok(env.broker.broker.logs.getLog('auto-made', 2), 'created by that request');
  const next = await metadata(9, req(['auto-made']));
  assert.equal(next.topics[0].errorCode, 0);
  assert.equal(next.topics[0].partitions.length, 3);
  // Recreated after DeleteTopics: the same first answer again.
  await env.broker.broker.metadata.deleteTopic('auto-made');
  assert.equal((await metadata(1, req(['auto-made']))).topics[0].errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
  assert.equal((await metadata(1, req(['auto-made']))).topics[0].partitions.length, 3);
  assert.equal(
    (await metadata(9, req(['not-allowed'], false))).topics[0].errorCode,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  );
  assert.equal((await metadata(9, req(['bad name!']))).topics[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal(env.broker.broker.metadata.image.topic('not-allowed'), undefined);
});

test('real clients auto-create a topic (also after DeleteTopics), produce despite LEADER_NOT_AVAILABLE', async () => {
  const kafka = new Kafka({ clientId: 't', brokers: [env.broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  const admin = kafka.admin();
  await producer.connect();
  await admin.connect();
  try {
    for (let round = 0; round < 2; round++) {
      await producer.send({ topic: 'md-auto-kafkajs', messages: [{ value: `r${round}` }] });
      assert.equal(env.broker.broker.metadata.image.topic('md-auto-kafkajs')!.partitions, 3);
      const total = [0, 1, 2].reduce(
        (n, p) => n + env.broker.broker.logs.getLog('md-auto-kafkajs', p)!.logEndOffset,
        0,
      );
      assert.equal(total, 1, `round ${round}: one record in the new topic`);
      await admin.deleteTopics({ topics: ['md-auto-kafkajs'] });
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  for (let round = 0; round < 2; round++) {
    const r = await run(PY, [
      '-c',
      `from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers='127.0.0.1:${env.broker.port}')
md = p.send('md-auto-python', b'r${round}').get(timeout=30)
p.close()
print('OK', md.topic)`,
    ]);
    assert.match(r.stdout, /^OK md-auto-python/m, r.stderr.slice(-1500));
    assert.ok(env.broker.broker.metadata.image.topic('md-auto-python'));
    await env.broker.broker.metadata.deleteTopic('md-auto-python');
  }
});
