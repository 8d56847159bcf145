/** `__transaction_state` record formats: Kafka's TransactionLogKey v0 / TransactionLogValue v0 and v1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writer } from '../../../protocol/wire/writer.js';
import {
  decodeTxnLogKey,
  decodeTxnLogValue,
  txnLogKey,
  txnLogValue,
  txnStatePartitionFor,
} from '../../../broker/txn/records.js';

test("key and value v0 round-trip with Kafka's byte layout", () => {
  const key = txnLogKey('my-txn');
  assert.deepEqual(key, Buffer.concat([Buffer.from([0, 0, 0, 6]), Buffer.from('my-txn')]));
  assert.equal(decodeTxnLogKey(key), 'my-txn');
  assert.equal(decodeTxnLogKey(Buffer.from([0, 1, 0, 0])), undefined, 'unknown key version');
  const v = {
    producerId: 4242,
    previousProducerId: -1,
    producerEpoch: 7,
    timeoutMs: 60_000,
    state: 'Ongoing' as const,
    partitions: new Map([
      ['t', [0, 3]],
      ['u', [1]],
    ]),
    lastUpdateTimestamp: 1_700_000_000_123,
    startTimestamp: 1_700_000_000_000,
  };
  const buf = txnLogValue(v);
  // version 0, pid, epoch, timeout, status 1, 2 topics: "t" [0,3], "u" [1], two timestamps
  assert.equal(buf.length, 2 + 8 + 2 + 4 + 1 + 4 + (2 + 1 + 4 + 8) + (2 + 1 + 4 + 4) + 8 + 8);
  assert.equal(buf.readInt8(16), 1);
  assert.deepEqual(decodeTxnLogValue(buf), v);
});

test('value v1 (flexible, tagged PreviousProducerId) decodes', () => {
  const w = new Writer(128);
  w.writeInt16(1);
  w.writeInt64(99n);
  w.writeInt16(3);
  w.writeInt32(1000);
  w.writeInt8(4); // CompleteCommit
  w.writeCompactArrayLength(1);
  w.writeCompactString('x');
  w.writeCompactArrayLength(1);
  w.writeInt32(2);
  w.writeUVarint(0); // partition struct tags
  w.writeInt64(5n);
  w.writeInt64(6n);
  w.writeUVarint(2); // two tags: 0 PreviousProducerId, 2 ClientTransactionVersion
  w.writeUVarint(0);
  w.writeUVarint(8);
  w.writeInt64(77n);
  w.writeUVarint(2);
  w.writeUVarint(2);
  w.writeInt16(1);
  const v = decodeTxnLogValue(w.toBuffer());
  assert.deepEqual(v, {
    producerId: 99,
    previousProducerId: 77,
    producerEpoch: 3,
    timeoutMs: 1000,
    state: 'CompleteCommit',
    partitions: new Map([['x', [2]]]),
    lastUpdateTimestamp: 5,
    startTimestamp: 6,
  });
});

test('partition of a transactional id: abs(Java hashCode) % partitions', () => {
  // "abc".hashCode() = 96354; Kafka's default 50 partitions
  assert.equal(txnStatePartitionFor('abc', 50), 96354 % 50);
  // "polygenelubricants".hashCode() = Integer.MIN_VALUE → Utils.abs maps it to 0
  assert.equal(txnStatePartitionFor('polygenelubricants', 50), 0);
});
