/**
 * kill -9 during an acks=1 produce stream from a real client (librdkafka via confluent-kafka): after a
 * restart every acknowledged record is there exactly once, in order, and nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, startBrokerProcess, waitExit } from '../helpers/broker-process.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/helpers/clients'));
const PY = '/usr/bin/python3';

test('kill -9 mid-stream loses no acknowledged record and invents none', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-crash-'));
  try {
    const b1 = await startBrokerProcess(dataDir);
    const acked: string[] = [];
    let killed = false;
    const producer = run(
      PY,
      [join(clients, 'produce_acked.py'), b1.bootstrap, 'crash', '200000', '1'],
      60_000,
      (line) => {
        if (line.startsWith('ACK ')) acked.push(line.split(' ')[3]);
        if (!killed && acked.length >= 3000) {
          killed = true;
          b1.child.kill('SIGKILL');
        }
      },
    );
    const p = await producer;
    assert.ok(
      killed,
      `the broker was killed mid-stream (acked ${acked.length}; producer said ${p.stderr.slice(0, 500)})`,
    );
    await waitExit(b1.child);

    const b2 = await startBrokerProcess(dataDir);
    try {
      const c = await run(PY, [join(clients, 'consume_all.py'), b2.bootstrap, 'crash', '0'], 60_000);
      const recs = c.stdout
        .split('\n')
        .filter((l) => l.startsWith('REC '))
        .map((l) => l.split(' '));
      assert.match(c.stdout, /END \d+/, c.stdout.slice(-500) + c.stderr.slice(-500));
      const values = recs.map((r) => r[3]);
      // Offsets are dense from 0 and values are in production order, each once.
      recs.forEach((r, i) => {
        assert.equal(Number(r[1]), i);
      });
      for (let i = 1; i < values.length; i++)
        assert.ok(values[i] > values[i - 1], `order at ${i}: ${values[i - 1]} then ${values[i]}`);
      const present = new Set(values);
      assert.equal(present.size, values.length, 'no duplicates');
      for (const v of acked) assert.ok(present.has(v), `acknowledged ${v} is missing after restart`);
      for (const v of values) assert.match(v, /^v\d{6}$/, 'only produced records');
      assert.ok(values.length >= acked.length);
    } finally {
      b2.child.kill('SIGTERM');
      assert.equal(await waitExit(b2.child), 0);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
