/**
 * Keys → partitions as the Java client's default partitioner: murmur2 checked against a reference written
 * from the algorithm's definition with BigInt arithmetic (no 32-bit shortcuts), against fixed vectors of
 * Kafka's Utils.murmur2, against kafkajs's Java-compatible DefaultPartitioner for many keys and partition
 * counts, and end to end: records produced by kafkajs (default partitioner) and by kcat with
 * partitioner=murmur2_random land on the partitions partitionForKey computes. Keyless records stay on one
 * partition per batch (sticky).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { murmur2, partitionForKey, Consumer, Producer, Admin } from '../../client/index.js';
import { testBroker } from '../helpers/test-broker.js';
import type { RunningBroker } from '../../broker/index.js';

/** murmur2 straight from its definition, in BigInt with explicit 32-bit wrapping. */
function referenceMurmur2(data: Buffer): number {
  const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);
  const m = 0x5bd1e995n;
  const r = 24n;
  let h = u32(0x9747b28cn ^ BigInt(data.length));
  const n4 = Math.floor(data.length / 4);
  for (let i = 0; i < n4; i++) {
    let k =
      BigInt(data[i * 4]) +
      (BigInt(data[i * 4 + 1]) << 8n) +
      (BigInt(data[i * 4 + 2]) << 16n) +
      (BigInt(data[i * 4 + 3]) << 24n);
    k = u32(k * m);
    k ^= k >> r;
    k = u32(k * m);
    h = u32(h * m);
    h ^= k;
  }
  const tail = data.length % 4;
  const base = data.length - tail;
  if (tail >= 3) h ^= BigInt(data[base + 2]) << 16n;
  if (tail >= 2) h ^= BigInt(data[base + 1]) << 8n;
  if (tail >= 1) {
    h ^= BigInt(data[base]);
    h = u32(h * m);
  }
  h ^= h >> 13n;
  h = u32(h * m);
  h ^= h >> 15n;
  return Number(BigInt.asIntN(32, h));
}

function keys(n: number): Buffer[] {
  const out: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from([0xff]),
    Buffer.from([0x80, 0x00, 0xff]),
    Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01]),
  ];
  let x = 12345;
  for (let i = 0; i < n; i++) {
    out.push(Buffer.from(`key-${i}`));
    const len = i % 37;
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      b[j] = x >>> 24;
    }
    out.push(b);
  }
  return out;
}

test('murmur2 equals the algorithm by definition for every length and byte value', () => {
  for (const k of keys(1000)) assert.equal(murmur2(k), referenceMurmur2(k), k.toString('hex'));
});

test("murmur2 fixed vectors (Kafka's Utils.murmur2 test values)", () => {
  const vectors: Array<[Buffer, number]> = [
    [Buffer.from('21'), -973932308],
    [Buffer.from('foobar'), -790332482],
    [Buffer.from('a-little-bit-long-string'), -985981536],
    [Buffer.from('a-little-bit-longer-string'), -1486304829],
    [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
    [Buffer.from('abc'), 479470107],
  ];
  for (const [k, h] of vectors) {
    assert.equal(murmur2(k), h, k.toString());
    assert.equal(referenceMurmur2(k), h, `reference ${k.toString()}`);
  }
  // toPositive, not Math.abs: a negative hash keeps its low 31 bits.
  assert.equal(partitionForKey(Buffer.from('21'), 1 << 30), (-973932308 & 0x7fffffff) % (1 << 30));
});

test("partitionForKey matches kafkajs's Java-compatible DefaultPartitioner", () => {
  const kafkajsPartitioner = Partitioners.DefaultPartitioner();
  for (const n of [1, 2, 3, 7, 12, 100]) {
    const partitionMetadata = Array.from({ length: n }, (_, i) => ({
      partitionId: i,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    for (const key of keys(300)) {
      const expected = kafkajsPartitioner({ topic: 't', partitionMetadata, message: { key, value: null } } as never);
      assert.equal(partitionForKey(key, n), expected, `${key.toString('hex')} over ${n}`);
    }
  }
});

let b: RunningBroker;
before(async () => {
  b = await testBroker({
    topics: [
      { name: 'p-kafkajs', partitions: 7 },
      { name: 'p-kcat', partitions: 5 },
      { name: 'p-sticky', partitions: 6 },
    ],
  });
});
after(async () => {
  await b.stop();
});

async function consumeAll(topic: string, partitions: number, expected: number): Promise<Map<string, number>> {
  const c = new Consumer({ bootstrap: b.bootstrapServers, fromBeginning: true });
  c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  const where = new Map<string, number>();
  const end = Date.now() + 20_000;
  let seen = 0;
  for (let i = 0; i < 200 && seen < expected && Date.now() < end; i++) {
    for (const r of await c.poll(300)) {
      where.set(r.key!.toString(), r.partition);
      seen++;
    }
  }
  await c.close();
  return where;
}

test('records produced by kafkajs land where partitionForKey says', { timeout: 60_000 }, async () => {
  const kafka = new Kafka({ brokers: [b.bootstrapServers], clientId: 'p-test', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const ks = Array.from({ length: 500 }, (_, i) => `user-${i * 7919}`);
  await producer.send({ topic: 'p-kafkajs', messages: ks.map((key) => ({ key, value: 'v' })) });
  await producer.disconnect();
  const where = await consumeAll('p-kafkajs', 7, ks.length);
  assert.equal(where.size, ks.length);
  for (const k of ks) assert.equal(where.get(k), partitionForKey(Buffer.from(k), 7), k);
});

test('records produced by kcat with partitioner=murmur2_random land where partitionForKey says', {
  timeout: 60_000,
}, async () => {
  const ks = Array.from({ length: 300 }, (_, i) => `order-${i}-${(i * 2654435761) >>> 0}`);
  const code = await new Promise<number | null>((res) => {
    const p = spawn(
      'kcat',
      ['-P', '-b', b.bootstrapServers, '-t', 'p-kcat', '-K', ':', '-X', 'partitioner=murmur2_random'],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.once('exit', (c) => {
      clearTimeout(t);
      res(c);
    });
    p.stdin.end(`${ks.map((k) => `${k}:v`).join('\n')}\n`);
  });
  assert.equal(code, 0);
  const where = await consumeAll('p-kcat', 5, ks.length);
  assert.equal(where.size, ks.length);
  for (const k of ks) assert.equal(where.get(k), partitionForKey(Buffer.from(k), 5), k);
});

test('the Runnel producer puts keyed records on the murmur2 partition and keyless ones on a sticky partition', {
  timeout: 30_000,
}, async () => {
  const p = new Producer({ bootstrap: b.bootstrapServers, lingerMs: 50 });
  const metas = await p.sendBatch(
    Array.from({ length: 100 }, (_, i) => ({ topic: 'p-sticky', key: `k${i}`, value: 'x' })),
  );
  metas.forEach((m, i) => {
    assert.equal(m.partition, partitionForKey(Buffer.from(`k${i}`), 6));
  });
  const keyless = await p.sendBatch(Array.from({ length: 20 }, () => ({ topic: 'p-sticky', value: 'small' })));
  assert.equal(
    new Set(keyless.map((m) => m.partition)).size,
    1,
    'one small batch of keyless records stays on one partition',
  );
  await p.close();
  const a = new Admin({ bootstrap: b.bootstrapServers });
  const ends = await a.listOffsets('p-sticky', 'latest');
  assert.equal(
    ends.reduce((s, e) => s + e.offset, 0),
    120,
  );
  await a.close();
});
