/**
 * librdkafka (confluent-kafka 1.7.0) and kafka-python 2.0.2, run with /usr/bin/python3, consume through a
 * consumer group and commit; a second run of the same group resumes from the committed offsets (no
 * re-delivery). kcat -G (balanced consumer) reads a topic through a group too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBroker } from '../../helpers/test-broker.js';
import { run } from '../../helpers/broker-process.js';
import type { RunningBroker } from '../../../broker/index.js';
import { fetchOffsets } from '../../../broker/groups/offsets.js';
import { Kafka, logLevel, type Producer } from 'kafkajs';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/helpers/clients'));
const PY = '/usr/bin/python3';

let b: RunningBroker;
let producer: Producer;
before(async () => {
  b = await testBroker({ config: { 'group.initial.rebalance.delay.ms': 100, 'offsets.topic.num.partitions': 3 } });
  const kafka = new Kafka({ clientId: 'py-setup', brokers: [b.bootstrapServers], logLevel: logLevel.NOTHING });
  producer = kafka.producer();
  await producer.connect();
});
after(async () => {
  await producer.disconnect();
  await b.stop();
});

async function produce(topic: string, from: number, n: number): Promise<void> {
  await producer.send({
    topic,
    messages: Array.from({ length: n }, (_, i) => ({ value: `v${from + i}`, partition: (from + i) % 3 })),
  });
}

function records(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('REC '))
    .map((l) => l.split(' ')[3]!);
}

for (const client of ['confluent', 'kafka-python']) {
  test(`${client}: consume through a group, commit, resume without re-delivery`, { timeout: 120_000 }, async () => {
    const topic = `groups-py-${client}`;
    const group = `py-${client}`;
    await b.broker.metadata.createTopic(topic, { partitions: 3 });
    await produce(topic, 0, 60);
    const r1 = await run(
      PY,
      [join(clients, 'group_consume.py'), client, b.bootstrapServers, topic, group, '60'],
      60_000,
    );
    assert.match(r1.stdout, /^OK 60$/m, `${r1.stdout.slice(-500)}\n${r1.stderr.slice(-1500)}`);
    assert.equal(new Set(records(r1.stdout)).size, 60);
    const committed = fetchOffsets(b.broker.groups, group, null).offsets;
    assert.equal(
      committed.reduce((s, o) => s + o.offset, 0),
      60,
      JSON.stringify(committed),
    );

    await produce(topic, 60, 15);
    const r2 = await run(
      PY,
      [join(clients, 'group_consume.py'), client, b.bootstrapServers, topic, group, '15'],
      60_000,
    );
    assert.match(r2.stdout, /^OK 15$/m, `${r2.stdout.slice(-500)}\n${r2.stderr.slice(-1500)}`);
    assert.deepEqual(new Set(records(r2.stdout)), new Set(Array.from({ length: 15 }, (_, i) => `v${60 + i}`)));
    assert.equal(
      fetchOffsets(b.broker.groups, group, null).offsets.reduce((s, o) => s + o.offset, 0),
      75,
    );
  });
}

test('kcat -G: balanced consumer reads every record through a group', { timeout: 90_000 }, async () => {
  const topic = 'groups-kcat';
  await b.broker.metadata.createTopic(topic, { partitions: 3 });
  await produce(topic, 0, 30);
  const r = await run(
    'kcat',
    ['-b', b.bootstrapServers, '-G', 'kcat-group', topic, '-e', '-f', '%s\n', '-X', 'auto.offset.reset=earliest', '-q'],
    60_000,
  );
  const got = r.stdout.split('\n').filter((l) => l.startsWith('v'));
  assert.deepEqual(new Set(got), new Set(Array.from({ length: 30 }, (_, i) => `v${i}`)), r.stderr.slice(-1500));
  // librdkafka commits the consumed offsets when kcat closes the consumer.
  assert.equal(
    fetchOffsets(b.broker.groups, 'kcat-group', null).offsets.reduce((s, o) => s + o.offset, 0),
    30,
  );
});
