import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { setRootLogger } from '../../broker/logger.js';
import { RawClient } from '../helpers/raw-client.js';
import { encodeApiVersionsRequest, defaultApiVersionsRequest } from '../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../protocol/generated/api-versions-response.js';

function apiVersionsRequest() {
  const req = defaultApiVersionsRequest();
  req.clientSoftwareName = 'runnel-test';
  req.clientSoftwareVersion = '1.0';
  return req;
}

setRootLogger(pino({ level: 'silent' }));
let b: RunningBroker;
before(async () => {
  b = await startBroker({ config: { 'socket.request.max.bytes': 1024 * 1024 } });
});
after(async () => {
  await b.stop();
});

test('pipelined requests are answered in correlation order', async () => {
  const c = await RawClient.connect(b.port);
  try {
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push(c.send(18, i % 5, (w) => encodeApiVersionsRequest(w, i % 5, apiVersionsRequest())));
    for (let i = 0; i < 20; i++) {
      const res = await c.response(0);
      assert.equal(res!.correlationId, ids[i]);
      assert.equal(decodeApiVersionsResponse(res!.body, i % 5).errorCode, 0);
    }
  } finally {
    c.close();
  }
});

test('a frame split into single bytes is reassembled', async () => {
  const c = await RawClient.connect(b.port);
  try {
    const { encodeRequestFrame } = await import('../../protocol/frame.js');
    const frame = Buffer.concat(encodeRequestFrame(18, 2, 42, 'x', (w) => encodeApiVersionsRequest(w, 2, defaultApiVersionsRequest())));
    for (const byte of frame) {
      c.writeRaw(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const res = await c.response(0);
    assert.equal(res!.correlationId, 42);
  } finally {
    c.close();
  }
});

test('a frame above socket.request.max.bytes closes the connection without being read', async () => {
  const c = await RawClient.connect(b.port);
  const size = Buffer.alloc(4);
  size.writeInt32BE(2 * 1024 * 1024);
  c.writeRaw(size);
  assert.equal(await c.waitClosed(), true);
});

test('a negative frame size closes the connection', async () => {
  const c = await RawClient.connect(b.port);
  c.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
  assert.equal(await c.waitClosed(), true);
});

test('an unknown API key closes that connection only', async () => {
  const c = await RawClient.connect(b.port);
  const other = await RawClient.connect(b.port);
  try {
    c.send(999, 0, () => {});
    assert.equal(await c.waitClosed(), true);
    other.send(18, 0, (w) => encodeApiVersionsRequest(w, 0, defaultApiVersionsRequest()));
    assert.ok(await other.response(0), 'the broker still serves other connections');
  } finally {
    other.close();
  }
});

test('a truncated body closes the connection with a decode error', async () => {
  const c = await RawClient.connect(b.port);
  // ApiVersions v3 whose compact string claims 100 bytes but carries 2.
  c.send(18, 3, (w) => {
    w.writeUVarint(101);
    w.writeRaw(Buffer.from('ab'));
  });
  assert.equal(await c.waitClosed(), true);
});

test('connections.max.idle.ms closes idle connections', async () => {
  const idle = await startBroker({ config: { 'connections.max.idle.ms': 200 } });
  try {
    const c = await RawClient.connect(idle.port);
    const t0 = Date.now();
    assert.equal(await c.waitClosed(5000), true);
    assert.ok(Date.now() - t0 >= 150, 'not before the idle time');
  } finally {
    await idle.stop();
  }
});

test('back-pressure: a client that stops reading gets every response, in order, once it reads again', async () => {
  const { buildRecordBatch } = await import('../../protocol/records/builder.js');
  const { encodeFetchRequest, defaultFetchRequest, defaultFetchPartition } = await import('../../protocol/generated/fetch-request.js');
  const { decodeFetchResponse } = await import('../../protocol/generated/fetch-response.js');
  await b.broker.logs.createTopic('bp', { partitions: 1 });
  await b.broker.logs.getLog('bp', 0)!.append(await buildRecordBatch([{ value: Buffer.alloc(256 * 1024, 7) }]));
  const c = await RawClient.connect(b.port);
  try {
    c.socket.pause(); // stop reading: responses pile up in the broker's socket
    const req = defaultFetchRequest();
    req.replicaId = -1;
    req.maxBytes = 1 << 20;
    req.sessionEpoch = -1;
    const p = defaultFetchPartition();
    p.partitionMaxBytes = 1 << 20;
    req.topics = [{ topic: 'bp', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [p] }];
    const ids: number[] = [];
    for (let i = 0; i < 150; i++) ids.push(c.send(1, 11, (w) => encodeFetchRequest(w, 11, req))); // ~38 MiB of responses
    await new Promise((r) => setTimeout(r, 500));
    c.socket.resume();
    for (const id of ids) {
      const res = await c.response(0, 20_000);
      assert.equal(res!.correlationId, id);
      assert.equal(decodeFetchResponse(res!.body, 11).responses[0].partitions[0].records!.length > 256 * 1024, true);
    }
  } finally {
    c.close();
  }
});
