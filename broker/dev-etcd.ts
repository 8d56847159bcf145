/**
 * The etcd of a development cluster (broker/dev-cluster.ts): one etcd member as a child process on 127.0.0.1,
 * random free client and peer ports, its data in `<dir>/etcd`. The binary is `etcd` on PATH unless given; when
 * there is none the error says how to install it. Output is kept (the last lines) for error messages, not
 * printed. Every wait is bounded; only the process started here is ever signalled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { BadArgumentError, DevClusterError } from '../protocol/errors.js';

export const ETCD_INSTALL_HINT =
  'install etcd: `apt-get install etcd-server` on Debian/Ubuntu, or put the `etcd` binary of a release ' +
  '(https://github.com/etcd-io/etcd/releases) on PATH, or pass its path as the etcdBinary option';

/** The last lines of a process's output, for error messages. */
export class OutputTail {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly max = 60) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const l of parts) this.lines.push(l);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }

  text(): string {
    return [...this.lines, this.partial].filter((l) => l).join('\n');
  }
}

/** The etcd executable: `binary` if given (it must be executable), else `etcd` on PATH. */
export function findEtcdBinary(binary?: string): string {
  const candidates =
    binary !== undefined
      ? [binary]
      : (process.env.PATH ?? '')
          .split(delimiter)
          .filter((d) => d)
          .map((d) => join(d, 'etcd'));
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not this one
    }
  }
  throw new DevClusterError(
    binary !== undefined
      ? `etcd binary ${JSON.stringify(binary)} not found or not executable: ${ETCD_INSTALL_HINT}`
      : `etcd not found on PATH (a Runnel cluster keeps its metadata in etcd): ${ETCD_INSTALL_HINT}`,
  );
}

/** A free TCP port on 127.0.0.1 (free when asked: the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => resolve(r.statusCode === 200 && /"health":\s*"true"/.test(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once the child has exited (at once if it has), false if it is still running after timeoutMs. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

export function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

export interface DevEtcdOptions {
  binary?: string;
  /** Its data directory (`member/` inside); kept across stop()/start(). */
  dataDir: string;
  startTimeoutMs: number;
  /** In its own process group (see StartClusterOptions.detached). */
  detached?: boolean;
  /** Called with every chunk of output (to mirror it somewhere when asked). */
  onOutput?: (chunk: string) => void;
}

export interface DevEtcd {
  /** `http://127.0.0.1:<client port>`, the value of the nodes' `etcd.endpoints`. */
  readonly endpoints: string;
  readonly clientPort: number;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The last lines of its output. */
  output(): string;
  /** SIGTERM (after SIGCONT, should it be paused) and wait for exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Start again on the same ports and data dir, if stopped, and wait until healthy. */
  start(): Promise<void>;
  /** SIGSTOP, resolving once every thread of etcd is stopped (so nothing sent after it is answered). */
  pause(): Promise<void>;
  resume(): void;
}

/**
 * SIGSTOP is delivered to each thread as it next enters the kernel; a busy machine can let a thread answer one
 * more request first. Waits (bounded, 2 s) until /proc shows every thread stopped; without /proc it returns.
 */
async function waitStopped(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const end = Date.now() + 2000;
  while (Date.now() < end) {
    let all = true;
    try {
      for (const t of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'latin1');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        if (state !== 'T' && state !== 't') all = false;
      }
    } catch {
      return; // no /proc (or the process is gone): nothing more to wait for
    }
    if (all) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Starts one etcd member and waits until it answers /health. */
export async function startDevEtcd(opts: DevEtcdOptions): Promise<DevEtcd> {
  const bin = findEtcdBinary(opts.binary);
  const clientPort = await freePort();
  let peerPort = await freePort();
  for (let i = 0; i < 10 && peerPort === clientPort; i++) peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  // On a data dir that holds a member already, etcd ignores the --initial-* flags and keeps its data.
  const args = [
    ...['--name', 'runnel-dev', '--data-dir', join(opts.dataDir, 'member')],
    ...['--listen-client-urls', client, '--advertise-client-urls', client],
    ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
    ...['--initial-cluster', `runnel-dev=${peer}`, '--initial-cluster-state', 'new'],
    ...['--logger', 'zap', '--log-level', 'warn'],
  ];
  const tail = new OutputTail();
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
    child = c;
    const onData = (d: Buffer): void => {
      const s = d.toString('utf8');
      tail.push(s);
      opts.onOutput?.(s);
    };
    c.stdout!.on('data', onData);
    c.stderr!.on('data', onData);
    let spawnError: Error | undefined;
    c.once('error', (err) => (spawnError = err));
    const deadline = Date.now() + opts.startTimeoutMs;
    while (Date.now() < deadline) {
      if (spawnError) throw new DevClusterError(`cannot run etcd (${bin}): ${spawnError.message}`);
      if (!isRunning(c)) throw new DevClusterError(`etcd exited while starting:\n${tail.text()}`);
      if (await healthy(clientPort)) return;
      await sleep(100);
    }
    c.kill('SIGKILL');
    await waitExit(c, 5000);
    throw new DevClusterError(`etcd not healthy within ${opts.startTimeoutMs} ms:\n${tail.text()}`);
  };

  const signalAndWait = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const c = child;
    if (!isRunning(c)) return;
    if (signal === 'SIGTERM') c.kill('SIGCONT'); // a paused etcd cannot handle SIGTERM
    c.kill(signal);
    if (await waitExit(c, 10_000)) return;
    c.kill('SIGKILL');
    if (!(await waitExit(c, 5000))) throw new DevClusterError(`etcd (pid ${c.pid}) did not exit`);
  };

  if (opts.startTimeoutMs <= 0) throw new BadArgumentError('startTimeoutMs must be positive');
  await launch();
  return {
    endpoints: client,
    clientPort,
    get pid() {
      return child?.pid;
    },
    get running() {
      return isRunning(child);
    },
    output: () => tail.text(),
    stop: () => signalAndWait('SIGTERM'),
    kill: () => signalAndWait('SIGKILL'),
    async start() {
      if (!isRunning(child)) await launch();
    },
    async pause() {
      if (!isRunning(child)) return;
      child.kill('SIGSTOP');
      await waitStopped(child.pid);
    },
    resume() {
      if (isRunning(child)) child.kill('SIGCONT');
    },
  };
}
