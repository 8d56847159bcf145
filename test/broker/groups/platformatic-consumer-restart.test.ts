/**
 * @platformatic/kafka with `groupProtocol: 'consumer'` (KIP-848) across a kill -9 of a real `runnel start`
 * process (same port and data directory): the running consumer goes on after the restart as the same member
 * (ConsumerGroupDescribe shows the same member id and epoch, not a fresh join), receives exactly the
 * records produced after the restart, and none it had already consumed. Every wait is bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { startBrokerProcess, waitExit, type BrokerProcess } from '../../helpers/broker-process.js';
import { RawClient } from '../../helpers/raw-client.js';
import { call } from '../../helpers/test-broker.js';
import { encodeConsumerGroupDescribeRequest } from '../../../protocol/generated/consumer-group-describe-request.js';
import { decodeConsumerGroupDescribeResponse } from '../../../protocol/generated/consumer-group-describe-response.js';

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function members(port: number, groupId: string): Promise<{ id: string; epoch: number }[]> {
  const c = await RawClient.connect(port);
  try {
    const d = await call(c, 69, 1, encodeConsumerGroupDescribeRequest, decodeConsumerGroupDescribeResponse, {
      groupIds: [groupId],
      includeAuthorizedOperations: false,
    });
    return d.groups[0]!.members.map((m) => ({ id: m.memberId, epoch: m.memberEpoch }));
  } finally {
    c.close();
  }
}

test('@platformatic/kafka KIP-848 consumer continues as the same member after a broker kill -9', {
  timeout: 120_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-plt848-crash-'));
  const port = await freePort();
  const extra = [
    '--port',
    String(port),
    '--set',
    'offsets.topic.num.partitions=3',
    '--set',
    'group.consumer.heartbeat.interval.ms=300',
  ];
  const bootstrapBrokers = [`127.0.0.1:${port}`];
  const procs: BrokerProcess[] = [];
  const got: string[] = [];
  let consumer: Consumer<string, string, string, string> | undefined;
  try {
    procs.push(await startBrokerProcess(dataDir, extra));
    const admin = new Admin({ clientId: 'plt848r-a', bootstrapBrokers });
    await admin.createTopics({ topics: ['plt-848-r'], partitions: 2, replicas: 1 });
    await admin.close();
    const producer = new Producer({ clientId: 'plt848r-p', bootstrapBrokers, serializers: stringSerializers });
    await producer.send({
      messages: Array.from({ length: 10 }, (_, i) => ({ topic: 'plt-848-r', value: `a${i}`, partition: i % 2 })),
    });
    await producer.close();
    consumer = new Consumer({
      groupId: 'plt-848-r-g',
      clientId: 'plt848r',
      bootstrapBrokers,
      deserializers: stringDeserializers,
      groupProtocol: 'consumer',
      maxWaitTime: 200,
      retries: 30,
      retryDelay: 300,
    });
    consumer.on('error', () => undefined);
    const stream = await consumer.consume({ topics: ['plt-848-r'], mode: 'earliest', autocommit: 100 });
    stream.on('data', (m) => got.push(String(m.value)));
    stream.on('error', () => undefined);
    await waitFor('the first 10 records', () => got.length >= 10);
    await new Promise((r) => setTimeout(r, 1000)); // autocommit and a few heartbeats
    const before = await members(port, 'plt-848-r-g');
    assert.equal(before.length, 1);

    procs[0]!.child.kill('SIGKILL');
    await waitExit(procs[0]!.child);
    procs.push(await startBrokerProcess(dataDir, extra));
    const after = await members(port, 'plt-848-r-g');
    assert.deepEqual(after, before, 'the group was loaded with its member and epoch');

    const p2 = new Producer({ clientId: 'plt848r-p2', bootstrapBrokers, serializers: stringSerializers, retries: 10 });
    await p2.send({
      messages: Array.from({ length: 6 }, (_, i) => ({ topic: 'plt-848-r', value: `b${i}`, partition: i % 2 })),
    });
    await p2.close();
    await waitFor('the 6 records produced after the restart', () => got.length >= 16, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(
      [...got].sort(),
      [...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 6 }, (_, i) => `b${i}`)].sort(),
      'no record lost or delivered twice',
    );
    const later = await members(port, 'plt-848-r-g');
    assert.equal(later.length, 1);
    assert.equal(later[0]!.id, before[0]!.id, 'still the same member');
    assert.ok(later[0]!.epoch >= before[0]!.epoch);
    await stream.close();
  } finally {
    try {
      await consumer?.close(true);
    } catch {
      // already closed
    }
    for (const p of procs) {
      p.child.kill('SIGKILL');
      await waitExit(p.child);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
});
