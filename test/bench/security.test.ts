/**
 * `npm run bench:security` scaled down for CI: the bench (dist/test/bench/security.bench.js) in each mode with
 * tiny counts must complete and print every figure finite. No timing assertion.
 * - kafkajs mode (MODE=kafkajs): in-process broker, always runs.
 * - loadgen mode: `runnel start` child processes driven by librdkafka's loadgen; runs when the generator is
 *   built ($BIN/loadgen, BIN default /tmp/perf-bin: ../shared/perf/build-loadgen.sh), skipped otherwise (a test
 *   does not build it from ../shared). The bench itself fails unless the acl broker holds the ACLs and denies
 *   ANONYMOUS a produce outside the bench's prefix (TOPIC_AUTHORIZATION_FAILED).
 * Bounded: each child is killed after 180 s, the bench's own watchdog stops it after 150 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBenchScript } from './run-scale-bench.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), 'security.bench.js');
const LOADGEN = join(process.env.BIN ?? '/tmp/perf-bin', 'loadgen');

async function bench(env: Record<string, string>): Promise<Record<string, unknown>> {
  const { code, stdout, stderr } = await runBenchScript(BENCH, { BENCH_DEADLINE_S: '150', ...env }, 180_000);
  assert.equal(code, 0, stderr);
  const line = stdout.split('\n').find((l) => l.startsWith('security-json '));
  assert.ok(line, stdout);
  return JSON.parse(line.slice('security-json '.length)) as Record<string, unknown>;
}

function assertFinite(out: Record<string, unknown>, keys: string[]): void {
  for (const k of keys) assert.ok(Number.isFinite(out[k]) && (out[k] as number) > 0, `${k}: ${out[k]}`);
}

test('the security bench (kafkajs mode) completes with tiny counts and reports finite figures', async () => {
  const out = await bench({ MODE: 'kafkajs', RECORDS: '100', BATCH: '20', ACLS: '100', ROUNDS: '1' });
  assertFinite(out, ['plaintextRps', 'sslRps', 'tlsRatio', 'noAclsRps', 'withAclsRps', 'aclRatio']);
  assert.equal(out.acls, 100);
});

test('the security bench (loadgen mode) completes against runnel start with tiny counts', {
  skip: existsSync(LOADGEN) ? false : `no ${LOADGEN} (../shared/perf/build-loadgen.sh builds it)`,
}, async () => {
  const out = await bench({ MODE: 'loadgen', TLS_COUNT: '2000', ACL_COUNT: '2000', ACLS: '50', ROUNDS: '1' });
  assertFinite(out, ['plaintextMBps', 'sslMBps', 'tlsRatio', 'noAclsMps', 'withAclsMps', 'aclRatio']);
  assert.equal(out.acls, 50);
  const runs = out.runs as Record<string, Array<{ value: number }>>;
  for (const k of ['plaintext', 'ssl', 'noAcls', 'withAcls']) assert.equal(runs[k].length, 1, k);
  // CPU per GB of each side (tiny runs may take 0 ticks: finite and >= 0, not > 0).
  const perGb = out.tlsCpuPerGb as Record<string, Record<string, number>>;
  for (const side of ['plaintext', 'ssl']) {
    for (const k of ['broker', 'brokerMain', 'generator']) {
      assert.ok(Number.isFinite(perGb[side][k]) && perGb[side][k] >= 0, `${side} ${k}: ${perGb[side][k]}`);
    }
  }
});
