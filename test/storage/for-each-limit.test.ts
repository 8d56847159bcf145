import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachLimit } from '../../storage/for-each-limit.js';

test('forEachLimit runs every item with its index, at most `limit` at a time', async () => {
  let running = 0;
  let peak = 0;
  const seen: string[] = [];
  await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n, i) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setImmediate(r));
    seen.push(`${i}:${n}`);
    running--;
  });
  assert.deepEqual(seen.sort(), ['0:1', '1:2', '2:3', '3:4', '4:5', '5:6', '6:7']);
  assert.equal(peak, 3);
});

test('forEachLimit rejects with the first failure; an empty list runs nothing', async () => {
  await assert.rejects(
    forEachLimit([1, 2, 3], 2, async (n) => {
      if (n === 2) throw new Error('two');
    }),
    /two/,
  );
  let calls = 0;
  await forEachLimit([], 4, async () => {
    calls++;
  });
  assert.equal(calls, 0);
});
