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
