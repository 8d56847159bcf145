/**
 * RecordAccumulator (client/record-accumulator.ts): what append reports for the sender's timer, and the drain
 * order after batches found no room in a request (they come first in the next drain).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordAccumulator, type PendingRecord } from '../../client/record-accumulator.js';

const rec = (): PendingRecord => ({
  input: { key: null, value: Buffer.from('v'), headers: [], timestamp: 0 },
  timestamp: 0,
  resolve: () => undefined,
  reject: () => undefined,
});

test('append: linger for a new batch, 0 once a batch is full or followed, -1 otherwise or while in flight', () => {
  const acc = new RecordAccumulator(30, 100);
  assert.equal(acc.append('t', 0, rec(), 40), 30);
  assert.equal(acc.append('t', 0, rec(), 40), -1);
  assert.equal(acc.append('t', 0, rec(), 40), 0, 'does not fit: a new batch follows the first');
  assert.equal(acc.append('t', 0, rec(), 60), 0, 'full');
  const [b] = acc.drain();
  assert.equal(b!.records.length, 2);
  assert.equal(acc.append('t', 0, rec(), 10), -1, 'in flight: looked at when the batch completes');
  acc.beginFlush();
  assert.equal(acc.append('t', 1, rec(), 10), 0, 'flushing: due now');
  acc.endFlush();
});

test('drain starts with the batches that found no room in the last round', () => {
  const acc = new RecordAccumulator(0, 10);
  for (let p = 0; p < 4; p++) acc.append('t', p, rec(), 10);
  const first = acc.drain();
  assert.deepEqual(
    first.map((b) => b.partition),
    [0, 1, 2, 3],
  );
  for (const b of first.slice(0, 2)) acc.done(b);
  acc.requeueUnsent(first.slice(2)); // partitions 2 and 3 were not sent
  for (let p = 0; p < 2; p++) acc.append('t', p, rec(), 10);
  assert.deepEqual(
    acc.drain().map((b) => b.partition),
    [2, 3, 0, 1],
  );
  assert.equal(acc.pendingCount, 4);
});
