/** filterMarker / isTxnMarker (batch-filter.ts): the marker rule of KIP-534, byte level. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterMarker, isTxnMarker } from '../../storage/batch-filter.js';
import { RecordBatch } from '../../protocol/records/batch.js';
import {
  buildControlBatch,
  buildRecordBatchSync,
  CONTROL_TYPE_ABORT,
  CONTROL_TYPE_COMMIT,
} from '../../protocol/records/builder.js';

const opts = { now: 10_000, deleteRetentionMs: 500, retainEmpty: false, removable: true };

test('isTxnMarker: COMMIT and ABORT markers only', async () => {
  assert.equal(await isTxnMarker(new RecordBatch(buildControlBatch(CONTROL_TYPE_COMMIT, 7, 1, 3, 40, 1234))), true);
  assert.equal(await isTxnMarker(new RecordBatch(buildControlBatch(CONTROL_TYPE_ABORT, 7, 1, 3, 40, 1234))), true);
  assert.equal(await isTxnMarker(new RecordBatch(buildControlBatch(2, 7, 1, 3, 40, 1234))), false);
  assert.equal(
    await isTxnMarker(
      new RecordBatch(
        buildRecordBatchSync([{ key: 'k', value: 'v' }], {
          producerId: 7,
          producerEpoch: 1,
          baseSequence: 0,
          transactional: true,
        }),
      ),
    ),
    false,
  );
});

test('a removable marker without a horizon is rebuilt with one, keeping its record, offsets, producer', async () => {
  const src = new RecordBatch(buildControlBatch(CONTROL_TYPE_COMMIT, 7, 1, 3, 40, 1234, 5));
  const f = await filterMarker(src, opts);
  assert.equal(f.markerRemoved, false);
  assert.equal(f.deleteHorizon, 10_500);
  const out = new RecordBatch(f.batch!);
  out.validate();
  assert.equal(out.isControl && out.isTransactional, true);
  assert.equal(out.deleteHorizonMs, 10_500n);
  assert.equal(out.baseOffset, 40n);
  assert.equal(out.lastOffset, 40n);
  assert.equal(out.producerId, 7n);
  assert.equal(out.producerEpoch, 1);
  assert.equal(out.partitionLeaderEpoch, 5);
  assert.equal(out.maxTimestamp, 1234n);
  const [rec] = await out.recordsArray();
  const [orig] = await src.recordsArray();
  assert.equal(rec!.timestamp, 1234n);
  assert.deepEqual(rec!.key, orig!.key);
  assert.deepEqual(rec!.value, orig!.value);
  assert.deepEqual(await out.controlRecord(), { version: 0, type: CONTROL_TYPE_COMMIT, coordinatorEpoch: 3 });
});

test('a stamped removable marker stays until its horizon, then goes (unless it must end its group)', async () => {
  const stamped = new RecordBatch(
    (await filterMarker(new RecordBatch(buildControlBatch(CONTROL_TYPE_ABORT, 7, 1, 3, 40, 1234)), opts)).batch!,
  );
  const early = await filterMarker(stamped, { ...opts, now: 10_499 });
  assert.equal(early.batch, stamped.buffer);
  assert.equal(early.deleteHorizon, 10_500);
  const late = await filterMarker(stamped, { ...opts, now: 10_500 });
  assert.deepEqual(late, { batch: undefined, markerRemoved: true });
  const last = await filterMarker(stamped, { ...opts, now: 10_500, retainEmpty: true });
  assert.equal(last.batch, stamped.buffer);
  assert.equal(last.markerRemoved, false);
  assert.equal(last.deleteHorizon, undefined);
});

test('a marker whose transaction has data, or that must end its group, is kept byte for byte, unstamped', async () => {
  const src = new RecordBatch(buildControlBatch(CONTROL_TYPE_COMMIT, 7, 1, 3, 40, 1234));
  for (const o of [
    { ...opts, removable: false },
    { ...opts, retainEmpty: true },
  ]) {
    const f = await filterMarker(src, o);
    assert.equal(f.batch, src.buffer);
    assert.equal(f.markerRemoved, false);
    assert.equal(f.deleteHorizon, undefined);
  }
});
