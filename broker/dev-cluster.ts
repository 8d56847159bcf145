/**
 * `startCluster()`: a replicated Runnel cluster in one call, for tests and development (`runnel dev` runs it in
 * the foreground, client/cli/dev.ts). It starts one etcd (broker/dev-etcd.ts) and N nodes, each a child process
 * `node dist/broker/bin.cjs start --node-id i --port P --data-dir D --admin-port -1 --set etcd.endpoints=...`
 * on 127.0.0.1, and resolves once every node is registered and one is controller (DescribeCluster asked of every
 * node). Nodes can be stopped (SIGTERM: the broker's own graceful/controlled shutdown), killed (SIGKILL),
 * paused (SIGSTOP), resumed and restarted with the same id, port and data dir.
 *
 * Quiet: the children's output is kept (the last lines, put in error messages), printed only with
 * `printOutput`. close() ends the processes it started, by pid, and removes the temporary data dirs (not a
 * given `dataDir`); should the host process exit first, an exit handler SIGKILLs them. Every wait is bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '../client/admin.js';
import { BadArgumentError, DevClusterError } from '../protocol/errors.js';
import { type DevEtcd, freePort, isRunning, OutputTail, sleep, startDevEtcd, waitExit } from './dev-etcd.js';
import type { LogLevel } from './logger.js';

export { DevClusterError } from '../protocol/errors.js';

export interface StartClusterOptions {
  /** Number of nodes, ids 1..N (default 3). */
  nodes?: number;
  /** Broker configs by name given to every node (`--set name=value`), e.g. { 'min.insync.replicas': 2 }. */
  sets?: Record<string, string | number | boolean>;
  /** broker.session.timeout.ms of every node: how long a killed or paused node keeps its leaderships. */
  sessionTimeoutMs?: number;
  /** The nodes' log.level (default warn). Their output is captured, printed only with printOutput. */
  logLevel?: LogLevel;
  /** Mirror the nodes' and etcd's output on this process's stderr, each line prefixed (default false). */
  printOutput?: boolean;
  /** Bound of every start: etcd healthy, a node registered, the cluster ready (default 60000 ms). */
  startTimeoutMs?: number;
  /** Keep the data here (etcd/ and node-<id>/ inside, kept by close()); default a temp dir removed by close(). */
  dataDir?: string;
  /** The etcd executable (default `etcd` on PATH). */
  etcdBinary?: string;
  /** Node i listens on basePort + i - 1 (default: free ports picked at random). */
  basePort?: number;
  /**
   * Run etcd and the nodes in their own process groups, so that a terminal's Ctrl-C reaches only this process,
   * which then closes them in order (`runnel dev`). Default false: they get the terminal's signals too, so a
   * host stopped by Ctrl-C without closing leaves nothing behind.
   */
  detached?: boolean;
}

export interface NodeHandle {
  readonly nodeId: number;
  readonly port: number;
  /** "127.0.0.1:port". */
  readonly address: string;
  readonly dataDir: string;
  /** The pid of the current process (undefined before the first start). */
  readonly pid: number | undefined;
  /** True from start until the process has exited (also while paused). */
  readonly running: boolean;
  readonly paused: boolean;
  /** The last lines of its output (every run). */
  output(): string;
  /** SIGTERM (graceful, controlled shutdown) and wait for exit; SIGKILL after 15 s. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: the node's leaderships move once its session times out. */
  kill(): Promise<void>;
  /** SIGSTOP: the process stays, silent. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Stop if running, start again with the same id, port and data dir, and wait until registered again. */
  restart(): Promise<void>;
}

export interface ClusterEtcd {
  /** `http://127.0.0.1:<port>` (the nodes' etcd.endpoints). */
  readonly endpoints: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** Start again (same port and data) and wait until healthy and every running node registered again. */
  start(): Promise<void>;
}

export interface RunningCluster {
  /** "host:port,host:port,...", every node. */
  bootstrapServers: string;
  /** "host:port" of each node, by node id order. */
  brokers: string[];
  nodes: NodeHandle[];
  etcd: ClusterEtcd;
  /** The data directory (etcd/ and node-<id>/ inside). */
  dataDir: string;
  node(id: number): NodeHandle;
  /** Ends every process started here (by pid) and removes temp data; idempotent. */
  close(): Promise<void>;
}

/** The `runnel` executable next to this module: dist/broker/bin.cjs (also from a bundle in dist/bundle/). */
const BIN = fileURLToPath(new URL('../broker/bin.cjs', import.meta.url));

/** Every live cluster's processes, SIGKILLed should the host exit without close(). */
const live = new Set<() => void>();
let exitHandler: (() => void) | undefined;

function track(killAll: () => void): () => void {
  live.add(killAll);
  if (!exitHandler) {
    exitHandler = () => {
      for (const k of live) k();
    };
    process.on('exit', exitHandler);
  }
  return () => {
    live.delete(killAll);
    if (live.size === 0 && exitHandler) {
      process.off('exit', exitHandler);
      exitHandler = undefined;
    }
  };
}

interface ClusterView {
  brokers: number[];
  controllerId: number;
}

/** DescribeCluster asked of one node; undefined when it does not answer (yet). */
async function describe(address: string): Promise<ClusterView | undefined> {
  const admin = new Admin({ bootstrap: address, requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
  try {
    const c = await admin.describeCluster();
    return { brokers: c.brokers.map((b) => b.nodeId), controllerId: c.controllerId };
  } catch {
    return undefined;
  } finally {
    await admin.close();
  }
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 1) throw new BadArgumentError(`${name} must be a positive integer, not ${v}`);
  return n;
}

class Node implements NodeHandle {
  private child: ChildProcess | undefined;
  private readonly tail = new OutputTail();
  paused = false;

  constructor(
    readonly nodeId: number,
    readonly port: number,
    readonly dataDir: string,
    private readonly args: () => string[],
    private readonly printOutput: boolean,
    private readonly waitRegistered: (node: Node, child: ChildProcess, deadline: number) => Promise<void>,
    private readonly startTimeoutMs: number,
    private readonly detached: boolean,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get running(): boolean {
    return isRunning(this.child);
  }
  output(): string {
    return this.tail.text();
  }

  /** Spawns the process and waits until registered; retries while a killed predecessor's lease holds the id. */
  async start(): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const child = this.spawn();
      try {
        await this.waitRegistered(this, child, deadline);
        return;
      } catch (err) {
        // The node id is still held by the lease of a process killed moments ago: start again once it expires.
        if (!isRunning(child) && /already registered/.test(this.tail.text()) && Date.now() < deadline) {
          await sleep(250);
          continue;
        }
        if (isRunning(child)) {
          child.kill('SIGKILL');
          await waitExit(child, 5000);
        }
        throw err;
      }
    }
  }

  private spawn(): ChildProcess {
    const child = spawn(process.execPath, [BIN, 'start', ...this.args()], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.detached,
    });
    this.child = child;
    this.paused = false;
    const prefix = `[node ${this.nodeId}] `;
    const onData = (d: Buffer): void => {
      const s = d.toString('utf8');
      this.tail.push(s);
      if (this.printOutput) process.stderr.write(s.replace(/^(?=.)/gm, prefix));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', (err) => this.tail.push(`spawn error: ${err.message}\n`));
    return child;
  }

  private async signalAndWait(signal: 'SIGTERM' | 'SIGKILL', timeoutMs: number): Promise<void> {
    const c = this.child;
    if (!isRunning(c)) return;
    if (signal === 'SIGTERM' && this.paused) c.kill('SIGCONT');
    c.kill(signal);
    if (!(await waitExit(c, timeoutMs))) {
      c.kill('SIGKILL');
      if (!(await waitExit(c, 5000))) throw new DevClusterError(`node ${this.nodeId} (pid ${c.pid}) did not exit`);
    }
    this.paused = false;
  }

  stop(): Promise<void> {
    return this.signalAndWait('SIGTERM', 15_000);
  }
  kill(): Promise<void> {
    return this.signalAndWait('SIGKILL', 5000);
  }
  pause(): void {
    if (!isRunning(this.child)) throw new DevClusterError(`node ${this.nodeId} is not running`);
    this.child.kill('SIGSTOP');
    this.paused = true;
  }
  resume(): void {
    if (!isRunning(this.child)) throw new DevClusterError(`node ${this.nodeId} is not running`);
    this.child.kill('SIGCONT');
    this.paused = false;
  }
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
  /** SIGKILL without waiting (the host's exit handler). */
  killNow(): void {
    if (isRunning(this.child)) this.child.kill('SIGKILL');
  }
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<RunningCluster> {
  const count = positiveInt('nodes', opts.nodes, 3);
  const startTimeoutMs = positiveInt('startTimeoutMs', opts.startTimeoutMs, 60_000);
  if (opts.basePort !== undefined && (!Number.isInteger(opts.basePort) || opts.basePort < 1))
    throw new BadArgumentError(`basePort must be a port number, not ${opts.basePort}`);
  if (opts.basePort !== undefined && opts.basePort + count - 1 > 65535)
    throw new BadArgumentError(`basePort ${opts.basePort} leaves no room for ${count} nodes`);
  const sessionTimeoutMs =
    opts.sessionTimeoutMs === undefined ? undefined : positiveInt('sessionTimeoutMs', opts.sessionTimeoutMs, 0);
  const tempDir = opts.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'runnel-dev-')) : undefined;
  const dataDir = resolve(opts.dataDir ?? tempDir!);
  const printOutput = opts.printOutput ?? false;
  const detached = opts.detached ?? false;
  const nodes: Node[] = [];
  let etcd: DevEtcd | undefined;
  const killAll = (): void => {
    for (const n of nodes) n.killNow();
    if (etcd?.pid !== undefined && etcd.running) process.kill(etcd.pid, 'SIGKILL');
    if (tempDir) {
      try {
        rmSync(tempDir, { recursive: true, force: true });
      } catch {
        // best effort while the host exits
      }
    }
  };
  const untrack = track(killAll);
  const removeTemp = async (): Promise<void> => {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };

  try {
    etcd = await startDevEtcd({
      binary: opts.etcdBinary,
      dataDir: join(dataDir, 'etcd'),
      startTimeoutMs,
      detached,
      onOutput: printOutput ? (s) => process.stderr.write(s.replace(/^(?=.)/gm, '[etcd] ')) : undefined,
    });
  } catch (err) {
    untrack();
    await removeTemp();
    throw err;
  }
  const endpoints = etcd.endpoints;

  // Offsets and transaction-state topics fit the cluster; the dev profile's rebalance delay (as startBroker).
  const sets: Record<string, string> = {
    'offsets.topic.replication.factor': String(Math.min(3, count)),
    'transaction.state.log.replication.factor': String(Math.min(3, count)),
    'group.initial.rebalance.delay.ms': '0',
    'log.level': opts.logLevel ?? 'warn',
    'log.format': 'json',
  };
  if (sessionTimeoutMs !== undefined) sets['broker.session.timeout.ms'] = String(sessionTimeoutMs);
  for (const [k, v] of Object.entries(opts.sets ?? {})) sets[k] = String(v);
  sets['etcd.endpoints'] = endpoints;

  /** Every running, unpaused node answers DescribeCluster with every such node and a live controller. */
  const ready = async (): Promise<string | undefined> => {
    const up = nodes.filter((n) => n.running && !n.paused).map((n) => n.nodeId);
    for (const n of nodes) {
      if (!n.running || n.paused) continue;
      const view = await describe(n.address);
      if (!view) return `node ${n.nodeId} does not answer`;
      const missing = up.filter((id) => !view.brokers.includes(id));
      if (missing.length) return `node ${n.nodeId} does not list node(s) ${missing.join(', ')}`;
      if (!up.includes(view.controllerId)) return `node ${n.nodeId} knows no live controller`;
    }
    return undefined;
  };
  const waitReady = async (deadline: number, what: string): Promise<void> => {
    let why: string | undefined = 'not asked';
    while (Date.now() < deadline) {
      why = await ready();
      if (why === undefined) return;
      await sleep(100);
    }
    throw new DevClusterError(`${what}: cluster not ready within ${startTimeoutMs} ms (${why})`);
  };
  const waitRegistered = async (node: Node, child: ChildProcess, deadline: number): Promise<void> => {
    let why: string | undefined = 'not asked';
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new DevClusterError(
          `node ${node.nodeId} exited while starting (code ${child.exitCode ?? child.signalCode}):\n${node.output()}`,
        );
      why = await ready();
      if (why === undefined) return;
      await sleep(100);
    }
    throw new DevClusterError(
      `node ${node.nodeId} not registered within ${startTimeoutMs} ms (${why}):\n${node.output()}`,
    );
  };

  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      let p = opts.basePort !== undefined ? opts.basePort + i : await freePort();
      for (let j = 0; j < 10 && opts.basePort === undefined && ports.includes(p); j++) p = await freePort();
      ports.push(p);
    }
    for (let i = 0; i < count; i++) {
      const nodeId = i + 1;
      const dir = join(dataDir, `node-${nodeId}`);
      await mkdir(dir, { recursive: true });
      const args = [
        ...['--node-id', String(nodeId), '--host', '127.0.0.1', '--port', String(ports[i])],
        ...['--data-dir', dir, '--admin-port', '-1'],
        ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
      ];
      nodes.push(new Node(nodeId, ports[i], dir, () => args, printOutput, waitRegistered, startTimeoutMs, detached));
    }
    // Spawned together (each waits for the cluster of those started so far), then the whole cluster.
    await Promise.all(nodes.map((n) => n.start()));
    await waitReady(Date.now() + startTimeoutMs, 'start');
  } catch (err) {
    killAll();
    await Promise.all(nodes.map((n) => n.kill().catch(() => undefined)));
    await etcd.kill().catch(() => undefined);
    untrack();
    await removeTemp();
    throw err;
  }

  const devEtcd = etcd;
  let closing: Promise<void> | undefined;
  const brokers = nodes.map((n) => n.address);
  return {
    bootstrapServers: brokers.join(','),
    brokers,
    nodes,
    dataDir,
    etcd: {
      endpoints,
      get pid() {
        return devEtcd.pid;
      },
      get running() {
        return devEtcd.running;
      },
      stop: () => devEtcd.stop(),
      async start() {
        await devEtcd.start();
        await waitReady(Date.now() + startTimeoutMs, 'etcd start');
      },
    },
    node(id) {
      const n = nodes.find((x) => x.nodeId === id);
      if (!n) throw new BadArgumentError(`no node ${id} in this cluster (nodes 1..${count})`);
      return n;
    },
    close() {
      closing ??= (async () => {
        const results = await Promise.allSettled(nodes.map((n) => n.stop()));
        await devEtcd.stop().catch(() => devEtcd.kill());
        untrack();
        await removeTemp();
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) throw (failed as PromiseRejectedResult).reason;
      })();
      return closing;
    },
  };
}
