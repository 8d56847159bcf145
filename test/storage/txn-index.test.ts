import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile, writeFile, appendFile } from 'node:fs/promises';
import { TxnIndex, TXN_ENTRY_SIZE } from '../../storage/txn-index.js';
import { NodeFileSystem } from '../../storage/fs.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { tempDir } from './helpers.js';

const e = (producerId: number, firstOffset: number, lastOffset: number, lastStableOffset: number) => ({
  producerId,
  firstOffset,
  lastOffset,
  lastStableOffset,
});

test("Kafka's layout: 34-byte entries (version, producerId, firstOffset, lastOffset, lastStableOffset)", async (t) => {
  const tmp = await tempDir();
  t.after(() => tmp.cleanup());
  const fs = new NodeFileSystem();
  const file = path.join(tmp.dir, '00000000000000000000.txnindex');
  const idx = TxnIndex.create(fs, file);
  assert.equal(await fs.exists(file), false, 'created lazily');
  await idx.append(e(2 ** 33 + 1, 4, 8, 9));
  await idx.append(e(1, 7, 12, 13));
  await idx.flush();
  const raw = await readFile(file);
  assert.equal(raw.length, 2 * TXN_ENTRY_SIZE);
  assert.equal(raw.readInt16BE(0), 0);
  assert.equal(raw.readBigInt64BE(2), 2n ** 33n + 1n);
  assert.deepEqual([raw.readBigInt64BE(10), raw.readBigInt64BE(18), raw.readBigInt64BE(26)], [4n, 8n, 9n]);
  await idx.close();
  // A torn trailing entry is ignored on load and overwritten by the next append.
  await appendFile(file, Buffer.alloc(10, 1));
  const again = await TxnIndex.load(fs, file);
  assert.deepEqual(again.all(), [e(2 ** 33 + 1, 4, 8, 9), e(1, 7, 12, 13)]);
  await again.append(e(3, 20, 21, 22));
  await again.close();
  assert.equal((await readFile(file)).length, 3 * TXN_ENTRY_SIZE);
  assert.equal((await TxnIndex.load(fs, file)).count, 3);
  await writeFile(file, Buffer.alloc(0));
  assert.equal((await TxnIndex.load(fs, file)).count, 0);
});

test('collect: overlap with [fetchOffset, upperBound) and completion by lastStableOffset', async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp('/d');
  const idx = TxnIndex.create(fs, '/d/x.txnindex');
  await idx.append(e(1, 0, 5, 3));
  await idx.append(e(2, 3, 9, 10));
  await idx.append(e(3, 10, 15, 16));
  assert.deepEqual(idx.collect(0, 3), { aborted: [e(1, 0, 5, 3)], complete: true });
  assert.deepEqual(
    idx.collect(6, 12).aborted.map((a) => a.producerId),
    [2, 3],
  );
  assert.equal(idx.collect(6, 12).complete, true, 'entry 3 proves nothing later overlaps');
  assert.equal(idx.collect(6, 20).complete, false);
  assert.deepEqual(idx.collect(16, 30), { aborted: [], complete: false });
  await idx.truncateFrom(9);
  assert.deepEqual(
    idx.all().map((a) => a.producerId),
    [1],
  );
  assert.equal(fs.peek('/d/x.txnindex')?.length, TXN_ENTRY_SIZE);
  await idx.renameTo('/d/y.txnindex');
  assert.equal(fs.peek('/d/x.txnindex'), undefined);
  assert.equal(fs.peek('/d/y.txnindex')?.length, TXN_ENTRY_SIZE);
  await idx.delete();
  assert.equal(fs.peek('/d/y.txnindex'), undefined);
});
