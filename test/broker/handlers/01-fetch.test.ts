import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  encodeFetchRequest,
  defaultFetchRequest,
  defaultFetchPartition,
  type FetchRequest,
} from '../../../protocol/generated/fetch-request.js';
import { decodeFetchResponse, type FetchResponse } from '../../../protocol/generated/fetch-response.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { readMessageSet } from '../../../protocol/records/legacy.js';
import { RecordBatch } from '../../../protocol/records/batch.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { partitionOf } from '../../helpers/partitions.js';

const env = useBrokerAndClient({
  topics: [{ name: 'f', partitions: 2 }],
  setup: async (b) => {
    const log = partitionOf(b.broker, 'f', 0);
    for (let i = 0; i < 5; i++)
      await log.appendAsLeader(await buildRecordBatch([{ key: `k${i}`, value: `v${i}`.padEnd(200, '.') }]));
  },
});

function fetchReq(
  parts: { topic: string; partition: number; offset: number; maxBytes?: number }[],
  o: Partial<FetchRequest> = {},
): FetchRequest {
  const r = defaultFetchRequest();
  r.replicaId = -1;
  r.maxWaitMs = 0;
  r.minBytes = 1;
  r.maxBytes = 1 << 20;
  r.sessionEpoch = -1;
  for (const p of parts) {
    const fp = defaultFetchPartition();
    fp.partition = p.partition;
    fp.fetchOffset = BigInt(p.offset);
    fp.partitionMaxBytes = p.maxBytes ?? 1 << 20;
    const topicId = env.broker.broker.metadata.image.topic(p.topic)?.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA';
    const last = r.topics[r.topics.length - 1];
    if (last && last.topic === p.topic) last.partitions.push(fp);
    else r.topics.push({ topic: p.topic, topicId, partitions: [fp] });
  }
  return Object.assign(r, o);
}

const fetch = (v: number, req: FetchRequest, timeoutMs?: number): Promise<FetchResponse> =>
  call(env.client, 1, v, encodeFetchRequest, decodeFetchResponse, req, timeoutMs);

async function values(records: Buffer | null): Promise<string[]> {
  const out: string[] = [];
  if (!records) return out;
  let pos = 0;
  while (pos + 61 <= records.length) {
    const batch = RecordBatch.at(records, pos);
    if (pos + batch.size > records.length) break;
    for (const r of await batch.recordsArray()) out.push(r.value!.toString().replace(/\.+$/, ''));
    pos += batch.size;
  }
  return out;
}

test('every version 4-17 reads the stored batches from an offset', async () => {
  for (let v = 4; v <= 17; v++) {
    const res = await fetch(v, fetchReq([{ topic: 'f', partition: 0, offset: 2 }]));
    assert.equal(res.errorCode, 0);
    const p = res.responses[0].partitions[0];
    assert.equal(p.errorCode, 0, `v${v}`);
    assert.equal(p.highWatermark, 5n);
    assert.deepEqual(await values(p.records), ['v2', 'v3', 'v4'], `v${v}`);
    if (v >= 13) assert.equal(res.responses[0].topicId, env.broker.broker.metadata.image.topic('f')!.topicId);
  }
});

test('v0-v3 fetchers get message format 0/1 (down-conversion)', async () => {
  for (const v of [0, 1, 2, 3]) {
    const res = await fetch(v, fetchReq([{ topic: 'f', partition: 0, offset: 3 }]));
    const p = res.responses[0].partitions[0];
    assert.equal(p.errorCode, 0);
    const { records } = await readMessageSet(p.records!);
    assert.deepEqual(
      records.map((r) => [Number(r.offset), r.value!.toString().replace(/\.+$/, '')]),
      [
        [3, 'v3'],
        [4, 'v4'],
      ],
      `v${v}`,
    );
    assert.equal(records[0].magic, v < 2 ? 0 : 1);
  }
});

test('limits: at least one whole batch, then partition and response maxBytes', async () => {
  const one = await fetch(11, fetchReq([{ topic: 'f', partition: 0, offset: 0, maxBytes: 10 }]));
  assert.deepEqual(
    await values(one.responses[0].partitions[0].records),
    ['v0'],
    'first batch even above partitionMaxBytes',
  );
  const capped = await fetch(11, fetchReq([{ topic: 'f', partition: 0, offset: 0 }], { maxBytes: 600 }));
  assert.ok((await values(capped.responses[0].partitions[0].records)).length <= 3);
});

test('out of range and unknown partitions are per-partition errors', async () => {
  const res = await fetch(
    11,
    fetchReq([
      { topic: 'f', partition: 0, offset: 99 },
      { topic: 'f', partition: 7, offset: 0 },
      { topic: 'zz', partition: 0, offset: 0 },
    ]),
  );
  const codes = res.responses.flatMap((t) => t.partitions.map((p) => p.errorCode));
  assert.deepEqual(codes, [
    ErrorCode.OFFSET_OUT_OF_RANGE,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ]);
});

test('long polling waits for minBytes and a produce wakes it at once', async () => {
  const t0 = Date.now();
  const empty = await fetch(11, fetchReq([{ topic: 'f', partition: 1, offset: 0 }], { maxWaitMs: 300, minBytes: 1 }));
  assert.ok(Date.now() - t0 >= 250, 'waited maxWaitMs with nothing to read');
  assert.equal(empty.responses[0].partitions[0].records?.length ?? 0, 0);
  const waiting = fetch(
    11,
    fetchReq([{ topic: 'f', partition: 1, offset: 0 }], { maxWaitMs: 8000, minBytes: 1 }),
    15_000,
  );
  await new Promise((r) => setTimeout(r, 100));
  const t1 = Date.now();
  await partitionOf(env.broker.broker, 'f', 1).appendAsLeader(await buildRecordBatch([{ value: 'wake' }]));
  const res = await waiting;
  assert.ok(Date.now() - t1 < 2000, `answered ${Date.now() - t1} ms after the append`);
  assert.deepEqual(await values(res.responses[0].partitions[0].records), ['wake']);
});

test('incremental fetch sessions (KIP-227)', async () => {
  const full = await fetch(
    11,
    fetchReq(
      [
        { topic: 'f', partition: 0, offset: 5 },
        { topic: 'f', partition: 1, offset: 1 },
      ],
      { sessionId: 0, sessionEpoch: 0 },
    ),
  );
  assert.ok(full.sessionId > 0);
  assert.equal(full.responses[0].partitions.length, 2, 'a full response lists every partition');
  // Nothing changed: the incremental response is empty.
  const inc = await fetch(11, fetchReq([], { sessionId: full.sessionId, sessionEpoch: 1 }));
  assert.equal(inc.errorCode, 0);
  assert.equal(inc.responses.length, 0);
  // New data on partition 1 only: only it is listed.
  await partitionOf(env.broker.broker, 'f', 1).appendAsLeader(await buildRecordBatch([{ value: 'inc' }]));
  const inc2 = await fetch(11, fetchReq([], { sessionId: full.sessionId, sessionEpoch: 2 }));
  assert.deepEqual(
    inc2.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex)),
    [1],
  );
  assert.deepEqual(await values(inc2.responses[0].partitions[0].records), ['inc']);
  // Wrong epoch, unknown session.
  assert.equal(
    (await fetch(11, fetchReq([], { sessionId: full.sessionId, sessionEpoch: 7 }))).errorCode,
    ErrorCode.INVALID_FETCH_SESSION_EPOCH,
  );
  assert.equal(
    (await fetch(11, fetchReq([], { sessionId: 123456, sessionEpoch: 1 }))).errorCode,
    ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  );
  // Forgetting a partition removes it; closing the session with epoch -1.
  const forget = fetchReq([], { sessionId: full.sessionId, sessionEpoch: 3 });
  forget.forgottenTopicsData = [
    { topic: 'f', topicId: env.broker.broker.metadata.image.topic('f')!.topicId, partitions: [0] },
  ];
  await fetch(11, forget);
  await fetch(11, fetchReq([], { sessionId: full.sessionId, sessionEpoch: -1 }));
  assert.equal(
    (await fetch(11, fetchReq([], { sessionId: full.sessionId, sessionEpoch: 5 }))).errorCode,
    ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  );
});

test('a partition with an error carries an empty record set, never null, and -1 offsets, in all versions', async () => {
  for (let v = 0; v <= 17; v++) {
    const parts = [
      { topic: 'f', partition: 0, offset: 99 },
      { topic: 'f', partition: 7, offset: 0 },
      { topic: 'zz', partition: 0, offset: 0 },
    ];
    const req = fetchReq(parts);
    if (v >= 9) req.topics[0].partitions[0].currentLeaderEpoch = 0;
    const res = await fetch(v, req);
    assert.equal(res.errorCode, 0);
    const got = res.responses.flatMap((t) => t.partitions);
    assert.deepEqual(
      got.map((p) => p.errorCode),
      [
        ErrorCode.OFFSET_OUT_OF_RANGE,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        v >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ],
      `v${v}`,
    );
    for (const p of got) {
      assert.ok(p.records !== null, `v${v}: records of partition ${p.partitionIndex} are not null`);
      assert.equal(p.records.length, 0);
      assert.equal(p.highWatermark, -1n);
      if (v >= 4) assert.equal(p.lastStableOffset, -1n);
      if (v >= 5) assert.equal(p.logStartOffset, -1n);
    }
  }
  // A leader epoch from the future (v9+): UNKNOWN_LEADER_EPOCH, same shape.
  for (const v of [9, 12, 16]) {
    const req = fetchReq([{ topic: 'f', partition: 0, offset: 0 }]);
    req.topics[0].partitions[0].currentLeaderEpoch = 5;
    const p = (await fetch(v, req)).responses[0].partitions[0];
    assert.equal(p.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
    assert.ok(p.records !== null && p.records.length === 0, `v${v}`);
  }
});

test('a partition left out by the response size limit has an empty record set, not null', async () => {
  for (const v of [4, 11, 12, 13, 17]) {
    const res = await fetch(
      v,
      fetchReq(
        [
          { topic: 'f', partition: 0, offset: 0 },
          { topic: 'f', partition: 1, offset: 0 },
        ],
        { maxBytes: 1 },
      ),
    );
    const [p0, p1] = res.responses[0].partitions;
    assert.deepEqual(await values(p0.records), ['v0'], `v${v}`);
    assert.equal(p1.errorCode, 0);
    assert.ok(p1.records !== null && p1.records.length === 0, `v${v}`);
  }
});

test('out of range answers at once; unknown partitions do not end the long poll of the others', async () => {
  const t0 = Date.now();
  const oor = await fetch(
    11,
    fetchReq(
      [
        { topic: 'f', partition: 0, offset: 99 },
        { topic: 'f', partition: 1, offset: 99 },
      ],
      { maxWaitMs: 5000 },
    ),
    10_000,
  );
  assert.ok(Date.now() - t0 < 2500, 'no wait');
  assert.equal(oor.responses[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  const t1 = Date.now();
  await fetch(11, fetchReq([{ topic: 'nope', partition: 0, offset: 0 }], { maxWaitMs: 5000 }), 10_000);
  assert.ok(Date.now() - t1 < 2500, 'nothing to wait on: no wait');
  const hw = env.broker.broker.logs.getLog('f', 1)!.highWatermark;
  const t2 = Date.now();
  const res = await fetch(
    11,
    fetchReq(
      [
        { topic: 'f', partition: 1, offset: hw },
        { topic: 'nope', partition: 0, offset: 0 },
      ],
      { maxWaitMs: 300 },
    ),
  );
  assert.ok(Date.now() - t2 >= 250, 'waited for data on f-1');
  assert.deepEqual(
    res.responses.map((t) => t.partitions[0].errorCode),
    [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
});

test('a replica fetch from a non-follower gets NOT_LEADER_OR_FOLLOWER (replicaId; v15+ ReplicaState)', async () => {
  for (const v of [4, 12, 14, 15, 17]) {
    const req = fetchReq([{ topic: 'f', partition: 0, offset: 0 }]);
    if (v >= 15) req.replicaState.replicaId = 7;
    else req.replicaId = 7;
    const res = await fetch(v, req);
    const p = res.responses[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, `v${v}`);
    assert.equal(p.records?.length ?? 0, 0, `v${v}`);
  }
  // The consumer path is unchanged.
  const ok = await fetch(12, fetchReq([{ topic: 'f', partition: 0, offset: 0 }]));
  assert.equal(ok.responses[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
});
