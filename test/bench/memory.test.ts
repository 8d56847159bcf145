/**
 * The memory and cold scenarios of `npm run bench:scale` (memory-scenarios.ts, issue #16) scaled down for CI:
 * a few MiB instead of 10 GiB, against a real `runnel start` child process driven by librdkafka's loadgen. The
 * bench must complete and report every figure; the generator fails it unless every record produced is read
 * back. No timing or memory assertion (RSS figures only checked to be there). Runs when the generator is built
 * ($BIN/loadgen, BIN default /tmp/perf-bin: ../shared/perf/build-loadgen.sh), skipped otherwise.
 * Bounded: the child is killed after 240 s, the bench's own watchdog stops it after 200 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScaleBench } from './run-scale-bench.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const LOADGEN = join(process.env.BIN ?? '/tmp/perf-bin', 'loadgen');

const TINY = {
  SCENARIOS: 'memory,cold',
  MEMORY_PARTITIONS: '6',
  MEMORY_MIB: '6',
  SLOW_FETCHES: '8',
  SLOW_HOLD_MS: '300',
  COLD_PARTITIONS: '2',
  COLD_MIB: '2',
  ROUNDS: '1',
  GEN_TIMEOUT: '120',
  BENCH_DEADLINE_S: '200',
};

const runBench = () => runScaleBench(TINY);

const finite = (o: Record<string, unknown>, keys: string[]): void => {
  for (const k of keys) assert.ok(Number.isFinite(o[k]) && (o[k] as number) > 0, `${k} = ${o[k]}`);
};

test('bench:scale memory and cold scenarios with tiny sizes complete and report every figure', {
  timeout: 300_000,
  skip: existsSync(LOADGEN) ? false : `no ${LOADGEN} (../shared/perf/build-loadgen.sh builds it)`,
}, async () => {
  const r = await runBench();
  assert.equal(r.code, 0, `bench exited ${r.code}: ${r.stderr.slice(-3000)}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('scale-json '));
  assert.ok(line, `no scale-json line in: ${r.stdout}`);
  const f = JSON.parse(line.slice('scale-json '.length)) as Record<string, Record<string, unknown>>;
  const m = f.memory;
  assert.equal(m.partitions, 6);
  assert.equal(m.records, 6 * 1024);
  finite(m, ['produceMBps', 'consumeMBps', 'producePeakMiB', 'rssAfterProduceMiB', 'consumePeakMiB']);
  finite(m, ['rssAfterConsumeMiB', 'rssFinalMiB', 'rssPeakMiB', 'vmHwmMiB']);
  const slow = m.slowConsumer as Record<string, unknown>;
  assert.equal(slow.requests, 8);
  finite(slow, ['rssBeforeMiB', 'rssPeakMiB', 'rssAfterMiB']);
  const c = f.cold;
  assert.equal(c.records, 2 * 1024);
  assert.ok(c.method === 'fadvise' || c.method === 'drop_caches', `method ${c.method}`);
  finite(c, ['warmMedianMBps', 'coldMedianMBps', 'ratio']);
  assert.equal((c.coldMBps as number[]).length, 1);
  // The drop worked: the data directory is (nearly) out of the page cache before the cold read.
  if (Number.isFinite(c.residentCold)) assert.ok((c.residentCold as number) < 0.5, `resident ${c.residentCold}`);
  for (const label of ['RSS peak / VmHWM / final', 'slow consumer', 'cold / warm']) {
    assert.match(r.stdout, new RegExp(label), `table row ${label}`);
  }
});
