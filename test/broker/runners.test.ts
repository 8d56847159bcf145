/**
 * startBroker() from Vitest and Jest, as the README shows: the fixtures in test/fixtures/runners/ (plain
 * .mjs spec files, outside tsc and outside `npm test`'s *.test.js glob) import 'runnel' — this package,
 * built — start a broker, and produce and consume one record with kafkajs. Each runner runs as a child
 * process; the test asserts it exits 0 having passed one test. (node:test is covered by index.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = join(root, 'test/fixtures/runners');

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, CI: 'true', RUNNEL_LOG_LEVEL: 'silent', NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, out });
    });
  });
}

test('Vitest: startBroker() in a spec, produce and consume with kafkajs', { timeout: 180_000 }, async () => {
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  const r = await run([vitest, 'run', '--root', join(fixtures, 'vitest'), '--reporter', 'verbose'], 170_000);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /produce and consume one record/);
  assert.match(r.out, /Tests\s+1 passed \(1\)/);
});

test('Jest: startBroker() in a spec, produce and consume with kafkajs', { timeout: 180_000 }, async () => {
  const jest = join(root, 'node_modules/jest/bin/jest.js');
  const r = await run(
    ['--experimental-vm-modules', '--no-warnings', jest, '--config', join(fixtures, 'jest/jest.config.cjs'), '--ci'],
    170_000,
  );
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /produce and consume one record/);
  assert.match(r.out, /Tests:\s+1 passed, 1 total/);
});
