import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import { setRootLogger } from '../../broker/logger.js';
import { RawClient } from '../helpers/raw-client.js';
import { encodeApiVersionsRequest, defaultApiVersionsRequest } from '../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../protocol/generated/api-versions-response.js';
import { partitionOf } from '../helpers/partitions.js';
import { encodeRequestFrame } from '../../protocol/frame.js';
import { Broker } from '../../broker/broker.js';
import { BrokerConfig } from '../../broker/config.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import {
  defaultFetchPartition,
  defaultFetchRequest,
  encodeFetchRequest,
  type FetchRequest,
} from '../../protocol/generated/fetch-request.js';
import { decodeFetchResponse } from '../../protocol/generated/fetch-response.js';
import {
  defaultProduceRequest,
  encodeProduceRequest,
  type ProduceRequest,
} from '../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../protocol/generated/produce-response.js';
import { encodeListOffsetsRequest } from '../../protocol/generated/list-offsets-request.js';
import { decodeListOffsetsResponse } from '../../protocol/generated/list-offsets-response.js';

function apiVersionsRequest() {
  const req = defaultApiVersionsRequest();
  req.clientSoftwareName = 'runnel-test';
  req.clientSoftwareVersion = '1.0';
  return req;
}

const NO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A Fetch v11 of `topic` partition 0 from offset 0, up to 1 MiB. */
function fetchOf(topic: string): FetchRequest {
  const req = defaultFetchRequest();
  req.replicaId = -1;
  req.maxBytes = 1 << 20;
  req.sessionEpoch = -1;
  const p = defaultFetchPartition();
  p.partitionMaxBytes = 1 << 20;
  req.topics = [{ topic, topicId: NO_TOPIC_ID, partitions: [p] }];
  return req;
}

/** A Produce v9 of one record ('v') to `topic` partition 0. */
async function produceTo(topic: string, acks: number): Promise<ProduceRequest> {
  const req = defaultProduceRequest();
  req.acks = acks;
  req.timeoutMs = 5000;
  const records = await buildRecordBatch([{ value: 'v' }]);
  req.topicData = [{ name: topic, topicId: NO_TOPIC_ID, partitionData: [{ index: 0, records }] }];
  return req;
}

/**
 * A broker on memory files whose every fsync takes `syncLatencyMs`, with topic `topic` (one partition,
 * flush.messages=1: a produce and the high watermark wait for an fsync), and a raw client to it; both closed
 * after `fn`.
 */
async function withSlowBroker(syncLatencyMs: number, topic: string, fn: (c: RawClient) => Promise<void>) {
  const config = new BrokerConfig({ overrides: { port: 0, host: '127.0.0.1', 'data.dir': '/slow', 'admin.port': -1 } });
  const slow = new Broker(config, { fs: new MemoryFileSystem({ syncLatency: syncLatencyMs }) });
  const info = await slow.start();
  const c = await RawClient.connect(info.port);
  try {
    await slow.metadata.createTopic(topic, { partitions: 1, configs: { 'flush.messages': '1' } });
    await fn(c);
  } finally {
    c.close();
    await slow.stop();
  }
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
    for (let i = 0; i < 20; i++)
      ids.push(c.send(18, i % 5, (w) => encodeApiVersionsRequest(w, i % 5, apiVersionsRequest())));
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
    const frame = Buffer.concat(
      encodeRequestFrame(18, 2, 42, 'x', (w) => encodeApiVersionsRequest(w, 2, defaultApiVersionsRequest())),
    );
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

test('answers to requests pipelined before an unknown API key reach the client before the close', async () => {
  // The answers of one event-loop turn leave corked together (Connection.send); the close must flush them.
  const c = await RawClient.connect(b.port);
  try {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(c.send(18, 3, (w) => encodeApiVersionsRequest(w, 3, apiVersionsRequest())));
    c.send(999, 0, () => {});
    for (const id of ids) {
      const res = await c.response(0);
      assert.equal(res?.correlationId, id);
    }
    assert.equal(await c.waitClosed(), true);
  } finally {
    c.close();
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
  await b.broker.metadata.createTopic('bp', { partitions: 1 });
  await partitionOf(b.broker, 'bp', 0).appendAsLeader(await buildRecordBatch([{ value: Buffer.alloc(256 * 1024, 7) }]));
  const c = await RawClient.connect(b.port);
  try {
    c.socket.pause(); // stop reading: responses pile up in the broker's socket
    const req = fetchOf('bp');
    const ids: number[] = [];
    // ~38 MiB of responses
    for (let i = 0; i < 150; i++) ids.push(c.send(1, 11, (w) => encodeFetchRequest(w, 11, req)));
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

test('back-pressure: an unread connection stops having requests started past maxPendingBytes', async () => {
  await b.broker.metadata.createTopic('bp-unread', { partitions: 1 });
  await partitionOf(b.broker, 'bp-unread', 0).appendAsLeader(
    await buildRecordBatch([{ value: Buffer.alloc(900 * 1024, 7) }]),
  );
  const prev = b.broker.requestObserver;
  let fetches = 0;
  b.broker.requestObserver = (e) => {
    prev?.(e);
    if (e.apiKey === 1) fetches++;
  };
  const c = await RawClient.connect(b.port);
  try {
    c.socket.pause();
    const req = fetchOf('bp-unread');
    // 200 x ~900 KiB = ~176 MiB of answers; the broker may start those that fit in 16 MiB of unsent bytes plus
    // what the kernel's socket buffers take, then must wait for the reader.
    for (let i = 0; i < 200; i++) c.send(1, 11, (w) => encodeFetchRequest(w, 11, req));
    let last = -1;
    for (let i = 0; i < 100 && fetches !== last; i++) {
      last = fetches;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(fetches > 0 && fetches < 100, `fetches handled while unread: ${fetches}`);
    c.socket.resume();
    for (let i = 0; i < 200; i++) assert.ok(await c.response(0, 20_000), `response ${i}`);
    assert.equal(fetches, 200);
  } finally {
    b.broker.requestObserver = prev;
    c.close();
  }
});

test('a request arriving while a released produce still waits for its fsync is started and answered', async () => {
  // Every fsync takes 150 ms; flush.messages=1 makes the produce wait for one.
  await withSlowBroker(150, 'slow', async (c) => {
    const req = await produceTo('slow', -1);
    const produceId = c.send(0, 9, (w) => encodeProduceRequest(w, 9, req));
    // The produce has queued its append and released the connection; its answer waits for the fsync.
    await new Promise((r) => setTimeout(r, 100));
    const versionsId = c.send(18, 3, (w) => encodeApiVersionsRequest(w, 3, apiVersionsRequest()));
    const first = await c.response(1, 5000);
    assert.equal(first?.correlationId, produceId);
    assert.equal(decodeProduceResponse(first!.body, 9).responses[0]!.partitionResponses[0]!.errorCode, 0);
    const second = await c.response(0, 5000);
    assert.equal(second?.correlationId, versionsId, 'the request sent during the fsync was answered');
    assert.equal(decodeApiVersionsResponse(second!.body, 3).errorCode, 0);
  });
});

test('a request after a released produce is handled once the produce is answered: it sees the write', async () => {
  // Every fsync takes 300 ms; flush.messages=1 makes the produce (and the high watermark) wait for one.
  await withSlowBroker(300, 'seen', async (c) => {
    const req = await produceTo('seen', 1);
    const produceId = c.send(0, 9, (w) => encodeProduceRequest(w, 9, req));
    // Pipelined right behind it (Kafka clients send Metadata on their produce connection): the latest offset.
    const listId = c.send(2, 5, (w) =>
      encodeListOffsetsRequest(w, 5, {
        replicaId: -1,
        isolationLevel: 0,
        timeoutMs: 5000,
        topics: [
          {
            name: 'seen',
            partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
          },
        ],
      }),
    );
    const first = await c.response(1, 5000);
    assert.equal(first?.correlationId, produceId);
    assert.equal(decodeProduceResponse(first!.body, 9).responses[0]!.partitionResponses[0]!.errorCode, 0);
    const second = await c.response(0, 5000);
    assert.equal(second?.correlationId, listId);
    const p = decodeListOffsetsResponse(second!.body, 5).topics[0]!.partitions[0]!;
    assert.equal(p.errorCode, 0);
    assert.equal(p.offset, 1n, 'the latest offset after the acknowledged record, not from before its fsync');
  });
});
