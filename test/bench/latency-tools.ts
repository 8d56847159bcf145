/**
 * Plumbing of the latency scenarios of `npm run bench:scale` (test/bench/latency.bench.ts, issue #16):
 * - `runLat`: ../shared/perf's `lat` probe (librdkafka, C; built into BIN by build-loadgen.sh when absent):
 *   a paced producer and a consumer in one process, ack and end-to-end latency percentiles in microseconds;
 * - `startMock`: librdkafka's mock cluster (the reference broker of `npm run bench`), compiled once;
 * - `IdleConsumers`: N raw-protocol connections, each long-polling (Fetch v11, max wait W ms, min 1 byte,
 *   again as soon as it answers) one partition of topics that receive no data: the load of many idle
 *   consumers on the purgatory, with no 200 client instances in this process;
 * - `fill`: keyed records (key = i mod keys, so a compacted topic has many duplicates) with Runnel's client.
 * Every wait is bounded; only processes started here are ever signalled, by their own ChildProcess.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../helpers/raw-client.js';
import {
  defaultFetchPartition,
  defaultFetchRequest,
  encodeFetchRequest,
} from '../../protocol/generated/fetch-request.js';
import { decodeFetchResponse } from '../../protocol/generated/fetch-response.js';
import { Producer } from '../../client/index.js';
import { sleep } from './scale-broker.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SHARED = process.env.SHARED_DIR ?? join(root, '../shared');
export const BIN = process.env.BIN ?? '/tmp/perf-bin';

/** The `lat` binary, built from ../shared/perf when missing; undefined when neither is available. */
export function latBinary(): string | undefined {
  const lat = join(BIN, 'lat');
  if (existsSync(lat)) return lat;
  const build = join(SHARED, 'perf/build-loadgen.sh');
  if (!existsSync(build)) return undefined;
  execFileSync(build, [BIN], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
  return existsSync(lat) ? lat : undefined;
}

export type LatFigures = Record<string, number>;

export interface LatOptions {
  boot: string;
  topic: string;
  rate: number;
  count: number;
  fetchWaitMs: number;
  lingerMs?: number;
}

/** One `lat` run: its "<metric> <value> <unit>" lines as numbers (us for latencies). Bounded (count/rate + 60 s). */
export function runLat(lat: string, o: LatOptions): Promise<LatFigures> {
  const args = ['-b', o.boot, '-t', o.topic, '-r', String(o.rate), '-n', String(o.count), '-s', '100', '-a', '1'];
  args.push('-P', `linger.ms=${o.lingerMs ?? 5}`, '-C', `fetch.wait.max.ms=${o.fetchWaitMs}`, '-q');
  return new Promise((resolve, reject) => {
    const child = spawn(lat, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), (o.count / o.rate) * 1000 + 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      const f: LatFigures = {};
      for (const line of out.split('\n')) {
        const [k, v] = line.trim().split(/\s+/);
        if (k && v !== undefined && Number.isFinite(Number(v))) f[k] = Number(v);
      }
      if (code !== 0 || f.e2e_p99 === undefined) reject(new Error(`lat exited ${code}: ${err}${out}`));
      else resolve(f);
    });
  });
}

/** librdkafka's mock cluster (one broker): its bootstrap and a stop function. */
/** CPU seconds (utime + stime) a process has used so far, from /proc (NaN where unreadable). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15, in clock ticks (USER_HZ 100 on Linux)
  } catch {
    return Number.NaN;
  }
}

export async function startMock(workDir: string): Promise<{ boot: string; pid: number; stop: () => Promise<void> }> {
  const bin = '/tmp/mockcluster';
  if (!existsSync(bin)) {
    const src = join(SHARED, 'mock/mockcluster.c');
    execFileSync('gcc', ['-O2', '-o', bin, src, '-lrdkafka'], { stdio: 'inherit', timeout: 120_000 });
  }
  const portFile = join(workDir, 'mock.port');
  const child = spawn(bin, ['1', portFile], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !(existsSync(portFile) && readFileSync(portFile, 'utf8').trim()); i++) await sleep(25);
  const boot = readFileSync(portFile, 'utf8').trim();
  return {
    boot,
    pid: child.pid ?? -1,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

function hostPort(boot: string): { host: string; port: number } {
  const i = boot.lastIndexOf(':');
  return { host: boot.slice(0, i), port: Number(boot.slice(i + 1)) };
}

/**
 * `count` connections, each long-polling partition (i mod partitions) of topic (i mod topics) from its log end
 * (offset 0 of an empty partition) until `stop`. Counts answered fetches and errors.
 */
export class IdleConsumers {
  fetches = 0;
  errors = 0;
  lastError = '';
  private clients: RawClient[] = [];
  private loops: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly boot: string,
    private readonly topics: string[],
    private readonly partitions: number,
    private readonly count: number,
    private readonly maxWaitMs: number,
  ) {}

  async start(): Promise<void> {
    const { host, port } = hostPort(this.boot);
    for (let i = 0; i < this.count; i++) this.clients.push(await RawClient.connect(port, host));
    this.loops = this.clients.map((c, i) => this.loop(c, i));
  }

  private async loop(c: RawClient, i: number): Promise<void> {
    const topic = this.topics[i % this.topics.length]!;
    const partition = Math.floor(i / this.topics.length) % this.partitions;
    const req = {
      ...defaultFetchRequest(),
      maxWaitMs: this.maxWaitMs,
      minBytes: 1,
      maxBytes: 1_048_576,
      topics: [
        {
          topic,
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: [
            {
              ...defaultFetchPartition(),
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: 0n,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
    };
    // Bounded: one fetch every maxWaitMs at most, over a run of at most a few minutes.
    for (let n = 0; n < 1_000_000 && !this.stopping && !c.closed; n++) {
      try {
        const res = await c.request(1, 11, (w) => encodeFetchRequest(w, 11, req), decodeFetchResponse, 30_000);
        const part = res.responses[0]?.partitions[0];
        const code = res.errorCode || part?.errorCode || 0;
        this.fetches++;
        // From the log end on: a topic that got a record (the mock creates topics by producing) stays idle.
        if (part && part.highWatermark > 0n) req.topics[0]!.partitions[0]!.fetchOffset = part.highWatermark;
        if (code !== 0) {
          this.errors++;
          this.lastError = `error code ${code}`;
          await sleep(this.maxWaitMs);
        }
      } catch (err) {
        if (this.stopping) return;
        this.errors++;
        this.lastError = (err as Error).message;
        await sleep(this.maxWaitMs);
      }
    }
  }

  /** Stops the loops (each ends with its current fetch: at most maxWaitMs) and closes the connections. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.race([Promise.all(this.loops), sleep(this.maxWaitMs + 5000)]);
    for (const c of this.clients) c.close();
  }
}

/**
 * Produces `bytes` of records of `valueSize` bytes to `topic` (acks 1), key `k<i mod keys>`: returns the
 * records written. Bounded by the count and by deadlineMs.
 */
export async function fill(
  boot: string,
  topic: string,
  bytes: number,
  valueSize: number,
  keys: number,
  deadlineMs = 600_000,
): Promise<number> {
  const p = new Producer({ bootstrap: boot, acks: 1, lingerMs: 5, batchBytes: 1 << 20, maxInFlight: 5 });
  const value = Buffer.alloc(valueSize, 'v');
  const n = Math.ceil(bytes / (valueSize + 20));
  const end = performance.now() + deadlineMs;
  try {
    let pending: Promise<unknown>[] = [];
    for (let i = 0; i < n && performance.now() < end; i++) {
      pending.push(p.send({ topic, partition: 0, key: `k${i % keys}`, value }));
      if (pending.length >= 20_000) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
    await p.flush();
  } finally {
    await p.close();
  }
  return n;
}

/** Percent of `a` over `b` as a ratio (NaN when either is missing). */
export const ratio = (a: number | undefined, b: number | undefined): number =>
  a !== undefined && b !== undefined && b > 0 ? a / b : Number.NaN;

/** Max of the per-second maxima and p99s written to `path` between `from` and `to` (epoch ms). */
export function eventLoopDelay(path: string, from: number, to: number): { maxMs: number; p99Ms: number } {
  let maxMs = 0;
  let p99Ms = 0;
  if (!existsSync(path)) return { maxMs: Number.NaN, p99Ms: Number.NaN };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [t, max, p99] = line.split(' ').map(Number);
    if (t === undefined || !(t >= from && t <= to + 1000)) continue;
    maxMs = Math.max(maxMs, max ?? 0);
    p99Ms = Math.max(p99Ms, p99 ?? 0);
  }
  return { maxMs, p99Ms };
}
