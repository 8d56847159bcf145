/**
 * The latency scenarios of `npm run bench:scale` (test/bench/scale-latency.ts) scaled down for CI: idle-consumers,
 * cleaner and retention with tiny counts against real broker child processes (and librdkafka's mock) must
 * complete and report every figure. No timing assertion: figures are only checked to be present
 * and finite. Needs ../shared/perf's `lat` (built when missing); skipped without it. Bounded: the child is
 * killed after 400 s, the bench's own watchdog stops it after 360 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScaleBench } from './run-scale-bench.js';
import { latBinary } from './latency-tools.js';

const TINY = {
  SCENARIOS: 'idle-consumers,cleaner,retention',
  ROUNDS: '1',
  CLEAN_ROUNDS: '1',
  LAT_RATE: '1000',
  LAT_COUNT: '2000',
  IDLE: '10',
  IDLE_TOPICS: '3',
  FILL_MIB: '4',
  SEGMENT_MIB: '1',
  KEYS: '100',
  BENCH_DEADLINE_S: '360',
};

const runBench = () => runScaleBench(TINY, 400_000);

let lat: string | undefined;
try {
  lat = latBinary();
} catch {
  lat = undefined;
}

test('bench:scale latency scenarios with tiny counts complete and report every figure', {
  timeout: 450_000,
  skip: lat ? false : 'no ../shared/perf lat tool',
}, async () => {
  const r = await runBench();
  assert.equal(r.code, 0, `bench exited ${r.code}: ${r.stderr.slice(-3000)}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('scale-json '));
  assert.ok(line, `no scale-json line in: ${r.stdout}`);
  const f = JSON.parse(line.slice('scale-json '.length)) as Record<string, Record<string, unknown>>;
  const finite = (o: unknown, what: string): void => {
    const s = o as Record<string, number>;
    for (const k of ['ack_p50', 'ack_p99', 'e2e_p50', 'e2e_p99']) assert.ok(Number.isFinite(s[k]), `${what}.${k}`);
    assert.equal(s.runs, 1, `${what} runs`);
  };
  const i = f.idleConsumers;
  assert.equal(i.idle, 10);
  assert.equal(i.idleErrors, 0);
  assert.ok((i.idleFetches as number) >= 10, `idle fetches ${i.idleFetches}`);
  for (const k of ['runnel', 'runnelIdle', 'mock', 'mockIdle']) {
    finite(i[k], `idleConsumers.${k}`);
    const cpu = (i[k] as Record<string, number>).cpu_s;
    assert.ok(Number.isFinite(cpu) && cpu >= 0, `idleConsumers.${k}.cpu_s ${cpu}`);
  }
  for (const k of ['cleaner', 'retention']) {
    finite(f[k].idle, `${k}.idle`);
    finite(f[k].busy, `${k}.busy`);
    assert.ok(Number.isFinite(f[k].ackP99Ratio), `${k}.ackP99Ratio`);
    const work = f[k].workMs as number[];
    assert.ok(work.length === 1 && Number.isFinite(work[0]), `${k}: the background work was seen to finish`);
  }
  for (const label of ['latency with idle consumers', 'cleaner working', 'retention working']) {
    assert.match(r.stdout, new RegExp(label), `table row ${label}`);
  }
});
