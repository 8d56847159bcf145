import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Coalescer } from '../../storage/coalescer.js';
import { settle } from './helpers.js';

test('concurrent requests share runs; each waits for a run that started after it', async () => {
  let runs = 0;
  let release: (() => void) | undefined;
  const c = new Coalescer(async () => {
    runs++;
    await new Promise<void>((r) => (release = r));
  });
  const first = c.request();
  await settle(2);
  assert.equal(runs, 1);
  const later = Array.from({ length: 10 }, () => c.request());
  release!();
  await first;
  await settle(2);
  assert.equal(runs, 2, 'all ten joined one run');
  release!();
  await Promise.all(later);
  await c.idle();
  assert.equal(c.runs, 2);
});

test('a failing run rejects exactly its group', async () => {
  let fail = true;
  const c = new Coalescer(async () => {
    await settle(1);
    if (fail) {
      fail = false;
      throw new Error('boom');
    }
  });
  const a = c.request();
  await assert.rejects(a, /boom/);
  await c.request();
});
