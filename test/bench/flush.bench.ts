/**
 * `npm run bench:flush`: the cost of fsync-before-ack (issue #16: acks=all with `flush.messages=1` >= 0.8 x the
 * same run without it, at 16 producers x 4 partitions; a benchmark, not a test).
 * Two `runnel start` child processes (real data directories under the OS temp dir, `num.partitions=4`, no admin
 * port): A plain, B with `--set log.flush.interval.messages=1` (Kafka's topic `flush.messages`: every append is
 * fsynced before it is acknowledged). Per run: a fresh 4-partition topic (created by the admin client, deleted
 * after), PRODUCERS concurrent `loadgen produce` processes (librdkafka, ../shared/perf's generator, bench.sh's
 * produce settings with acks=all: `-a -1`), each COUNT x SIZE B, no key (librdkafka spreads them over the 4
 * partitions). A run's figure is the aggregate MB/s: the value bytes delivered by all producers / the wall window
 * from spawning the first to the exit of the last (the same window for every producer; the sum of the
 * producers' own MB/s is printed too). One unmeasured warm-up run per broker, then ROUNDS rounds of A then B.
 * The figure (`ratio`) is the median over rounds of B / A within the round: the two runs of a round are
 * adjacent in time, so on a shared machine whose load swings between rounds it is steadier than
 * median(B) / median(A), which is printed too (`ratioOfMedians`). Prints per run the broker's CPU seconds and
 * the 1-minute load average, then a table and one `flush-json {...}` line on stdout. No goal is asserted.
 * Env: ROUNDS (5), PRODUCERS (16), COUNT (60000 per producer), SIZE (1024), GEN_TIMEOUT (300 s per run),
 * BIN (/tmp/perf-bin; built with ../shared/perf/build-loadgen.sh if missing), BROKER_NODE_ARGS (node flags of the
 * brokers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), BROKER_OUT (security-procs.ts), BENCH_DEADLINE_S (1800).
 * MODE=storage measures group commit below the protocol instead (flush-storage.ts: four PartitionLogs in this
 * process, PRODUCERS x IN_FLIGHT appenders of BATCH x SIZE B batches, STORAGE_MB (400) per run; flush runs per
 * append). test/bench/flush.test.ts runs both modes with tiny counts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '../../client/index.js';
import { freePorts } from '../helpers/start-line.js';
import { BrokerProcess, cpuSeconds, loadgenBinary, produce, say, type Figures } from './security-procs.js';
import { envInt, median } from './bench-env.js';

const env = process.env;
const ROUNDS = envInt('ROUNDS', 5, 20);
const PRODUCERS = envInt('PRODUCERS', 16, 64);
const COUNT = envInt('COUNT', 60_000, 10_000_000);
const SIZE = envInt('SIZE', 1024, 1_000_000);
const GEN_TIMEOUT = envInt('GEN_TIMEOUT', 300, 3600);
const deadline = envInt('BENCH_DEADLINE_S', 1800, 7200);

const load1 = (): number => Number(loadavg()[0].toFixed(2));
const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'NA');

interface Run {
  /** Aggregate MB/s: all value bytes / the common wall window. */
  mbps: number;
  /** The sum of the producers' own MB/s. */
  sumMbps: number;
  wallS: number;
  brokerCpuS: number;
  load1: number;
}

interface Target {
  label: string;
  broker: BrokerProcess;
  bootstrap: string;
  admin: Admin;
}

let seq = 0;
/** One run: PRODUCERS concurrent acks=all generators to a fresh 4-partition topic of `t`. */
async function measure(t: Target, count: number, bin: string): Promise<Run> {
  const topic = `flushbench-${process.pid}-${++seq}-${t.label}`;
  await t.admin.createTopic({ name: topic, partitions: 4 });
  const cpu0 = cpuSeconds(t.broker.pid);
  const t0 = performance.now();
  let all: Figures[];
  try {
    const runs = Array.from({ length: PRODUCERS }, () =>
      produce(bin, t.bootstrap, topic, count, SIZE, ['-a', '-1'], GEN_TIMEOUT),
    );
    all = await Promise.all(runs);
  } catch (err) {
    say(`broker ${t.broker.name} output: ${t.broker.output()}`);
    throw err;
  }
  const wallS = (performance.now() - t0) / 1000;
  const bytes = all.reduce((s, f) => s + Number(f.get('bytes')), 0);
  const run: Run = {
    mbps: Number((bytes / wallS / 1e6).toFixed(2)),
    sumMbps: Number(all.reduce((s, f) => s + Number(f.get('MB_per_s')), 0).toFixed(2)),
    wallS: Number(wallS.toFixed(2)),
    brokerCpuS: Number((cpuSeconds(t.broker.pid) - cpu0).toFixed(2)),
    load1: load1(),
  };
  await t.admin.deleteTopics([topic]).catch((e: Error) => say(`delete ${topic}: ${e.message}`));
  say(
    `${t.label.padEnd(6)} ${PRODUCERS} x ${count} x ${SIZE} B: ${fmt(run.mbps)} MB/s (sum of producers ` +
      `${fmt(run.sumMbps)}), wall ${fmt(run.wallS)} s, broker cpu ${fmt(run.brokerCpuS)} s, load1 ${run.load1}`,
  );
  return run;
}

async function main(): Promise<void> {
  if (env.MODE === 'storage') {
    const { runStorage } = await import('./flush-storage.js');
    const o = { rounds: ROUNDS, producers: PRODUCERS, size: SIZE, mb: envInt('STORAGE_MB', 400, 100_000) };
    return runStorage({ ...o, inFlight: envInt('IN_FLIGHT', 4, 64), batch: envInt('BATCH', 64, 100_000) });
  }
  const bin = loadgenBinary();
  const load0 = loadavg().map((x) => Number(x.toFixed(2)));
  say(`flush bench (loadgen ${bin}): node ${process.version}, ${cpus().length} CPUs, load average ${load0}`);
  const dirs = ['plain', 'flush'].map((n) => mkdtempSync(join(tmpdir(), `flushbench-${n}-`)));
  const ports = await freePorts(2);
  const targets: Target[] = [];
  try {
    for (const [i, label] of ['plain', 'flush'].entries()) {
      const sets = ['num.partitions=4', ...(label === 'flush' ? ['log.flush.interval.messages=1'] : [])];
      const args = ['--host', '127.0.0.1', '--port', String(ports[i]), '--data-dir', dirs[i], '--admin-port', '-1'];
      const broker = await BrokerProcess.start(label, [...args, ...sets.flatMap((s) => ['--set', s])], [ports[i]]);
      const bootstrap = `127.0.0.1:${ports[i]}`;
      const admin = new Admin({ bootstrap });
      targets.push({ label, broker, bootstrap, admin });
    }
    const [a, b] = targets as [Target, Target];
    const warm = Math.max(1, Math.min(COUNT, 20_000));
    await measure(a, warm, bin);
    await measure(b, warm, bin);
    const as: Run[] = [];
    const bs: Run[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      say(`round ${r}/${ROUNDS} (load average ${loadavg().map((x) => x.toFixed(2))})`);
      as.push(await measure(a, COUNT, bin));
      bs.push(await measure(b, COUNT, bin));
    }
    const medianA = median(as.map((x) => x.mbps));
    const medianB = median(bs.map((x) => x.mbps));
    const roundRatios = as.map((x, i) => Number((bs[i].mbps / x.mbps).toFixed(3)));
    const ratio = median(roundRatios);
    const ratioOfMedians = Number((medianB / medianA).toFixed(3));
    const loadEnd = loadavg().map((x) => Number(x.toFixed(2)));
    console.log(`scenario                          plain MB/s  flush MB/s  flush/plain (median of rounds)`);
    console.log(
      `acks=all ${PRODUCERS}p x 4 parts x ${SIZE} B`.padEnd(34) +
        `${fmt(medianA).padStart(10)}  ${fmt(medianB).padStart(10)}  ${fmt(ratio, 3).padStart(11)} ` +
        `(rounds ${roundRatios.join(' ')}; ratio of medians ${fmt(ratioOfMedians, 3)})`,
    );
    console.log(`load average (1m/5m/15m) at start ${load0.join('/')}, at end ${loadEnd.join('/')}`);
    const out = {
      producers: PRODUCERS,
      count: COUNT,
      size: SIZE,
      medianA,
      medianB,
      ratio,
      ratioOfMedians,
      roundRatios,
      load0,
      loadEnd,
    };
    console.log(`flush-json ${JSON.stringify({ ...out, runs: { plain: as, flush: bs } })}`);
  } finally {
    for (const t of targets) await t.admin.close().catch(() => undefined);
    for (const t of targets) await t.broker.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => {
  process.stderr.write('flush bench: deadline passed\n');
  process.exit(2);
}, deadline * 1000);
watchdog.unref();

main().then(
  () => clearTimeout(watchdog),
  (err: Error) => {
    process.stderr.write(`flush bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
