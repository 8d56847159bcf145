import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { pino } from 'pino';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Admin } from '@platformatic/kafka';
import { startBroker, type RunningBroker } from '../../../broker/index.js';
import { setRootLogger } from '../../../broker/logger.js';
import { RawClient } from '../../helpers/raw-client.js';
import { responseHeaderVersion } from '../../../protocol/generated/apis.js';
import {
  defaultDescribeLogDirsRequest,
  encodeDescribeLogDirsRequest,
  type DescribeLogDirsRequestDescribableLogDirTopic,
} from '../../../protocol/generated/describe-log-dirs-request.js';
import { decodeDescribeLogDirsResponse, type DescribeLogDirsResponse } from '../../../protocol/generated/describe-log-dirs-response.js';

setRootLogger(pino({ level: 'silent' }));
let b: RunningBroker;
let c: RawClient;
before(async () => {
  b = await startBroker();
  c = await RawClient.connect(b.port);
  await b.broker.logs.createTopic('ld-a', { partitions: 2 });
  await b.broker.logs.createTopic('ld-b', { partitions: 1 });
  const kafka = new Kafka({ clientId: 't', brokers: [b.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic: 'ld-a', messages: [{ value: 'x'.repeat(500), partition: 1 }] });
  await producer.disconnect();
});
after(async () => {
  c.close();
  await b.stop();
});

async function describeLogDirs(v: number, topics: DescribeLogDirsRequestDescribableLogDirTopic[] | null): Promise<DescribeLogDirsResponse> {
  const req = { ...defaultDescribeLogDirsRequest(), topics };
  const id = c.send(35, v, (w) => encodeDescribeLogDirsRequest(w, v, req));
  const res = await c.response(responseHeaderVersion(35, v));
  assert.ok(res);
  assert.equal(res.correlationId, id);
  const body = decodeDescribeLogDirsResponse(res.body, v);
  assert.equal(res.body.remaining(), 0);
  return body;
}

test('v0-4: one log dir (the data dir) with every partition, its size, lag 0; v4 volume sizes', async () => {
  const size = BigInt(b.broker.logs.getLog('ld-a', 1)!.size);
  assert.ok(size > 500n);
  for (let v = 0; v <= 4; v++) {
    const res = await describeLogDirs(v, null);
    assert.equal(res.errorCode, 0);
    assert.equal(res.results.length, 1);
    const dir = res.results[0]!;
    assert.equal(dir.errorCode, 0);
    assert.equal(realpathSync(dir.logDir), realpathSync(b.dataDir));
    const byTopic = new Map(dir.topics.map((t) => [t.name, t.partitions]));
    assert.deepEqual(byTopic.get('ld-a'), [
      { partitionIndex: 0, partitionSize: 0n, offsetLag: 0n, isFutureKey: false },
      { partitionIndex: 1, partitionSize: size, offsetLag: 0n, isFutureKey: false },
    ]);
    assert.equal(byTopic.get('ld-b')!.length, 1);
    if (v >= 4) {
      assert.ok(dir.totalBytes > 0n);
      assert.ok(dir.usableBytes > 0n && dir.usableBytes <= dir.totalBytes);
    }
  }
});

test('listed partitions only; unknown ones are left out; an empty list gives no topics', async () => {
  const res = await describeLogDirs(2, [
    { topic: 'ld-a', partitions: [1, 9] },
    { topic: 'ld-missing', partitions: [0] },
  ]);
  assert.deepEqual(
    res.results[0]!.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]),
    [['ld-a', [1]]],
  );
  const none = await describeLogDirs(3, []);
  assert.deepEqual(none.results[0]!.topics, []);
});

test('@platformatic/kafka Admin describeLogDirs (v4)', async () => {
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [b.bootstrapServers], retries: 0 });
  try {
    const [broker] = await admin.describeLogDirs({ topics: [{ name: 'ld-a', partitions: [0, 1] }] });
    assert.equal(broker!.broker, b.broker.started.nodeId);
    const [dir] = broker!.results;
    assert.deepEqual(dir!.topics.map((t) => [t.name, t.partitions.length]), [['ld-a', 2]]);
    assert.ok(dir!.totalBytes > 0n);
  } finally {
    await admin.close();
  }
});
