/**
 * Client quotas enforced against real clients (kafkajs) and raw requests: producer_byte_rate and
 * consumer_byte_rate throttle with throttle_time_ms and a muted connection, keeping the achieved rate near
 * the quota (upper bounds with generous slack), while other client-ids are unaffected; controller_mutation_rate
 * refuses CreateTopics v6 with THROTTLING_QUOTA_EXCEEDED; default entities apply with Kafka's precedence;
 * removing a quota stops throttling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import type { RequestEvent } from '../../../broker/connection.js';
import type { Reader } from '../../../protocol/wire/reader.js';
import type { Writer } from '../../../protocol/wire/writer.js';
import { responseHeaderVersion } from '../../../protocol/generated/apis.js';
import { type EntityPairs, setClientQuota } from '../../helpers/client-quotas.js';
import {
  defaultCreateTopicsRequest,
  encodeCreateTopicsRequest,
  type CreateTopicsRequest,
} from '../../../protocol/generated/create-topics-request.js';
import { decodeCreateTopicsResponse } from '../../../protocol/generated/create-topics-response.js';
import { encodeCreatePartitionsRequest } from '../../../protocol/generated/create-partitions-request.js';
import { decodeCreatePartitionsResponse } from '../../../protocol/generated/create-partitions-response.js';
import { encodeDeleteTopicsRequest } from '../../../protocol/generated/delete-topics-request.js';
import { decodeDeleteTopicsResponse } from '../../../protocol/generated/delete-topics-response.js';
import {
  defaultProduceRequest,
  encodeProduceRequest,
  type ProduceRequest,
} from '../../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../../protocol/generated/produce-response.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { encodeApiVersionsRequest } from '../../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../../protocol/generated/api-versions-response.js';
import { defaultMetadataRequest, encodeMetadataRequest } from '../../../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../../../protocol/generated/metadata-response.js';

// Two samples of 1 s: a fresh client may burst one quota's worth before throttling starts.
const env = useBrokerAndClient({
  config: { 'quota.window.num': 2 },
  topics: [
    { name: 'q-produce', partitions: 1 },
    { name: 'q-fetch', partitions: 1 },
    { name: 'q-raw', partitions: 1 },
  ],
});

const QUOTA = 100_000;
const MSG = 10_000;
const COUNT = 40;

/** Every handled request, as the broker saw it. */
const events: RequestEvent[] = [];
function observe(): void {
  const b = env.broker.broker;
  if (b.requestObserver?.name === 'quotaTestObserver') return;
  const prev = b.requestObserver;
  b.requestObserver = function quotaTestObserver(e: RequestEvent): void {
    prev?.(e);
    events.push(e);
  };
}

/** Send one request with `clientId` on `c` and decode its response. */
async function callAs<Req, Res>(
  c: RawClient,
  clientId: string,
  apiKey: number,
  v: number,
  encode: (w: Writer, v: number, req: Req) => void,
  decode: (r: Reader, v: number) => Res,
  req: Req,
): Promise<Res> {
  const id = c.send(apiKey, v, (w) => encode(w, v, req), clientId);
  const res = await c.response(responseHeaderVersion(apiKey, v), 10_000);
  assert.ok(res, 'connection closed');
  assert.equal(res.correlationId, id);
  return decode(res.body, v);
}

const setQuota = (entity: EntityPairs, key: string, value: number | null): Promise<void> =>
  setClientQuota(env.client, entity, key, value);

function kafka(clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [env.broker.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
}

const payload = (i: number): Buffer => Buffer.alloc(MSG, 97 + (i % 26));

async function produceAll(clientId: string, topic: string, count = COUNT): Promise<number> {
  const producer = kafka(clientId).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const t0 = performance.now();
  try {
    for (let i = 0; i < count; i++) await producer.send({ topic, acks: 1, messages: [{ value: payload(i) }] });
  } finally {
    await producer.disconnect();
  }
  return performance.now() - t0;
}

const throttled = (apiKey: number, clientId: string, from = 0): RequestEvent[] =>
  events.slice(from).filter((e) => e.apiKey === apiKey && e.clientId === clientId && e.throttleMs > 0);

test('producer_byte_rate: kafkajs throttled near the quota; other client-ids not; removing it stops', async () => {
  observe();
  await setQuota([['client-id', 'slow-producer']], 'producer_byte_rate', QUOTA);
  const [slowMs] = await Promise.all([
    produceAll('slow-producer', 'q-produce'),
    produceAll('fast-producer', 'q-produce'),
  ]);
  const slow = throttled(0, 'slow-producer');
  assert.ok(slow.length > 0, 'some produce responses of the throttled client carry throttle_time_ms');
  for (const e of slow) assert.equal((e.response as { throttleTimeMs: number }).throttleTimeMs, e.throttleMs);
  // Byte-rate throttles are not capped (Kafka), but never longer than the quota needs for all that was sent.
  assert.ok(
    slow.every((e) => e.throttleMs <= ((COUNT * MSG) / QUOTA) * 1000),
    `throttle times ${slow.map((e) => e.throttleMs).join(',')}`,
  );
  assert.deepEqual(throttled(0, 'fast-producer'), [], 'the unthrottled client-id is never throttled');
  const rate = (COUNT * MSG) / (slowMs / 1000);
  assert.ok(rate < 3 * QUOTA, `achieved ${Math.round(rate)} B/s, quota ${QUOTA} B/s`);
  const log = env.broker.broker.logs.getLog('q-produce', 0)!;
  assert.equal(log.logEndOffset, 2 * COUNT, 'every record of both producers is stored');

  await setQuota([['client-id', 'slow-producer']], 'producer_byte_rate', null);
  const from = events.length;
  await produceAll('slow-producer', 'q-produce');
  assert.deepEqual(throttled(0, 'slow-producer', from), [], 'no throttling once the quota is removed');
});

test('consumer_byte_rate: kafkajs consumer throttled near the quota (empty responses), reads all', async () => {
  observe();
  await produceAll('loader', 'q-fetch');
  await setQuota([['client-id', 'slow-consumer']], 'consumer_byte_rate', QUOTA);
  const consumer = kafka('slow-consumer').consumer({ groupId: 'q-fetch-group', maxWaitTimeInMs: 200 });
  await consumer.connect();
  const t0 = performance.now();
  const seen: number[] = [];
  try {
    await consumer.subscribe({ topic: 'q-fetch', fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen.length} of ${COUNT} messages in 60 s`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(Number(message.offset));
          assert.equal(message.value?.length, MSG);
          if (seen.length === COUNT) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  const ms = performance.now() - t0;
  assert.deepEqual(
    seen,
    Array.from({ length: COUNT }, (_, i) => i),
  );
  // Each response carries at most what the quota has left in its window (at most 1 window: 100 KB), and one batch.
  for (const e of events.filter((x) => x.apiKey === 1 && x.clientId === 'slow-consumer')) {
    const res = e.response as { responses: Array<{ partitions: Array<{ records: Buffer | null }> }> };
    const bytes = res.responses.flatMap((t) => t.partitions).reduce((n, p) => n + (p.records?.length ?? 0), 0);
    assert.ok(bytes <= QUOTA + MSG + 200, `fetch response of ${bytes} record bytes`);
  }
  const fetches = throttled(1, 'slow-consumer');
  assert.ok(fetches.length > 0, 'some fetch responses carry throttle_time_ms');
  for (const e of fetches) {
    const res = e.response as { throttleTimeMs: number; responses: unknown[] };
    assert.equal(res.throttleTimeMs, e.throttleMs);
    assert.deepEqual(res.responses, [], 'a throttled fetch answers no partitions (Kafka)');
  }
  const rate = (COUNT * MSG) / (ms / 1000);
  assert.ok(rate < 3 * QUOTA, `achieved ${Math.round(rate)} B/s, quota ${QUOTA} B/s`);
  await setQuota([['client-id', 'slow-consumer']], 'consumer_byte_rate', null);
});

function createReq(name: string, partitions: number): CreateTopicsRequest {
  const r = defaultCreateTopicsRequest();
  r.timeoutMs = 5000;
  r.topics = [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }];
  return r;
}

test('controller_mutation_rate: CreateTopics v6 refused (THROTTLING_QUOTA_EXCEEDED), v5 throttled', async () => {
  observe();
  // 1 mutation/s; burst 11 (controller.quota.window.num 11 samples of 1 s).
  await setQuota([['client-id', 'topic-admin']], 'controller_mutation_rate', 1);
  // A refused request mutes its connection: the strict checks below each use a connection of their own.
  const conns = await Promise.all([0, 1, 2].map(() => RawClient.connect(env.broker.port)));
  const [c1, c2, c3] = conns;
  const create = (v: number, name: string, n: number, clientId = 'topic-admin', c = env.client) =>
    callAs(c, clientId, 19, v, encodeCreateTopicsRequest, decodeCreateTopicsResponse, createReq(name, n));
  const first = await create(6, 'mut-a', 12);
  assert.equal(first.topics[0].errorCode, 0, 'the burst lets one request overshoot');
  assert.equal(first.throttleTimeMs, 0, 'strict: throttled only once refused');
  const refused = await create(6, 'mut-b', 1, 'topic-admin', c1);
  assert.equal(refused.topics[0].errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED);
  assert.equal(refused.topics[0].errorMessage, 'The throttling quota has been exceeded.');
  assert.ok(refused.throttleTimeMs > 0 && refused.throttleTimeMs <= 2000, `throttle ${refused.throttleTimeMs}`);
  assert.equal(env.broker.broker.metadata.image.topic('mut-b'), undefined);
  // CreatePartitions v3 and DeleteTopics v5 are strict too: nothing changes while the quota is used up.
  const grow = await callAs(c2, 'topic-admin', 37, 3, encodeCreatePartitionsRequest, decodeCreatePartitionsResponse, {
    topics: [{ name: 'mut-a', count: 13, assignments: null }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal(grow.results[0].errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED);
  assert.ok(grow.throttleTimeMs > 0);
  const del = await callAs(c3, 'topic-admin', 20, 5, encodeDeleteTopicsRequest, decodeDeleteTopicsResponse, {
    topics: [],
    topicNames: ['mut-a'],
    timeoutMs: 5000,
  });
  assert.equal(del.responses[0].errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED);
  assert.ok(del.throttleTimeMs > 0);
  assert.equal(env.broker.broker.metadata.image.topic('mut-a')?.partitions, 12);
  for (const x of conns) x.close();
  // Another client-id has no quota.
  const other = await create(6, 'mut-c', 3, 'someone-else');
  assert.equal(other.topics[0].errorCode, 0);
  assert.equal(other.throttleTimeMs, 0);
  // Below v6 the mutation is accepted and the client only throttled.
  const permissive = await create(5, 'mut-d', 1);
  assert.equal(permissive.topics[0].errorCode, 0);
  assert.ok(permissive.throttleTimeMs > 0);
  assert.ok(env.broker.broker.metadata.image.topic('mut-d'));
  await setQuota([['client-id', 'topic-admin']], 'controller_mutation_rate', null);
  const after = await create(6, 'mut-e', 1);
  assert.equal(after.topics[0].errorCode, 0, 'no quota, no refusal');
});

function produceReq(records: Buffer): ProduceRequest {
  const r = defaultProduceRequest();
  r.acks = 1;
  r.timeoutMs = 5000;
  r.topicData = [{ name: 'q-raw', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }];
  return r;
}

test('default entities: clients/<default> throttles any client-id; its own or users/<default> win', async () => {
  const batch = Buffer.from(await buildRecordBatch([{ key: 'k', value: Buffer.alloc(20_000, 1) }]));
  const produce = (clientId: string) =>
    callAs(env.client, clientId, 0, 9, encodeProduceRequest, decodeProduceResponse, produceReq(batch));
  // 20 KB at 15 KB/s: a throttle of about 1/3 s each (the requests share one connection, muted that long).
  await setQuota([['client-id', null]], 'producer_byte_rate', 15_000);
  await setQuota([['client-id', 'vip']], 'producer_byte_rate', 1e9);
  const anyone = await produce('anyone');
  assert.equal(anyone.responses[0].partitionResponses[0].errorCode, 0, 'a throttled produce is still appended');
  assert.ok(anyone.throttleTimeMs > 0, 'clients/<default> applies to a client-id without its own quota');
  assert.equal((await produce('vip')).throttleTimeMs, 0, 'clients/vip wins over clients/<default>');
  // users/<default> (ANONYMOUS included) comes before any client-id-only entity.
  await setQuota([['user', null]], 'producer_byte_rate', 1e9);
  assert.equal((await produce('anyone-else')).throttleTimeMs, 0);
  await setQuota([['user', null]], 'producer_byte_rate', null);
  assert.ok((await produce('anyone-else-2')).throttleTimeMs > 0);
  await setQuota([['client-id', null]], 'producer_byte_rate', null);
  await setQuota([['client-id', 'vip']], 'producer_byte_rate', null);
  assert.equal((await produce('anyone-else-3')).throttleTimeMs, 0);
});

test('a throttled connection is muted: its queued request waits while another connection is answered', async () => {
  observe();
  const batch = Buffer.from(await buildRecordBatch([{ key: 'k', value: Buffer.alloc(20_000, 2) }]));
  // 20 KB at 5 KB/s: muted for about 3 s.
  await setQuota([['client-id', 'muted']], 'producer_byte_rate', 5000);
  const a = await RawClient.connect(env.broker.port);
  const b = await RawClient.connect(env.broker.port);
  try {
    const apiVersions = (c: RawClient, clientId: string) =>
      callAs(c, clientId, 18, 3, encodeApiVersionsRequest, decodeApiVersionsResponse, {
        clientSoftwareName: 'q',
        clientSoftwareVersion: '1',
      });
    const produced = await callAs(a, 'muted', 0, 9, encodeProduceRequest, decodeProduceResponse, produceReq(batch));
    assert.ok(produced.throttleTimeMs > 0);
    // A's next request is queued behind the mute; B, another connection, is answered meanwhile.
    const from = events.length;
    const queued = apiVersions(a, 'muted-next');
    assert.equal((await apiVersions(b, 'unmuted')).errorCode, 0);
    const handled = () => events.slice(from).map((e) => e.clientId);
    assert.deepEqual(handled(), ['unmuted'], 'the muted connection started nothing yet');
    assert.equal((await queued).errorCode, 0, 'the queued request is answered once the mute ends');
    assert.deepEqual(handled(), ['unmuted', 'muted-next']);
  } finally {
    a.close();
    b.close();
    await setQuota([['client-id', 'muted']], 'producer_byte_rate', null);
  }
});

test('request_percentage: handling time over the quota throttles any API; ApiVersions is exempt', async () => {
  await setQuota([['client-id', 'busy']], 'request_percentage', 0.001);
  const c = await RawClient.connect(env.broker.port);
  try {
    const req = defaultMetadataRequest();
    req.topics = null;
    const md = await callAs(c, 'busy', 3, 9, encodeMetadataRequest, decodeMetadataResponse, req);
    assert.ok(md.throttleTimeMs > 0 && md.throttleTimeMs <= 1000, `throttle ${md.throttleTimeMs}`);
    const av = await callAs(c, 'busy', 18, 3, encodeApiVersionsRequest, decodeApiVersionsResponse, {
      clientSoftwareName: 'q',
      clientSoftwareVersion: '1',
    });
    assert.equal(av.throttleTimeMs, 0);
    await setQuota([['client-id', 'busy']], 'request_percentage', null);
    const free = await callAs(c, 'busy', 3, 9, encodeMetadataRequest, decodeMetadataResponse, req);
    assert.equal(free.throttleTimeMs, 0);
  } finally {
    c.close();
  }
});
