import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { kafkajsSend } from '../../helpers/kafkajs.js';
import {
  defaultDescribeLogDirsRequest,
  encodeDescribeLogDirsRequest,
  type DescribeLogDirsRequestDescribableLogDirTopic,
} from '../../../protocol/generated/describe-log-dirs-request.js';
import {
  decodeDescribeLogDirsResponse,
  type DescribeLogDirsResponse,
} from '../../../protocol/generated/describe-log-dirs-response.js';

const env = useBrokerAndClient({
  topics: [
    { name: 'ld-a', partitions: 2 },
    { name: 'ld-b', partitions: 1 },
  ],
  setup: (b) => kafkajsSend(b, 'ld-a', [{ value: 'x'.repeat(500), partition: 1 }]),
});

async function describeLogDirs(
  v: number,
  topics: DescribeLogDirsRequestDescribableLogDirTopic[] | null,
): Promise<DescribeLogDirsResponse> {
  return call(env.client, 35, v, encodeDescribeLogDirsRequest, decodeDescribeLogDirsResponse, {
    ...defaultDescribeLogDirsRequest(),
    topics,
  });
}

test('v0-4: one log dir (the data dir) with every partition, its size, lag 0; v4 volume sizes', async () => {
  const size = BigInt(env.broker.broker.logs.getLog('ld-a', 1)!.size);
  assert.ok(size > 500n);
  for (let v = 0; v <= 4; v++) {
    const res = await describeLogDirs(v, null);
    assert.equal(res.errorCode, 0);
    assert.equal(res.results.length, 1);
    const dir = res.results[0]!;
    assert.equal(dir.errorCode, 0);
    assert.equal(realpathSync(dir.logDir), realpathSync(env.broker.dataDir));
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
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  try {
    const [broker] = await admin.describeLogDirs({ topics: [{ name: 'ld-a', partitions: [0, 1] }] });
    assert.equal(broker!.broker, env.broker.broker.started.nodeId);
    const [dir] = broker!.results;
    assert.deepEqual(
      dir!.topics.map((t) => [t.name, t.partitions.length]),
      [['ld-a', 2]],
    );
    assert.ok(dir!.totalBytes > 0n);
  } finally {
    await admin.close();
  }
});
