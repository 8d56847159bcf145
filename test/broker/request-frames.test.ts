/**
 * RequestFrameReader and withUserBuffer (broker/request-frames.ts): request frames come out whole whatever the
 * read sizes, large ones read in place; a size out of bounds stops the reader before anything is allocated; a
 * plaintext socket re-created with `onread` serves its connection and the server still sees it close; a TLS
 * socket switched to the user buffer gets its decrypted records (written 3 KiB at a time, as librdkafka does)
 * as whole frames, none through 'data'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { RequestFrameReader, tlsUserBuffer, withUserBuffer } from '../../broker/request-frames.js';
import { makeTestCerts } from '../helpers/certs.js';

const body = (n: number, seed: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
function framed(...bodies: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const b of bodies) {
    const size = Buffer.alloc(4);
    size.writeInt32BE(b.length);
    parts.push(size, b);
  }
  return Buffer.concat(parts);
}
function collect(r: RequestFrameReader): { frames: Buffer[]; bad: number[] } {
  const frames: Buffer[] = [];
  const bad: number[] = [];
  r.attach(
    (f) => frames.push(f),
    (s) => bad.push(s),
  );
  return { frames, bad };
}

/** As a socket with onread's buffer function: each read lands in nextBuffer(), at most `step` bytes. */
function feedSocket(r: RequestFrameReader, data: Buffer, step: number): number {
  const shared = r.nextBuffer();
  let direct = 0;
  for (let pos = 0; pos < data.length; ) {
    const buf = r.nextBuffer();
    if (buf !== shared) direct++;
    const n = data.copy(buf, 0, pos, Math.min(pos + step, pos + buf.length, data.length));
    r.push(buf, n);
    if (buf === shared) buf.fill(0xee, 0, n); // the next read overwrites it: frames must not be views of it
    pos += n;
  }
  return direct;
}

const bodies = [body(10, 1), body(300_000, 2), Buffer.alloc(0), body(40_000, 3), body(7, 4), body(70_000, 5)];

test('frames come out whole at any read size, the rest of a large frame read straight into it', () => {
  const data = framed(...bodies);
  for (const step of [1, 1000, 4099, 65_536, 300_000]) {
    const r = new RequestFrameReader(1 << 20);
    const { frames, bad } = collect(r);
    const direct = feedSocket(r, data, step);
    assert.deepEqual(bad, []);
    assert.equal(frames.length, bodies.length, `read size ${step}`);
    for (let i = 0; i < bodies.length; i++) assert.ok(frames[i]!.equals(bodies[i]!), `frame ${i}, read size ${step}`);
    if (step >= 1000) assert.ok(direct > 0, `read size ${step}: large frames were read in place`);
  }
});

test("'data' chunks (sockets without onread) give the same frames", () => {
  const data = framed(...bodies);
  for (const step of [3, 16_384, 100_000]) {
    const r = new RequestFrameReader(1 << 20);
    const { frames } = collect(r);
    for (let pos = 0; pos < data.length; pos += step) {
      const chunk = Buffer.from(data.subarray(pos, Math.min(pos + step, data.length)));
      r.push(chunk, chunk.length);
      chunk.fill(0xee);
    }
    assert.equal(frames.length, bodies.length);
    for (let i = 0; i < bodies.length; i++) assert.ok(frames[i]!.equals(bodies[i]!), `frame ${i}, chunk ${step}`);
  }
});

test('a size above the maximum or negative stops the reader; nothing after it is framed', () => {
  for (const size of [1001, -1]) {
    const r = new RequestFrameReader(1000);
    const { frames, bad } = collect(r);
    const head = Buffer.alloc(4);
    head.writeInt32BE(size);
    const data = Buffer.concat([framed(body(5, 1)), head, framed(body(5, 2))]);
    r.push(data, data.length);
    assert.equal(frames.length, 1);
    assert.deepEqual(bad, [size]);
    r.push(framed(body(5, 3)), 9);
    assert.equal(frames.length, 1, 'stopped');
  }
});

test('a socket re-created with onread serves the connection; the server sees it close', async () => {
  const got: Buffer[] = [];
  const server = createServer({ pauseOnConnect: true }, (socket: Socket) => {
    const r = new RequestFrameReader(1 << 20);
    const s = withUserBuffer(socket, r);
    assert.ok(s, 'the accepted socket has a handle');
    r.attach(
      (f) => {
        got.push(f);
        s.write(framed(Buffer.from(`ack ${got.length}`)));
      },
      () => s.destroy(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const c = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(c, 'connect');
  let acks = '';
  c.on('data', (d: Buffer) => (acks += d.toString('latin1')));
  c.write(framed(...bodies));
  for (let i = 0; i < 200 && got.length < bodies.length; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(got.length, bodies.length);
  for (let i = 0; i < bodies.length; i++) assert.ok(got[i]!.equals(bodies[i]!), `frame ${i}`);
  c.end();
  await once(c, 'close');
  assert.ok(acks.includes(`ack ${bodies.length}`));
  // server.close() completes only once the server counts no connection.
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

test('a TLS socket reads its decrypted records into request frames (tlsUserBuffer), none through data', async () => {
  const certs = makeTestCerts();
  const got: Buffer[] = [];
  let dataEvents = 0;
  let switched = false;
  const server = createTlsServer(
    { key: readFileSync(certs.broker.key), cert: readFileSync(certs.broker.cert) },
    (socket: TLSSocket) => {
      socket.on('data', () => dataEvents++);
      const r = new RequestFrameReader(1 << 20);
      r.attach(
        (f) => {
          got.push(f);
          socket.write(framed(Buffer.from(`ack ${got.length}`)));
        },
        () => socket.destroy(),
      );
      switched = tlsUserBuffer(socket, r) !== undefined;
      socket.resume();
    },
  );
  try {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const c = tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(certs.ca), servername: 'localhost' });
    await once(c, 'secureConnect');
    let acks = '';
    c.on('data', (d: Buffer) => (acks += d.toString('latin1')));
    const all = framed(...bodies);
    for (let pos = 0; pos < all.length; pos += 3072) c.write(all.subarray(pos, pos + 3072));
    for (let i = 0; i < 500 && got.length < bodies.length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(switched, 'this Node lets a TLS socket read into a user buffer');
    assert.equal(got.length, bodies.length);
    for (let i = 0; i < bodies.length; i++) assert.ok(got[i]!.equals(bodies[i]!), `frame ${i}`);
    assert.equal(dataEvents, 0);
    for (let i = 0; i < 200 && !acks.includes(`ack ${bodies.length}`); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(acks.includes(`ack ${bodies.length}`));
    c.end();
    await once(c, 'close');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    certs.remove();
  }
});
