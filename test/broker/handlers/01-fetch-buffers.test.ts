/**
 * Consumer fetches read file ranges into reused slabs (storage/read-buffers.ts) given back once the response is
 * in the socket: many fetches in flight at once on one connection, over two partitions, each answer must hold
 * exactly the batches at its offset (a slab reused too early would carry another answer's bytes).
 */
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import {
  encodeFetchRequest,
  defaultFetchRequest,
  defaultFetchPartition,
} from '../../../protocol/generated/fetch-request.js';
import { decodeFetchResponse } from '../../../protocol/generated/fetch-response.js';
import { responseHeaderVersion } from '../../../protocol/generated/apis.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { RecordBatch } from '../../../protocol/records/batch.js';
import { fetchReadBuffers } from '../../../storage/read-buffers.js';
import { partitionOf } from '../../helpers/partitions.js';

const BATCHES = 8;
const VALUE = 150 * 1024; // each read is above the pooled minimum (64 KiB)
const value = (p: number, i: number): string => `p${p}-b${i}-`.repeat(VALUE / 8).slice(0, VALUE);

const env = useBrokerAndClient({
  topics: [{ name: 'slabs', partitions: 2 }],
  config: { 'log.tail.cache.max.bytes': 0 }, // every fetch reads the log (not the latest appends from memory)
  setup: async (b) => {
    for (const p of [0, 1]) {
      const log = partitionOf(b.broker, 'slabs', p);
      for (let i = 0; i < BATCHES; i++) await log.appendAsLeader(await buildRecordBatch([{ value: value(p, i) }]));
    }
  },
});

test('fetches in flight at once each get their own batches from reused read buffers', async () => {
  const v = 12;
  const topicId = env.broker.broker.metadata.image.topic('slabs')?.topicId ?? '';
  const sent: { id: number; offset: number }[] = [];
  // The client reads nothing until every request is sent and the broker has had time to answer: the answers
  // pile up in the broker's socket (~2.4 MB a round), still referencing their slabs while later fetches read.
  env.client.socket.pause();
  for (let round = 0; round < 6; round++) {
    for (let offset = 0; offset < BATCHES; offset++) {
      const r = defaultFetchRequest();
      r.replicaId = -1;
      r.maxWaitMs = 0;
      r.minBytes = 1;
      r.maxBytes = 1 << 20;
      r.sessionEpoch = -1;
      const parts = [0, 1].map((p) => {
        const fp = defaultFetchPartition();
        fp.partition = p;
        fp.fetchOffset = BigInt(offset);
        fp.partitionMaxBytes = VALUE + 1024; // one batch each
        return fp;
      });
      r.topics.push({ topic: 'slabs', topicId, partitions: parts });
      sent.push({ id: env.client.send(1, v, (w) => encodeFetchRequest(w, v, r)), offset });
    }
  }
  await sleep(1000);
  env.client.socket.resume();
  for (const s of sent) {
    const res = await env.client.response(responseHeaderVersion(1, v), 30_000);
    assert.ok(res, 'a response');
    assert.equal(res.correlationId, s.id);
    const body = decodeFetchResponse(res.body, v);
    const parts = body.responses[0].partitions;
    assert.equal(parts.length, 2);
    for (const part of parts) {
      assert.equal(part.errorCode, 0);
      const records = part.records ?? Buffer.alloc(0);
      const batch = RecordBatch.at(records, 0);
      assert.equal(batch.size, records.length, 'exactly one whole batch');
      assert.equal(Number(batch.baseOffset), s.offset);
      const [rec] = await batch.recordsArray();
      assert.equal(rec.value?.toString(), value(part.partitionIndex, s.offset));
    }
  }
  assert.ok(fetchReadBuffers.idle > 0, 'the slabs went back to the pool after the responses were written');
});
