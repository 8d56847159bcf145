/**
 * The build step (broker/bundle.ts, run by `npm run build`): the package's bin is executable after every
 * build — npm links it at install time only, so a rebuild (`npm test` deletes dist/) must set the mode
 * again — and runs as a program on its own (its #! line), as npm's link or npx runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/broker-process.js';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test('the bin is executable after the build and runs as a program', async () => {
  const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = join(dist, '..', pkg.bin.runnel);
  assert.equal(statSync(bin).mode & 0o111, 0o111, `${pkg.bin.runnel} is executable by everyone`);
  assert.ok(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'));
  const r = await run(bin, ['start', '--help'], 30_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: runnel start \[options\]/);
});
