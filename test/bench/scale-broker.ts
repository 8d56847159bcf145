/**
 * Shared plumbing of `npm run bench:scale` (test/bench/scale.bench.ts): the broker as a child process
 * (`node dist/broker/bin.cjs start`), its RSS / open descriptors / CPU time read from /proc, raw-protocol
 * requests (ApiVersions, Metadata for all topics, CreateTopics in batches) and small statistics.
 * Every wait is bounded; only the child started here is ever signalled, by its own ChildProcess.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../helpers/raw-client.js';
import { defaultMetadataRequest, encodeMetadataRequest } from '../../protocol/generated/metadata-request.js';
import { decodeMetadataResponse } from '../../protocol/generated/metadata-response.js';
import {
  defaultCreateTopicsRequest,
  encodeCreateTopicsRequest,
} from '../../protocol/generated/create-topics-request.js';
import { decodeCreateTopicsResponse } from '../../protocol/generated/create-topics-response.js';
import { defaultApiVersionsRequest, encodeApiVersionsRequest } from '../../protocol/generated/api-versions-request.js';
import { decodeApiVersionsResponse } from '../../protocol/generated/api-versions-response.js';
import { median } from './bench-env.js';

export { median };

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../broker/bin.cjs');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const say = (s: string): boolean => process.stderr.write(`# ${s}\n`);

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A broker child process on a fixed port and data directory; restartable. */
export class BrokerChild {
  child: ChildProcess | null = null;
  private out = '';
  spawnedAt = 0;

  constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly sets: Record<string, string | number> = {},
  ) {}

  get pid(): number {
    if (!this.child?.pid) throw new Error('broker not running');
    return this.child.pid;
  }

  /** The last `chars` characters the broker wrote (stdout and stderr; the last 20,000 are kept). */
  output(chars = 2000): string {
    return this.out.slice(-chars);
  }

  /** Spawns the broker; resolves once it accepts Kafka connections (bounded by timeoutMs). */
  async start(timeoutMs = 120_000): Promise<void> {
    const sets = Object.entries(this.sets).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    const args = [CLI, 'start', '--host', '127.0.0.1', '--port', String(this.port)];
    args.push('--data-dir', this.dataDir, '--admin-port', '-1', ...sets);
    this.out = '';
    this.spawnedAt = performance.now();
    const child = spawn(
      process.execPath,
      [...(process.env.BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean), ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    const keep = (d: Buffer): void => {
      this.out = (this.out + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`broker exited (${child.exitCode ?? child.signalCode}): ${this.output()}`);
      }
      if (performance.now() > deadline) throw new Error(`broker not accepting within ${timeoutMs} ms`);
      const c = await RawClient.connect(this.port).catch(() => null);
      if (c) {
        c.close();
        return;
      }
      await sleep(5);
    }
  }

  /** SIGTERM (clean shutdown) or SIGKILL; waits for the exit (bounded; SIGKILL after 60 s). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return 0;
    const t0 = performance.now();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
    this.child = null;
    return performance.now() - t0;
  }
}

/** VmRSS of a process, in KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** utime + stime of a process in ms (USER_HZ = 100). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** ApiVersions v3 once; throws unless it succeeds. */
export async function apiVersions(c: RawClient): Promise<void> {
  const req = { ...defaultApiVersionsRequest(), clientSoftwareName: 'scale-bench', clientSoftwareVersion: '1' };
  const res = await c.request(18, 3, (w) => encodeApiVersionsRequest(w, 3, req), decodeApiVersionsResponse, 30_000);
  if (res.errorCode !== 0) throw new Error(`ApiVersions error ${res.errorCode}`);
}

/** Metadata v12 for all topics: the topic names without an error and the partition count. */
export async function metadataAll(c: RawClient, timeoutMs = 30_000): Promise<{ topics: number; partitions: number }> {
  const req = { ...defaultMetadataRequest(), topics: null, allowAutoTopicCreation: false };
  const res = await c.request(3, 12, (w) => encodeMetadataRequest(w, 12, req), decodeMetadataResponse, timeoutMs);
  let topics = 0;
  let partitions = 0;
  for (const t of res.topics) {
    if (t.errorCode !== 0 || t.isInternal) continue;
    topics++;
    partitions += t.partitions.filter((p) => p.errorCode === 0 && p.leaderId >= 0).length;
  }
  return { topics, partitions };
}

/** CreateTopics v7 for `names` (each `partitions` partitions, RF 1), `perRequest` topics a request. */
export async function createTopics(c: RawClient, names: string[], partitions: number, perRequest = 100): Promise<void> {
  for (let i = 0; i < names.length; i += perRequest) {
    const req = {
      ...defaultCreateTopicsRequest(),
      timeoutMs: 60_000,
      topics: names.slice(i, i + perRequest).map((name) => ({
        name,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      })),
    };
    const res = await c.request(
      19,
      7,
      (w) => encodeCreateTopicsRequest(w, 7, req),
      decodeCreateTopicsResponse,
      120_000,
    );
    for (const t of res.topics) {
      if (t.errorCode !== 0 && t.errorCode !== 36) throw new Error(`create ${t.name}: error ${t.errorCode}`);
    }
  }
}

/**
 * From the broker's spawn to the first Metadata (all topics) that lists at least `topics` topics with
 * `partitions` led partitions: ms since spawn. Polls on one connection at a time, bounded by timeoutMs.
 */
export async function timeUntilListed(
  b: BrokerChild,
  topics: number,
  partitions: number,
  timeoutMs = 180_000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = { topics: 0, partitions: 0 };
  while (performance.now() < deadline) {
    const c = await RawClient.connect(b.port).catch(() => null);
    if (c) {
      try {
        for (let i = 0; i < 1000 && performance.now() < deadline; i++) {
          last = await metadataAll(c);
          if (last.topics >= topics && last.partitions >= partitions) return performance.now() - b.spawnedAt;
          await sleep(10);
        }
      } catch {
        // the broker may close connections while it starts: reconnect
      } finally {
        c.close();
      }
    }
    await sleep(10);
  }
  throw new Error(`after ${timeoutMs} ms Metadata lists ${last.topics} topics / ${last.partitions} partitions`);
}

/**
 * Runs `fn` against a fresh broker child (`sets` as --set flags, a new data dir named `prefix`...), printing its
 * output when `fn` fails; the broker is stopped (SIGTERM, else SIGKILL) and its data dir removed afterwards.
 */
export async function withBroker<T>(
  prefix: string,
  sets: Record<string, string | number>,
  fn: (b: BrokerChild) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // BENCH_PORT: a fixed port (e.g. one of a shared machine's assigned range) instead of a free ephemeral one.
  const port = process.env.BENCH_PORT ? Number(process.env.BENCH_PORT) : await freePort();
  const b = new BrokerChild(port, dir, sets);
  try {
    await b.start();
    return await fn(b);
  } catch (err) {
    say(`broker output: ${b.output()}`);
    throw err;
  } finally {
    await b.stop('SIGTERM').catch(() => b.stop('SIGKILL'));
    // KEEP_DIR=1 keeps the data directory (e.g. to replay a restart under a profiler).
    if (process.env.KEEP_DIR === '1') say(`data directory kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
