/**
 * Quota precision (issue #14): a client over its byte rate is held within 20 % of the quota over a 10 s window.
 * Each test runs one client as fast as it goes for ~13 s against a quota far below what the machine does, and
 * measures broker-side (log bytes appended, or record bytes in Fetch responses) over a 10 s window that opens
 * once the client has been running for a warm-up of 2 s. Clients: kafkajs (honours throttle_time_ms), a raw
 * pipelining client that ignores throttle_time_ms (the muted connection alone must hold it), confluent-kafka
 * (librdkafka, honours it) and a kafkajs consumer under consumer_byte_rate. Quota windows are Kafka's
 * defaults (11 samples of 1 s). The assertion is on a rate averaged over 10 s with a wide tolerance.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { run } from '../../helpers/broker-process.js';
import type { RequestEvent } from '../../../broker/connection.js';
import { responseHeaderVersion } from '../../../protocol/generated/apis.js';
import { type EntityPairs, setClientQuota } from '../../helpers/client-quotas.js';
import { defaultProduceRequest, encodeProduceRequest } from '../../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../../protocol/generated/produce-response.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';

const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/helpers/clients'));
const PY = '/usr/bin/python3';

const TOPICS = ['p-kafkajs', 'p-raw', 'p-librdkafka', 'c-source'];
const env = useBrokerAndClient({ topics: TOPICS.map((name) => ({ name, partitions: 1 })) });

/** 300 KB/s: far below what kafkajs or librdkafka do on a loaded 2-core machine. */
const QUOTA = 300_000;
const WARMUP_MS = 2_000;
const WINDOW_MS = 10_000;
/** The client runs past the window's end by this much (it must still be pushing when the window closes). */
const TAIL_MS = 1_000;
const RUN_MS = WARMUP_MS + WINDOW_MS + TAIL_MS;
const TOLERANCE = 0.2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const setQuota = (entity: EntityPairs, key: string, value: number | null): Promise<void> =>
  setClientQuota(env.client, entity, key, value);

/** Every handled request of `clientId`, as the broker saw it (removed by the returned function). */
function observe(clientId: string): { events: RequestEvent[]; stop: () => void } {
  const b = env.broker.broker;
  const prev = b.requestObserver;
  const events: RequestEvent[] = [];
  b.requestObserver = (e: RequestEvent): void => {
    prev?.(e);
    if (e.clientId === clientId) events.push(e);
  };
  return { events, stop: () => (b.requestObserver = prev) };
}

/**
 * Wait (bounded) until `counter` moves (the client started), then WARMUP_MS, then measure how much it grows
 * over WINDOW_MS: units per second over the window actually elapsed.
 */
async function measure(counter: () => number): Promise<number> {
  const start = counter();
  for (let i = 0; i < 300 && counter() === start; i++) await sleep(100);
  assert.notEqual(counter(), start, 'the client got going within 30 s');
  await sleep(WARMUP_MS);
  const c0 = counter();
  const t0 = performance.now();
  await sleep(WINDOW_MS);
  const c1 = counter();
  const t1 = performance.now();
  return (c1 - c0) / ((t1 - t0) / 1000);
}

function assertNearQuota(t: TestContext, rate: number, what: string): void {
  const ratio = rate / QUOTA;
  t.diagnostic(`${what}: ${Math.round(rate)} B/s, ratio to the quota ${ratio.toFixed(3)}`);
  assert.ok(
    Math.abs(ratio - 1) <= TOLERANCE,
    `${what}: ${Math.round(rate)} B/s over ${WINDOW_MS / 1000} s, quota ${QUOTA} B/s (ratio ${ratio.toFixed(3)})`,
  );
}

const logBytes = (topic: string) => (): number => env.broker.broker.logs.getLog(topic, 0)!.size;

function kafka(clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [env.broker.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5 },
  });
}

test('producer_byte_rate: kafkajs (honours throttle_time_ms) held within 20 % of the quota over 10 s', async (t) => {
  const clientId = 'precise-kafkajs';
  await setQuota([['client-id', clientId]], 'producer_byte_rate', QUOTA);
  const seen = observe(clientId);
  const producer = kafka(clientId).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const deadline = performance.now() + RUN_MS;
  const messages = Array.from({ length: 16 }, () => ({ value: Buffer.alloc(1024, 107) }));
  // Four sends in flight at all times: as fast as the client goes.
  const loop = async (): Promise<void> => {
    for (let i = 0; i < 100_000 && performance.now() < deadline; i++) {
      await producer.send({ topic: 'p-kafkajs', acks: 1, messages });
    }
  };
  try {
    const loops = [loop(), loop(), loop(), loop()];
    const rate = await measure(logBytes('p-kafkajs'));
    await Promise.all(loops);
    assertNearQuota(t, rate, 'kafkajs producer');
    assert.ok(
      seen.events.some((e) => e.apiKey === 0 && e.throttleMs > 0),
      'produce responses carry throttle_time_ms',
    );
  } finally {
    seen.stop();
    await producer.disconnect();
    await setQuota([['client-id', clientId]], 'producer_byte_rate', null);
  }
});

test('producer_byte_rate: a pipelining client ignoring throttle_time_ms is held by the muted connection', async (t) => {
  const clientId = 'precise-raw';
  await setQuota([['client-id', clientId]], 'producer_byte_rate', QUOTA);
  const seen = observe(clientId);
  const batch = Buffer.from(await buildRecordBatch([{ key: 'k', value: Buffer.alloc(16 * 1024, 114) }]));
  const req = defaultProduceRequest();
  req.acks = 1;
  req.timeoutMs = 30_000;
  req.topicData = [{ name: 'p-raw', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records: batch }] }];
  const c = await RawClient.connect(env.broker.port);
  const deadline = performance.now() + RUN_MS;
  // Eight requests in flight; the next goes out as soon as an answer arrives, whatever its throttle time.
  const send = () => c.send(0, 9, (w) => encodeProduceRequest(w, 9, req), clientId);
  let throttledAnswers = 0;
  const loop = async (): Promise<void> => {
    let inFlight = 0;
    for (; inFlight < 8; inFlight++) send();
    for (let i = 0; i < 100_000 && inFlight > 0; i++) {
      const res = await c.response(responseHeaderVersion(0, 9), 30_000);
      assert.ok(res, 'connection closed');
      inFlight--;
      const body = decodeProduceResponse(res.body, 9);
      assert.equal(body.responses[0].partitionResponses[0].errorCode, 0);
      if (body.throttleTimeMs > 0) throttledAnswers++;
      if (performance.now() < deadline) {
        send();
        inFlight++;
      }
    }
  };
  try {
    const done = loop();
    const rate = await measure(logBytes('p-raw'));
    await done;
    assertNearQuota(t, rate, 'raw producer ignoring throttle_time_ms');
    assert.ok(throttledAnswers > 0, 'answers carry throttle_time_ms');
    assert.ok(
      seen.events.every((e) => e.throttleMs === (e.response as { throttleTimeMs: number }).throttleTimeMs),
      'the broker muted each connection as long as the response told the client',
    );
  } finally {
    seen.stop();
    c.close();
    await setQuota([['client-id', clientId]], 'producer_byte_rate', null);
  }
});

test('producer_byte_rate: confluent-kafka (librdkafka honours throttle_time_ms) within 20 % over 10 s', async (t) => {
  const clientId = 'precise-librdkafka';
  await setQuota([['client-id', clientId]], 'producer_byte_rate', QUOTA);
  try {
    const proc = run(
      PY,
      [join(clients, 'quota_produce.py'), env.broker.bootstrapServers, 'p-librdkafka', clientId, String(RUN_MS / 1000)],
      RUN_MS + 60_000,
    );
    const rate = await measure(logBytes('p-librdkafka'));
    const r = await proc;
    assert.equal(r.code, 0, r.stderr.slice(-1500));
    const m = /^OK (\d+) (\d+) (\d+)$/m.exec(r.stdout);
    assert.ok(m, r.stdout + r.stderr.slice(-1500));
    assert.ok(Number(m[2]) > 0, `librdkafka saw throttling: ${r.stdout}`);
    assertNearQuota(t, rate, 'librdkafka producer');
  } finally {
    await setQuota([['client-id', clientId]], 'producer_byte_rate', null);
  }
});

test('consumer_byte_rate: a kafkajs consumer is held within 20 % of the quota over 10 s', async (t) => {
  const clientId = 'precise-consumer';
  // Enough records that the consumer never catches up within the run: 12 MB in 64 KB requests.
  const loader = kafka('precise-loader').producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await loader.connect();
  const messages = Array.from({ length: 64 }, () => ({ value: Buffer.alloc(1024, 99) }));
  for (let i = 0; i < 192; i++) await loader.send({ topic: 'c-source', acks: 1, messages });
  await loader.disconnect();
  await setQuota([['client-id', clientId]], 'consumer_byte_rate', QUOTA);
  const seen = observe(clientId);
  let fetched = 0;
  const prev = env.broker.broker.requestObserver;
  env.broker.broker.requestObserver = (e: RequestEvent): void => {
    prev?.(e);
    if (e.clientId !== clientId || e.apiKey !== 1) return;
    const res = e.response as { responses: Array<{ partitions: Array<{ records: Buffer | null }> }> };
    fetched += res.responses.flatMap((t) => t.partitions).reduce((n, p) => n + (p.records?.length ?? 0), 0);
  };
  const consumer = kafka(clientId).consumer({ groupId: 'precise-group', maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'c-source', fromBeginning: true });
    await consumer.run({ eachBatch: async () => {} });
    const rate = await measure(() => fetched);
    assertNearQuota(t, rate, 'kafkajs consumer');
    assert.ok(
      seen.events.some((e) => e.apiKey === 1 && e.throttleMs > 0),
      'fetch responses carry throttle_time_ms',
    );
  } finally {
    env.broker.broker.requestObserver = prev;
    seen.stop();
    await consumer.disconnect();
    await setQuota([['client-id', clientId]], 'consumer_byte_rate', null);
  }
});
