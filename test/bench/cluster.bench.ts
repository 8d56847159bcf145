/**
 * Cluster mode of `npm run bench` (run by test/bench/broker-compare.sh after the single-node comparison; not a
 * test). On a 3-node startCluster() (RF 3 topics, min.insync.replicas=2):
 * - produce-1k with acks=all against produce-1k with acks=1 on the single node the script started (RF 1), the
 *   same generator (../shared/perf bench.sh, loadgen), rounds alternating single, cluster; medians and the
 *   ratio cluster/single (target >= 0.5);
 * - failover: kill -9 of a partition's leader -> the first acks=all produce acknowledged through a new leader
 *   (target < 2 x broker.session.timeout.ms), and the same for a controlled shutdown (SIGTERM; target < 1 s).
 * Env: PERF (the perf dir), BIN, SINGLE (host:port of the single node), ROUNDS (3), CLUSTER_COUNT (200000
 * messages per produce run), CLUSTER_SESSION_MS (3000), FAILOVER_ROUNDS (2). Bounded: GEN_TIMEOUT per
 * generator run, a deadline per failover, and a watchdog over the whole run (BENCH_DEADLINE_S, 900).
 * Usage: node dist/test/bench/cluster.bench.js
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Admin, Producer } from '../../client/index.js';
import { startCluster, type RunningCluster } from '../../broker/index.js';
import { median } from './bench-env.js';

const env = process.env;
const PERF = env.PERF ?? '';
const SINGLE = env.SINGLE ?? '';
const ROUNDS = Number(env.ROUNDS ?? 3);
const COUNT = Number(env.CLUSTER_COUNT ?? 200_000);
const SESSION_MS = Number(env.CLUSTER_SESSION_MS ?? 3000);
const FAILOVER_ROUNDS = Number(env.FAILOVER_ROUNDS ?? 2);
const DEADLINE_S = Number(env.BENCH_DEADLINE_S ?? 900);
const TOPIC = 'failover';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (s: string): boolean => process.stderr.write(`# ${s}\n`);

/** Runs bench.sh for one scenario; returns its `<metric> <value>` figures. */
function benchSh(label: string, bootstrap: string, scenario: string, round: number): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(PERF, 'bench.sh'), bootstrap, scenario], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...env,
        COUNT: String(COUNT),
        LABEL: '',
        BROKER_PID: '',
        GEN_TIMEOUT: env.GEN_TIMEOUT ?? '180',
        TOPIC_PREFIX: `cluster-${round}-${label}-${process.pid}`,
      },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`bench.sh ${scenario} on ${label} exited ${code}: ${out}`));
      const figures = new Map<string, string>();
      for (const line of out.split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f[0] === scenario && f.length >= 3) figures.set(f[1], f[2]);
      }
      resolve(figures);
    });
  });
}

const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'NA');

async function throughput(cluster: RunningCluster): Promise<void> {
  const single: number[] = [];
  const multi: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    say(`round ${r}/${ROUNDS}: single node, produce-1k acks=1`);
    single.push(Number((await benchSh('single', SINGLE, 'produce-1k', r)).get('MB_per_s')));
    say(`round ${r}/${ROUNDS}: 3-node cluster, produce-1k acks=all`);
    const f = await benchSh('cluster', cluster.bootstrapServers, 'produce-1k-acksall', r);
    if (f.get('failed') !== '0') say(`cluster run ${r}: failed ${f.get('failed')} (${f.get('first_error') ?? ''})`);
    multi.push(Number(f.get('MB_per_s')));
  }
  // The topics the generator auto-created must be RF 3 for the figure to mean what it says.
  const admin = new Admin({ bootstrap: cluster.bootstrapServers });
  try {
    const t = (await admin.describeTopics([`cluster-1-cluster-${process.pid}-1k-all`]))[0];
    const rf = new Set(t.partitions.map((p) => p.replicas.length));
    say(`cluster topic ${t.name}: ${t.partitions.length} partitions, replication factor ${[...rf].join('/')}`);
  } finally {
    await admin.close();
  }
  const s = median(single);
  const m = median(multi);
  const range = (xs: number[]): string => `${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))}`;
  process.stdout.write(
    `cluster-produce-1k MB_per_s ${fmt(s)} ${fmt(m)} MB/s ${fmt(m / s)} ${range(single)} ${range(multi)} ` +
      `n=${ROUNDS} (single acks=1 RF1 | cluster acks=all RF3; target ratio >= 0.5)\n`,
  );
}

/** One acks=all produce to partition 0 through a fresh client; the leader it went to, or undefined. */
async function produceOnce(bootstrap: string): Promise<number | undefined> {
  const p = new Producer({
    bootstrap,
    acks: -1,
    retries: 0,
    requestTimeoutMs: 1000,
    connectTimeoutMs: 500,
    deliveryTimeoutMs: 2000,
  });
  try {
    await p.send({ topic: TOPIC, partition: 0, value: Buffer.from('probe') });
    return p.metadata.leaderOf(TOPIC, 0);
  } catch {
    return undefined;
  } finally {
    await p.close().catch(() => undefined);
  }
}

async function partition0(cluster: RunningCluster): Promise<{ leader: number; isr: number[] }> {
  const live = cluster.nodes.filter((n) => n.running && !n.paused).map((n) => n.address);
  const admin = new Admin({ bootstrap: live.join(','), requestTimeoutMs: 2000 });
  try {
    const p = (await admin.describeTopics([TOPIC]))[0].partitions[0];
    return { leader: p.leader, isr: p.isr };
  } finally {
    await admin.close();
  }
}

async function fullIsr(cluster: RunningCluster): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const p = await partition0(cluster).catch(() => undefined);
    if (p && p.isr.length === 3 && p.leader > 0) return p.leader;
    await sleep(100);
  }
  throw new Error('the failover partition did not get back a full ISR within 60 s');
}

/** From the signal to the first acks=all produce acknowledged by another leader (ms), bounded. */
async function failover(cluster: RunningCluster, how: 'kill' | 'stop'): Promise<{ ms: number; exitMs: number }> {
  const leader = await fullIsr(cluster);
  const node = cluster.node(leader);
  const others = cluster.nodes.filter((n) => n.nodeId !== leader).map((n) => n.address);
  const t0 = performance.now();
  let exitMs = Number.NaN;
  const exited = (how === 'kill' ? node.kill() : node.stop()).then(() => (exitMs = performance.now() - t0));
  const deadline = t0 + Math.max(30_000, 4 * SESSION_MS);
  let ms = Number.NaN;
  while (performance.now() < deadline) {
    const to = await produceOnce(others.join(','));
    if (to !== undefined && to !== leader) {
      ms = performance.now() - t0;
      break;
    }
    await sleep(20);
  }
  await exited;
  await node.restart();
  return { ms, exitMs };
}

async function main(): Promise<void> {
  if (!PERF || !SINGLE) throw new Error('PERF and SINGLE must be set (test/bench/broker-compare.sh sets them)');
  const t0 = performance.now();
  const cluster = await startCluster({
    nodes: 3,
    sessionTimeoutMs: SESSION_MS,
    sets: {
      'num.partitions': 4,
      'default.replication.factor': 3,
      'min.insync.replicas': 2,
      'offsets.topic.num.partitions': 3,
      'transaction.state.log.num.partitions': 3,
    },
  });
  const watchdog = setTimeout(() => {
    say(`cluster bench: over ${DEADLINE_S} s, stopping`);
    cluster.close().finally(() => process.exit(1));
  }, DEADLINE_S * 1000);
  try {
    say(
      `cluster on ${cluster.bootstrapServers} (pids ${cluster.nodes.map((n) => n.pid).join(' ')}), ` +
        `started in ${fmt((performance.now() - t0) / 1000, 1)} s; broker.session.timeout.ms=${SESSION_MS}`,
    );
    await throughput(cluster);
    const admin = new Admin({ bootstrap: cluster.bootstrapServers });
    try {
      await admin.createTopic({ name: TOPIC, partitions: 1, replicationFactor: 3 });
    } finally {
      await admin.close();
    }
    for (const how of ['kill', 'stop'] as const) {
      const runs: Array<{ ms: number; exitMs: number }> = [];
      for (let r = 1; r <= FAILOVER_ROUNDS; r++) {
        say(`failover ${how} ${r}/${FAILOVER_ROUNDS}`);
        runs.push(await failover(cluster, how));
      }
      const target = how === 'kill' ? `< ${2 * SESSION_MS} (2 x session timeout)` : '< 1000';
      const name = how === 'kill' ? 'failover-kill9' : 'failover-sigterm';
      const list = (xs: number[]): string => xs.map((x) => fmt(x, 0)).join(',');
      const ms = runs.map((x) => x.ms);
      process.stdout.write(
        `${name} first_acked_ms ${fmt(median(ms), 0)} ms runs=${list(ms)}` +
          ` leader_exit_ms=${list(runs.map((x) => x.exitMs))} target ${target}\n`,
      );
    }
  } finally {
    clearTimeout(watchdog);
    await cluster.close();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`cluster bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
