/**
 * The client's metadata cache against an in-process broker, counting the Metadata requests the broker
 * receives (its requestObserver hook): callers that need a topic while its request is out share that
 * request; the cache answers until metadata.max.age.ms (maxAgeMs) or an invalidation; an unknown topic is
 * an error, not cached; an unknown node id is looked up with one request whatever the number of callers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata } from '../../client/metadata.js';
import { ConnectionPool, resolveOptions } from '../../client/pool.js';
import { KafkaError } from '../../client/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { testBroker } from '../helpers/test-broker.js';
import type { RunningBroker } from '../../broker/index.js';

let b: RunningBroker;
let metadataRequests = 0;
before(async () => {
  b = await testBroker({ topics: [{ name: 'm', partitions: 3 }], config: { 'admin.port': -1 } });
  b.broker.requestObserver = (e) => {
    if (e.api === 'Metadata') metadataRequests++;
  };
});
after(() => b.stop());

function client(): { metadata: Metadata; close(): void } {
  const pool = new ConnectionPool(resolveOptions({ bootstrap: b.bootstrapServers, clientId: 'metadata-test' }));
  return { metadata: new Metadata(pool), close: () => pool.close() };
}

test('concurrent callers share one Metadata request; the cache answers until maxAgeMs or invalidate()', async () => {
  const { metadata, close } = client();
  try {
    const before = metadataRequests;
    const infos = await Promise.all(Array.from({ length: 100 }, () => metadata.topic('m')));
    assert.equal(metadataRequests - before, 1, 'one request for 100 concurrent callers');
    assert.ok(infos.every((i) => i === infos[0]));
    assert.equal(infos[0].partitions.length, 3);

    await metadata.topic('m');
    assert.equal(metadataRequests - before, 1, 'answered from the cache');

    metadata.invalidate('m');
    await Promise.all([metadata.topic('m'), metadata.topic('m')]);
    assert.equal(metadataRequests - before, 2, 'fetched again once after invalidate()');

    await Promise.all([metadata.topic('m', { refresh: true }), metadata.topic('m', { refresh: true })]);
    assert.equal(metadataRequests - before, 3, 'refresh: one request for both callers');

    metadata.maxAgeMs = 20;
    await new Promise((r) => setTimeout(r, 40));
    await metadata.topic('m');
    assert.equal(metadataRequests - before, 4, 'older than maxAgeMs: fetched again');
  } finally {
    close();
  }
});

test('an unknown topic (no auto-creation) fails every waiting caller and is asked again next time', async () => {
  const { metadata, close } = client();
  try {
    const before = metadataRequests;
    const results = await Promise.allSettled([metadata.topic('nope'), metadata.topic('nope')]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof KafkaError);
      assert.equal(r.reason.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    }
    assert.equal(metadataRequests - before, 1);
    await assert.rejects(metadata.topic('nope'));
    assert.equal(metadataRequests - before, 2, 'a failure is not cached');
    assert.equal(b.broker.metadata.image.topic('nope'), undefined);
  } finally {
    close();
  }
});

test('connection() to a node not yet known: one Metadata request for every concurrent caller', async () => {
  const { metadata, close } = client();
  try {
    const before = metadataRequests;
    const nodeId = b.broker.started.nodeId;
    const conns = await Promise.all(Array.from({ length: 10 }, () => metadata.connection(nodeId)));
    assert.equal(metadataRequests - before, 1);
    assert.ok(conns.every((c) => c === conns[0]));
    await assert.rejects(metadata.connection(nodeId + 100), (e: KafkaError) => {
      assert.equal(e.code, ErrorCode.BROKER_NOT_AVAILABLE);
      return true;
    });
  } finally {
    close();
  }
});
