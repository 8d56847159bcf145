import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidProducerEpochError,
  OutOfOrderSequenceError,
  ProducerStateError,
  ProducerStateManager,
  lastSequenceOf,
} from '../../storage/producer-state.js';
import type { DataBatchInfo } from '../../storage/producer-state.js';
import { decodeSnapshot, encodeSnapshot } from '../../storage/producer-snapshot.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';

const INT32_MAX = 2147483647;
const batch = (
  producerId: number,
  epoch: number,
  baseSeq: number,
  count: number,
  o: Partial<DataBatchInfo> = {},
): DataBatchInfo => ({
  producerId,
  epoch,
  baseSeq,
  lastOffsetDelta: count - 1,
  maxTimestamp: 1000,
  transactional: false,
  ...o,
});

/** Apply one batch in its own stage and commit it; returns the duplicate, if any. */
function add(
  m: ProducerStateManager,
  b: DataBatchInfo,
  firstOffset: number,
): ReturnType<ReturnType<ProducerStateManager['stage']>['addData']> {
  const s = m.stage();
  const dup = s.addData(b, firstOffset, 'client');
  m.commit(s);
  return dup;
}

test('in-sequence batches are accepted and the last five are remembered for duplicates', () => {
  const m = new ProducerStateManager();
  for (let i = 0; i < 7; i++) assert.equal(add(m, batch(7, 0, i * 2, 2), i * 2), undefined);
  const e = m.lookup(7)!;
  assert.equal(e.batches.length, 5);
  assert.deepEqual(
    e.batches.map((b) => b.firstSeq),
    [4, 6, 8, 10, 12],
  );
  // A retry of the fifth-newest batch is a duplicate with its original offsets.
  const dup = add(m, batch(7, 0, 4, 2), 99);
  assert.deepEqual(dup && [dup.firstOffset, dup.lastOffset], [4, 5]);
  // Older than the last five: an out-of-order sequence, not a duplicate.
  assert.throws(() => add(m, batch(7, 0, 2, 2), 99), OutOfOrderSequenceError);
  // Same first sequence but different length: not a duplicate.
  assert.throws(() => add(m, batch(7, 0, 12, 1), 99), OutOfOrderSequenceError);
});

test('gaps, stale epochs and new epochs', () => {
  const m = new ProducerStateManager();
  add(m, batch(1, 3, 0, 5), 0);
  assert.throws(
    () => add(m, batch(1, 3, 6, 1), 5),
    (e: unknown) => e instanceof OutOfOrderSequenceError && e.kafkaCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.throws(
    () => add(m, batch(1, 2, 5, 1), 5),
    (e: unknown) => e instanceof InvalidProducerEpochError && e.kafkaCode === ErrorCode.INVALID_PRODUCER_EPOCH,
  );
  assert.throws(() => add(m, batch(1, 4, 5, 1), 5), OutOfOrderSequenceError, 'a new epoch starts at 0');
  assert.equal(add(m, batch(1, 4, 0, 1), 5), undefined);
  assert.equal(m.lookup(1)!.epoch, 4);
  assert.equal(m.lookup(1)!.batches.length, 1, 'a new epoch forgets the old batches');
  // The old epoch's batches are no longer duplicates: a retry of them is fenced.
  assert.throws(() => add(m, batch(1, 3, 0, 5), 6), InvalidProducerEpochError);
});

test('an unknown producer is accepted at any sequence (Kafka 2.5+), but needs a sequence', () => {
  const m = new ProducerStateManager();
  assert.equal(add(m, batch(9, 0, 42, 3), 0), undefined);
  assert.equal(m.lookup(9)!.batches[0]!.lastSeq, 44);
  assert.throws(
    () => add(m, batch(10, 0, -1, 1), 3),
    (e: unknown) => e instanceof ProducerStateError && e.kafkaCode === ErrorCode.INVALID_RECORD,
  );
});

test('sequence numbers wrap at Int32 max', () => {
  assert.equal(lastSequenceOf(INT32_MAX - 1, 3), 1);
  assert.equal(lastSequenceOf(INT32_MAX, 0), INT32_MAX);
  const m = new ProducerStateManager();
  add(m, batch(5, 0, INT32_MAX - 2, 3), 0); // INT32_MAX-2 .. INT32_MAX
  assert.throws(() => add(m, batch(5, 0, INT32_MAX, 1), 3), OutOfOrderSequenceError);
  assert.equal(add(m, batch(5, 0, 0, 2), 3), undefined);
  // A batch whose sequences wrap inside it.
  add(m, batch(6, 0, INT32_MAX - 1, 4), 5);
  assert.equal(m.lookup(6)!.batches.at(-1)!.lastSeq, 1);
  assert.equal(add(m, batch(6, 0, 2, 1), 9), undefined);
  assert.deepEqual(
    add(m, batch(6, 0, INT32_MAX - 1, 4), 20)?.firstOffset,
    5,
    'the wrapped batch is recognised as a duplicate',
  );
});

test('a failed stage leaves no trace; a child stage merges only when all its batches pass', () => {
  const m = new ProducerStateManager();
  add(m, batch(1, 0, 0, 1), 0);
  const group = m.stage();
  const one = m.stage(group);
  one.addData(batch(1, 0, 1, 1), 1, 'client');
  one.mergeInto(group);
  const two = m.stage(group);
  two.addData(batch(1, 0, 2, 1), 2, 'client'); // sees the group's pending batch
  assert.throws(() => two.addData(batch(1, 0, 9, 1), 3, 'client'), OutOfOrderSequenceError);
  assert.equal(m.lookup(1)!.batches.length, 1, 'nothing committed yet');
  m.commit(group);
  assert.deepEqual(
    m.lookup(1)!.batches.map((b) => b.firstSeq),
    [0, 1],
  );
});

test('transactions: start, INVALID_TXN_STATE, markers, LSO and coordinator/epoch fencing', () => {
  const m = new ProducerStateManager();
  add(m, batch(1, 0, 0, 2, { transactional: true }), 10);
  add(m, batch(2, 0, 0, 1, { transactional: true }), 12);
  add(m, batch(1, 0, 2, 1, { transactional: true }), 13);
  assert.equal(m.lookup(1)!.txnFirstOffset, 10);
  assert.equal(m.firstUnstableOffset(100), 10);
  assert.throws(
    () => add(m, batch(1, 0, 3, 1), 14),
    (e: unknown) => e instanceof ProducerStateError && e.kafkaCode === ErrorCode.INVALID_TXN_STATE,
  );

  let s = m.stage();
  assert.throws(
    () =>
      s.addMarker({ producerId: 1, epoch: -1 + 0, coordinatorEpoch: 0, commit: true, timestamp: 1 }, 14, 'coordinator'),
    InvalidProducerEpochError,
  );
  s = m.stage();
  const done = s.addMarker(
    { producerId: 1, epoch: 0, coordinatorEpoch: 3, commit: false, timestamp: 1 },
    14,
    'coordinator',
  );
  assert.deepEqual(done, { producerId: 1, firstOffset: 10, lastOffset: 14, aborted: true });
  m.commit(s);
  // The aborted transaction stays undecided until the high watermark passes its marker.
  assert.equal(m.firstUnstableOffset(14), 10);
  assert.equal(m.firstUnstableOffset(15), 12);
  assert.equal(m.stableOffsetAfter(done!), 12);
  s = m.stage();
  assert.throws(
    () => s.addMarker({ producerId: 1, epoch: 0, coordinatorEpoch: 2, commit: true, timestamp: 1 }, 15, 'coordinator'),
    (e: unknown) => e instanceof ProducerStateError && e.kafkaCode === ErrorCode.TRANSACTION_COORDINATOR_FENCED,
  );
  s = m.stage();
  s.addMarker({ producerId: 2, epoch: 0, coordinatorEpoch: 0, commit: true, timestamp: 1 }, 15, 'coordinator');
  m.commit(s);
  assert.equal(m.firstUnstableOffset(16), Infinity);
  // A marker without an open transaction completes nothing.
  s = m.stage();
  assert.equal(
    s.addMarker({ producerId: 2, epoch: 1, coordinatorEpoch: 0, commit: false, timestamp: 1 }, 16, 'coordinator'),
    undefined,
  );
});

test('stableOffsetAfter counts only ongoing transactions, not decided ones above the high watermark (as Kafka)', () => {
  const m = new ProducerStateManager();
  add(m, batch(1, 0, 0, 2, { transactional: true }), 10);
  add(m, batch(2, 0, 0, 1, { transactional: true }), 12);
  let s = m.stage();
  const first = s.addMarker(
    { producerId: 1, epoch: 0, coordinatorEpoch: 0, commit: false, timestamp: 1 },
    13,
    'coordinator',
  );
  m.commit(s);
  assert.equal(m.stableOffsetAfter(first!), 12, "producer 2's transaction is still open");
  s = m.stage();
  const second = s.addMarker(
    { producerId: 2, epoch: 0, coordinatorEpoch: 0, commit: false, timestamp: 1 },
    14,
    'coordinator',
  );
  m.commit(s);
  // Producer 1's transaction is decided (its marker at 13 is not yet below a high watermark of 13): it no
  // longer holds producer 2's entry back.
  assert.equal(m.stableOffsetAfter(second!), 15);
  assert.equal(m.firstUnstableOffset(13), 10, 'the LSO itself still waits for the high watermark');
  assert.equal(m.firstUnstableOffset(15), Infinity);
});

test('expiry by last timestamp spares producers with an open transaction', () => {
  const m = new ProducerStateManager();
  add(m, batch(1, 0, 0, 1, { maxTimestamp: 1000 }), 0);
  add(m, batch(2, 0, 0, 1, { maxTimestamp: 1000, transactional: true }), 1);
  add(m, batch(3, 0, 0, 1, { maxTimestamp: 5000 }), 2);
  assert.equal(m.removeExpired(5999, 5000), 0);
  assert.equal(m.removeExpired(6000, 5000), 1);
  assert.deepEqual(
    m
      .all()
      .map((e) => e.producerId)
      .sort(),
    [2, 3],
  );
});

test('snapshot encoding round-trips and detects corruption', () => {
  const m = new ProducerStateManager();
  for (let i = 0; i < 6; i++) add(m, batch(2 ** 40 + 7, 12, i, 1, { maxTimestamp: 1_700_000_000_000 + i }), 100 + i);
  add(m, batch(3, 0, 0, 1, { transactional: true }), 200);
  const buf = encodeSnapshot(m.all());
  const back = decodeSnapshot(buf);
  assert.deepEqual(back, m.all());
  const bad = Buffer.from(buf);
  bad[bad.length - 3]! ^= 1;
  assert.equal(decodeSnapshot(bad), 'CRC mismatch');
  assert.equal(typeof decodeSnapshot(buf.subarray(0, buf.length - 1)), 'string');
});
