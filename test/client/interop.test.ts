/**
 * The Runnel client against other clients, in both directions, through an in-process broker: records
 * produced by Runnel's Producer (every codec; keys, values, headers, timestamps) are read back intact by
 * kcat (librdkafka) and kafkajs; records produced by kcat (every codec) and kafkajs (none, gzip: its
 * built-in codecs) are read back intact by Runnel's Consumer. A Runnel consumer and a librdkafka consumer share
 * a group (either one leading), which needs the ConsumerProtocol encodings to match Kafka's.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import { Consumer, Producer, type Compression, type ConsumerRecord } from '../../client/index.js';
import { testBroker } from '../helpers/test-broker.js';
import { run } from '../helpers/broker-process.js';
import type { RunningBroker } from '../../broker/index.js';

const CODECS: Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const PER_CODEC = 200;
const T0 = Date.UTC(2024, 0, 1);

let b: RunningBroker;
before(async () => {
  b = await testBroker({
    topics: [
      { name: 'from-runnel', partitions: 3 },
      { name: 'from-runnel-js', partitions: 3 },
      { name: 'from-kcat', partitions: 1 },
      { name: 'from-kafkajs', partitions: 2 },
      { name: 'mixed', partitions: 4 },
    ],
  });
});
after(async () => {
  await b.stop();
});

interface Expected {
  key: string;
  value: string;
  ts: number;
  h: string;
}

function expectedRunnel(): Expected[] {
  const out: Expected[] = [];
  for (const codec of CODECS) {
    for (let i = 0; i < PER_CODEC; i++) {
      const n = out.length;
      out.push({ key: `k${n % 13}`, value: `v${n}-${codec}`, ts: T0 + n, h: codec });
    }
  }
  return out;
}

async function runnelConsume(topic: string, partitions: number, count: number): Promise<ConsumerRecord[]> {
  const c = new Consumer({ bootstrap: b.bootstrapServers, fromBeginning: true });
  c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  const out: ConsumerRecord[] = [];
  const end = Date.now() + 30_000;
  for (let i = 0; i < 500 && out.length < count && Date.now() < end; i++) out.push(...(await c.poll(300)));
  await c.close();
  return out;
}

test('Runnel producer → kcat consumer: keys, values, headers, timestamps, every codec', {
  timeout: 90_000,
}, async () => {
  const exp = expectedRunnel();
  const metasPartition = new Map<string, number>();
  for (const codec of CODECS) {
    const p = new Producer({ bootstrap: b.bootstrapServers, compression: codec, lingerMs: 10 });
    const metas = await p.sendBatch(
      exp
        .filter((e) => e.h === codec)
        .map((e) => ({
          topic: 'from-runnel',
          key: e.key,
          value: e.value,
          timestamp: e.ts,
          headers: { codec: e.h, bin: Buffer.from([0, 1, 2]) },
        })),
    );
    assert.equal(metas.length, PER_CODEC);
    metas.forEach((m, i) => {
      assert.ok(m.offset >= 0);
      metasPartition.set(exp.filter((e) => e.h === codec)[i].value, m.partition);
    });
    await p.close();
  }
  // kcat reads every codec; per partition in the order produced.
  const r = await run(
    'kcat',
    ['-C', '-b', b.bootstrapServers, '-t', 'from-runnel', '-o', 'beginning', '-e', '-f', '%k|%s|%T|%h\n'],
    60_000,
  );
  const lines = r.stdout.split('\n').filter((l) => l);
  assert.equal(lines.length, exp.length, r.stderr.slice(-500));
  const got = new Map(lines.map((l) => [l.split('|')[1], l]));
  for (const e of exp) {
    const l = got.get(e.value);
    assert.ok(l, `kcat did not read ${e.value}`);
    const [key, value, ts, h] = l.split('|');
    assert.equal(key, e.key);
    assert.equal(value, e.value);
    assert.equal(Number(ts), e.ts);
    assert.match(h, new RegExp(`^codec=${e.h},bin=`));
  }
  for (const part of [0, 1, 2]) {
    const vals = lines
      .map((l) => l.split('|'))
      .filter((f) => metasPartition.get(f[1]) === part)
      .map((f) => Number(f[2]));
    assert.deepEqual(
      vals,
      [...vals].sort((x, y) => x - y),
    );
  }
});

test('Runnel producer → kafkajs consumer group: keys, values, headers, timestamps (none, gzip: kafkajs codecs)', {
  timeout: 60_000,
}, async () => {
  const wanted = expectedRunnel().filter((e) => e.h === 'none' || e.h === 'gzip');
  for (const codec of ['none', 'gzip'] as const) {
    const p = new Producer({ bootstrap: b.bootstrapServers, compression: codec });
    await p.sendBatch(
      wanted
        .filter((e) => e.h === codec)
        .map((e) => ({
          topic: 'from-runnel-js',
          key: e.key,
          value: e.value,
          timestamp: e.ts,
          headers: { codec: e.h, bin: Buffer.from([0, 1, 2]) },
        })),
    );
    await p.close();
  }
  const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'interop', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'interop-kafkajs', maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'from-runnel-js', fromBeginning: true });
  const seen: Array<{ key: string; value: string; ts: number; codec: string; bin: string }> = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({
        key: message.key!.toString(),
        value: message.value!.toString(),
        ts: Number(message.timestamp),
        codec: message.headers?.codec?.toString() ?? '',
        bin: (message.headers!.bin as Buffer).toString('hex'),
      });
    },
  });
  const end = Date.now() + 30_000;
  while (seen.length < wanted.length && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
  await consumer.disconnect();
  assert.equal(seen.length, wanted.length);
  const byValue = new Map(seen.map((s) => [s.value, s]));
  for (const e of wanted) {
    const s = byValue.get(e.value);
    assert.ok(s, `kafkajs did not read ${e.value}`);
    assert.deepEqual(s, { key: e.key, value: e.value, ts: e.ts, codec: e.h, bin: '000102' });
  }
});

test('kcat producer (every codec) → Runnel consumer', { timeout: 60_000 }, async () => {
  const exp: Expected[] = [];
  const before = Date.now();
  for (const codec of CODECS) {
    const lines: string[] = [];
    for (let i = 0; i < PER_CODEC; i++) {
      const n = exp.length;
      exp.push({ key: `k${n % 11}`, value: `v${n}-${codec}`, ts: 0, h: codec });
      lines.push(`k${n % 11}:v${n}-${codec}`);
    }
    const code = await new Promise<number | null>((res) => {
      const p = spawn(
        'kcat',
        [
          '-P',
          '-b',
          b.bootstrapServers,
          '-t',
          'from-kcat',
          '-p',
          '0',
          '-K:',
          '-z',
          codec,
          '-H',
          `codec=${codec}`,
          '-X',
          'acks=all',
        ],
        { stdio: ['pipe', 'ignore', 'pipe'] },
      );
      const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
      p.once('exit', (c) => {
        clearTimeout(t);
        res(c);
      });
      p.stdin.end(`${lines.join('\n')}\n`);
    });
    assert.equal(code, 0, `kcat ${codec}`);
  }
  const after = Date.now();
  const got = await runnelConsume('from-kcat', 1, exp.length);
  assert.equal(got.length, exp.length);
  got.forEach((r, i) => {
    assert.equal(r.offset, i);
    assert.equal(r.key?.toString(), exp[i].key);
    assert.equal(r.value?.toString(), exp[i].value);
    assert.deepEqual(
      r.headers.map((h) => [h.key, h.value?.toString()]),
      [['codec', exp[i].h]],
    );
    assert.ok(r.timestamp >= before - 1000 && r.timestamp <= after + 1000, `timestamp ${r.timestamp}`);
  });
});

test('kafkajs producer (none, gzip) → Runnel consumer', { timeout: 60_000 }, async () => {
  const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'interop-p', logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const exp: Expected[] = [];
  for (const [codec, type] of [
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
  ] as const) {
    const batch = Array.from({ length: PER_CODEC }, () => {
      const n = exp.length;
      const e = { key: `key-${n}`, value: `value-${n}-${codec}`, ts: T0 + n * 1000, h: codec };
      exp.push(e);
      return e;
    });
    await producer.send({
      topic: 'from-kafkajs',
      compression: type,
      messages: batch.map((e) => ({ key: e.key, value: e.value, timestamp: String(e.ts), headers: { codec: e.h } })),
    });
  }
  await producer.send({ topic: 'from-kafkajs', messages: [{ key: 'tombstone', value: null }] });
  await producer.disconnect();
  const got = await runnelConsume('from-kafkajs', 2, exp.length + 1);
  assert.equal(got.length, exp.length + 1);
  const byKey = new Map(got.map((r) => [r.key!.toString(), r]));
  for (const e of exp) {
    const r = byKey.get(e.key);
    assert.ok(r, e.key);
    assert.equal(r.value?.toString(), e.value);
    assert.equal(r.timestamp, e.ts);
    assert.deepEqual(
      r.headers.map((h) => [h.key, h.value?.toString()]),
      [['codec', e.h]],
    );
  }
  assert.equal(byKey.get('tombstone')!.value, null);
  // Per partition, offsets are consecutive and in order.
  for (const p of [0, 1]) {
    const offs = got.filter((r) => r.partition === p).map((r) => r.offset);
    assert.deepEqual(
      offs,
      offs.map((_, i) => i),
    );
  }
});

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/helpers/clients'));

for (const leader of ['librdkafka', 'runnel'] as const) {
  test(`a Runnel consumer and a librdkafka consumer split a group's partitions (${leader} leads)`, {
    timeout: 60_000,
  }, async () => {
    const group = `mixed-${leader}`;
    const c = new Consumer({
      bootstrap: b.bootstrapServers,
      groupId: group,
      heartbeatIntervalMs: 200,
      sessionTimeoutMs: 6000,
    });
    if (leader === 'runnel') await c.subscribe(['mixed']);
    const py = spawn('/usr/bin/python3', [join(clients, 'mixed_group.py'), b.bootstrapServers, group, 'mixed', '20'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const seen: { py: number[] | null } = { py: null };
    createInterface({ input: py.stdout }).on('line', (l) => {
      seen.py = JSON.parse(l) as number[];
    });
    try {
      const end = Date.now() + 30_000;
      if (leader === 'librdkafka') {
        while (Date.now() < end && seen.py?.length !== 4) await new Promise((r) => setTimeout(r, 50));
        assert.equal(seen.py!.length, 4, 'librdkafka joined first and took every partition');
        await c.subscribe(['mixed']);
      }
      while (Date.now() < end && !(c.assignment().length === 2 && seen.py?.length === 2)) await c.poll(100);
      const mine = c.assignment().map((p) => p.partition);
      assert.equal(mine.length, 2);
      assert.deepEqual([...mine, ...(seen.py ?? [])].sort(), [0, 1, 2, 3]);
      await c.close();
      // librdkafka takes everything back once the Runnel member has left.
      while (Date.now() < end && seen.py?.length !== 4) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(seen.py, [0, 1, 2, 3]);
    } finally {
      py.kill('SIGKILL');
      await c.close();
    }
  });
}
