import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { testBroker, call } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  encodeApiVersionsRequest,
  defaultApiVersionsRequest,
} from '../../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../../protocol/generated/api-versions-response.js';
import {
  defaultInitProducerIdRequest,
  encodeInitProducerIdRequest,
  type InitProducerIdRequest,
} from '../../../protocol/generated/init-producer-id-request.js';
import {
  decodeInitProducerIdResponse,
  type InitProducerIdResponse,
} from '../../../protocol/generated/init-producer-id-response.js';
import { encodeProduceRequest } from '../../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../../protocol/generated/produce-response.js';
import { buildRecordBatchSync } from '../../../protocol/records/builder.js';
import type { RunningBroker } from '../../../broker/index.js';

const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function started(dataDir?: string): Promise<{ b: RunningBroker; c: RawClient }> {
  const b = await testBroker(dataDir ? { dataDir, topics: ['t'] } : { topics: ['t'] });
  const c = await RawClient.connect(b.port);
  cleanup.push(
    () => b.stop(),
    () => c.close(),
  );
  return { b, c };
}

function init(c: RawClient, v: number, over: Partial<InitProducerIdRequest> = {}): Promise<InitProducerIdResponse> {
  return call(c, 22, v, encodeInitProducerIdRequest, decodeInitProducerIdResponse, {
    ...defaultInitProducerIdRequest(),
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    ...over,
  });
}

async function produce(
  c: RawClient,
  pid: bigint,
  epoch: number,
  seq: number,
  values: string[],
): Promise<{ errorCode: number; baseOffset: bigint }> {
  const records = buildRecordBatchSync(
    values.map((value) => ({ value })),
    { producerId: pid, producerEpoch: epoch, baseSequence: seq },
  );
  const r = await call(c, 0, 9, encodeProduceRequest, decodeProduceResponse, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }],
  });
  const p = r.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: p.baseOffset };
}

test('advertised as 0-5 (v6, KIP-939 two-phase commit, is not)', async () => {
  const { c } = await started();
  const r = await call(c, 18, 3, encodeApiVersionsRequest, decodeApiVersionsResponse, {
    ...defaultApiVersionsRequest(),
    clientSoftwareName: 'x',
    clientSoftwareVersion: '1',
  });
  const k = r.apiKeys.find((a) => a.apiKey === 22)!;
  assert.deepEqual([k.minVersion, k.maxVersion], [0, 5]);
});

test('v0-v5 idempotent producers get fresh ids with epoch 0; ids stay unique across restarts', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'runnel-pid-'));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const first = await started(dataDir);
  const ids: bigint[] = [];
  for (let v = 0; v <= 5; v++) {
    const r = await init(first.c, v);
    assert.deepEqual([r.errorCode, r.producerEpoch], [0, 0]);
    ids.push(r.producerId);
  }
  // KIP-360 (v3+): sending the current id and epoch still gets a new id, as Kafka answers idempotent producers.
  const again = await init(first.c, 4, { producerId: ids[5]!, producerEpoch: 0 });
  assert.deepEqual([again.errorCode, again.producerEpoch], [0, 0]);
  ids.push(again.producerId);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.every((id) => id >= 0n));
  assert.match(await readFile(join(dataDir, 'producer-id-block'), 'utf8'), /^version=1\nnext\.block\.start=\d+\n$/);
  first.c.close();
  await first.b.stop();
  const second = await started(dataDir);
  const after = await init(second.c, 5);
  assert.equal(after.errorCode, 0);
  assert.ok(
    ids.every((id) => after.producerId > id),
    `${after.producerId} is new`,
  );
});

test('a producer id without an epoch (or the reverse) is INVALID_REQUEST', async () => {
  const { c } = await started();
  assert.equal((await init(c, 3, { producerId: -1n, producerEpoch: 2 })).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal((await init(c, 3, { producerId: 5n, producerEpoch: -1 })).errorCode, ErrorCode.INVALID_REQUEST);
});

test('Produce with the id: retries get the original offset, gaps and stale epochs are refused', async () => {
  const { c, b } = await started();
  const { producerId } = await init(c, 4);
  assert.deepEqual(await produce(c, producerId, 0, 0, ['a', 'b']), { errorCode: 0, baseOffset: 0n });
  assert.deepEqual(await produce(c, producerId, 0, 2, ['c']), { errorCode: 0, baseOffset: 2n });
  assert.deepEqual(await produce(c, producerId, 0, 0, ['a', 'b']), { errorCode: 0, baseOffset: 0n }, 'duplicate');
  assert.deepEqual(await produce(c, producerId, 0, 5, ['x']), {
    errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    baseOffset: -1n,
  });
  assert.deepEqual(
    await produce(c, producerId, 1, 0, ['d']),
    { errorCode: 0, baseOffset: 3n },
    'a bumped epoch restarts at 0',
  );
  assert.deepEqual(await produce(c, producerId, 0, 3, ['y']), {
    errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
    baseOffset: -1n,
  });
  assert.equal(b.broker.logs.getLog('t', 0)!.logEndOffset, 4);
});

test('a transactional id is handed to the transaction coordinator', async () => {
  const { c } = await started();
  const r1 = await init(c, 3, { transactionalId: 'tx-a' });
  assert.equal(r1.errorCode, 0);
  assert.ok(r1.producerId >= 0n);
  const r2 = await init(c, 3, { transactionalId: 'tx-a' });
  assert.equal(r2.errorCode, 0);
  assert.equal(r2.producerId, r1.producerId);
  assert.equal(r2.producerEpoch, r1.producerEpoch + 1, 'a second init fences the first by bumping the epoch');
});
