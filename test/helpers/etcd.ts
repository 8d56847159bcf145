/**
 * A real single-member etcd for tests: the product's own etcd starter (broker/dev-etcd.ts, as `runnel dev` and
 * startCluster() use it; `etcd` on PATH, Debian: `apt-get install etcd-server`) on 127.0.0.1 with random free
 * ports and a temp data dir of its own. stop (SIGTERM), kill (SIGKILL), restart (same ports and data dir),
 * pause (SIGSTOP) and resume (SIGCONT) drive the faults the replication layer must survive. Every wait is
 * bounded; only the etcd process started here is ever signalled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevEtcd, startDevEtcd } from '../../broker/dev-etcd.js';

export interface EtcdProcess {
  /** `127.0.0.1:<client port>`, for etcd client `hosts`/`endpoints`. */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly dataDir: string;
  /** The last lines of its output (every run so far). */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Start again on the same ports and data dir (stopping first if running) and wait until healthy. */
  restart(): Promise<void>;
  pause(): Promise<void>;
  resume(): void;
  /** Kill and remove the data dir. */
  cleanup(): Promise<void>;
}

export async function startEtcd(opts: { startTimeoutMs?: number } = {}): Promise<EtcdProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-etcd-'));
  let etcd: DevEtcd;
  try {
    etcd = await startDevEtcd({ dataDir, startTimeoutMs: opts.startTimeoutMs ?? 20_000 });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `127.0.0.1:${etcd.clientPort}`,
    clientPort: etcd.clientPort,
    dataDir,
    output: () => etcd.output(),
    stop: () => etcd.stop(),
    kill: () => etcd.kill(),
    restart: async () => {
      await etcd.stop();
      await etcd.start();
    },
    pause: () => etcd.pause(),
    resume: () => etcd.resume(),
    cleanup: async () => {
      await etcd.kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
