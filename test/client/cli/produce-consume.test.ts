/**
 * `runnel produce` and `runnel consume` as child processes against an in-process broker, cross-checked
 * with real clients: what `runnel produce` writes (keys, values, headers, every codec, a fixed partition)
 * is read back by kcat and kafkajs; what kafkajs writes (binary and null values, headers, timestamps)
 * comes out of `runnel consume` in text, json and hex, from an offset, a timestamp, one partition, up to
 * --max, and in --follow mode.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { testBroker } from '../../helpers/test-broker.js';
import type { RunningBroker } from '../../../broker/index.js';
import { CLI, cliAt, runProcess, type CliResult } from './run-cli.js';

const { Kafka, logLevel, CompressionTypes } = kafkajs;

let b: RunningBroker;
let cli: ReturnType<typeof cliAt>;
let kafka: InstanceType<typeof Kafka>;
before(async () => {
  b = await testBroker();
  cli = cliAt(b.bootstrapServers);
  kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'cli-pc-test', logLevel: logLevel.NOTHING });
});
after(async () => {
  await b.stop();
});

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

function kcatAll(topic: string): Promise<string[]> {
  return runProcess(
    'kcat',
    ['-C', '-b', b.bootstrapServers, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p|%k|%s|%h\n'],
    { timeoutMs: 60_000 },
  ).then((r) => {
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l !== '');
  });
}

test('runnel produce: keys, values and headers in every codec, read back by kcat; counts on stderr', async () => {
  await b.createTopic('cli-produce', 3);
  const want: string[] = [];
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    const lines: string[] = [];
    for (let i = 0; i < 200; i++) {
      const n = want.length;
      lines.push(`k${n % 13}::v${n} ${codec} ünïcödé`);
      want.push(`k${n % 13}|v${n} ${codec} ünïcödé|src=cli,codec=${codec}`);
    }
    const r = ok(
      await cli(
        [
          'produce',
          'cli-produce',
          '--key-separator',
          '::',
          '--header',
          'src=cli',
          '--header',
          `codec=${codec}`,
          '--compression',
          codec,
        ],
        { input: `${lines.join('\n')}\n` },
      ),
    );
    assert.equal(r.stderr, 'produced 200 record(s) to cli-produce\n');
    assert.equal(r.stdout, '');
  }
  const got = await kcatAll('cli-produce');
  assert.equal(got.length, want.length);
  // Per partition, records keep their order; keys decide partitions (murmur2): one key, one partition.
  const partOfKey = new Map<string, string>();
  for (const line of got) {
    const [p, k] = line.split('|');
    assert.equal(partOfKey.get(k!) ?? p, p, `key ${k} in one partition`);
    partOfKey.set(k!, p!);
  }
  assert.ok(new Set(partOfKey.values()).size > 1, 'keys spread over partitions');
  assert.deepEqual(got.map((l) => l.slice(l.indexOf('|') + 1)).sort(), [...want].sort());
  for (const p of ['0', '1', '2']) {
    const seq = got.filter((l) => l.startsWith(`${p}|`)).map((l) => Number(/\|v(\d+) /.exec(l)![1]));
    assert.deepEqual(
      seq,
      [...seq].sort((x, y) => x - y),
      `partition ${p} in order`,
    );
  }
});

test('runnel produce: CRLF, an empty line, no final newline, to one partition, acks=1; kafkajs reads it', async () => {
  await b.createTopic('cli-file', 2);
  const dir = mkdtempSync(join(tmpdir(), 'runnel-cli-'));
  const file = join(dir, 'in.txt');
  writeFileSync(file, 'a=1\r\nb=2\n\nc=3');
  const r = ok(
    await cli(['produce', 'cli-file', '--file', file, '--partition', '1', '--acks', '1', '--header', 'h=v=w']),
  );
  assert.match(r.stderr, /produced 4 record\(s\)/);
  const consumer = kafka.consumer({ groupId: 'cli-file-reader' });
  const seen: Array<{ partition: number; key: string | null; value: string; headers: Record<string, string> }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'cli-file', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({
          partition,
          key: message.key === null ? null : message.key.toString(),
          value: message.value!.toString(),
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    const end = Date.now() + 30_000;
    while (seen.length < 4 && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(seen, [
    { partition: 1, key: null, value: 'a=1', headers: { h: 'v=w' } },
    { partition: 1, key: null, value: 'b=2', headers: { h: 'v=w' } },
    { partition: 1, key: null, value: '', headers: { h: 'v=w' } },
    { partition: 1, key: null, value: 'c=3', headers: { h: 'v=w' } },
  ]);
});

test('runnel produce: a line without the key separator exits 2 naming the line; a missing file exits 1', async () => {
  await b.createTopic('cli-bad', 1);
  const r = await cli(['produce', 'cli-bad', '--key-separator', ':'], { input: 'k:v\nnosep\nk:w\n' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /line 2 has no key separator ":"/);
  const missing = await cli(['produce', 'cli-bad', '--file', '/nonexistent/in.txt']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read \/nonexistent\/in\.txt/);
});

async function kafkajsRecords(topic: string): Promise<number> {
  await b.createTopic(topic, 2);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    compression: CompressionTypes.GZIP,
    messages: [
      { partition: 0, key: 'k0', value: 'hello', timestamp: '1700000000000', headers: { a: '1', b: 'two' } },
      { partition: 0, key: null, value: Buffer.from([0xff, 0x00, 0x41]), timestamp: '1700000001000' },
      { partition: 0, key: 'k2', value: null, timestamp: '1700000002000' },
      { partition: 1, key: 'k3', value: 'world', timestamp: '1700000003000', headers: { c: 'x' } },
    ],
  });
  await producer.disconnect();
  return 4;
}

test('runnel consume: records written by kafkajs in text, json and hex', async () => {
  await kafkajsRecords('cli-fmt');
  const text = ok(await cli(['consume', 'cli-fmt', '--print-offset', '--print-key', '--print-headers'])).stdout;
  assert.deepEqual(
    text
      .split('\n')
      .filter((l) => l !== '')
      .sort(),
    [
      '0:0\ta=1,b=two\tk0\thello',
      `0:1\t\tnull\t${Buffer.from([0xff, 0x00, 0x41]).toString('utf8')}`,
      '0:2\t\tk2\tnull',
      '1:0\tc=x\tk3\tworld',
    ],
  );
  const json = ok(await cli(['consume', 'cli-fmt', '--format', 'json']))
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  json.sort((x, y) => x.partition - y.partition || x.offset - y.offset);
  assert.deepEqual(json, [
    {
      topic: 'cli-fmt',
      partition: 0,
      offset: 0,
      timestamp: 1700000000000,
      key: 'k0',
      value: 'hello',
      headers: [
        { key: 'a', value: '1' },
        { key: 'b', value: 'two' },
      ],
    },
    {
      topic: 'cli-fmt',
      partition: 0,
      offset: 1,
      timestamp: 1700000001000,
      key: null,
      value: { base64: Buffer.from([0xff, 0x00, 0x41]).toString('base64') },
      headers: [],
    },
    { topic: 'cli-fmt', partition: 0, offset: 2, timestamp: 1700000002000, key: 'k2', value: null, headers: [] },
    {
      topic: 'cli-fmt',
      partition: 1,
      offset: 0,
      timestamp: 1700000003000,
      key: 'k3',
      value: 'world',
      headers: [{ key: 'c', value: 'x' }],
    },
  ]);
  const hex = ok(
    await cli(['consume', 'cli-fmt', '--format', 'hex', '--print-key', '--partition', '0', '--separator', ' ']),
  ).stdout;
  assert.equal(hex, '6b30 68656c6c6f\nnull ff0041\n6b32 null\n');
});

test('runnel consume: --offset, --timestamp (ms and ISO), --partition, --max; unknown topic exits 1', async () => {
  await kafkajsRecords('cli-pos');
  const lines = (r: CliResult): string[] =>
    ok(r)
      .stdout.split('\n')
      .filter((l) => l !== '');
  assert.deepEqual(
    lines(await cli(['consume', 'cli-pos', '--partition', '0', '--offset', '1', '--print-offset', '--format', 'hex'])),
    ['0:1\tff0041', '0:2\tnull'],
  );
  assert.deepEqual(
    lines(await cli(['consume', 'cli-pos', '--partition', '0', '--timestamp', '1700000001500', '--print-key'])),
    ['k2\tnull'],
  );
  assert.deepEqual(
    lines(await cli(['consume', 'cli-pos', '--timestamp', '2023-11-14T22:13:22Z', '--print-key'])).sort(),
    ['k2\tnull', 'k3\tworld'],
  );
  assert.deepEqual(lines(await cli(['consume', 'cli-pos', '--timestamp', '2030-01-01'])), []);
  assert.deepEqual(lines(await cli(['consume', 'cli-pos', '--partition', '0', '--max', '1'])), ['hello']);
  assert.deepEqual(lines(await cli(['consume', 'cli-pos', '--partition', '1', '--from-beginning'])), ['world']);
  const r = await cli(['consume', 'cli-nope']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'runnel: topic cli-nope does not exist\n');
  const badPart = await cli(['consume', 'cli-pos', '--partition', '7']);
  assert.equal(badPart.code, 1);
  assert.match(badPart.stderr, /has no partition 7/);
});

test('runnel consume --follow prints records produced after it started and exits 0 on SIGINT', {
  timeout: 60_000,
}, async () => {
  await b.createTopic('cli-follow', 1);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'cli-follow', acks: -1, messages: [{ value: 'old' }] });
  const child = spawn(process.execPath, [CLI, 'consume', 'cli-follow', '--follow', '--bootstrap', b.bootstrapServers], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let errOut = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
  try {
    // --follow alone starts at the end: "old" never shows; records sent while it runs do.
    const end = Date.now() + 30_000;
    let n = 0;
    while (!out.includes('new-3') && Date.now() < end) {
      if (n < 4) await producer.send({ topic: 'cli-follow', acks: -1, messages: [{ value: `new-${n++}` }] });
      await new Promise((res) => setTimeout(res, 300));
    }
    assert.match(out, /new-3\n/, errOut);
    assert.doesNotMatch(out, /old/);
    const code = await new Promise<number | null>((res) => {
      const t = setTimeout(() => res(-1), 10_000);
      child.once('exit', (c) => {
        clearTimeout(t);
        res(c);
      });
      child.kill('SIGINT');
    });
    assert.equal(code, 0, errOut);
    const lines = out.split('\n').filter((l) => l !== '');
    assert.deepEqual(
      lines,
      lines.map((_, i) => lines[0]!.replace(/\d+$/, '') + (Number(/\d+$/.exec(lines[0]!)![0]) + i)),
    );
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await producer.disconnect();
  }
});
