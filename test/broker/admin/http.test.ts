/**
 * The admin API over real HTTP: startBroker()'s adminUrl, `runnel start --admin-port`, closing with the
 * broker, and fastify/prom-client staying out of the start-up path (loaded only by a dynamic import).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { testBroker } from '../../helpers/test-broker.js';
import { startBrokerProcess, waitExit } from '../../helpers/broker-process.js';

test('startBroker() serves the admin API on adminUrl and closes it on stop', async () => {
  const b = await testBroker();
  const url = b.adminUrl!;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  try {
    const h = await fetch(`${url}/health`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok' });
    assert.equal((await fetch(`${url}/ready`)).status, 200);

    const c = await fetch(`${url}/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'web', partitions: 1 }),
    });
    assert.equal(c.status, 201);
    const p = await fetch(`${url}/topics/web/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'k', value: 'from-http' }]),
    });
    assert.equal(p.status, 200);

    const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'admin-http-test', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'web', acks: -1, messages: [{ value: 'from-kafka' }] });
    await producer.disconnect();

    const r = await fetch(`${url}/topics/web/partitions/0/records`);
    const body = (await r.json()) as { records: { value: string }[] };
    assert.deepEqual(
      body.records.map((x) => x.value),
      ['from-http', 'from-kafka'],
    );

    const m = await (await fetch(`${url}/metrics`)).text();
    assert.match(m, /runnel_requests_total\{api="Produce",version="\d+",error="NONE"\} 1/);
    assert.match(m, /runnel_topic_records_in_total\{topic="web"\} 2/);
  } finally {
    await b.stop();
  }
  await assert.rejects(fetch(`${url}/health`));
});

test('admin.port -1 turns the admin API off', async () => {
  const b = await testBroker({ config: { 'admin.port': -1 } });
  try {
    assert.equal(b.adminUrl, undefined);
  } finally {
    await b.stop();
  }
});

test('runnel start --admin-port serves /health', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'runnel-admin-cli-'));
  const proc = await startBrokerProcess(dataDir, ['--set', 'log.level=info']);
  try {
    let m: RegExpExecArray | null = null;
    for (let i = 0; i < 100 && !m; i++) {
      m = /admin API at http:\/\/127\.0\.0\.1:(\d+)/.exec(proc.output());
      if (!m) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(m, proc.output());
    const h = await fetch(`http://127.0.0.1:${m[1]}/health`);
    assert.equal(h.status, 200);
  } finally {
    proc.child.kill('SIGTERM');
    assert.equal(await waitExit(proc.child), 0);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('fastify and prom-client are imported only by broker/admin/, which broker.ts loads dynamically', async () => {
  const brokerDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../broker');
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (e.name !== 'admin') await walk(join(dir, e.name));
      } else if (e.name.endsWith('.js')) files.push(join(dir, e.name));
    }
  };
  await walk(brokerDir);
  assert.ok(files.length > 10);
  for (const f of files) {
    const text = await readFile(f, 'utf8');
    assert.doesNotMatch(text, /from ['"](fastify|prom-client)['"]/, f);
    assert.doesNotMatch(text, /from ['"]\.{1,2}\/(?:.*\/)?admin\//, f);
  }
  const broker = await readFile(join(brokerDir, 'broker.js'), 'utf8');
  assert.match(broker, /await import\(['"]\.\/admin\/server\.js['"]\)/);
});
