/**
 * PartitionBatcher (group commit of __consumer_offsets writes): the writes of one event-loop turn go to each
 * partition as one append in submission order, a failed append fails exactly the writes of its batch, and a
 * write over the size cap goes alone (so it fails alone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionBatcher } from '../../../broker/groups/offsets-batcher.js';
import type { InternalRecord } from '../../../broker/internal-topic.js';
import { InjectedFaultError } from '../../../protocol/errors.js';

const rec = (k: string, bytes = 1): InternalRecord => ({
  key: Buffer.from(k),
  value: Buffer.alloc(bytes),
  timestamp: 1,
});

test('writes of one turn go to each partition as one append, in order', async () => {
  const appends: { partition: number; keys: string[] }[] = [];
  const b = new PartitionBatcher(async (partition, records) => {
    appends.push({ partition, keys: records.map((r) => r.key.toString()) });
  });
  await Promise.all([
    b.submit(0, [rec('a1'), rec('a2')]),
    b.submit(1, [rec('b1')]),
    b.submit(0, [rec('a3')]),
    b.submit(1, [rec('b2'), rec('b3')]),
  ]);
  assert.deepEqual(appends, [
    { partition: 0, keys: ['a1', 'a2', 'a3'] },
    { partition: 1, keys: ['b1', 'b2', 'b3'] },
  ]);
  // A later turn is a new batch.
  await b.submit(0, [rec('a4')]);
  assert.deepEqual(appends.at(-1), { partition: 0, keys: ['a4'] });
  assert.equal(appends.length, 3);
});

test('a failed append rejects the writes of its batch only', async () => {
  const b = new PartitionBatcher(async (partition) => {
    if (partition === 1) throw new InjectedFaultError('partition 1 is down');
  });
  const results = await Promise.allSettled([
    b.submit(0, [rec('a')]),
    b.submit(1, [rec('b')]),
    b.submit(1, [rec('c')]),
    b.submit(2, [rec('d')]),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
  );
  // A synchronous throw of the append is a rejection too.
  const sync = new PartitionBatcher(() => {
    throw new InjectedFaultError('sync');
  });
  await assert.rejects(sync.submit(0, [rec('x')]), /sync/);
});

test('the size cap splits batches between writes, never inside one; an oversized write goes alone', async () => {
  const appends: string[][] = [];
  const b = new PartitionBatcher(async (_p, records) => {
    appends.push(records.map((r) => r.key.toString()));
  }, 200);
  await Promise.all([
    b.submit(0, [rec('s1', 50)]),
    b.submit(0, [rec('s2', 50)]),
    b.submit(0, [rec('big1', 300), rec('big2', 10)]),
    b.submit(0, [rec('s3', 50)]),
  ]);
  assert.deepEqual(appends, [['s1', 's2'], ['big1', 'big2'], ['s3']]);
});
