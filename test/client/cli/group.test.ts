/**
 * `runnel group list|describe|reset-offsets|delete` and `runnel consume --group` as child processes
 * against an in-process broker, with a kafkajs consumer group as the reference: describe shows its
 * member and assignment while it runs and the lag it left after it stopped; reset-offsets is refused
 * while it has members, then moves the offsets kafkajs's admin reads back; consume --group reads from
 * the committed offsets and commits what it printed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { testBroker } from '../../helpers/test-broker.js';
import type { RunningBroker } from '../../../broker/index.js';
import { cliAt, type CliResult } from './run-cli.js';

const { Kafka, logLevel } = kafkajs;

let b: RunningBroker;
let cli: ReturnType<typeof cliAt>;
let kafka: InstanceType<typeof Kafka>;
before(async () => {
  b = await testBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
  cli = cliAt(b.bootstrapServers);
  kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'cli-group-test', logLevel: logLevel.NOTHING });
});
after(async () => {
  await b.stop();
});

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function produce(topic: string, perPartition: number[], tag: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const messages = perPartition.flatMap((n, p) =>
    Array.from({ length: n }, (_, i) => ({ partition: p, value: `${tag}-p${p}-${i}` })),
  );
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

async function committed(groupId: string, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return t!.partitions.sort((x, y) => x.partition - y.partition).map((p) => Number(p.offset));
  } finally {
    await admin.disconnect();
  }
}

/** The rows of the per-partition table of `group describe`: partition → [current, end, lag]. */
function lagRows(out: string, topic: string): Map<number, string[]> {
  const rows = new Map<number, string[]>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === topic && /^\d+$/.test(f[1] ?? '')) rows.set(Number(f[1]), f.slice(2, 5));
  }
  return rows;
}

test('group describe/list show a kafkajs group and the lag it left; reset-offsets and consume --group', {
  timeout: 120_000,
}, async () => {
  const topic = 'cli-lag';
  const group = 'cli-kafkajs-group';
  await b.createTopic(topic, 3);
  await produce(topic, [5, 3, 2], 'a');

  const consumer = kafka.consumer({ groupId: group, heartbeatInterval: 500 });
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommitThreshold: 1, eachMessage: async () => void seen++ });
  try {
    await until('kafkajs read 10 records', () => seen >= 10);
    await until('offsets committed', async () => (await committed(group, topic)).join() === '5,3,2');

    // While it runs: Stable, one member holding all three partitions, no lag.
    const live = ok(await cli(['group', 'describe', group])).stdout;
    assert.match(
      live,
      new RegExp(`^Group: ${group}\\tState: Stable\\tMembers: 1\\tAssignor: \\S+\\tTotal lag: 0$`, 'm'),
    );
    assert.match(live, new RegExp(`\\s${topic}:0,1,2$`, 'm'));
    assert.deepEqual([...lagRows(live, topic)].sort(), [
      [0, ['5', '5', '0']],
      [1, ['3', '3', '0']],
      [2, ['2', '2', '0']],
    ]);
    assert.match(ok(await cli(['group', 'list'])).stdout, new RegExp(`^${group}\\s+Stable\\s+consumer$`, 'm'));

    // Kafka refuses to move the offsets of a group with members; so does runnel.
    const refused = await cli(['group', 'reset-offsets', group, '--topic', topic, '--to-earliest']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not empty \(state Stable, 1 member/);
    const delActive = await cli(['group', 'delete', group]);
    assert.equal(delActive.code, 1);
    assert.match(delActive.stderr, /NON_EMPTY_GROUP/);
  } finally {
    await consumer.disconnect();
  }

  // Stopped, then 4 more records: the lag kafkajs left is visible per partition.
  await produce(topic, [2, 0, 2], 'b');
  const stopped = ok(await cli(['group', 'describe', group])).stdout;
  assert.match(stopped, /State: Empty\tMembers: 0\tTotal lag: 4$/m);
  assert.deepEqual([...lagRows(stopped, topic)].sort(), [
    [0, ['5', '7', '2']],
    [1, ['3', '3', '0']],
    [2, ['2', '4', '2']],
  ]);
  const json = JSON.parse(ok(await cli(['group', 'describe', group, '--json'])).stdout);
  assert.deepEqual(
    json.partitions.map((p: { lag: number }) => p.lag),
    [2, 0, 2],
  );

  // Dry run: prints the plan, commits nothing.
  const dry = ok(await cli(['group', 'reset-offsets', group, '--topic', topic, '--to-earliest', '--dry-run'])).stdout;
  assert.match(dry, /^cli-lag\s+0\s+5\s+0$/m);
  assert.match(dry, /dry run/);
  assert.deepEqual(await committed(group, topic), [5, 3, 2]);

  // --to-offset is kept within the log; --partition limits it.
  ok(
    await cli([
      'group',
      'reset-offsets',
      group,
      '--topic',
      topic,
      '--to-offset',
      '4',
      '--partition',
      '0',
      '--partition',
      '1',
    ]),
  );
  assert.deepEqual(await committed(group, topic), [4, 3, 2]);
  ok(await cli(['group', 'reset-offsets', group, '--topic', topic, '--to-earliest']));
  assert.deepEqual(await committed(group, topic), [0, 0, 0]);
  ok(await cli(['group', 'reset-offsets', group, '--topic', topic, '--to-latest']));
  assert.deepEqual(await committed(group, topic), [7, 3, 4]);
  ok(await cli(['group', 'reset-offsets', group, '--topic', topic, '--to-datetime', '2000-01-01T00:00:00Z']));
  assert.deepEqual(await committed(group, topic), [0, 0, 0]);

  // consume --group reads from the committed offsets, stops at the end, commits what it printed.
  ok(await cli(['group', 'reset-offsets', group, '--topic', topic, '--to-offset', '5', '--partition', '0']));
  const firstRun = ok(await cli(['consume', topic, '--group', group, '--max', '6'], { timeoutMs: 60_000 }))
    .stdout.trim()
    .split('\n');
  assert.equal(firstRun.length, 6);
  const rest = ok(await cli(['consume', topic, '--group', group], { timeoutMs: 60_000 }))
    .stdout.trim()
    .split('\n')
    .filter((l) => l !== '');
  const all = [...firstRun, ...rest].sort();
  assert.deepEqual(
    all,
    ['a-p1-0', 'a-p1-1', 'a-p1-2', 'a-p2-0', 'a-p2-1', 'b-p0-0', 'b-p0-1', 'b-p2-0', 'b-p2-1'].sort(),
  );
  assert.deepEqual(await committed(group, topic), [7, 3, 4]);
  assert.match(ok(await cli(['group', 'describe', group])).stdout, /Total lag: 0$/m);

  // Nothing new: a third run prints nothing and exits at once.
  assert.equal(ok(await cli(['consume', topic, '--group', group], { timeoutMs: 60_000 })).stdout, '');

  assert.equal(ok(await cli(['group', 'delete', group])).stdout, `deleted group ${group}\n`);
  assert.doesNotMatch(ok(await cli(['group', 'list'])).stdout, new RegExp(group));
  const gone = await cli(['group', 'describe', group]);
  assert.equal(gone.code, 1);
  assert.notEqual(gone.stderr, '');
});

test('consume --group with --partition/--offset commits for the group without joining it', async () => {
  const topic = 'cli-assign-commit';
  await b.createTopic(topic, 2);
  await produce(topic, [4, 1], 'x');
  const r = ok(
    await cli(['consume', topic, '--group', 'cli-assign', '--partition', '0', '--offset', '1', '--max', '2']),
  );
  assert.equal(r.stdout, 'x-p0-1\nx-p0-2\n');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: 'cli-assign', topics: [topic] });
    assert.deepEqual(
      t!.partitions.sort((x, y) => x.partition - y.partition).map((p) => p.offset),
      ['3', '-1'],
    );
  } finally {
    await admin.disconnect();
  }
});
