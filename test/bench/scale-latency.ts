/**
 * The latency scenarios of issue #16, run by `npm run bench:scale` (test/bench/scale.bench.ts,
 * SCENARIOS=idle-consumers,cleaner,retention; not in its default list: they need ../shared/perf's `lat` and,
 * for the mock comparison, librdkafka's mock).
 * Each runs `lat` (10k msg/s of 100 B, acks 1, linger 5 ms, fetch.wait.max.ms 500: broker-compare.sh's `latency`)
 * against a broker child process, A/B alternately over ROUNDS rounds, and reports medians of the rounds:
 *   idle-consumers  plain vs with IDLE (200) raw-protocol consumers long-polling (Fetch max wait 500 ms) the
 *                   partitions of other, empty topics; on Runnel and on the mock (which gets the same consumers);
 *                   each run's broker CPU seconds (cpu_s, /proc utime+stime) tell what the idle polls cost
 *   cleaner         ack/e2e while the log cleaner compacts FILL_MIB (1024) of keyed records (KEYS distinct keys,
 *                   segment.bytes SEGMENT_MIB) vs with the cleaner idle: the topic is filled with cleanup.policy
 *                   delete, measured, switched to compact (log.cleaner.backoff.ms 1000) and measured while it
 *                   cleans; the clean's duration is from the broker's 'cleaned log' line
 *   retention       the same while retention deletes the FILL_MIB / SEGMENT_MIB segments of a topic (retention.bytes
 *                   lowered to one segment, log.retention.check.interval.ms 1000, file.delete.delay.ms 1000)
 * Env: LAT_RATE (10000), LAT_COUNT (100000), FETCH_WAIT_MS (500), IDLE (200), IDLE_TOPICS (50, 4 partitions each),
 * ROUNDS (3; cleaner and retention: CLEAN_ROUNDS, 2, each refills), FILL_MIB (1024), SEGMENT_MIB (8 cleaner,
 * 1 retention: RETENTION_SEGMENT_MIB), KEYS (10000), VALUE (1000 bytes), MOCK (1; 0 skips the mock), RUNNEL_SET.
 * Debug: ELD_FILE=<path> BROKER_NODE_ARGS="--import <dist>/test/bench/event-loop-probe.js" adds the broker's
 * event-loop delay (max, p99 of each second) over each measured window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Admin } from '../../client/index.js';
import { type BrokerChild, median, say, sleep, withBroker as withScaleBroker } from './scale-broker.js';
import {
  IdleConsumers,
  eventLoopDelay,
  fill,
  latBinary,
  processCpuSeconds,
  ratio,
  runLat,
  startMock,
  type LatFigures,
} from './latency-tools.js';

const env = process.env;
const num = (name: string, dflt: number): number => {
  const v = Number(env[name] ?? dflt);
  return Number.isFinite(v) && v >= 0 ? v : dflt;
};
const load = (): string => loadavg()[0]!.toFixed(2);
const METRICS = ['ack_p50', 'ack_p99', 'e2e_p50', 'e2e_p99', 'e2e_max', 'eld_max_ms', 'eld_p99_ms', 'cpu_s'] as const;

/** Median of each metric over the runs, plus the load averages seen. */
export interface Summary {
  runs: number;
  load: number[];
  [metric: string]: number | number[];
}

function summarize(runs: (LatFigures & { load: number })[]): Summary {
  const s: Summary = { runs: runs.length, load: runs.map((r) => r.load) };
  for (const m of METRICS) s[m] = median(runs.map((r) => r[m] ?? Number.NaN));
  return s;
}

interface Common {
  lat: string;
  rate: number;
  count: number;
  fetchWaitMs: number;
}

function common(): Common {
  const lat = latBinary();
  if (!lat) throw new Error('lat not found: build ../shared/perf (build-loadgen.sh) or set BIN');
  return {
    lat,
    rate: num('LAT_RATE', 10_000),
    count: num('LAT_COUNT', 100_000),
    fetchWaitMs: num('FETCH_WAIT_MS', 500),
  };
}

/** One lat run; with `pid`, the broker's CPU seconds over it (cpu_s). */
async function measure(c: Common, boot: string, topic: string, pid?: number): Promise<LatFigures & { load: number }> {
  const l = Number(load());
  const t0 = Date.now();
  const cpu0 = pid === undefined ? Number.NaN : processCpuSeconds(pid);
  const f = await runLat(c.lat, { boot, topic, rate: c.rate, count: c.count, fetchWaitMs: c.fetchWaitMs });
  if (pid !== undefined) f.cpu_s = Math.round((processCpuSeconds(pid) - cpu0) * 100) / 100;
  let eld = '';
  if (env.ELD_FILE) {
    // Debug runs (event-loop-probe.ts loaded into the broker): the broker's worst event-loop delay meanwhile.
    const d = eventLoopDelay(env.ELD_FILE, t0, Date.now());
    f.eld_max_ms = d.maxMs;
    f.eld_p99_ms = d.p99Ms;
    eld = `, event loop delay max ${d.maxMs} ms, p99 ${d.p99Ms} ms`;
  }
  const cpu = f.cpu_s === undefined ? '' : `, broker CPU ${f.cpu_s} s`;
  say(`  ${topic}: ack p99 ${f.ack_p99} us, e2e p50 ${f.e2e_p50} p99 ${f.e2e_p99} us (load ${l}${eld}${cpu})`);
  return { ...f, load: l };
}

async function withBroker<T>(sets: Record<string, string | number>, fn: (b: BrokerChild) => Promise<T>): Promise<T> {
  // RUNNEL_SET="k=v k=v": extra broker configs (as broker-compare.sh), e.g. log.cleaner.io.max.bytes.per.second.
  const extra = Object.fromEntries(
    (env.RUNNEL_SET ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((kv) => kv.split('=', 2)),
  );
  return withScaleBroker('runnel-latency-', { 'num.partitions': 4, ...sets, ...extra }, fn);
}

/**
 * Creates the idle topics by producing one record to each (auto-created on both brokers; the mock answers only
 * librdkafka well, so confluent-kafka does it): the smallest partition count among them.
 */
function createIdleTopics(boot: string, topics: string[]): number {
  const py = [
    'import sys',
    'from confluent_kafka import Producer',
    "p = Producer({'bootstrap.servers': sys.argv[1], 'acks': 1})",
    'topics = sys.argv[2].split(",")',
    "for t in topics: p.produce(t, b'x')",
    'assert p.flush(60) == 0',
    'md = p.list_topics(timeout=30)',
    'print(min(len(md.topics[t].partitions) for t in topics))',
  ].join('\n');
  const out = execFileSync('/usr/bin/python3', ['-c', py, boot, topics.join(',')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return Number(out.trim());
}

export interface IdleFigures {
  idle: number;
  runnel: Summary;
  runnelIdle: Summary;
  mock?: Summary;
  mockIdle?: Summary;
  idleFetches: number;
  idleErrors: number;
}

export async function idleConsumersScenario(): Promise<IdleFigures> {
  const c = common();
  const rounds = num('ROUNDS', 3);
  const idle = num('IDLE', 200);
  const topics = Array.from({ length: num('IDLE_TOPICS', 50) }, (_, i) => `idle-${i}`);
  const work = mkdtempSync(join(tmpdir(), 'runnel-latency-mock-'));
  const mock = num('MOCK', 1) ? await startMock(work) : undefined;
  const runs: Record<string, (LatFigures & { load: number })[]> = {
    runnel: [],
    runnelIdle: [],
    mock: [],
    mockIdle: [],
  };
  let idleFetches = 0;
  let idleErrors = 0;
  try {
    return await withBroker({}, async (b) => {
      const boots: Record<string, string> = { runnel: `127.0.0.1:${b.port}` };
      const pids: Record<string, number> = { runnel: b.pid };
      if (mock) {
        boots.mock = mock.boot;
        pids.mock = mock.pid;
      }
      const parts: Record<string, number> = {};
      for (const [name, boot] of Object.entries(boots)) parts[name] = createIdleTopics(boot, topics);
      say(`idle topics: ${topics.length}, partitions each ${JSON.stringify(parts)}`);
      for (let r = 1; r <= rounds; r++) {
        for (const [name, boot] of Object.entries(boots)) {
          say(`idle-consumers round ${r}/${rounds}: ${name} (load ${load()})`);
          runs[name]!.push(await measure(c, boot, `lat-${name}-${r}`, pids[name]));
          const consumers = new IdleConsumers(boot, topics, parts[name]!, idle, c.fetchWaitMs);
          await consumers.start();
          await sleep(1000);
          try {
            runs[`${name}Idle`]!.push(await measure(c, boot, `lat-${name}-idle-${r}`, pids[name]));
          } finally {
            await consumers.stop();
          }
          idleFetches += consumers.fetches;
          idleErrors += consumers.errors;
          if (consumers.errors) say(`  ${consumers.errors} idle fetch errors, last: ${consumers.lastError}`);
        }
      }
      const out: IdleFigures = {
        idle,
        runnel: summarize(runs.runnel!),
        runnelIdle: summarize(runs.runnelIdle!),
        idleFetches,
        idleErrors,
      };
      if (mock) {
        out.mock = summarize(runs.mock!);
        out.mockIdle = summarize(runs.mockIdle!);
      }
      return out;
    });
  } finally {
    await mock?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export interface BackgroundFigures {
  fillMiB: number;
  segmentMiB: number;
  idle: Summary;
  busy: Summary;
  /** busy / idle of the median ack p99 (target <= 1.2). */
  ackP99Ratio: number;
  /** How long the background work took after it was switched on (ms; NaN if not seen), per round. */
  workMs: number[];
}

const secs = (ms: number): string => (ms / 1000).toFixed(1);

/** Waits (bounded) until `done()` holds; ms from `t0`, NaN on timeout. */
async function until(t0: number, done: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  while (performance.now() - t0 < timeoutMs) {
    if (await done()) return performance.now() - t0;
    await sleep(100);
  }
  return Number.NaN;
}

/**
 * Shared shape of the cleaner and retention scenarios: per round, fill a topic (`configs`), measure with the
 * background work off, switch it on (`on`), measure while it runs, wait for it to end (`done`).
 */
async function backgroundScenario(
  name: string,
  sets: Record<string, string | number>,
  configs: (round: number) => Record<string, string>,
  on: Record<string, string>,
  done: (b: BrokerChild, admin: Admin, topic: string) => Promise<boolean> | boolean,
  segmentMiB: number,
): Promise<BackgroundFigures> {
  const c = common();
  const rounds = num('CLEAN_ROUNDS', 2);
  const fillMiB = num('FILL_MIB', 1024);
  const keys = num('KEYS', 10_000);
  const value = num('VALUE', 1000);
  const idle: (LatFigures & { load: number })[] = [];
  const busy: (LatFigures & { load: number })[] = [];
  const workMs: number[] = [];
  return withBroker(sets, async (b) => {
    const boot = `127.0.0.1:${b.port}`;
    const admin = new Admin({ bootstrap: boot });
    try {
      for (let r = 1; r <= rounds; r++) {
        const topic = `${name}-${r}`;
        await admin.createTopic({ name: topic, partitions: 1, replicationFactor: 1, configs: configs(r) });
        const t0 = performance.now();
        const n = await fill(boot, topic, fillMiB * 1024 * 1024, value, keys);
        say(`${name} round ${r}/${rounds}: ${n} records (${fillMiB} MiB) in ${secs(performance.now() - t0)} s`);
        idle.push(await measure(c, boot, `lat-${name}-off-${r}`));
        const t1 = performance.now();
        await admin.alterTopicConfigs(topic, on);
        busy.push(await measure(c, boot, `lat-${name}-on-${r}`));
        const ms = await until(t1, () => done(b, admin, topic), 600_000);
        say(`  ${name} work took ${Number.isFinite(ms) ? (ms / 1000).toFixed(1) : '?'} s (at most, polled)`);
        workMs.push(ms);
        await admin.deleteTopics([topic]);
      }
    } finally {
      await admin.close();
    }
    const s = { idle: summarize(idle), busy: summarize(busy) };
    return {
      fillMiB,
      segmentMiB,
      ...s,
      ackP99Ratio: ratio(s.busy.ack_p99 as number, s.idle.ack_p99 as number),
      workMs,
    };
  });
}

export function cleanerScenario(): Promise<BackgroundFigures> {
  const seg = num('SEGMENT_MIB', 8);
  const topicConfigs = (): Record<string, string> => ({
    'cleanup.policy': 'delete',
    'retention.ms': '-1',
    'segment.bytes': String(seg * 1024 * 1024),
    'min.cleanable.dirty.ratio': '0.01',
    'min.compaction.lag.ms': '0',
  });
  return backgroundScenario(
    'cleaner',
    { 'log.cleaner.backoff.ms': 1000, 'log.segment.delete.delay.ms': 1000 },
    topicConfigs,
    { 'cleanup.policy': 'compact' },
    (b, _admin, topic) => {
      // The broker logs 'cleaned log' with the partition's dir once per clean (each round has its own topic; the
      // output kept is its last 2000 characters, polled every 100 ms).
      return b
        .output()
        .split('\n')
        .some((l) => l.includes('cleaned log') && l.includes(`${topic}-0`));
    },
    seg,
  );
}

export function retentionScenario(): Promise<BackgroundFigures> {
  const seg = num('RETENTION_SEGMENT_MIB', 1);
  return backgroundScenario(
    'retention',
    { 'log.retention.check.interval.ms': 1000, 'log.segment.delete.delay.ms': 1000 },
    () => ({ 'cleanup.policy': 'delete', 'retention.ms': '-1', 'segment.bytes': String(seg * 1024 * 1024) }),
    { 'retention.bytes': String(seg * 1024 * 1024) },
    async (_b, admin, topic) => {
      const [first] = await admin.listOffsets(topic, 'earliest');
      return (first?.offset ?? 0) > 0;
    },
    seg,
  );
}

const us = (x: unknown): string => (typeof x === 'number' && Number.isFinite(x) ? `${(x / 1000).toFixed(2)} ms` : 'NA');

/** Table rows of the figures (name, value, target). */
export function latencyRows(out: Record<string, unknown>): [string, string, string][] {
  const rows: [string, string, string][] = [];
  const line = (label: string, s: Summary | undefined, target = ''): void => {
    if (!s) return;
    const v = `ack p50 ${us(s.ack_p50)} p99 ${us(s.ack_p99)}, e2e p50 ${us(s.e2e_p50)} p99 ${us(s.e2e_p99)}`;
    const cpu = typeof s.cpu_s === 'number' && Number.isFinite(s.cpu_s) ? `, broker CPU ${s.cpu_s} s` : '';
    rows.push([label, `${v}${cpu} (load ${s.load.map((x) => x.toFixed(1)).join('/')})`, target]);
  };
  const i = out.idleConsumers as IdleFigures | undefined;
  if (i) {
    rows.push([
      'latency with idle consumers',
      `${i.idle} consumers, ${i.idleFetches} idle fetches, ${i.idleErrors} errors`,
      '',
    ]);
    line('  runnel', i.runnel, 'e2e p99 <= 7 ms');
    line(`  runnel + ${i.idle} idle`, i.runnelIdle, 'e2e p99 <= 7 ms');
    line('  mock', i.mock);
    line(`  mock + ${i.idle} idle`, i.mockIdle);
    const r = ratio(i.runnelIdle.ack_p99 as number, i.mockIdle?.ack_p99 as number);
    if (i.mockIdle) rows.push(['  ack p99 runnel/mock (idle)', r.toFixed(2), '<= 1.1']);
  }
  for (const [key, label] of [
    ['cleaner', 'cleaner'],
    ['retention', 'retention'],
  ] as const) {
    const f = out[key] as BackgroundFigures | undefined;
    if (!f) continue;
    const work = f.workMs.map((x) => (Number.isFinite(x) ? `${(x / 1000).toFixed(1)} s` : '?')).join(', ');
    rows.push([`${label} (${f.fillMiB} MiB, ${f.segmentMiB} MiB segments)`, `work took ${work}`, '']);
    line(`  ${label} idle`, f.idle);
    line(`  ${label} working`, f.busy);
    rows.push([`  ack p99 working/idle`, f.ackP99Ratio.toFixed(2), '<= 1.2']);
  }
  return rows;
}
