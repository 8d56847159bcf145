/**
 * startBroker({ storage: 'memory' }): logs live in an in-memory filesystem — nothing is written to disk,
 * real clients produce and consume as usual, instances stay isolated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { testBroker } from '../helpers/test-broker.js';

test('memory storage: produce and consume with kafkajs, no files on disk, isolated instances', async (t) => {
  // A temp dir of this process's own, so that temp data dirs of tests running beside it are not counted.
  const ownTmp = mkdtempSync(join(tmpdir(), 'memory-storage-test-'));
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = ownTmp;
  t.after(async () => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    await rm(ownTmp, { recursive: true, force: true });
  });
  assert.equal(tmpdir(), ownTmp);
  const before = new Set((await readdir(tmpdir())).filter((n) => n.startsWith('runnel-')));
  const [a, b] = await Promise.all([
    testBroker({ storage: 'memory', topics: [{ name: 'mem', partitions: 2, configs: { 'flush.messages': 1 } }] }),
    testBroker({ storage: 'memory' }),
  ]);
  try {
    assert.equal(a.dataDir, '/runnel-memory');
    assert.equal(existsSync(a.dataDir), false, 'the data dir exists only in memory');
    const created = (await readdir(tmpdir())).filter((n) => n.startsWith('runnel-') && !before.has(n));
    assert.deepEqual(created, [], 'no temp data dir was made');
    assert.equal(b.broker.metadata.image.topic('mem'), undefined);

    const kafka = new Kafka({ brokers: [a.bootstrapServers], clientId: 'memory-test', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const res = await producer.send({
      topic: 'mem',
      acks: -1,
      messages: [{ key: 'k', value: 'in memory', partition: 1 }],
    });
    assert.equal(res[0].errorCode, 0);
    await a.createTopic('later', 1);
    await producer.send({ topic: 'later', acks: -1, messages: [{ value: 'v' }] });
    await producer.disconnect();
    assert.equal(a.broker.logs.getLog('mem', 1)!.logEndOffset, 1);

    const consumer = kafka.consumer({ groupId: 'mem-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'mem', fromBeginning: true });
    const got = await Promise.race([
      new Promise<string>(
        (resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }),
      ),
      new Promise<string>((_, reject) => setTimeout(() => reject(new Error('nothing consumed in 30 s')), 30_000)),
    ]);
    await consumer.disconnect();
    assert.equal(got, 'in memory');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('an unknown storage kind is refused', async () => {
  await assert.rejects(testBroker({ storage: 'tape' as never }), /storage must be 'disk' or 'memory'/);
});
