import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCacheDir, freshBundle, runWithCompileCache } from '../../broker/compile-cache.cjs';

const CC = resolve(dirname(fileURLToPath(import.meta.url)), '../../broker/compile-cache.cjs');

const BODY = `#!/usr/bin/env node
const path = require('node:path');
exports.answer = 42;
exports.file = __filename;
exports.dir = __dirname;
exports.sibling = require('./sibling.cjs').x;
exports.double = function double(n) { return n * 2; };
`;

function setup(): { dir: string; cache: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-cc-'));
  const cache = join(dir, 'cache');
  mkdirSync(cache, { mode: 0o700 });
  writeFileSync(join(dir, 'sibling.cjs'), 'exports.x = "near";');
  const file = join(dir, 'bundle.cjs');
  writeFileSync(file, BODY);
  return { dir, cache, file };
}

/**
 * Loads `file` in a fresh process (V8 keeps compiled scripts in memory, so a second load in this process
 * would never read the cache); the child exits at once, so the cache, when due, is written by the exit hook.
 */
function loadInChild(
  file: string,
  cache: string,
): { state: string; answer: number; double: number; file: string; sibling: string } {
  const code = `const { runWithCompileCache } = require(${JSON.stringify(CC)});
const r = runWithCompileCache(${JSON.stringify(file)}, ${JSON.stringify(cache)});
const { answer, double, file, sibling } = r.exports;
process.stdout.write(JSON.stringify({ state: r.state, answer, double: double(21), file, sibling }));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as never;
}

test('runWithCompileCache: a first process runs the script and writes the cache at exit; the next hits it', () => {
  const { dir, cache, file } = setup();
  const first = loadInChild(file, cache);
  assert.deepEqual(first, { state: 'miss', answer: 42, double: 42, file, sibling: 'near' });
  const files = readdirSync(cache);
  assert.equal(files.length, 1);
  assert.match(
    files[0],
    new RegExp(
      `^bundle\\.cjs-${statSync(file).size}-\\d+-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8$`,
    ),
  );
  assert.ok(statSync(join(cache, files[0])).size > 0);
  assert.equal(statSync(join(cache, files[0])).mode & 0o077, 0, 'cache files are private');
  assert.equal(loadInChild(file, cache).state, 'hit');
  assert.equal(loadInChild(file, cache).state, 'hit');
  assert.deepEqual(readdirSync(cache), files);
  assert.ok(dir);
});

test('runWithCompileCache: data V8 refuses is rejected, the script still runs, and the cache is rewritten', () => {
  const { cache, file } = setup();
  loadInChild(file, cache);
  const [name] = readdirSync(cache);
  writeFileSync(join(cache, name), Buffer.alloc(4096, 7));
  const bad = loadInChild(file, cache);
  assert.equal(bad.state, 'rejected');
  assert.equal(bad.answer, 42);
  assert.equal(loadInChild(file, cache).state, 'hit');
});

test('runWithCompileCache: a changed script gets its own cache file; flush() writes when due; null: uncached', () => {
  const { cache, file } = setup();
  loadInChild(file, cache);
  writeFileSync(file, BODY.replace('42', '43'));
  const later = new Date(Date.now() + 5000);
  utimesSync(file, later, later);
  const changed = loadInChild(file, cache);
  assert.equal(changed.state, 'miss');
  assert.equal(changed.answer, 43);
  assert.equal(readdirSync(cache).length, 2);

  writeFileSync(file, BODY.replace('42', '44'));
  const latest = new Date(Date.now() + 10_000);
  utimesSync(file, latest, latest);
  const here = runWithCompileCache(file, cache);
  assert.equal(here.state, 'miss');
  assert.equal(readdirSync(cache).length, 2, 'not written at once');
  here.flush();
  assert.equal(readdirSync(cache).length, 3);

  const off = runWithCompileCache(file, null);
  assert.equal(off.state, 'off');
  assert.equal(off.cacheFile, undefined);
  assert.equal((off.exports as { answer: number }).answer, 44);
});

test('compileCacheDir: RUNNEL_COMPILE_CACHE names the directory (0700) or turns it off; shared dirs refused', () => {
  const base = mkdtempSync(join(tmpdir(), 'runnel-ccdir-'));
  const mine = join(base, 'mine');
  assert.equal(compileCacheDir({ RUNNEL_COMPILE_CACHE: mine }), mine);
  assert.equal(statSync(mine).mode & 0o777, 0o700);
  assert.equal(compileCacheDir({ RUNNEL_COMPILE_CACHE: 'off' }), undefined);
  assert.equal(compileCacheDir({ RUNNEL_COMPILE_CACHE: '0' }), undefined);
  const shared = join(base, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  assert.equal(compileCacheDir({ RUNNEL_COMPILE_CACHE: shared }), undefined, 'others could plant code in it');
  const aFile = join(base, 'file');
  writeFileSync(aFile, 'x');
  assert.equal(compileCacheDir({ RUNNEL_COMPILE_CACHE: aFile }), undefined);
  const dflt = compileCacheDir({});
  assert.ok(dflt === undefined || dflt.startsWith(join(tmpdir(), 'runnel-compile-cache-')));
});

test('freshBundle: a bundle counts only when it exists and is not older than the output it was built from', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-fresh-'));
  const built = join(dir, 'start.js');
  const bundle = join(dir, 'start.cjs');
  writeFileSync(built, '');
  assert.equal(freshBundle(bundle, built), false, 'no bundle');
  writeFileSync(bundle, '');
  const t = Date.now() / 1000;
  utimesSync(built, t - 10, t - 10);
  utimesSync(bundle, t, t);
  assert.equal(freshBundle(bundle, built), true);
  utimesSync(built, t + 10, t + 10);
  assert.equal(freshBundle(bundle, built), false, 'tsc ran after the bundle was built');
  assert.equal(freshBundle(bundle, join(dir, 'missing.js')), false);
});
