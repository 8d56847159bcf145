/**
 * The client's connection layer: ApiVersions negotiation (highest common version), pipelining (many
 * requests in flight on one connection, answered in order and matched by correlation id), request timeouts
 * (against a server that answers ApiVersions and then goes silent: REQUEST_TIMED_OUT, the connection is
 * closed and the other in-flight requests fail retriably, as Kafka's NetworkClient does) and refused
 * connections.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Admin, KafkaError, Producer } from '../../client/index.js';
import { Connection } from '../../client/connection.js';
import { encodeResponseFrame, parseRequestHeader } from '../../protocol/frame.js';
import { encodeApiVersionsResponse } from '../../protocol/generated/api-versions-response.js';
import { encodeListOffsetsRequest } from '../../protocol/generated/list-offsets-request.js';
import { decodeListOffsetsResponse } from '../../protocol/generated/list-offsets-response.js';
import { encodeMetadataRequest } from '../../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../../protocol/generated/metadata-response.js';
import { testBroker } from '../helpers/test-broker.js';
import type { RunningBroker } from '../../broker/index.js';

let b: RunningBroker;
before(async () => {
  b = await testBroker({ topics: [{ name: 'pipe', partitions: 20 }] });
});
after(async () => {
  await b.stop();
});

const opts = (port: number, requestTimeoutMs = 10_000) => ({
  host: '127.0.0.1',
  port,
  clientId: 'conn-test',
  connectTimeoutMs: 5_000,
  requestTimeoutMs,
});

test('ApiVersions negotiation picks the highest version both sides support', async () => {
  const c = await Connection.open(opts(b.port));
  const broker = c.apiVersions.get(3)!;
  assert.ok(broker && broker.max >= 1);
  assert.equal(c.versionFor(3, 0, 12), Math.min(12, broker.max));
  assert.equal(c.versionFor(3, 0, 1), 1);
  assert.throws(
    () => c.versionFor(3, broker.max + 1, broker.max + 5),
    (e: unknown) => e instanceof KafkaError && e.name === 'UNSUPPORTED_VERSION',
  );
  assert.throws(
    () => c.versionFor(57, 0, 2),
    (e: unknown) => e instanceof KafkaError && e.code === 35,
    'UpdateFeatures is not offered',
  );
  c.close();
});

test('pipelining: 200 concurrent requests on one connection, each answered with its own response, in order', {
  timeout: 30_000,
}, async () => {
  const p = new Producer({ bootstrap: b.bootstrapServers });
  const records = [];
  for (let part = 0; part < 20; part++)
    for (let i = 0; i < part; i++) records.push({ topic: 'pipe', partition: part, value: 'x' });
  await p.sendBatch(records);
  await p.close();
  const c = await Connection.open(opts(b.port));
  const v = c.versionFor(2, 1, 10);
  const order: number[] = [];
  const all = Array.from({ length: 200 }, (_, i) =>
    c
      .send(
        2,
        v,
        (w) =>
          encodeListOffsetsRequest(w, v, {
            replicaId: -1,
            isolationLevel: 0,
            timeoutMs: 1000,
            topics: [
              {
                name: 'pipe',
                partitions: [{ partitionIndex: i % 20, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
              },
            ],
          }),
        decodeListOffsetsResponse,
      )
      .then((res) => {
        order.push(i);
        return res;
      }),
  );
  assert.ok(c.inFlightCount > 1, 'requests were written before any response arrived');
  const results = await Promise.all(all);
  results.forEach((res, i) => {
    const p0 = res.topics[0].partitions[0];
    assert.equal(p0.partitionIndex, i % 20);
    assert.equal(Number(p0.offset), i % 20, 'the end offset of partition i is i');
  });
  assert.deepEqual(
    order,
    Array.from({ length: 200 }, (_, i) => i),
    'responses resolve in the order sent',
  );
  assert.ok(c.maxInFlight > 1, `max in flight ${c.maxInFlight}`);
  c.close();
});

/** A server that answers ApiVersions (offering Metadata 0-12) and never anything else. */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Socket[]; requests: number[] }> {
  const sockets: Socket[] = [];
  const requests: number[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    let buf = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const { header } = parseRequestHeader(frame);
        requests.push(header.requestApiKey);
        if (header.requestApiKey !== 18) continue; // silence
        const v = header.requestApiVersion;
        for (const chunk of encodeResponseFrame(18, v, header.correlationId, (w) =>
          encodeApiVersionsResponse(w, v, {
            errorCode: 0,
            apiKeys: [
              { apiKey: 3, minVersion: 0, maxVersion: 12 },
              { apiKey: 18, minVersion: 0, maxVersion: 4 },
            ],
            throttleTimeMs: 0,
            supportedFeatures: [],
            finalizedFeaturesEpoch: -1n,
            finalizedFeatures: [],
            zkMigrationReady: false,
          }),
        ))
          s.write(chunk);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, sockets, requests };
}

test('a request without an answer times out, closes the connection and fails the others in flight', {
  timeout: 20_000,
}, async () => {
  const srv = await silentServer();
  try {
    const c = await Connection.open(opts(srv.port, 300));
    const v = c.versionFor(3, 1, 12);
    const send = (timeoutMs?: number) =>
      c.send(
        3,
        v,
        (w) =>
          encodeMetadataRequest(w, v, {
            topics: null,
            allowAutoTopicCreation: false,
            includeClusterAuthorizedOperations: false,
            includeTopicAuthorizedOperations: false,
          }),
        decodeMetadataResponse,
        { timeoutMs },
      );
    const started = Date.now();
    const first = send();
    const second = send(60_000);
    await assert.rejects(
      first,
      (e: unknown) => e instanceof KafkaError && e.name === 'REQUEST_TIMED_OUT' && e.code === 7 && e.retriable,
    );
    await assert.rejects(
      second,
      (e: unknown) => e instanceof KafkaError && e.name === 'NETWORK_EXCEPTION' && e.retriable,
    );
    assert.ok(Date.now() - started < 10_000);
    assert.equal(c.closed, true);
    await assert.rejects(send(), (e: unknown) => e instanceof KafkaError && e.code === 13);

    // The admin client surfaces the same error.
    const admin = new Admin({ bootstrap: `127.0.0.1:${srv.port}`, requestTimeoutMs: 300 });
    await assert.rejects(admin.listTopics(), (e: unknown) => e instanceof KafkaError && e.name === 'REQUEST_TIMED_OUT');
    await admin.close();
    assert.ok(srv.requests.filter((k) => k === 3).length >= 3);
  } finally {
    for (const s of srv.sockets) s.destroy();
    await new Promise((r) => srv.server.close(r));
  }
});

test('a refused connection is a retriable NETWORK_EXCEPTION', async () => {
  const srv = await silentServer();
  const port = srv.port;
  await new Promise((r) => srv.server.close(r));
  await assert.rejects(
    Connection.open(opts(port)),
    (e: unknown) => e instanceof KafkaError && e.code === 13 && e.retriable,
  );
  const admin = new Admin({ bootstrap: [`127.0.0.1:${port}`] });
  await assert.rejects(admin.describeCluster(), (e: unknown) => e instanceof KafkaError && e.code === 13);
  await admin.close();
});
