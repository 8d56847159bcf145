/**
 * Real clients against an in-process broker: kcat and confluent-kafka (librdkafka 2.0.2) and kafka-python
 * 2.0.2 create a topic, produce 10,000 keyed records with headers in every codec they support, consume
 * them all from the beginning in order with keys, values and headers intact, look offsets up by time and
 * delete the topic.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBroker } from '../helpers/test-broker.js';
import { run } from '../helpers/broker-process.js';
import type { RunningBroker } from '../../broker/index.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/helpers/clients'));
const PY = '/usr/bin/python3';
const COUNT = 2000; // per codec: 5 codecs x 2000 = 10,000 records

let b: RunningBroker;
before(async () => {
  b = await testBroker();
});
after(async () => {
  await b.stop();
});

for (const client of ['confluent', 'kafka-python']) {
  test(`${client}: 10,000 records in every codec, in order, headers intact, offsets by time, delete`, async () => {
    const topic = `e2e-${client}`;
    const r = await run(
      PY,
      [join(clients, 'e2e.py'), client, `127.0.0.1:${b.port}`, topic, String(COUNT), 'none,gzip,snappy,lz4,zstd'],
      240_000,
    );
    assert.match(r.stdout, /^OK /m, `${r.stdout.slice(-800)}\n${r.stderr.slice(-1500)}`);
    assert.equal(b.broker.metadata.image.topic(topic), undefined, 'topic deleted');
  });
}

test('kcat: produce keyed records with headers in every codec and consume them back', async () => {
  const topic = 'e2e-kcat';
  const bootstrap = `127.0.0.1:${b.port}`;
  const expected: string[] = [];
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    const lines: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const n = expected.length;
      lines.push(`k${n % 97}:v${n}-${codec}`);
      expected.push(`k${n % 97}=v${n}-${codec} h=src=kcat`);
    }
    const { spawn } = await import('node:child_process');
    const code = await new Promise<number | null>((res) => {
      const p = spawn(
        'kcat',
        ['-P', '-b', bootstrap, '-t', topic, '-p', '0', '-K:', '-z', codec, '-H', 'src=kcat', '-X', 'acks=all'],
        { stdio: ['pipe', 'ignore', 'pipe'] },
      );
      const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.once('exit', (c) => {
        clearTimeout(t);
        res(c);
      });
      p.stdin.end(`${lines.join('\n')}\n`);
    });
    assert.equal(code, 0, `kcat produce ${codec}`);
  }
  const r = await run(
    'kcat',
    ['-C', '-b', bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', '%k=%s h=%h\n'],
    60_000,
  );
  const got = r.stdout.split('\n').filter((l) => l.length > 0);
  assert.equal(got.length, expected.length, r.stderr.slice(-500));
  assert.deepEqual(got, expected);
  // Offsets by time: every record was stamped by kcat at produce time, so "now + 1 h" is past the end.
  const q = await run('kcat', ['-Q', '-b', bootstrap, '-t', `${topic}:0:${Date.now() + 3600_000}`], 30_000);
  assert.match(q.stdout, /offset -1/, q.stdout + q.stderr);
  const q0 = await run('kcat', ['-Q', '-b', bootstrap, '-t', `${topic}:0:1`], 30_000);
  assert.match(q0.stdout, /offset 0\b/, q0.stdout + q0.stderr);
});
