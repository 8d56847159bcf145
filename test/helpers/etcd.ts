/**
 * Runs a real single-member etcd (`etcd` on PATH; Debian: `apt-get install etcd-server`) for tests, on
 * 127.0.0.1 with random free client and peer ports and a temp data dir. stop (SIGTERM), kill (SIGKILL),
 * restart (same ports and data dir), pause (SIGSTOP) and resume (SIGCONT) drive the faults the replication
 * layer must survive. Every wait is bounded; only the etcd process started here is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface EtcdProcess {
  /** `127.0.0.1:<client port>`, for etcd client `hosts`/`endpoints`. */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** stdout and stderr of every run so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Start again on the same ports and data dir (stopping first if running) and wait until healthy. */
  restart(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Kill and remove the data dir. */
  cleanup(): Promise<void>;
}

function findEtcd(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'etcd');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  throw new Error('etcd not found on PATH: these tests need a real etcd (Debian: apt-get install etcd-server)');
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((res) => {
    const req = get({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => res(r.statusCode === 200 && /"health":\s*"true"/.test(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => res(false));
  });
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`etcd pid ${child.pid} did not exit in ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      res();
    });
  });
}

export async function startEtcd(opts: { startTimeoutMs?: number } = {}): Promise<EtcdProcess> {
  const bin = findEtcd();
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-etcd-'));
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'runnel-test',
    '--data-dir',
    join(dataDir, 'member'),
    '--listen-client-urls',
    client,
    '--advertise-client-urls',
    client,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `runnel-test=${peer}`,
    '--initial-cluster-state',
    'new',
    '--logger',
    'zap',
    '--log-level',
    'warn',
  ];
  let out = '';
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    let exited = false;
    c.once('exit', () => (exited = true));
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`etcd exited while starting: ${out.slice(-4000)}`);
      if (await healthy(clientPort)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    c.kill('SIGKILL');
    throw new Error(`etcd not healthy within ${startTimeoutMs} ms: ${out.slice(-4000)}`);
  };

  const signalAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    if (signal === 'SIGTERM') c.kill('SIGCONT'); // a paused etcd cannot handle SIGTERM
    c.kill(signal);
    await waitExit(c, 15_000);
  };

  await launch();
  return {
    endpoint: `127.0.0.1:${clientPort}`,
    clientPort,
    peerPort,
    dataDir,
    output: () => out,
    stop: () => signalAndWait('SIGTERM'),
    kill: () => signalAndWait('SIGKILL'),
    restart: async () => {
      await signalAndWait('SIGTERM');
      await launch();
    },
    pause: () => {
      child?.kill('SIGSTOP');
    },
    resume: () => {
      child?.kill('SIGCONT');
    },
    cleanup: async () => {
      await signalAndWait('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
