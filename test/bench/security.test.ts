/**
 * `npm run bench:security` scaled down for CI: the bench (dist/test/bench/security.bench.js) runs both
 * scenarios with tiny counts and must complete and print every figure finite. No timing assertion.
 * Bounded: the child is killed after 180 s, the bench's own watchdog stops it after 150 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), 'security.bench.js');
const TINY = { RECORDS: '100', BATCH: '20', ACLS: '100', ROUNDS: '1', BENCH_DEADLINE_S: '150' };

test('the security bench completes with tiny counts and reports finite figures', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(process.execPath, [BENCH], {
        env: { ...process.env, ...TINY },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const kill = setTimeout(() => child.kill('SIGKILL'), 180_000);
      child.once('exit', (c) => {
        clearTimeout(kill);
        resolve({ code: c, stdout, stderr });
      });
    },
  );
  assert.equal(code, 0, stderr);
  const line = stdout.split('\n').find((l) => l.startsWith('security-json '));
  assert.ok(line, stdout);
  const out = JSON.parse(line.slice('security-json '.length)) as Record<string, number>;
  for (const k of ['plaintextRps', 'sslRps', 'tlsRatio', 'noAclsRps', 'withAclsRps', 'aclRatio']) {
    assert.ok(Number.isFinite(out[k]) && out[k] > 0, `${k}: ${out[k]}`);
  }
  assert.equal(out.acls, 100);
});
