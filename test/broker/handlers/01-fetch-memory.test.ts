/**
 * fetch.memory.max.bytes (storage/read-buffers.ts): what consumer fetches in flight may read into memory
 * together. A fetch granted less than its maxBytes answers within the grant (at least one batch) and the rest
 * on the next fetch; with the default a single fetch gets its whole maxBytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import {
  encodeFetchRequest,
  defaultFetchRequest,
  defaultFetchPartition,
} from '../../../protocol/generated/fetch-request.js';
import { decodeFetchResponse } from '../../../protocol/generated/fetch-response.js';
import { responseHeaderVersion } from '../../../protocol/generated/apis.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { fetchReadBuffers, MIN_GRANT } from '../../../storage/read-buffers.js';
import { partitionOf } from '../../helpers/partitions.js';
import type { BrokerAndClient } from '../../helpers/test-broker.js';
import type { RunningBroker } from '../../../broker/index.js';

const VALUE = 600 * 1024;

const setup = async (b: RunningBroker): Promise<void> => {
  for (const p of [0, 1]) {
    const log = partitionOf(b.broker, 'mem', p);
    for (let i = 0; i < 3; i++) await log.appendAsLeader(await buildRecordBatch([{ value: Buffer.alloc(VALUE, i) }]));
  }
};

/** One Fetch v12 of both partitions from offset 0 (50 MiB, 2 MiB a partition): record bytes per partition. */
async function fetchBoth(env: BrokerAndClient): Promise<number[]> {
  const v = 12;
  const r = defaultFetchRequest();
  r.maxBytes = 50 << 20;
  const parts = [0, 1].map((p) => ({ ...defaultFetchPartition(), partition: p, partitionMaxBytes: 2 << 20 }));
  r.topics.push({ topic: 'mem', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: parts });
  env.client.send(1, v, (w) => encodeFetchRequest(w, v, r));
  const res = await env.client.response(responseHeaderVersion(1, v), 30_000);
  assert.ok(res);
  const body = decodeFetchResponse(res.body, v);
  return body.responses[0].partitions.map((p) => {
    assert.equal(p.errorCode, 0);
    return p.records?.length ?? 0;
  });
}

const small = useBrokerAndClient({
  config: { 'fetch.memory.max.bytes': MIN_GRANT },
  topics: [{ name: 'mem', partitions: 2 }],
  setup,
});

test('a fetch granted less than its maxBytes answers within the grant, at least one batch', async () => {
  const [p0, p1] = await fetchBoth(small);
  assert.ok(p0 > VALUE && p0 < 2 * VALUE, `one batch of partition 0: ${p0}`);
  assert.equal(p1, 0, 'no room left for partition 1');
  // The grant comes back in the broker's write callback (same event loop as this client): bounded wait.
  for (let i = 0; i < 100 && fetchReadBuffers.granted > 0; i++) await sleep(20);
  assert.equal(fetchReadBuffers.granted, 0, 'the grant came back once the answer was written');
});

const dflt = useBrokerAndClient({ topics: [{ name: 'mem', partitions: 2 }], setup });

test('with the default budget a fetch gets its whole maxBytes', async () => {
  const [p0, p1] = await fetchBoth(dflt);
  assert.ok(p0 > 3 * VALUE && p1 > 3 * VALUE, `all three batches of each: ${p0}, ${p1}`);
});
