/**
 * `npm run bench:scale` scaled down for CI: the bench (dist/test/bench/scale.bench.js) runs every scenario
 * with tiny counts against real broker child processes and must complete and report every figure. No
 * timing assertion: figures are only checked to be present and finite (the restart and offsets-load times
 * are measured, so they are there only if the restarted broker listed every topic / returned the commits).
 * Bounded: the child is killed after 240 s, the bench's own watchdog stops it after 200 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScaleBench } from './run-scale-bench.js';

const TINY = {
  SCENARIOS: 'partitions,connections,groups',
  TOPICS: '6',
  PARTITIONS: '3',
  RECORDS: '2',
  METADATA_RUNS: '3',
  SPREAD_PARTITIONS: '12',
  SPREAD_MIB: '1',
  CONNECTIONS: '30',
  ACTIVE: '5',
  ACTIVE_S: '1',
  GROUP_COUNT: '2',
  MEMBERS: '2',
  WINDOW_S: '2',
  BENCH_DEADLINE_S: '200',
};

const runBench = () => runScaleBench(TINY);

const finite = (o: Record<string, unknown>, keys: string[]): void => {
  for (const k of keys) assert.ok(Number.isFinite(o[k]), `${k} = ${o[k]}`);
};

test('bench:scale with tiny counts completes and reports every figure', { timeout: 300_000 }, async () => {
  const r = await runBench();
  assert.equal(r.code, 0, `bench exited ${r.code}: ${r.stderr.slice(-3000)}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('scale-json '));
  assert.ok(line, `no scale-json line in: ${r.stdout}`);
  const f = JSON.parse(line.slice('scale-json '.length)) as Record<string, Record<string, unknown>>;
  const p = f.partitions;
  assert.equal(p.topics, 6);
  assert.equal(p.partitionsPerTopic, 3);
  finite(p, ['createMs', 'rssMiB', 'openFds', 'metadataAllMedianMs', 'restartAfterCleanMs', 'restartAfterKill9Ms']);
  finite(p, ['spreadMBps', 'fourMBps', 'spreadRatio']);
  assert.ok((p.rssMiB as number) > 0 && (p.openFds as number) > 0);
  const c = f.connections;
  assert.equal(c.connections, 30);
  finite(c, ['rssBeforeMiB', 'rssIdleMiB', 'kibPerIdleConnection', 'rssActiveMiB']);
  assert.ok((c.activeRequests as number) >= 5, `active requests ${c.activeRequests}`);
  const g = f.groups;
  assert.equal(g.groups, 2);
  assert.equal(g.members, 4);
  assert.equal(g.commitErrors, 0);
  assert.ok((g.commits as number) >= 8, `commits ${g.commits}`);
  finite(g, ['brokerCpuPct', 'cpuMsPerCommit', 'brokerCpuPctAtTarget', 'offsetsLoadMs', 'restartAcceptMs']);
  finite(g, ['offsetsReplayMs', 'restartCpuMs', 'offsetsLogMiB']);
  assert.ok((g.offsetsSegments as number) >= 1, `offsets segments ${g.offsetsSegments}`);
  for (const label of ['Metadata all topics', 'restart after kill -9', 'per idle connection', 'broker CPU']) {
    assert.match(r.stdout, new RegExp(label), `table row ${label}`);
  }
});
