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
import { advertisedApis, handlerFor } from '../../../broker/handlers/registry.js';
import { APIS, apiInfo, type ApiInfo } from '../../../protocol/generated/apis.js';
import type { Reader } from '../../../protocol/wire/reader.js';
import type { Writer } from '../../../protocol/wire/writer.js';
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

type Codec = Record<string, unknown>;
/** The generated default request, encoder and response decoder of an API, by the codec's naming. */
async function codecOf(api: ApiInfo): Promise<{
  defaultRequest: () => Record<string, unknown>;
  encode: (w: Writer, v: number, req: unknown) => void;
  decode: (r: Reader, v: number) => unknown;
}> {
  const req = (await import(`../../../protocol/generated/${api.requestModule}.js`)) as Codec;
  const res = (await import(`../../../protocol/generated/${api.responseModule}.js`)) as Codec;
  return {
    defaultRequest: req[`default${api.name}Request`] as () => Record<string, unknown>,
    encode: req[`encode${api.name}Request`] as (w: Writer, v: number, req: unknown) => void,
    decode: res[`decode${api.name}Response`] as (r: Reader, v: number) => unknown,
  };
}

test('each advertised API version answers its default request with a decodable response, connection kept', async () => {
  let c = await RawClient.connect(b.port);
  const failures: string[] = [];
  let checked = 0;
  try {
    const versionsReq = defaultApiVersionsRequest();
    versionsReq.clientSoftwareName = 'runnel-test';
    versionsReq.clientSoftwareVersion = '1.0.0';
    const advertised = await c.request(
      18,
      3,
      (w) => encodeApiVersionsRequest(w, 3, versionsReq),
      decodeApiVersionsResponse,
    );
    assert.ok(advertised.apiKeys.length > 30);
    for (const k of advertised.apiKeys) {
      const api = apiInfo(k.apiKey);
      assert.ok(api, `API ${k.apiKey} is advertised but the codec does not know it`);
      const codec = await codecOf(api);
      for (let v = k.minVersion; v <= k.maxVersion; v++) {
        const req = codec.defaultRequest();
        // Produce with acks=0 (the default) gets no response by design; ask for one.
        if (k.apiKey === 0) req.acks = 1;
        if (k.apiKey === 18 && v >= 3) {
          req.clientSoftwareName = 'runnel-test';
          req.clientSoftwareVersion = '1.0.0';
        }
        checked++;
        try {
          await c.request(k.apiKey, v, (w) => codec.encode(w, v, req), codec.decode);
        } catch (err) {
          failures.push(`${api.name} v${v}: ${(err as Error).message}`);
          c.close();
          c = await RawClient.connect(b.port);
        }
      }
    }
    assert.ok(!c.closed);
  } finally {
    c.close();
  }
  assert.deepEqual(failures, []);
  assert.ok(checked > 150, `only ${checked} API versions checked`);
});

test('no handler answers a version it does not advertise; unadvertised versions/APIs close the socket', async () => {
  const advertised = new Map(advertisedApis().map((a) => [a.apiKey, a]));
  for (const api of APIS) {
    const h = handlerFor(api.key);
    const adv = advertised.get(api.key);
    if (h) {
      assert.ok(adv, `${api.name} is registered but not advertised`);
      assert.deepEqual([h.minVersion, h.maxVersion], [adv.minVersion, adv.maxVersion], `${api.name}: handler range`);
    }
  }
  const answered: string[] = [];
  for (const api of APIS) {
    const adv = advertised.get(api.key);
    const codec = await codecOf(api);
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      if (adv && v >= adv.minVersion && v <= adv.maxVersion) continue;
      const c = await RawClient.connect(b.port);
      try {
        c.send(api.key, v, (w) => codec.encode(w, v, codec.defaultRequest()));
        const frame = await c.receive(5000).catch(() => null);
        if (frame !== null || !(await c.waitClosed())) answered.push(`${api.name} v${v}`);
      } finally {
        c.close();
      }
    }
  }
  assert.deepEqual(answered, []);
});
