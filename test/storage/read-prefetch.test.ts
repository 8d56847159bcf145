import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileHandle } from '../../storage/fs.js';
import { noteRead, readAheadInFlight } from '../../storage/read-prefetch.js';

const MiB = 1 << 20;

/** A handle whose reads are recorded and settle only when `finish()` is called. */
function fakeHandle() {
  const reads: [number, number][] = [];
  const pending: (() => void)[] = [];
  const handle = {
    path: 'fake',
    read: (_b: Buffer, _o: number, length: number, position: number) => {
      reads.push([position, length]);
      return new Promise<number>((r) => pending.push(() => r(length)));
    },
  } as unknown as FileHandle;
  const finish = async (): Promise<void> => {
    for (const f of pending.splice(0)) f();
    await new Promise((r) => setImmediate(r));
  };
  return { handle, reads, finish };
}

test('a slow sequential read of a file reads the next 8 MiB ahead; a fast one does not', async () => {
  const warm = fakeHandle();
  noteRead(warm.handle, 0, MiB, 0.1);
  noteRead(warm.handle, MiB, MiB, 0.1);
  assert.deepEqual(warm.reads, [], 'warm: never read twice');
  const cold = fakeHandle();
  noteRead(cold.handle, 0, MiB, 20);
  assert.deepEqual(
    cold.reads,
    Array.from({ length: 8 }, (_, i) => [(i + 1) * MiB, MiB]),
  );
  await cold.finish();
  // The next fetch's read (now fast: the cache is warm) continues the file: read ahead moves on, not again.
  noteRead(cold.handle, MiB, MiB, 0.1);
  assert.deepEqual(cold.reads.slice(8), [[9 * MiB, MiB]]);
  await cold.finish();
  // A jump (not sequential) reads nothing ahead; small reads are ignored.
  noteRead(cold.handle, 50 * MiB, MiB, 0.1);
  noteRead(cold.handle, 51 * MiB, 1000, 20);
  assert.equal(cold.reads.length, 9);
  assert.equal(readAheadInFlight(), 0);
});

test('a slow read that read nothing from the device (a busy CPU, a warm file) reads nothing ahead', async () => {
  const busy = fakeHandle();
  noteRead(busy.handle, 0, MiB, 20, 0);
  noteRead(busy.handle, MiB, MiB, 20, 4096);
  assert.deepEqual(busy.reads, [], 'served from the page cache: never read twice');
  noteRead(busy.handle, 2 * MiB, MiB, 20, MiB);
  assert.equal(busy.reads.length, 8, 'read from the device: cold, read ahead');
  assert.deepEqual(busy.reads[0], [3 * MiB, MiB]);
  await busy.finish();
  assert.equal(readAheadInFlight(), 0);
});

test('at most eight reads ahead run at once in the process', async () => {
  const hs = [fakeHandle(), fakeHandle(), fakeHandle()];
  for (const h of hs) noteRead(h.handle, 0, MiB, 20);
  assert.equal(readAheadInFlight(), 8);
  assert.equal(
    hs.reduce((n, h) => n + h.reads.length, 0),
    8,
  );
  for (const h of hs) await h.finish();
  assert.equal(readAheadInFlight(), 0);
});
