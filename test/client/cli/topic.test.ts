/**
 * `runnel topic ...` and `runnel cluster info` as child processes against an in-process broker, checked
 * with kafkajs's admin; exit codes 0 / 1 (Kafka error, unreachable broker) / 2 (usage); --help.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';

const { Kafka, logLevel, ConfigResourceTypes } = kafkajs;
type Kafka = InstanceType<typeof Kafka>;
import { testBroker } from '../../helpers/test-broker.js';
import type { RunningBroker } from '../../../broker/index.js';
import { cliAt, runCli, type CliResult } from './run-cli.js';

let b: RunningBroker;
let cli: ReturnType<typeof cliAt>;
let kafka: Kafka;
before(async () => {
  b = await testBroker();
  cli = cliAt(b.bootstrapServers);
  kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'cli-topic-test', logLevel: logLevel.NOTHING });
});
after(async () => {
  await b.stop();
});

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

test('topic create/list/describe/alter-config/add-partitions/delete, seen by kafkajs', async () => {
  const r = ok(
    await cli([
      'topic',
      'create',
      'cli-orders',
      '--partitions',
      '3',
      '--config',
      'retention.ms=3600000',
      '--config',
      'cleanup.policy=compact',
    ]),
  );
  assert.match(r.stdout, /created topic cli-orders with 3 partition/);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: ['cli-orders'] });
    assert.equal(md.topics[0].partitions.length, 3);
    const cfg = await admin.describeConfigs({
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: 'cli-orders', configNames: ['retention.ms', 'cleanup.policy'] },
      ],
      includeSynonyms: false,
    });
    const entries = Object.fromEntries(cfg.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
    assert.deepEqual(entries, { 'retention.ms': '3600000', 'cleanup.policy': 'compact' });

    // Records produced by kafkajs show up as offsets in describe.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'cli-orders',
      acks: -1,
      messages: [0, 0, 0, 1].map((p, i) => ({ partition: p, key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();

    assert.equal(ok(await cli(['topic', 'list'])).stdout, 'cli-orders\n');
    assert.match(ok(await cli(['topic', 'list', '--long'])).stdout, /^TOPIC\s+PARTITIONS\ncli-orders\s+3\n$/);

    const d = ok(await cli(['topic', 'describe', 'cli-orders'])).stdout;
    assert.match(d, /Topic: cli-orders\tPartitions: 3\tReplicationFactor: 1\tTopicId: \S+\tRecords: 4/);
    assert.match(d, /^0\s+1\s+1\s+1\s+0\s+3$/m);
    assert.match(d, /^1\s+1\s+1\s+1\s+0\s+1$/m);
    assert.match(d, /^2\s+1\s+1\s+1\s+0\s+0$/m);
    assert.match(d, /^ {2}retention\.ms=3600000$/m);
    assert.match(d, /^ {2}cleanup\.policy=compact$/m);
    assert.doesNotMatch(d, /segment\.bytes/);
    assert.match(
      ok(await cli(['topic', 'describe', 'cli-orders', '--all-configs'])).stdout,
      /segment\.bytes=\d+ {2}\(default\)/,
    );
    const j = JSON.parse(ok(await cli(['topic', 'describe', 'cli-orders', '--json'])).stdout);
    assert.deepEqual(
      j.partitions.map((p: { logEndOffset: number }) => p.logEndOffset),
      [3, 1, 0],
    );

    const a = ok(
      await cli(['topic', 'alter-config', 'cli-orders', '--set', 'retention.ms=60000', '--delete', 'cleanup.policy']),
    );
    assert.equal(a.stdout, 'set retention.ms=60000\nremoved cleanup.policy\n');
    const cfg2 = await admin.describeConfigs({
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: 'cli-orders', configNames: ['retention.ms', 'cleanup.policy'] },
      ],
      includeSynonyms: false,
    });
    const e2 = Object.fromEntries(cfg2.resources[0].configEntries.map((e) => [e.configName, e]));
    assert.equal(e2['retention.ms'].configValue, '60000');
    assert.equal(e2['cleanup.policy'].configValue, 'delete');
    assert.equal(e2['cleanup.policy'].isDefault, true);

    ok(await cli(['topic', 'add-partitions', 'cli-orders', '--partitions', '5']));
    const md2 = await admin.fetchTopicMetadata({ topics: ['cli-orders'] });
    assert.equal(md2.topics[0].partitions.length, 5);

    assert.equal(ok(await cli(['topic', 'delete', 'cli-orders'])).stdout, 'deleted topic cli-orders\n');
    assert.deepEqual(
      (await admin.listTopics()).filter((t) => !t.startsWith('__')),
      [],
    );
  } finally {
    await admin.disconnect();
  }
});

test('topic errors: exists, unknown topic, bad config exit 1 with the reason; --if-(not-)exists exit 0', async () => {
  ok(await cli(['topic', 'create', 'cli-dup', '--partitions', '1']));
  const dup = await cli(['topic', 'create', 'cli-dup', '--partitions', '1']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /^runnel: TOPIC_ALREADY_EXISTS/);
  assert.match(ok(await cli(['topic', 'create', 'cli-dup', '--if-not-exists'])).stdout, /already exists/);

  const unknown = await cli(['topic', 'describe', 'cli-nope']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'runnel: topic cli-nope does not exist\n');

  const badCfg = await cli(['topic', 'alter-config', 'cli-dup', '--set', 'no.such.config=1']);
  assert.equal(badCfg.code, 1);
  assert.match(badCfg.stderr, /INVALID_CONFIG/);

  const del = await cli(['topic', 'delete', 'cli-dup', 'cli-nope']);
  assert.equal(del.code, 1);
  assert.equal(del.stdout, 'deleted topic cli-dup\n');
  assert.match(del.stderr, /topic cli-nope does not exist/);
  ok(await cli(['topic', 'delete', 'cli-nope', '--if-exists']));
});

test('usage errors exit 2 with the help hint; --help exits 0 and documents the exit codes', async () => {
  for (const args of [
    ['topic', 'create', 'x', '--partitions', 'zero'],
    ['topic', 'create'],
    ['topic', 'list', '--bogus'],
    ['topic', 'frobnicate'],
    ['topic', 'alter-config', 'x'],
    ['topic', 'alter-config', 'x', '--set', 'novalue'],
    ['consume', 't', '--format', 'xml'],
    ['consume', 't', '--offset', '3', '--timestamp', '2024-01-01'],
    ['consume', 't', '--timestamp', 'yesterday-ish'],
    ['produce', 't', '--acks', '2'],
    ['produce', 't', '--compression', 'brotli'],
    ['group', 'reset-offsets', 'g', '--topic', 't'],
    ['group', 'reset-offsets', 'g', '--topic', 't', '--to-earliest', '--to-latest'],
    ['group'],
    ['start', '--bogus'],
    [],
  ]) {
    const r = await runCli([
      ...args,
      ...(args.length > 1 && args[0] !== 'start' ? ['--bootstrap', b.bootstrapServers] : []),
    ]);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.notEqual(r.stderr, '', args.join(' '));
  }
  for (const args of [
    ['--help'],
    ['topic', '--help'],
    ['topic', 'create', '--help'],
    ['produce', '--help'],
    ['consume', '--help'],
    ['group', 'reset-offsets', '--help'],
    ['cluster', 'info', '--help'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(
      r.stdout,
      /Exit codes:\n {2}0 {2}success\n {2}1 {2}Kafka or operation error.*\n {2}2 {2}usage error/,
      args.join(' '),
    );
  }
  assert.match(
    (await runCli(['topic', 'create', '--help'])).stdout,
    /--bootstrap <host:port>.*\n.*default: "localhost:9092"/,
  );
});

test('an unreachable broker is an operation error (exit 1) naming the address', async () => {
  const r = await runCli(['topic', 'list', '--bootstrap', '127.0.0.1:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /127\.0\.0\.1:1/);
  assert.match(r.stderr, /ECONNREFUSED/);
});

test('cluster info: cluster id, controller, broker address and topic/partition counts', async () => {
  ok(await cli(['topic', 'create', 'cli-c1', '--partitions', '2']));
  ok(await cli(['topic', 'create', 'cli-c2', '--partitions', '3']));
  const r = ok(await cli(['cluster', 'info'])).stdout;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const c = await admin.describeCluster();
    assert.match(r, new RegExp(`^Cluster id: ${c.clusterId}$`, 'm'));
    assert.match(r, new RegExp(`^Controller: ${c.controller}$`, 'm'));
    const md = await admin.fetchTopicMetadata({ topics: [] });
    const user = md.topics.filter((t) => !t.name.startsWith('__'));
    assert.ok(user.some((t) => t.name === 'cli-c1') && user.some((t) => t.name === 'cli-c2'));
    const parts = user.reduce((s, t) => s + t.partitions.length, 0);
    assert.match(r, new RegExp(`^Topics: ${user.length} \\(${parts} partitions\\)`, 'm'));
    assert.match(r, new RegExp(`^${c.brokers[0].nodeId}\\s+127\\.0\\.0\\.1\\s+${b.port}\\s+-\\s+yes$`, 'm'));
    const j = JSON.parse(ok(await cli(['cluster', 'info', '--json'])).stdout);
    assert.equal(j.clusterId, c.clusterId);
    assert.equal(j.topics, user.length);
    assert.equal(j.partitions, parts);
  } finally {
    await admin.disconnect();
    await b.deleteTopic('cli-c1');
    await b.deleteTopic('cli-c2');
  }
});
