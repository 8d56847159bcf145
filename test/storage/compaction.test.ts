import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasKeylessRecord } from '../../storage/compaction.js';
import { buildControlBatch, buildRecordBatch } from '../../protocol/records/builder.js';
import { CompressionType } from '../../protocol/records/batch-header.js';

test('hasKeylessRecord: finds null keys in any batch, compressed or not; ignores control batches', async () => {
  const keyed = await buildRecordBatch([
    { key: 'a', value: '1' },
    { key: 'b', value: null },
  ]);
  const keyless = await buildRecordBatch(
    [
      { key: 'a', value: '1' },
      { key: null, value: '2' },
    ],
    { compression: CompressionType.Gzip },
  );
  assert.equal(await hasKeylessRecord(keyed), false);
  assert.equal(await hasKeylessRecord(keyless), true);
  assert.equal(await hasKeylessRecord(Buffer.concat([keyed, keyless])), true);
  assert.equal(await hasKeylessRecord(Buffer.concat([keyed, buildControlBatch(1, 1, 0, 0)])), false);
  assert.equal(await hasKeylessRecord(Buffer.alloc(0)), false);
});
