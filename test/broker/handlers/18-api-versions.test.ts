import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type RunningBroker } from '../../../broker/index.js';
import { setRootLogger } from '../../../broker/logger.js';
import { pino } from 'pino';
import { RawClient } from '../../helpers/raw-client.js';
import {
  encodeApiVersionsRequest,
  defaultApiVersionsRequest,
} from '../../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../../protocol/generated/api-versions-response.js';
import { advertisedApis } from '../../../broker/handlers/registry.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

setRootLogger(pino({ level: 'silent' }));
let b: RunningBroker;
before(async () => {
  b = await startBroker();
});
after(async () => {
  await b.stop();
});

test('ApiVersions v0-v4 answer from the handler registry', async () => {
  const c = await RawClient.connect(b.port);
  try {
    for (let v = 0; v <= 4; v++) {
      const req = defaultApiVersionsRequest();
      req.clientSoftwareName = 'runnel-test';
      req.clientSoftwareVersion = '1.0.0';
      const id = c.send(18, v, (w) => encodeApiVersionsRequest(w, v, req));
      const res = await c.response(0); // ApiVersions responses always use header v0
      assert.ok(res);
      assert.equal(res.correlationId, id);
      const body = decodeApiVersionsResponse(res.body, v);
      assert.equal(res.body.remaining(), 0);
      assert.equal(body.errorCode, 0);
      assert.deepEqual(
        body.apiKeys.map((k) => ({ apiKey: k.apiKey, minVersion: k.minVersion, maxVersion: k.maxVersion })),
        advertisedApis(),
      );
      assert.ok(body.apiKeys.some((k) => k.apiKey === 18 && k.minVersion === 0 && k.maxVersion === 4));
      assert.equal(body.finalizedFeatures.length, 0, 'no finalized features (no transaction.version >= 2)');
    }
  } finally {
    c.close();
  }
});

test("a version above 4 gets a v0 body with UNSUPPORTED_VERSION and ApiVersions' range (KIP-511)", async () => {
  const c = await RawClient.connect(b.port);
  try {
    // A v7 body the broker does not know; it must not be parsed.
    const id = c.send(18, 7, (w) => w.writeRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef])));
    const res = await c.response(0);
    assert.ok(res);
    assert.equal(res.correlationId, id);
    const body = decodeApiVersionsResponse(res.body, 0);
    assert.equal(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.deepEqual(
      body.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
      [[18, 0, 4]],
    );
    // The connection stays usable.
    c.send(18, 0, (w) => encodeApiVersionsRequest(w, 0, defaultApiVersionsRequest()));
    const again = await c.response(0);
    assert.equal(decodeApiVersionsResponse(again!.body, 0).errorCode, 0);
  } finally {
    c.close();
  }
});

test('v3+ with an invalid client software name gets INVALID_REQUEST', async () => {
  const c = await RawClient.connect(b.port);
  try {
    const req = defaultApiVersionsRequest();
    req.clientSoftwareName = 'bad name!';
    req.clientSoftwareVersion = '1.0';
    c.send(18, 3, (w) => encodeApiVersionsRequest(w, 3, req));
    const res = await c.response(0);
    assert.equal(decodeApiVersionsResponse(res!.body, 3).errorCode, ErrorCode.INVALID_REQUEST);
  } finally {
    c.close();
  }
});
