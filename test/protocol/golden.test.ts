/**
 * Golden fixtures: request frames captured from real clients (kafkajs, @platformatic/kafka, kcat and
 * confluent-kafka on librdkafka 2.0.2, kafka-python 2.0.2) by test/helpers/capture-clients.ts.
 *
 * Every frame must decode (header via parseRequestHeader, body via the generated module that apis.ts names),
 * the reader must consume the whole frame, and re-encoding the decoded header and body must give the same
 * bytes. Per client the API/version pairs, handshake, client ids, topic names, acks and the record batches
 * carried by Produce must match what the client was asked to do and what NOTES.md says it sends.
 * Finally the capture server itself is checked: it answers a replay of every fixture and survives garbage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseRequestHeader } from '../../protocol/frame.js';
import { apiInfo, requestHeaderVersion, responseHeaderVersion } from '../../protocol/generated/apis.js';
import { encodeRequestHeader } from '../../protocol/generated/request-header.js';
import type { ApiVersionsRequest } from '../../protocol/generated/api-versions-request.js';
import type { MetadataRequest } from '../../protocol/generated/metadata-request.js';
import type { ProduceRequest } from '../../protocol/generated/produce-request.js';
import type { CreateTopicsRequest } from '../../protocol/generated/create-topics-request.js';
import { decodeApiVersionsResponse } from '../../protocol/generated/api-versions-response.js';
import type { Reader } from '../../protocol/wire/reader.js';
import { Writer } from '../../protocol/wire/writer.js';
import { GOLDEN_DIR, loadGoldenFixtures, type GoldenFixture } from '../helpers/capture-clients.js';
import { ADVERTISED, CaptureServer } from '../helpers/capture-server.js';
import { RawClient } from '../helpers/raw-client.js';

type Mod = Record<string, unknown>;
type Decode = (r: Reader, v: number) => unknown;
type Encode = (w: Writer, v: number, o: unknown) => void;

function pascal(kebabName: string): string {
  return kebabName.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
}

const modules = new Map<string, { decode: Decode; encode: Encode }>();
async function codec(module: string): Promise<{ decode: Decode; encode: Encode }> {
  let c = modules.get(module);
  if (!c) {
    const mod = (await import(`../../protocol/generated/${module}.js`)) as Mod;
    const name = pascal(module);
    c = { decode: mod[`decode${name}`] as Decode, encode: mod[`encode${name}`] as Encode };
    assert.equal(typeof c.decode, 'function', `${module} exports decode${name}`);
    assert.equal(typeof c.encode, 'function', `${module} exports encode${name}`);
    modules.set(module, c);
  }
  return c;
}

interface Decoded {
  fx: GoldenFixture;
  key: number;
  version: number;
  correlationId: number;
  clientId: string | null;
  body: unknown;
}

/** Decode one fixture completely, asserting the reader consumed it and that it re-encodes identically. */
async function decodeFixture(fx: GoldenFixture): Promise<Decoded> {
  const where = `${fx.client}/${fx.entry.file}`;
  const { header, body, known } = parseRequestHeader(fx.frame);
  assert.ok(known, `${where}: api ${header.requestApiKey} v${header.requestApiVersion} known to the codec`);
  const info = apiInfo(header.requestApiKey);
  assert.ok(info, `${where}: api key ${header.requestApiKey} in APIS`);
  const { decode, encode } = await codec(info.requestModule);
  const value = decode(body, header.requestApiVersion);
  assert.equal(body.pos, fx.frame.length, `${where}: decoder stopped at ${body.pos} of ${fx.frame.length} bytes`);

  const w = new Writer();
  encodeRequestHeader(w, requestHeaderVersion(header.requestApiKey, header.requestApiVersion), header);
  encode(w, header.requestApiVersion, value);
  const again = w.toBuffer();
  assert.ok(
    again.equals(fx.frame),
    `${where}: re-encoding differs (unknown tagged fields?)\n` +
      `  captured ${fx.frame.toString('hex')}\n  encoded  ${again.toString('hex')}`,
  );
  return {
    fx,
    key: header.requestApiKey,
    version: header.requestApiVersion,
    correlationId: header.correlationId,
    clientId: header.clientId,
    body: value,
  };
}

interface Expectation {
  /** ApiVersions version of the handshake (the first frame). */
  handshake: number;
  /** ApiVersions on every connection (false: kafka-python probes only on bootstrap connections). */
  handshakeEveryConnection: boolean;
  /** Version of the Metadata request that follows the handshake on the first connection. */
  firstMetadata: number;
  /** Every API/version pair the client sent, exactly. */
  pairs: string[];
  softwareName?: string;
  softwareVersion?: RegExp;
  /** Whether the driver created topic golden-admin through an admin API. */
  admin: boolean;
}

// From NOTES.md section b (platformatic: 1.35.0 is installed; it picks the same versions as 2.9.0 here).
const EXPECT: Record<string, Expectation> = {
  kafkajs: {
    handshake: 2,
    handshakeEveryConnection: true,
    firstMetadata: 6,
    pairs: ['ApiVersions v2', 'Metadata v6', 'Produce v7', 'CreateTopics v3'],
    admin: true,
  },
  platformatic: {
    handshake: 3,
    handshakeEveryConnection: true,
    firstMetadata: 12,
    pairs: ['ApiVersions v3', 'Metadata v12', 'Produce v11', 'CreateTopics v7'],
    softwareName: 'platformatic-kafka',
    softwareVersion: /^\d+\.\d+\.\d+/,
    admin: true,
  },
  kcat: {
    handshake: 3,
    handshakeEveryConnection: true,
    firstMetadata: 4,
    pairs: ['ApiVersions v3', 'Metadata v4', 'Produce v7'],
    softwareName: 'librdkafka',
    softwareVersion: /^2\.0\.2$/,
    admin: false,
  },
  'confluent-kafka': {
    handshake: 3,
    handshakeEveryConnection: true,
    firstMetadata: 4,
    pairs: ['ApiVersions v3', 'Metadata v4', 'Produce v7', 'CreateTopics v4'],
    softwareName: 'confluent-kafka-python',
    softwareVersion: /-rdkafka-2\.0\.2$/,
    admin: true,
  },
  'kafka-python': {
    handshake: 0,
    handshakeEveryConnection: false,
    firstMetadata: 0,
    // Metadata v0: probe; v1: client; v5: admin client (NOTES.md).
    pairs: ['ApiVersions v0', 'Metadata v0', 'Metadata v1', 'Metadata v5', 'Produce v7', 'CreateTopics v3'],
    admin: true,
  },
};

/** Kafka's rule for client_software_name/version (KIP-511). */
const SOFTWARE_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

const { manifests, fixtures } = loadGoldenFixtures();

test('golden fixtures: every expected client is present and the manifests match the files', () => {
  assert.deepEqual(manifests.map((m) => m.client).sort(), Object.keys(EXPECT).sort());
  for (const m of manifests) {
    const files = readdirSync(join(GOLDEN_DIR, m.client))
      .filter((f) => f.endsWith('.bin'))
      .sort();
    assert.deepEqual(m.frames.map((f) => f.file).sort(), files, `${m.client}: manifest lists every .bin file`);
    m.frames.forEach((f, i) => {
      assert.equal(f.seq, i, `${m.client}: manifest in arrival order`);
      assert.match(f.file, new RegExp(`^${String(i).padStart(2, '0')}-${f.apiName}-v${f.apiVersion}\\.bin$`));
    });
  }
  assert.ok(fixtures.length >= 30, `${fixtures.length} fixtures`);
});

test('golden fixtures: every frame decodes completely and re-encodes to the same bytes', async () => {
  for (const fx of fixtures) {
    const d = await decodeFixture(fx);
    const where = `${fx.client}/${fx.entry.file}`;
    assert.equal(d.key, fx.entry.apiKey, where);
    assert.equal(d.version, fx.entry.apiVersion, where);
    assert.equal(d.correlationId, fx.entry.correlationId, where);
    assert.equal(d.clientId, fx.entry.clientId, where);
    assert.equal(fx.frame.length, fx.entry.size, where);
  }
});

for (const [client, exp] of Object.entries(EXPECT)) {
  test(`golden fixtures: ${client} sends what it was asked to, at the versions NOTES.md lists`, async () => {
    const all: Decoded[] = [];
    for (const fx of fixtures.filter((f) => f.client === client)) all.push(await decodeFixture(fx));
    assert.ok(all.length > 0, `${client} has fixtures`);
    const name = (d: Decoded): string => `${apiInfo(d.key)?.name} v${d.version}`;

    // Exactly the API/version pairs expected.
    assert.deepEqual([...new Set(all.map(name))].sort(), [...exp.pairs].sort(), `${client}: API/version pairs`);

    // Client id everywhere.
    for (const d of all) assert.equal(d.clientId, `golden-${client}`, `${client}/${d.fx.entry.file}: client id`);

    // Handshake first, then Metadata.
    assert.equal(name(all[0]), `ApiVersions v${exp.handshake}`, `${client}: first request`);
    assert.equal(name(all[1]), `Metadata v${exp.firstMetadata}`, `${client}: second request`);
    assert.equal(all[1].fx.entry.conn, all[0].fx.entry.conn, `${client}: handshake and metadata share a connection`);

    // Per connection: correlation ids strictly increasing; handshake first where the client always does one.
    const conns = new Map<number, Decoded[]>();
    for (const d of all) conns.set(d.fx.entry.conn, [...(conns.get(d.fx.entry.conn) ?? []), d]);
    for (const [conn, ds] of conns) {
      ds.forEach((d, i) => {
        assert.equal(d.fx.entry.index, i, `${client} conn ${conn}: frame index`);
      });
      for (let i = 1; i < ds.length; i++) {
        assert.ok(ds[i].correlationId > ds[i - 1].correlationId, `${client} conn ${conn}: correlation ids increase`);
      }
      if (exp.handshakeEveryConnection)
        assert.equal(name(ds[0]), `ApiVersions v${exp.handshake}`, `${client} conn ${conn}: handshake first`);
    }

    // ApiVersions bodies.
    for (const d of all.filter((x) => x.key === 18)) {
      const av = d.body as ApiVersionsRequest;
      if (d.version >= 3) {
        assert.match(av.clientSoftwareName, SOFTWARE_RE, `${client}: client_software_name is valid`);
        assert.match(av.clientSoftwareVersion, SOFTWARE_RE, `${client}: client_software_version is valid`);
        if (exp.softwareName !== undefined) assert.equal(av.clientSoftwareName, exp.softwareName);
        if (exp.softwareVersion !== undefined) assert.match(av.clientSoftwareVersion, exp.softwareVersion);
      } else {
        assert.deepEqual(av, { clientSoftwareName: '', clientSoftwareVersion: '' });
      }
    }

    // Metadata: only our topics; topic `golden` asked for by name, or all topics requested.
    const metadata = all.filter((x) => x.key === 3);
    let askedGolden = false;
    for (const d of metadata) {
      const md = d.body as MetadataRequest;
      const names = (md.topics ?? []).map((t) => t.name);
      for (const n of names) assert.ok(n === 'golden' || n === 'golden-admin', `${client}: metadata topic ${n}`);
      if (names.includes('golden') || md.topics === null || (d.version === 0 && names.length === 0)) askedGolden = true;
    }
    assert.ok(askedGolden, `${client}: metadata for golden requested`);

    // Produce: acks=all, topic golden partition 0, magic-2 batches holding the 3 records.
    const produce = all.filter((x) => x.key === 0);
    assert.ok(produce.length >= 1, `${client}: at least one Produce`);
    let batches = 0;
    let records = 0;
    const payload: Buffer[] = [];
    for (const d of produce) {
      const where = `${client}/${d.fx.entry.file}`;
      const p = d.body as ProduceRequest;
      assert.equal(p.acks, -1, `${where}: acks=all`);
      assert.equal(p.transactionalId, null, `${where}: not transactional`);
      assert.ok(p.timeoutMs > 0, `${where}: timeout ${p.timeoutMs}`);
      assert.deepEqual(
        p.topicData.map((t) => t.name),
        ['golden'],
        `${where}: topic`,
      );
      for (const t of p.topicData) {
        assert.deepEqual(
          t.partitionData.map((x) => x.index),
          [0],
          `${where}: partition`,
        );
        for (const part of t.partitionData) {
          const rec = part.records;
          assert.ok(rec !== null && rec.length >= 61, `${where}: records hold at least one batch header`);
          // Walk the batches by their headers only (the record-batch parser lives elsewhere).
          let pos = 0;
          while (pos < rec.length) {
            assert.ok(rec.length - pos >= 61, `${where}: batch header at ${pos} complete`);
            const batchLength = rec.readInt32BE(pos + 8);
            assert.equal(rec[pos + 16], 2, `${where}: magic byte 2 at offset ${pos + 16}`);
            assert.equal(rec.readBigInt64BE(pos), 0n, `${where}: producer sends baseOffset 0`);
            assert.equal(rec.readInt16BE(pos + 21) & 0x07, 0, `${where}: uncompressed`);
            assert.equal(rec.readBigInt64BE(pos + 43), -1n, `${where}: not idempotent (producerId -1)`);
            const count = rec.readInt32BE(pos + 57);
            assert.equal(rec.readInt32BE(pos + 23), count - 1, `${where}: lastOffsetDelta = count - 1`);
            assert.ok(count >= 1, `${where}: batch record count ${count}`);
            batches++;
            records += count;
            payload.push(rec.subarray(pos + 61, pos + 12 + batchLength));
            pos += 12 + batchLength;
          }
          assert.equal(pos, rec.length, `${where}: batches fill the records field exactly`);
        }
      }
    }
    assert.ok(batches >= 1 && batches <= 3, `${client}: ${batches} batches`);
    assert.equal(records, 3, `${client}: 3 records produced`);
    const bytes = Buffer.concat(payload);
    for (const s of ['k0', 'k1', 'k2', 'v0', 'v1', 'v2'])
      assert.ok(bytes.includes(s), `${client}: records contain ${s}`);
    assert.ok(bytes.includes('h'), `${client}: records carry header key h`);

    // CreateTopics from the admin API.
    const create = all.filter((x) => x.key === 19);
    if (exp.admin) {
      assert.equal(create.length, 1, `${client}: one CreateTopics`);
      const ct = create[0].body as CreateTopicsRequest;
      assert.deepEqual(
        ct.topics.map((t) => [t.name, t.numPartitions, t.replicationFactor, t.assignments.length]),
        [['golden-admin', 1, 1, 0]],
      );
      assert.equal(ct.validateOnly, false);
      assert.ok(ct.timeoutMs > 0);
    } else {
      assert.equal(create.length, 0);
    }
  });
}

test('golden fixtures: kafka-python pipelines Metadata v0 behind ApiVersions v0', () => {
  const kp = fixtures.filter((f) => f.client === 'kafka-python');
  let probes = 0;
  for (let i = 0; i + 1 < kp.length; i++) {
    const a = kp[i].entry;
    const b = kp[i + 1].entry;
    if (a.apiKey !== 18) continue;
    probes++;
    assert.equal(a.apiVersion, 0);
    assert.equal(b.apiName, 'Metadata');
    assert.equal(b.apiVersion, 0);
    assert.equal(b.conn, a.conn);
    assert.equal(b.correlationId, a.correlationId + 1);
    // Sent before the (delayed) ApiVersions answer was written: pipelined.
    assert.ok(b.inFlight >= 1, `kafka-python ${b.file}: in flight ${b.inFlight}`);
  }
  assert.ok(probes >= 1);
});

test('capture server answers a replay of every fixture and survives malformed input', async () => {
  const server = await CaptureServer.start();
  const replayed: Buffer[] = [];
  try {
    for (const m of manifests) {
      const byConn = new Map<number, GoldenFixture[]>();
      for (const fx of fixtures.filter((f) => f.client === m.client))
        byConn.set(fx.entry.conn, [...(byConn.get(fx.entry.conn) ?? []), fx]);
      for (const fxs of byConn.values()) {
        const c = await RawClient.connect(server.port);
        try {
          // Pipeline the whole connection's requests, then read the answers in order.
          for (const fx of fxs) {
            const size = Buffer.alloc(4);
            size.writeInt32BE(fx.frame.length);
            c.writeRaw(Buffer.concat([size, fx.frame]));
            replayed.push(fx.frame);
          }
          for (const fx of fxs) {
            const res = await c.response(responseHeaderVersion(fx.entry.apiKey, fx.entry.apiVersion));
            assert.ok(res, `${m.client}/${fx.entry.file}: answered`);
            assert.equal(res.correlationId, fx.entry.correlationId, `${m.client}/${fx.entry.file}: correlation id`);
            const info = apiInfo(fx.entry.apiKey);
            assert.ok(info);
            const { decode } = await codec(info.responseModule);
            decode(res.body, fx.entry.apiVersion);
            assert.equal(res.body.remaining(), 0, `${m.client}/${fx.entry.file}: response decodes completely`);
          }
        } finally {
          c.close();
        }
      }
    }
    assert.equal(server.frames.length, replayed.length);
    server.frames.forEach((f, i) => {
      assert.ok(f.frame.equals(replayed[i]), `frame ${i} recorded as sent`);
    });

    // ApiVersions above v4: v0 body with error 35 and our ApiVersions range (KIP-511).
    {
      const c = await RawClient.connect(server.port);
      // A future client: ApiVersions v9 (header v2); the body is not parsed.
      c.send(18, 9, () => {});
      const res = await c.response(0);
      assert.ok(res);
      const body = decodeApiVersionsResponse(res.body, 0);
      assert.equal(body.errorCode, 35);
      assert.deepEqual(body.apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 4 }]);
      c.close();
    }
    // ApiVersions v3 answer lists exactly the advertised ranges.
    {
      const c = await RawClient.connect(server.port);
      c.send(18, 3, (w) => {
        w.writeCompactString('runnel-test');
        w.writeCompactString('1.0');
        w.writeUVarint(0);
      });
      const res = await c.response(0);
      assert.ok(res);
      const body = decodeApiVersionsResponse(res.body, 3);
      assert.equal(body.errorCode, 0);
      assert.deepEqual(
        new Map(body.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]])),
        new Map([...ADVERTISED].map(([k, r]) => [k, [...r]])),
      );
      c.close();
    }

    // Malformed input closes the connection, never the server.
    const bad: [string, Buffer][] = [
      ['negative size', Buffer.from('ffffffff', 'hex')],
      ['huge size', Buffer.from('7fffffff00', 'hex')],
      ['frame shorter than a header', Buffer.from('000000030012000000', 'hex')],
      ['unknown api key', Buffer.from('0000000a03e70000000000010000', 'hex')],
      ['unknown Metadata version', Buffer.from('0000000a00030063000000010000', 'hex')],
      ['truncated Metadata body', Buffer.from('0000000c000300060000000100000000', 'hex')],
      ['unanswered api (Fetch)', Buffer.from('0000000a0001000400000001ffff', 'hex')],
    ];
    for (const [what, bytes] of bad) {
      const c = await RawClient.connect(server.port);
      c.writeRaw(bytes);
      assert.ok(await c.waitClosed(3000), `${what}: connection closed`);
    }
    // Random frames with valid sizes: no crash, and no decode fault other than the typed errors.
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) / 2 ** 24;
    };
    for (let i = 0; i < 50; i++) {
      const c = await RawClient.connect(server.port);
      const frame = Buffer.alloc(8 + Math.floor(rnd() * 64));
      for (let j = 0; j < frame.length; j++) frame[j] = Math.floor(rnd() * 256);
      frame.writeInt16BE([0, 3, 18, 19][i % 4], 0);
      frame.writeInt16BE(Math.floor(rnd() * 14), 2);
      const size = Buffer.alloc(4);
      size.writeInt32BE(frame.length);
      c.writeRaw(Buffer.concat([size, frame]));
      await c.receive(500).catch(() => null); // answered, closed, or (acks=0 Produce) silent
      c.close();
    }
    const unexpected = server.frames.filter((f) => f.note?.startsWith('UNEXPECTED'));
    assert.deepEqual(
      unexpected.map((f) => `${f.note} ${f.frame.toString('hex')}`),
      [],
    );

    // Still serving.
    const c = await RawClient.connect(server.port);
    c.send(18, 0, () => {});
    const res = await c.response(0);
    assert.ok(res);
    assert.equal(decodeApiVersionsResponse(res.body, 0).errorCode, 0);
    c.close();
  } finally {
    await server.close();
  }
});
