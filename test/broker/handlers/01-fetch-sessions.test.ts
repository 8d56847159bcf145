/**
 * Fetch sessions (KIP-227) over the wire, case by case as Kafka's FetchManager answers them: new, incremental,
 * close (epoch -1), reset (a session id with epoch 0), unknown id, epoch mismatch, duplicate requests,
 * forgotten partitions and partitions added back, sessions emptied, topic ids (v13+), unknown topic ids,
 * and the rotation that keeps a response size limit from starving partitions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import {
  encodeFetchRequest,
  defaultFetchRequest,
  defaultFetchPartition,
  type FetchRequest,
} from '../../../protocol/generated/fetch-request.js';
import {
  decodeFetchResponse,
  type FetchResponse,
  type FetchResponsePartitionData,
} from '../../../protocol/generated/fetch-response.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { RecordBatch } from '../../../protocol/records/batch.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { partitionOf } from '../../helpers/partitions.js';

const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

const env = useBrokerAndClient({ topics: [{ name: 's', partitions: 3 }, { name: 't' }] });

async function append(topic: string, partition: number, values: string[]): Promise<void> {
  const b = env.broker.broker;
  for (const value of values)
    await partitionOf(b, topic, partition).appendAsLeader(await buildRecordBatch([{ value }]));
}

type Part = [topic: string, partition: number, offset: number];
interface Opts {
  sessionId?: number;
  epoch?: number;
  forget?: [topic: string, partition: number][];
  maxWaitMs?: number;
  maxBytes?: number;
  client?: RawClient;
  /** Topic id to send for every topic (v13+), instead of the real one. */
  topicId?: string;
}

function request(parts: Part[], o: Opts): FetchRequest {
  const r = defaultFetchRequest();
  r.replicaId = -1;
  r.maxWaitMs = o.maxWaitMs ?? 0;
  r.minBytes = 1;
  r.maxBytes = o.maxBytes ?? 1 << 20;
  r.sessionId = o.sessionId ?? 0;
  r.sessionEpoch = o.epoch ?? 0;
  const idOf = (topic: string): string => o.topicId ?? env.broker.broker.metadata.image.topic(topic)!.topicId;
  for (const [topic, partition, offset] of parts) {
    const fp = defaultFetchPartition();
    fp.partition = partition;
    fp.fetchOffset = BigInt(offset);
    fp.partitionMaxBytes = 1 << 20;
    const last = r.topics[r.topics.length - 1];
    if (last && last.topic === topic) last.partitions.push(fp);
    else r.topics.push({ topic, topicId: idOf(topic), partitions: [fp] });
  }
  for (const [topic, partition] of o.forget ?? []) {
    r.forgottenTopicsData.push({ topic, topicId: idOf(topic), partitions: [partition] });
  }
  return r;
}

function fetch(v: number, parts: Part[], o: Opts = {}): Promise<FetchResponse> {
  return call(o.client ?? env.client, 1, v, encodeFetchRequest, decodeFetchResponse, request(parts, o), 15_000);
}

/** The partitions of a response as "topic-partition" (by name, or "id-partition" in v13+). */
function listed(res: FetchResponse): string[] {
  const b = env.broker.broker;
  return res.responses.flatMap((t) =>
    t.partitions.map(
      (p) => `${t.topic || b.metadata.image.topicById(t.topicId)?.name || t.topicId}-${p.partitionIndex}`,
    ),
  );
}

function part(res: FetchResponse, topic: string, partition: number): FetchResponsePartitionData | undefined {
  const id = env.broker.broker.metadata.image.topic(topic)?.topicId;
  for (const t of res.responses) {
    if (t.topic !== topic && t.topicId !== id) continue;
    const p = t.partitions.find((x) => x.partitionIndex === partition);
    if (p) return p;
  }
  return undefined;
}

async function values(p: FetchResponsePartitionData | undefined): Promise<string[]> {
  const out: string[] = [];
  const records = p?.records;
  if (!records) return out;
  let pos = 0;
  while (pos + 61 <= records.length) {
    const batch = RecordBatch.at(records, pos);
    if (pos + batch.size > records.length) break;
    for (const r of await batch.recordsArray()) out.push(r.value!.toString());
    pos += batch.size;
  }
  return out;
}

test('setup: records in s-0 and s-1', async () => {
  await append('s', 0, ['a0', 'a1', 'a2']);
  await append('s', 1, ['b0', 'b1']);
});

for (const v of [7, 12, 13, 17]) {
  test(`v${v}: epoch 0 opens a session; incremental responses list only partitions with news`, async () => {
    const hw0 = env.broker.broker.logs.getLog('s', 0)!.highWatermark;
    const full = await fetch(v, [
      ['s', 0, hw0],
      ['s', 1, 0],
    ]);
    assert.equal(full.errorCode, 0);
    assert.ok(full.sessionId > 0, 'a session id');
    assert.deepEqual(listed(full), ['s-0', 's-1'], 'a full response lists every partition');
    assert.deepEqual(await values(part(full, 's', 1)), ['b0', 'b1']);
    const id = full.sessionId;
    // The client moves s-1 on past what it read; nothing else changed.
    const inc = await fetch(v, [['s', 1, 2]], { sessionId: id, epoch: 1 });
    assert.equal(inc.errorCode, 0);
    assert.equal(inc.sessionId, id);
    assert.deepEqual(listed(inc), []);
    const inc2 = await fetch(v, [], { sessionId: id, epoch: 2 });
    assert.deepEqual(listed(inc2), []);
    await append('s', 0, [`a-v${v}`]);
    const inc3 = await fetch(v, [], { sessionId: id, epoch: 3 });
    assert.deepEqual(listed(inc3), ['s-0']);
    assert.deepEqual(await values(part(inc3, 's', 0)), [`a-v${v}`]);
    // Closing with epoch -1: a full answer without a session.
    const hw = env.broker.broker.logs.getLog('s', 0)!.highWatermark;
    const close = await fetch(v, [['s', 0, hw]], { sessionId: id, epoch: -1 });
    assert.equal(close.errorCode, 0);
    assert.equal(close.sessionId, 0);
    assert.deepEqual(listed(close), ['s-0']);
    const gone = await fetch(v, [], { sessionId: id, epoch: 4 });
    assert.equal(gone.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });
}

test('a session id with epoch 0 closes that session and opens a new full one (how clients reset)', async () => {
  const first = await fetch(12, [['s', 0, 0]]);
  const inc = await fetch(12, [], { sessionId: first.sessionId, epoch: 1 });
  assert.equal(inc.errorCode, 0);
  const reset = await fetch(
    12,
    [
      ['s', 0, 1],
      ['s', 1, 0],
    ],
    { sessionId: first.sessionId, epoch: 0 },
  );
  assert.equal(reset.errorCode, 0, 'not INVALID_FETCH_SESSION_EPOCH');
  assert.ok(reset.sessionId > 0 && reset.sessionId !== first.sessionId, 'a new session');
  assert.deepEqual(listed(reset), ['s-0', 's-1'], 'a full response');
  assert.deepEqual((await values(part(reset, 's', 0))).slice(0, 2), ['a1', 'a2']);
  assert.equal(
    (await fetch(12, [], { sessionId: first.sessionId, epoch: 2 })).errorCode,
    ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
    'the old session is closed',
  );
  assert.equal((await fetch(12, [], { sessionId: reset.sessionId, epoch: 1 })).errorCode, 0);
  // A reset naming a session the broker no longer has (evicted, restarted) opens one too.
  const again = await fetch(12, [['s', 0, 0]], { sessionId: 123_456_789, epoch: 0 });
  assert.equal(again.errorCode, 0);
  assert.ok(again.sessionId > 0);
});

test('unknown session ids and wrong epochs are top-level errors with no partitions; the session survives', async () => {
  const unknown = await fetch(12, [['s', 0, 0]], { sessionId: 987_654_321, epoch: 1 });
  assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  assert.equal(unknown.sessionId, 0);
  assert.deepEqual(unknown.responses, []);
  const zero = await fetch(12, [['s', 0, 0]], { sessionId: 0, epoch: 3 });
  assert.equal(zero.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 'session id 0 with an epoch above 0');
  const s = await fetch(12, [['s', 0, 0]]);
  for (const epoch of [2, 7, -2]) {
    const bad = await fetch(12, [], { sessionId: s.sessionId, epoch });
    assert.equal(bad.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH, `epoch ${epoch}`);
    assert.equal(bad.sessionId, 0);
    assert.deepEqual(bad.responses, []);
  }
  assert.equal((await fetch(12, [], { sessionId: s.sessionId, epoch: 1 })).errorCode, 0, 'epoch 1 still expected');
  assert.equal((await fetch(12, [], { sessionId: s.sessionId, epoch: 1 })).errorCode, 71, 'epoch 1 was used');
  assert.equal((await fetch(12, [], { sessionId: s.sessionId, epoch: 2 })).errorCode, 0);
});

for (const v of [12, 13]) {
  test(`v${v}: a forgotten partition gets no answers; added back, it is served from the requested offset`, async () => {
    const base = env.broker.broker.logs.getLog('s', 2)!.highWatermark;
    await append('s', 2, ['c0', 'c1']);
    const full = await fetch(v, [
      ['s', 1, env.broker.broker.logs.getLog('s', 1)!.highWatermark],
      ['s', 2, base + 2],
    ]);
    const id = full.sessionId;
    const forget = await fetch(v, [], { sessionId: id, epoch: 1, forget: [['s', 2]] });
    assert.equal(forget.errorCode, 0);
    assert.equal(forget.sessionId, id, 's-1 keeps the session open');
    await append('s', 2, [`c2-v${v}`]);
    const after = await fetch(v, [], { sessionId: id, epoch: 2 });
    assert.deepEqual(listed(after), [], 'a forgotten partition is not read');
    // Added back from offset 1: its records from there, whatever the session knew before.
    const back = await fetch(v, [['s', 2, base + 1]], { sessionId: id, epoch: 3 });
    assert.deepEqual(listed(back), ['s-2']);
    assert.deepEqual(await values(part(back, 's', 2)), ['c1', `c2-v${v}`]);
    const hw = env.broker.broker.logs.getLog('s', 2)!.highWatermark;
    const quiet = await fetch(v, [['s', 2, hw]], { sessionId: id, epoch: 4 });
    assert.deepEqual(listed(quiet), [], 'no news');
    // Long polling wakes up for the partition added back.
    const waiting = fetch(v, [], { sessionId: id, epoch: 5, maxWaitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    await append('s', 2, [`c3-v${v}`]);
    const woke = await waiting;
    assert.deepEqual(listed(woke), ['s-2']);
    assert.deepEqual(await values(part(woke, 's', 2)), [`c3-v${v}`]);
  });
}

test('a partition listed and forgotten in one request ends up forgotten (Kafka applies the list first)', async () => {
  const full = await fetch(12, [
    ['s', 0, env.broker.broker.logs.getLog('s', 0)!.highWatermark],
    ['s', 1, 0],
  ]);
  const both = await fetch(12, [['s', 1, 0]], { sessionId: full.sessionId, epoch: 1, forget: [['s', 1]] });
  assert.equal(both.errorCode, 0);
  assert.deepEqual(listed(both), []);
  await append('s', 1, ['b-both']);
  const next = await fetch(12, [], { sessionId: full.sessionId, epoch: 2 });
  assert.deepEqual(listed(next), [], 's-1 is no longer in the session');
});

test('forgetting every partition closes the session; the request is answered without one', async () => {
  const full = await fetch(12, [['s', 0, 0]]);
  const empty = await fetch(12, [], { sessionId: full.sessionId, epoch: 1, forget: [['s', 0]] });
  assert.equal(empty.errorCode, 0);
  assert.equal(empty.sessionId, 0);
  assert.equal(
    (await fetch(12, [], { sessionId: full.sessionId, epoch: 2 })).errorCode,
    ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  );
});

test('a session opened with topic ids (v13+) is not usable below v13, nor the reverse', async () => {
  const byId = await fetch(13, [['s', 0, 0]]);
  const low = await fetch(12, [], { sessionId: byId.sessionId, epoch: 1 });
  assert.equal(low.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
  assert.deepEqual(low.responses, []);
  assert.equal((await fetch(16, [], { sessionId: byId.sessionId, epoch: 1 })).errorCode, 0);
  const byName = await fetch(12, [['s', 0, 0]]);
  assert.equal(
    (await fetch(13, [], { sessionId: byName.sessionId, epoch: 1 })).errorCode,
    ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
  );
});

test('v13+: an unknown topic id is UNKNOWN_TOPIC_ID with empty records, in every answer of the session', async () => {
  const full = await fetch(13, [['s', 1, env.broker.broker.logs.getLog('s', 1)!.highWatermark]]);
  const add = await fetch(13, [['s', 0, 0]], { sessionId: full.sessionId, epoch: 1, topicId: UNKNOWN_ID });
  assert.equal(add.errorCode, 0);
  assert.equal(add.responses.length, 1);
  assert.equal(add.responses[0].topicId, UNKNOWN_ID);
  const p = add.responses[0].partitions[0];
  assert.equal(p.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  assert.ok(p.records !== null && p.records.length === 0, 'empty, not null, records');
  assert.equal(p.highWatermark, -1n);
  // Errors are always news; the known partition is not listed (nothing new), and the unknown one does
  // not end the long poll early for the others: the answer comes after maxWaitMs.
  const t0 = Date.now();
  const inc = await fetch(13, [], { sessionId: full.sessionId, epoch: 2, maxWaitMs: 300 });
  assert.ok(Date.now() - t0 >= 250, 'waited for data on s-1');
  assert.deepEqual(
    inc.responses.map((t) => [t.topicId, t.partitions.map((x) => x.errorCode)]),
    [[UNKNOWN_ID, [ErrorCode.UNKNOWN_TOPIC_ID]]],
  );
  // Forgotten by id, it leaves the session.
  const forget = await fetch(13, [], { sessionId: full.sessionId, epoch: 3, forget: [['s', 0]], topicId: UNKNOWN_ID });
  assert.deepEqual(listed(forget), []);
});

test('a request that waited while another used its session epoch gets INVALID_FETCH_SESSION_EPOCH', async () => {
  const other = await RawClient.connect(env.broker.port);
  try {
    const hw = env.broker.broker.logs.getLog('t', 0)!.highWatermark;
    const full = await fetch(12, [['t', 0, hw]]);
    const waiting = fetch(12, [], { sessionId: full.sessionId, epoch: 1, maxWaitMs: 800 });
    await new Promise((r) => setTimeout(r, 100));
    const second = await fetch(12, [], { sessionId: full.sessionId, epoch: 2, client: other });
    assert.equal(second.errorCode, 0);
    const first = await waiting;
    assert.equal(first.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    assert.equal(first.sessionId, full.sessionId);
    assert.deepEqual(first.responses, []);
  } finally {
    other.close();
  }
});

test('partitions that returned records move to the end of the session: a small response limit serves all', async () => {
  await append('t', 0, ['t0', 't1', 't2', 't3']);
  const hw = env.broker.broker.logs.getLog('s', 1)!.highWatermark;
  await append('s', 1, ['x0', 'x1', 'x2', 'x3']);
  // maxBytes 1: one batch per response (the first partition with data), as KIP-74 allows.
  const full = await fetch(12, [
    ['t', 0, 0],
    ['s', 1, hw],
  ]);
  const id = full.sessionId;
  const offsets = new Map<string, number>([
    ['t-0', 0],
    ['s-1', hw],
  ]);
  const served: string[] = [];
  for (let epoch = 1; epoch <= 4; epoch++) {
    const parts: Part[] = [...offsets].map(([k, o]) => [k.split('-')[0], Number(k.split('-')[1]), o]);
    const res = await fetch(12, parts, { sessionId: id, epoch, maxBytes: 1 });
    assert.equal(res.errorCode, 0);
    for (const [topic, partition] of [
      ['t', 0],
      ['s', 1],
    ] as const) {
      const got = await values(part(res, topic, partition));
      if (got.length > 0) {
        served.push(`${topic}-${partition}`);
        offsets.set(`${topic}-${partition}`, offsets.get(`${topic}-${partition}`)! + got.length);
      }
    }
  }
  assert.deepEqual(served, ['t-0', 's-1', 't-0', 's-1'], 'served in turn, neither starves');
});
