/**
 * `runnel produce` as a child process against an in-process broker, counting the Metadata requests the
 * broker receives (its requestObserver hook): the producer caches topic metadata as Kafka's clients do,
 * so 100 records cost one Metadata request, to an existing topic or to one the first request auto-creates.
 * The records are all in the log. (Produce's own behaviour, keys, codecs and files:
 * produce-consume.test.ts.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testBroker } from '../../helpers/test-broker.js';
import type { RunningBroker } from '../../../broker/index.js';
import { cliAt } from './run-cli.js';

let b: RunningBroker;
let cli: ReturnType<typeof cliAt>;
const requests = new Map<string, number>();
before(async () => {
  b = await testBroker({ config: { 'admin.port': -1, 'auto.create.topics.enable': true } });
  b.broker.requestObserver = (e) => requests.set(e.api, (requests.get(e.api) ?? 0) + 1);
  cli = cliAt(b.bootstrapServers);
});
after(() => b.stop());

function records(topic: string): number {
  const meta = b.broker.metadata.image.topic(topic);
  assert.ok(meta, `${topic} exists`);
  let n = 0;
  for (let p = 0; p < meta.partitions; p++) n += b.broker.logs.getLog(topic, p)!.logEndOffset;
  return n;
}

const input = `${Array.from({ length: 100 }, (_, i) => `k${i % 7}:value ${i}`).join('\n')}\n`;

test('runnel produce: 100 records to an existing topic cost one Metadata request', async () => {
  await b.createTopic('cli-md', 3);
  requests.clear();
  const r = await cli(['produce', 'cli-md', '--key-separator', ':'], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, 'produced 100 record(s) to cli-md\n');
  assert.equal(records('cli-md'), 100);
  assert.equal(requests.get('Metadata'), 1, JSON.stringify(Object.fromEntries(requests)));
  assert.ok((requests.get('Produce') ?? 0) >= 1);
});

// The request that auto-creates the topic is answered LEADER_NOT_AVAILABLE (as Kafka does); one more finds it.
test('runnel produce: 100 records to a topic the broker auto-creates cost two Metadata requests', async () => {
  assert.equal(b.broker.metadata.image.topic('cli-md-new'), undefined);
  requests.clear();
  const r = await cli(['produce', 'cli-md-new'], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(records('cli-md-new'), 100);
  assert.equal(requests.get('Metadata'), 2, JSON.stringify(Object.fromEntries(requests)));
});
