/**
 * Turning fetched bytes into records (client/fetcher.ts decodePartitionRecords), on batches built with the
 * codec's builder: records before the fetch offset inside a batch are skipped, control batches are never
 * returned, a truncated last batch is left for the next fetch, and read_committed drops the records of
 * aborted transactions (from the aborted-transaction list up to the ABORT marker) while read_uncommitted
 * returns them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildControlBatch,
  buildRecordBatch,
  CONTROL_TYPE_ABORT,
  CONTROL_TYPE_COMMIT,
} from '../../protocol/records/builder.js';
import { decodePartitionRecords } from '../../client/fetcher.js';

const vals = (rs: Array<{ value: Buffer | null }>) => rs.map((r) => r.value?.toString());

test('offsets in a batch before the fetch offset are skipped; a truncated tail waits for the next fetch', async () => {
  const b0 = await buildRecordBatch(
    [0, 1, 2, 3].map((i) => ({ value: `a${i}`, timestamp: 1000 + i })),
    { baseOffset: 0 },
  );
  const b1 = await buildRecordBatch(
    [4, 5].map((i) => ({ value: `a${i}`, key: `k${i}`, headers: [{ key: 'h', value: 'v' }] })),
    { baseOffset: 4, compression: 1 },
  );
  const all = Buffer.concat([b0, b1]);
  const r = await decodePartitionRecords('t', 0, 2, all, null);
  assert.deepEqual(
    r.records.map((x) => x.offset),
    [2, 3, 4, 5],
  );
  assert.deepEqual(vals(r.records), ['a2', 'a3', 'a4', 'a5']);
  assert.equal(r.records[0].timestamp, 1002);
  assert.equal(r.records[2].key?.toString(), 'k4');
  assert.deepEqual(
    r.records[2].headers.map((h) => [h.key, h.value?.toString()]),
    [['h', 'v']],
  );
  assert.equal(r.nextOffset, 6);
  const cut = await decodePartitionRecords('t', 0, 0, all.subarray(0, all.length - 5), null);
  assert.deepEqual(
    cut.records.map((x) => x.offset),
    [0, 1, 2, 3],
  );
  assert.equal(cut.nextOffset, 4);
});

test('read_committed drops aborted transactions and control batches; read_uncommitted keeps the data', async () => {
  const P1 = 7n;
  const P2 = 9n;
  const batches = Buffer.concat([
    await buildRecordBatch([{ value: 'plain-0' }], { baseOffset: 0 }),
    await buildRecordBatch([{ value: 'p1-committed-1' }, { value: 'p1-committed-2' }], {
      baseOffset: 1,
      producerId: P1,
      producerEpoch: 0,
      baseSequence: 0,
      transactional: true,
    }),
    await buildRecordBatch([{ value: 'p2-aborted-3' }], {
      baseOffset: 3,
      producerId: P2,
      producerEpoch: 0,
      baseSequence: 0,
      transactional: true,
    }),
    buildControlBatch(CONTROL_TYPE_COMMIT, P1, 0, 0, 4),
    await buildRecordBatch([{ value: 'p2-aborted-5' }], {
      baseOffset: 5,
      producerId: P2,
      producerEpoch: 0,
      baseSequence: 1,
      transactional: true,
    }),
    buildControlBatch(CONTROL_TYPE_ABORT, P2, 0, 0, 6),
    await buildRecordBatch([{ value: 'p2-committed-7' }], {
      baseOffset: 7,
      producerId: P2,
      producerEpoch: 0,
      baseSequence: 2,
      transactional: true,
    }),
    buildControlBatch(CONTROL_TYPE_COMMIT, P2, 0, 0, 8),
  ]);
  const aborted = [{ producerId: P2, firstOffset: 3n }];
  const committed = await decodePartitionRecords('t', 0, 0, batches, aborted);
  assert.deepEqual(vals(committed.records), ['plain-0', 'p1-committed-1', 'p1-committed-2', 'p2-committed-7']);
  assert.equal(committed.nextOffset, 9, 'the position moves past control batches and skipped batches');
  const uncommitted = await decodePartitionRecords('t', 0, 0, batches, null);
  assert.deepEqual(vals(uncommitted.records), [
    'plain-0',
    'p1-committed-1',
    'p1-committed-2',
    'p2-aborted-3',
    'p2-aborted-5',
    'p2-committed-7',
  ]);
});

test('a corrupt batch is reported, not returned', async () => {
  const b0 = await buildRecordBatch([{ value: 'x' }], { baseOffset: 0 });
  b0[b0.length - 1] ^= 0xff;
  await assert.rejects(
    decodePartitionRecords('t', 0, 0, b0, null),
    (e: unknown) => (e as { name: string }).name === 'CORRUPT_MESSAGE',
  );
});
