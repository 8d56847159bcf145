import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  defaultDeleteTopicsRequest,
  encodeDeleteTopicsRequest,
  type DeleteTopicsRequest,
} from '../../../protocol/generated/delete-topics-request.js';
import {
  decodeDeleteTopicsResponse,
  type DeleteTopicsResponse,
} from '../../../protocol/generated/delete-topics-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { quietKafkajs } from '../../helpers/kafkajs.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';
const env = useBrokerAndClient();

function del(v: number, over: Partial<DeleteTopicsRequest>): Promise<DeleteTopicsResponse> {
  const req = { ...defaultDeleteTopicsRequest(), timeoutMs: 5000, ...over };
  return call(env.client, 20, v, encodeDeleteTopicsRequest, decodeDeleteTopicsResponse, req);
}

test('v0-5 delete by name; partition directories are gone; unknown names get UNKNOWN_TOPIC_OR_PARTITION', async () => {
  for (let v = 0; v <= 5; v++) {
    const name = `dt-v${v}`;
    await env.broker.broker.metadata.createTopic(name, { partitions: 2 });
    assert.ok(existsSync(join(env.broker.dataDir, `${name}-1`)));
    const res = await del(v, { topicNames: [name, `dt-missing-${v}`] });
    assert.deepEqual(
      res.responses.map((r) => [r.name, r.errorCode]),
      [
        [name, 0],
        [`dt-missing-${v}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    );
    if (v >= 5) assert.equal(res.responses[0]!.errorMessage, null);
    assert.equal(env.broker.broker.metadata.image.topic(name), undefined);
    assert.equal(env.broker.broker.logs.getLog(name, 0), undefined);
    assert.equal(existsSync(join(env.broker.dataDir, `${name}-0`)), false);
    assert.equal(existsSync(join(env.broker.dataDir, `${name}-1`)), false);
  }
});

test('v6 deletes by name or by id and reports both; unknown ids, both or neither, duplicates', async () => {
  const byId = await env.broker.broker.metadata.createTopic('dt-by-id', { partitions: 1 });
  const byName = await env.broker.broker.metadata.createTopic('dt-by-name', { partitions: 1 });
  await env.broker.broker.metadata.createTopic('dt-dup', { partitions: 1 });
  const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
  const res = await del(6, {
    topics: [
      { name: null, topicId: byId.topicId },
      { name: 'dt-by-name', topicId: ZERO },
      { name: null, topicId: unknownId },
      { name: 'dt-by-name-and-id', topicId: byName.topicId },
      { name: null, topicId: ZERO },
      { name: 'dt-dup', topicId: ZERO },
      { name: 'dt-dup', topicId: ZERO },
    ],
  });
  assert.deepEqual(
    res.responses.map((r) => [r.name, r.topicId, r.errorCode]),
    [
      ['dt-by-id', byId.topicId, 0],
      ['dt-by-name', byName.topicId, 0],
      [null, unknownId, ErrorCode.UNKNOWN_TOPIC_ID],
      ['dt-by-name-and-id', byName.topicId, ErrorCode.INVALID_REQUEST],
      [null, ZERO, ErrorCode.INVALID_REQUEST],
      ['dt-dup', ZERO, ErrorCode.INVALID_REQUEST],
    ],
  );
  assert.equal(env.broker.broker.metadata.image.topic('dt-by-id'), undefined);
  assert.equal(env.broker.broker.metadata.image.topic('dt-by-name'), undefined);
  assert.ok(env.broker.broker.metadata.image.topic('dt-dup'), 'duplicates are not deleted');
});

test('a deleted topic can be created again, empty', async () => {
  const first = await env.broker.broker.metadata.createTopic('dt-again', { partitions: 1 });
  await del(4, { topicNames: ['dt-again'] });
  const second = await env.broker.broker.metadata.createTopic('dt-again', { partitions: 1 });
  assert.notEqual(second.topicId, first.topicId);
  assert.equal(env.broker.broker.logs.getLog('dt-again', 0)!.logEndOffset, 0);
});

test('kafkajs admin deleteTopics (v1)', async () => {
  const kafka = quietKafkajs(env.broker);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: 'dt-kafkajs-a' }, { topic: 'dt-kafkajs-b' }] });
    await admin.deleteTopics({ topics: ['dt-kafkajs-a', 'dt-kafkajs-b'], timeout: 5000 });
    assert.equal(env.broker.broker.metadata.image.topic('dt-kafkajs-a'), undefined);
    assert.equal(env.broker.broker.metadata.image.topic('dt-kafkajs-b'), undefined);
    const listed = await admin.listTopics();
    assert.ok(!listed.includes('dt-kafkajs-a'));
    await assert.rejects(admin.deleteTopics({ topics: ['dt-kafkajs-missing'], timeout: 5000 }));
  } finally {
    await admin.disconnect();
  }
});

test('@platformatic/kafka Admin deleteTopics (v6)', async () => {
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  try {
    await admin.createTopics({ topics: ['dt-platformatic'], partitions: 2 });
    await admin.deleteTopics({ topics: ['dt-platformatic'] });
    assert.equal(env.broker.broker.metadata.image.topic('dt-platformatic'), undefined);
    assert.ok(!(await admin.listTopics()).includes('dt-platformatic'));
    await assert.rejects(admin.deleteTopics({ topics: ['dt-platformatic'] }));
  } finally {
    await admin.close();
  }
});
