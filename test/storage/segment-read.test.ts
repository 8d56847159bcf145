/**
 * readFromIndexPosition (one file read) gives exactly what locateBatch + readWholeBatches (two) give, for every
 * offset, size limit, minOneBatch, end limit and index start, over small batches and batches larger than its
 * slack; and undefined past the last batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { locateBatch, readFromIndexPosition, readWholeBatches } from '../../storage/segment-read.js';
import { buildRecordBatchSync } from '../../protocol/records/builder.js';

async function twoSteps(
  ...a: [Parameters<typeof locateBatch>[0], number, number, number, number, boolean, number]
): Promise<unknown> {
  const [log, start, limit, offset, maxBytes, minOne, maxOffset] = a;
  const hit = await locateBatch(log, start, limit, offset);
  return hit && readWholeBatches(log, hit, limit, maxBytes, minOne, maxOffset);
}

test('one read answers as locate + read in two, whatever the limits', async () => {
  const fs = new MemoryFileSystem();
  const log = await fs.open('/x.log', { create: true });
  const positions: number[] = [];
  let pos = 0;
  let offset = 0;
  // Batches of 1 record of 200 B, then 3 of 40 KiB (above the 16 KiB slack), then small ones again.
  const sizes = [200, 200, 200, 40_000, 40_000, 40_000, 200, 200, 5_000, 200];
  for (const size of sizes) {
    const b = buildRecordBatchSync([{ value: Buffer.alloc(size, offset) }, { value: 'x' }], { baseOffset: offset });
    await log.writev([b], pos);
    positions.push(pos);
    pos += b.length;
    offset += 2;
  }
  const end = pos;
  let compared = 0;
  for (const start of [0, positions[2], positions[3]]) {
    for (const limit of [end, positions[5], positions[8] + 10]) {
      for (let off = 0; off <= offset + 1; off += 1) {
        for (const maxBytes of [0, 100, 1000, 30_000, 90_000, 200_000]) {
          for (const minOne of [true, false]) {
            for (const maxOffset of [Infinity, 9]) {
              const want = await twoSteps(log, start, limit, off, maxBytes, minOne, maxOffset);
              const got = await readFromIndexPosition(log, start, limit, off, maxBytes, minOne, maxOffset);
              assert.deepEqual(got, want, `start ${start} limit ${limit} offset ${off} max ${maxBytes} ${minOne}`);
              compared++;
            }
          }
        }
      }
    }
  }
  assert.ok(compared > 1000);
  assert.equal(await readFromIndexPosition(log, 0, end, offset + 5, 1000, true, Infinity), undefined);
});
