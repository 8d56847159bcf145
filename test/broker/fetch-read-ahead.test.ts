import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FetchReadAhead, type AheadRead } from '../../broker/fetch-read-ahead.js';
import type { Partition, PartitionReadResult } from '../../replication/partition.js';

const part = {} as Partition;
const other = {} as Partition;
const result = (n: number): Promise<PartitionReadResult> =>
  Promise.resolve({
    errorCode: 0,
    records: Buffer.alloc(n),
    highWatermark: 0,
    logStartOffset: 0,
    logEndOffset: 0,
    lastStableOffset: 0,
  });

test('reads start at most `window` items ahead, each is taken once and only for its partition', () => {
  const startedAt: number[] = [];
  const ahead = new FetchReadAhead(
    10,
    (j): AheadRead | undefined => {
      startedAt.push(j);
      return j === 3 ? undefined : { part, maxBytes: 100, result: result(10) };
    },
    2,
  );
  assert.ok(ahead.take(0, part));
  assert.deepEqual(startedAt, [0, 1, 2]);
  assert.equal(ahead.take(0, part), undefined, 'taken once');
  assert.equal(ahead.take(1, other), undefined, 'another partition (the item was re-resolved) reads again');
  assert.equal(ahead.take(3, part), undefined, 'an item not started ahead');
  assert.deepEqual(startedAt, [0, 1, 2, 3, 4, 5]);
});

test('a failed read that is never taken is not an unhandled rejection', async () => {
  const ahead = new FetchReadAhead(2, () => ({ part, maxBytes: 1, result: Promise.reject(new Error('boom')) }));
  assert.ok(ahead.take(0, other) === undefined);
  await new Promise((r) => setImmediate(r));
});

test('usable: the same call, or records within the room a sequential read had', () => {
  // First partition with data and the full partition budget: the very same read.
  assert.equal(FetchReadAhead.usable(Buffer.alloc(500), 100, 100, true), true);
  // Oversized first batch (minOneBatch) is not what a later partition may return.
  assert.equal(FetchReadAhead.usable(Buffer.alloc(500), 100, 100, false), false);
  // Less room left in the response: usable only if the records fit it.
  assert.equal(FetchReadAhead.usable(Buffer.alloc(50), 100, 60, false), true);
  assert.equal(FetchReadAhead.usable(Buffer.alloc(80), 100, 60, false), false);
  assert.equal(FetchReadAhead.usable(Buffer.alloc(80), 100, 60, true), false);
});
