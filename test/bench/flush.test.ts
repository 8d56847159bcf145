/**
 * `npm run bench:flush` scaled down for CI: the bench (dist/test/bench/flush.bench.js) with tiny counts (4
 * producers, 1 round) must complete against its two `runnel start` children (one with flush.messages=1), every
 * producer must get every acks=all message acknowledged (the bench fails otherwise), and every figure must be
 * finite. No timing assertion. Runs when the generator is built ($BIN/loadgen, BIN default /tmp/perf-bin:
 * ../shared/perf/build-loadgen.sh), skipped otherwise (a test does not build it from ../shared). The storage
 * mode (MODE=storage, 2 MB per run, no generator needed) always runs: flush.messages=1 must flush, plain not.
 * Bounded: the child is killed after 180 s, the bench's own watchdog stops it after 150 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type BenchRun, runBenchScript } from './run-scale-bench.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), 'flush.bench.js');
const LOADGEN = join(process.env.BIN ?? '/tmp/perf-bin', 'loadgen');

interface FlushRun {
  mbps: number;
  sumMbps: number;
  wallS: number;
  brokerCpuS: number;
}

/** Runs the bench with `env` (ROUNDS=1 and a 150 s watchdog unless set); killed after 180 s. */
function runBench(env: Record<string, string>): Promise<BenchRun> {
  return runBenchScript(BENCH, { BENCH_DEADLINE_S: '150', ROUNDS: '1', PRODUCERS: '4', ...env }, 180_000);
}

test('the flush bench completes with tiny counts and reports finite figures for both brokers', {
  skip: existsSync(LOADGEN) ? false : `no ${LOADGEN} (../shared/perf/build-loadgen.sh builds it)`,
}, async () => {
  const env = { ROUNDS: '1', PRODUCERS: '4', COUNT: '2000', SIZE: '100' };
  const { code, stdout, stderr } = await runBench(env);
  assert.equal(code, 0, stderr);
  const line = stdout.split('\n').find((l) => l.startsWith('flush-json '));
  assert.ok(line, stdout);
  const out = JSON.parse(line.slice('flush-json '.length)) as Record<string, unknown>;
  assert.equal(out.producers, 4);
  for (const k of ['medianA', 'medianB', 'ratio', 'ratioOfMedians']) {
    assert.ok(Number.isFinite(out[k]) && (out[k] as number) > 0, `${k}: ${out[k]}`);
  }
  const runs = out.runs as Record<string, FlushRun[]>;
  for (const k of ['plain', 'flush']) {
    assert.equal(runs[k].length, 1, k);
    for (const f of ['mbps', 'sumMbps', 'wallS'] as const) assert.ok(runs[k][0][f] > 0, `${k}.${f}`);
  }
  assert.match(stdout, /load average \(1m\/5m\/15m\) at start [\d.]+\/[\d.]+\/[\d.]+/);
});

test('the flush bench (storage mode) completes with tiny counts; flush.messages=1 runs group commits', async () => {
  const { code, stdout, stderr } = await runBench({ MODE: 'storage', STORAGE_MB: '2', BATCH: '4', SIZE: '100' });
  assert.equal(code, 0, stderr);
  const line = stdout.split('\n').find((l) => l.startsWith('flush-storage-json '));
  assert.ok(line, stdout);
  const out = JSON.parse(line.slice('flush-storage-json '.length)) as {
    ratio: number;
    runs: Record<string, Array<{ mbps: number; appends: number; flushRuns: number }>>;
  };
  assert.ok(Number.isFinite(out.ratio) && out.ratio > 0, `ratio ${out.ratio}`);
  const [plain, flush] = [out.runs.plain[0], out.runs.flush[0]];
  assert.equal(plain.flushRuns, 0, 'no flush without flush.messages');
  assert.ok(flush.flushRuns > 0, 'flush.messages=1 flushed');
  assert.ok(flush.flushRuns <= flush.appends, `${flush.flushRuns} flush runs for ${flush.appends} appends`);
});
