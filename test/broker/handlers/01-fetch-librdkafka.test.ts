/**
 * Regression with librdkafka 2.0.2 (kcat, confluent-kafka): a fetch from an offset outside the log must
 * reach the client as OFFSET_OUT_OF_RANGE so that auto.offset.reset applies. When error partitions carried
 * a null record set, librdkafka could not parse the response ("invalid MessageSetSize -1"), never reset
 * and fetched again in a loop. Each client run is bounded; a stalled client is killed and fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { run } from '../../helpers/broker-process.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { partitionOf } from '../../helpers/partitions.js';

const env = useBrokerAndClient({
  topics: [{ name: 'oor', partitions: 2 }],
  setup: async (b) => {
    for (const partition of [0, 1]) {
      const log = partitionOf(b.broker, 'oor', partition);
      for (let i = 0; i < 5; i++) await log.appendAsLeader(await buildRecordBatch([{ value: `p${partition}-${i}` }]));
    }
    // DeleteRecords moved the log start of partition 1 to offset 3.
    await partitionOf(b.broker, 'oor', 1).deleteRecordsBefore(3);
  },
});

function kcat(partition: number, offset: number, reset: string): ReturnType<typeof run> {
  return run(
    'kcat',
    [
      '-C',
      '-b',
      `127.0.0.1:${env.broker.port}`,
      '-t',
      'oor',
      '-p',
      String(partition),
      '-o',
      String(offset),
      '-e',
      '-X',
      `auto.offset.reset=${reset}`,
      '-f',
      '%o %s\n',
    ],
    30_000,
  );
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

test('kcat from an offset past the end with auto.offset.reset=earliest reads every record and stops', async () => {
  const r = await kcat(0, 100, 'earliest');
  assert.equal(r.code, 0, r.stderr.slice(-1000));
  assert.deepEqual(lines(r.stdout), ['0 p0-0', '1 p0-1', '2 p0-2', '3 p0-3', '4 p0-4']);
});

test('kcat from an offset past the end with auto.offset.reset=latest reads nothing and stops', async () => {
  const r = await kcat(0, 100, 'latest');
  assert.equal(r.code, 0, r.stderr.slice(-1000));
  assert.deepEqual(lines(r.stdout), []);
});

test('kcat from below the log start (after DeleteRecords) with earliest starts at the new log start', async () => {
  const r = await kcat(1, 0, 'earliest');
  assert.equal(r.code, 0, r.stderr.slice(-1000));
  assert.deepEqual(lines(r.stdout), ['3 p1-3', '4 p1-4']);
});

test('confluent-kafka (librdkafka) assigned past the end with earliest gets the records', async () => {
  const script = `
import sys, time
from confluent_kafka import Consumer, TopicPartition
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'oor-py', 'enable.auto.commit': False,
              'enable.partition.eof': True, 'auto.offset.reset': 'earliest'})
c.assign([TopicPartition('oor', 0, 1000)])
deadline = time.time() + 20
while time.time() < deadline:
    m = c.poll(0.5)
    if m is None:
        continue
    if m.error():
        if m.error().code() == -191:
            print('EOF')
            break
        print('ERR %s' % m.error())
        break
    print('%d %s' % (m.offset(), m.value().decode()))
c.close()
`;
  const r = await run('/usr/bin/python3', ['-c', script, `127.0.0.1:${env.broker.port}`], 30_000);
  assert.equal(r.code, 0, r.stderr.slice(-1000));
  assert.deepEqual(lines(r.stdout), ['0 p0-0', '1 p0-1', '2 p0-2', '3 p0-3', '4 p0-4', 'EOF']);
});
