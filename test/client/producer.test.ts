/**
 * Producer behaviour seen on the wire, through a TCP proxy in front of an in-process broker (the broker
 * advertises the proxy's port, so every connection passes through it): batching by linger and size (Produce
 * requests counted), acks 0 / 1 / all, a retriable failure (the first Produce response is lost with its
 * connection) retried — exactly once in the log with idempotence, twice without it, as in Kafka —, and
 * non-retriable errors reported to the caller.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Admin, Consumer, KafkaError, Producer } from '../../client/index.js';
import { testBroker } from '../helpers/test-broker.js';
import type { RunningBroker } from '../../broker/index.js';

interface Proxy {
  server: Server;
  port: number;
  target: number;
  produceRequests: number;
  /** Drop the response to the next Produce request, closing the client's connection instead. */
  dropNextProduceResponse: boolean;
  sockets: Socket[];
}

/** Frames in `buf` (each without its size prefix); returns the rest. */
function frames(buf: Buffer, out: Buffer[]): Buffer {
  buf = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
    const n = buf.readInt32BE(0);
    out.push(buf.subarray(0, 4 + n));
    buf = buf.subarray(4 + n);
  }
  return buf;
}

async function startProxy(): Promise<Proxy> {
  const p: Proxy = {
    server: null as unknown as Server,
    port: 0,
    target: 0,
    produceRequests: 0,
    dropNextProduceResponse: false,
    sockets: [],
  };
  p.server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: p.target });
    p.sockets.push(client, upstream);
    const doomed = new Set<number>();
    let up: Buffer = Buffer.alloc(0);
    let down: Buffer = Buffer.alloc(0);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', kill);
    upstream.on('close', kill);
    client.on('data', (d: Buffer) => {
      const fs: Buffer[] = [];
      up = frames(Buffer.concat([up, d]), fs);
      for (const f of fs) {
        if (f.readInt16BE(4) === 0) {
          p.produceRequests++;
          if (p.dropNextProduceResponse) {
            p.dropNextProduceResponse = false;
            doomed.add(f.readInt32BE(8));
          }
        }
        upstream.write(f);
      }
    });
    upstream.on('data', (d: Buffer) => {
      const fs: Buffer[] = [];
      down = frames(Buffer.concat([down, d]), fs);
      for (const f of fs) {
        if (doomed.has(f.readInt32BE(4))) {
          kill(); // the broker wrote the batch; the client never hears so
          return;
        }
        client.write(f);
      }
    });
  });
  await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', r));
  p.port = (p.server.address() as { port: number }).port;
  return p;
}

let b: RunningBroker;
let proxy: Proxy;
let bootstrap: string;
before(async () => {
  proxy = await startProxy();
  b = await testBroker({
    config: { 'advertised.host': '127.0.0.1', 'advertised.port': proxy.port },
    topics: [
      { name: 'linger', partitions: 1 },
      { name: 'acks', partitions: 1 },
      { name: 'retry-idem', partitions: 1 },
      { name: 'retry-plain', partitions: 1 },
      { name: 'errs', partitions: 2 },
      { name: 'wide', partitions: 8 },
    ],
  });
  proxy.target = b.port;
  bootstrap = `127.0.0.1:${proxy.port}`;
});
after(async () => {
  for (const s of proxy.sockets) s.destroy();
  await new Promise((r) => proxy.server.close(r));
  await b.stop();
});

async function readAll(topic: string, count: number): Promise<string[]> {
  const c = new Consumer({ bootstrap, fromBeginning: true });
  c.assign([{ topic, partition: 0 }]);
  const out: string[] = [];
  const end = Date.now() + 10_000;
  for (let i = 0; i < 100 && out.length < count && Date.now() < end; i++)
    for (const r of await c.poll(200)) out.push(r.value!.toString());
  // One more poll to see that nothing else follows.
  for (const r of await c.poll(200)) out.push(r.value!.toString());
  await c.close();
  return out;
}

test('records sent together within linger go in one Produce request; batchBytes splits them', {
  timeout: 30_000,
}, async () => {
  const p = new Producer({ bootstrap, lingerMs: 50 });
  await p.send({ topic: 'linger', value: 'warm-up' }); // metadata and producer id
  let before = proxy.produceRequests;
  const metas = await p.sendBatch(Array.from({ length: 50 }, (_, i) => ({ topic: 'linger', value: `r${i}` })));
  assert.equal(proxy.produceRequests - before, 1);
  assert.deepEqual(
    metas.map((m) => m.offset),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  await p.close();

  const small = new Producer({ bootstrap, lingerMs: 50, batchBytes: 1_000, maxInFlight: 1 });
  await small.send({ topic: 'linger', value: 'warm-up' });
  before = proxy.produceRequests;
  await small.sendBatch(Array.from({ length: 50 }, () => ({ topic: 'linger', value: 'x'.repeat(100) })));
  const requests = proxy.produceRequests - before;
  assert.ok(requests >= 5, `${requests} Produce requests for 50 x 100 B with 1000 B batches`);
  await small.close();
});

test('ready batches of many partitions go in requests of at most maxRequestBytes, each record once', {
  timeout: 30_000,
}, async () => {
  const value = 'w'.repeat(1000); // a batch of one such record counts 1021 bytes
  const send = async (p: Producer, round: number): Promise<number> => {
    const before = proxy.produceRequests;
    const metas = await p.sendBatch(
      Array.from({ length: 8 }, (_, partition) => ({ topic: 'wide', partition, value: `${round}${value}` })),
    );
    assert.deepEqual(
      metas.map((m) => m.partition),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    return proxy.produceRequests - before;
  };
  // A linger long enough that all eight appends land before it ends, even on a loaded machine.
  const one = new Producer({ bootstrap, lingerMs: 500 });
  await one.send({ topic: 'wide', partition: 0, value: 'warm-up' });
  assert.equal(await send(one, 0), 1, 'the default 1 MiB holds all eight batches');
  await one.close();
  // Two batches a request (2042 bytes), one request in flight at a time: four requests.
  const split = new Producer({ bootstrap, lingerMs: 500, maxRequestBytes: 2_500, maxInFlight: 1 });
  await split.send({ topic: 'wide', partition: 0, value: 'warm-up' });
  assert.equal(await send(split, 1), 4);
  await split.close();
  const c = new Consumer({ bootstrap, fromBeginning: true });
  c.assign(Array.from({ length: 8 }, (_, partition) => ({ topic: 'wide', partition })));
  const seen: string[] = [];
  for (let i = 0; i < 50 && seen.length < 18; i++) {
    for (const r of await c.poll(200)) seen.push(`${r.partition}:${r.value!.toString().slice(0, 1)}`);
  }
  await c.close();
  const expected = ['0:w', '0:w', ...Array.from({ length: 8 }, (_, p) => [`${p}:0`, `${p}:1`]).flat()];
  assert.deepEqual(seen.sort(), expected.sort());
});

test('acks 0, 1 and all', { timeout: 30_000 }, async () => {
  for (const acks of [0, 1, -1] as const) {
    const p = new Producer({ bootstrap, acks, lingerMs: 0 });
    const m = await p.send({ topic: 'acks', value: `acks=${acks}` });
    if (acks === 0) assert.equal(m.offset, -1, 'no response, no offset');
    else assert.ok(m.offset >= 0);
    await p.close();
  }
  assert.deepEqual(await readAll('acks', 3), ['acks=0', 'acks=1', 'acks=-1']);
  assert.throws(
    () => new Producer({ bootstrap, acks: 1, idempotent: true }),
    (e: unknown) => e instanceof KafkaError,
  );
});

test('a lost Produce response is retried: once in the log with idempotence, twice without', {
  timeout: 30_000,
}, async () => {
  const idem = new Producer({ bootstrap, lingerMs: 0, retryBackoffMs: 20 });
  await idem.send({ topic: 'retry-idem', value: 'first' });
  assert.ok(idem.producerIdentity, 'the broker offers InitProducerId, so the producer is idempotent by default');
  proxy.dropNextProduceResponse = true;
  const before = proxy.produceRequests;
  const m = await idem.send({ topic: 'retry-idem', value: 'second' });
  assert.equal(proxy.produceRequests - before, 2, 'sent twice');
  assert.equal(m.offset, 1);
  await idem.send({ topic: 'retry-idem', value: 'third' });
  await idem.close();
  assert.deepEqual(await readAll('retry-idem', 3), ['first', 'second', 'third']);

  const plain = new Producer({ bootstrap, lingerMs: 0, idempotent: false, retryBackoffMs: 20 });
  await plain.send({ topic: 'retry-plain', value: 'first' });
  assert.equal(plain.producerIdentity, null);
  proxy.dropNextProduceResponse = true;
  await plain.send({ topic: 'retry-plain', value: 'second' });
  await plain.close();
  assert.deepEqual(await readAll('retry-plain', 3), ['first', 'second', 'second'], 'at-least-once without idempotence');
});

test('errors that cannot be retried reach the caller', { timeout: 30_000 }, async () => {
  const admin = new Admin({ bootstrap });
  await admin.alterTopicConfigs('errs', { 'max.message.bytes': '1000' });
  await admin.close();
  const p = new Producer({ bootstrap, lingerMs: 0 });
  await assert.rejects(
    p.send({ topic: 'errs', partition: 0, value: Buffer.alloc(5_000) }),
    (e: unknown) => e instanceof KafkaError && e.name === 'MESSAGE_TOO_LARGE' && !e.retriable,
  );
  await assert.rejects(
    p.send({ topic: 'errs', partition: 9, value: 'x' }),
    (e: unknown) => e instanceof KafkaError && e.code === 3,
  );
  const ok = await p.send({ topic: 'errs', partition: 1, value: 'fine' });
  assert.equal(ok.offset, 0);
  // The refused batch's sequence numbers are reused: the next record on partition 0 is accepted.
  const next = await p.send({ topic: 'errs', partition: 0, value: 'small' });
  assert.equal(next.offset, 0);
  await p.close();
  await assert.rejects(p.send({ topic: 'errs', value: 'late' }), /closed/);
});

test('topic metadata: one request for many records, again on UNKNOWN_TOPIC_OR_PARTITION and after metadataMaxAgeMs', {
  timeout: 30_000,
}, async () => {
  let metadataRequests = 0;
  const observer = b.broker.requestObserver;
  b.broker.requestObserver = (e) => {
    if (e.api === 'Metadata') metadataRequests++;
    observer?.(e);
  };
  try {
    await b.createTopic('md-refresh', 1);
    const p = new Producer({ bootstrap, lingerMs: 0, retryBackoffMs: 20 });
    await p.sendBatch(Array.from({ length: 50 }, (_, i) => ({ topic: 'md-refresh', value: `r${i}` })));
    assert.equal(metadataRequests, 1, 'one Metadata request for 50 records');
    // The topic goes away: the Produce answer UNKNOWN_TOPIC_OR_PARTITION makes the producer ask again (and
    // the broker auto-creates the topic, as auto.create.topics.enable lets it).
    assert.equal(await b.deleteTopic('md-refresh'), true);
    const again = await p.send({ topic: 'md-refresh', value: 'after delete' });
    assert.equal(again.offset, 0, 'in the re-created topic');
    assert.ok(metadataRequests >= 2 && metadataRequests <= 4, `${metadataRequests} Metadata requests`);
    await p.close();

    metadataRequests = 0;
    const aging = new Producer({ bootstrap, lingerMs: 0, metadataMaxAgeMs: 50 });
    await aging.send({ topic: 'md-refresh', value: 'x' });
    await aging.send({ topic: 'md-refresh', value: 'y' });
    assert.equal(metadataRequests, 1);
    await new Promise((r) => setTimeout(r, 100));
    await aging.send({ topic: 'md-refresh', value: 'z' });
    assert.equal(metadataRequests, 2, 'older than metadataMaxAgeMs: fetched again');
    await aging.close();
  } finally {
    b.broker.requestObserver = observer;
  }
});
