/**
 * A replicated cluster of real processes for failure tests: a real etcd (etcd.ts) and N `runnel start`
 * processes (broker-process.ts, needs `npm run build`), each with its node id, data dir and, after its first
 * start, a fixed port, so that `restart` brings it back on the same port and files. kill (SIGKILL), pause
 * (SIGSTOP), resume (SIGCONT), stop (SIGTERM). Metadata comes from the brokers over the Kafka protocol
 * (kafkajs admin); `readLog` parses a replica's segment files and leader-epoch checkpoint from disk.
 * Every wait is bounded; only processes started here are signalled, by their child handle.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startBrokerProcess, waitExit, type BrokerProcess } from './broker-process.js';
import { startEtcd, type EtcdProcess } from './etcd.js';

export interface ClusterNodeProcess {
  id: number;
  dataDir: string;
  port: number;
  proc: BrokerProcess | undefined;
  paused: boolean;
}

export interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  isr: number[];
  replicas: number[];
}

/** One record batch of a log on disk. */
export interface DiskBatch {
  baseOffset: number;
  lastOffset: number;
  partitionLeaderEpoch: number;
  bytes: Buffer;
}

export async function until<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms: number,
  what: string,
  stepMs = 200,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export class ProcessCluster {
  readonly nodes = new Map<number, ClusterNodeProcess>();
  private readonly root: string;

  private constructor(
    readonly etcd: EtcdProcess,
    private readonly sets: Record<string, string | number>,
  ) {
    this.root = mkdtempSync(join(tmpdir(), 'runnel-proc-cluster-'));
  }

  /** etcd and `count` brokers (ids 1..count), each with `sets` as `--set` plus the cluster's etcd endpoint. */
  static async start(count: number, sets: Record<string, string | number> = {}): Promise<ProcessCluster> {
    const etcd = await startEtcd();
    const c = new ProcessCluster(etcd, { 'cluster.name': 'proc-cluster', ...sets });
    try {
      for (let id = 1; id <= count; id++) {
        const dataDir = join(c.root, `node-${id}`);
        c.nodes.set(id, { id, dataDir, port: 0, proc: undefined, paused: false });
        await c.restart(id);
      }
      await until(async () => (await c.metadata()).brokers.length === count, 30_000, `${count} brokers registered`);
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  node(id: number): ClusterNodeProcess {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Running, not paused nodes. */
  liveIds(): number[] {
    return [...this.nodes.values()].filter((n) => n.proc && !n.paused).map((n) => n.id);
  }

  bootstrap(ids = this.liveIds()): string[] {
    return ids.map((id) => `127.0.0.1:${this.node(id).port}`);
  }

  kafka(ids = this.liveIds(), retries = 5, requestTimeout = 10_000): Kafka {
    return new Kafka({
      clientId: 'proc-cluster',
      brokers: this.bootstrap(ids),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout,
      retry: { retries, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  /** (Re)starts node `id` on its data dir and (after the first start) its port. */
  async restart(id: number, extraSets: Record<string, string | number> = {}): Promise<void> {
    const n = this.node(id);
    if (n.proc) throw new Error(`node ${id} is running`);
    const sets = { ...this.sets, 'etcd.endpoints': `http://${this.etcd.endpoint}`, ...extraSets };
    const args = ['--node-id', String(id), ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`])];
    if (n.port) args.push('--port', String(n.port));
    const p = await startBrokerProcess(n.dataDir, args);
    n.proc = p;
    n.port = p.port;
    n.paused = false;
  }

  async kill(id: number): Promise<void> {
    const n = this.node(id);
    if (!n.proc) return;
    n.proc.child.kill('SIGKILL');
    await waitExit(n.proc.child, 15_000);
    n.proc = undefined;
    n.paused = false;
  }

  /** SIGTERM (an orderly stop), then SIGKILL if it has not exited within 20 s. */
  async stop(id: number): Promise<void> {
    const n = this.node(id);
    if (!n.proc) return;
    if (n.paused) n.proc.child.kill('SIGCONT');
    n.proc.child.kill('SIGTERM');
    if ((await waitExit(n.proc.child, 20_000)) === -1) await this.kill(id);
    n.proc = undefined;
    n.paused = false;
  }

  pause(id: number): void {
    const n = this.node(id);
    n.proc?.child.kill('SIGSTOP');
    n.paused = true;
  }

  resume(id: number): void {
    const n = this.node(id);
    n.proc?.child.kill('SIGCONT');
    n.paused = false;
  }

  output(id: number): string {
    return this.node(id).proc?.output() ?? '';
  }

  /** Brokers, controller and the partitions of `topic`, as broker `from` (default: any live node) answers. */
  async metadata(
    topic?: string,
    from?: number,
  ): Promise<{ brokers: number[]; controller: number; partitions: PartitionView[] }> {
    const admin = this.kafka(from === undefined ? this.liveIds() : [from], 0, 3000).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      let partitions: PartitionView[] = [];
      if (topic) {
        const md = await admin.fetchTopicMetadata({ topics: [topic] });
        partitions = md.topics[0]!.partitions.map((p) => ({
          partition: p.partitionId,
          leader: p.leader,
          leaderEpoch: (p as { leaderEpoch?: number }).leaderEpoch ?? -1,
          isr: [...p.isr].sort(),
          replicas: [...p.replicas].sort(),
        })).sort((a, b) => a.partition - b.partition);
      }
      return { brokers: cluster.brokers.map((b) => b.nodeId).sort(), controller: cluster.controller ?? -1, partitions };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Waits until every live node reports, for every partition of `topic`, a leader and an ISR of `isrSize`. */
  async waitIsr(topic: string, isrSize: number, ms = 60_000): Promise<PartitionView[]> {
    return until(
      async () => {
        let first: PartitionView[] | undefined;
        for (const id of this.liveIds()) {
          const md = await this.metadata(topic, id);
          if (md.partitions.length === 0) return undefined;
          if (!md.partitions.every((p) => p.leader >= 0 && p.isr.length === isrSize)) return undefined;
          if (first && JSON.stringify(first) !== JSON.stringify(md.partitions)) return undefined;
          first = md.partitions;
        }
        return first;
      },
      ms,
      `every partition of ${topic} led with an ISR of ${isrSize}`,
      300,
    );
  }

  /** The batches of `topic-partition` in node `id`'s segment files (partial tail ignored). */
  readLog(id: number, topic: string, partition: number): DiskBatch[] {
    const dir = join(this.node(id).dataDir, `${topic}-${partition}`);
    const out: DiskBatch[] = [];
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort();
    for (const f of files) {
      const buf = readFileSync(join(dir, f));
      let pos = 0;
      while (pos + 61 <= buf.length) {
        const size = buf.readInt32BE(pos + 8);
        if (size <= 0 || pos + 12 + size > buf.length) break;
        const baseOffset = Number(buf.readBigInt64BE(pos));
        out.push({
          baseOffset,
          lastOffset: baseOffset + buf.readInt32BE(pos + 23),
          partitionLeaderEpoch: buf.readInt32BE(pos + 12),
          bytes: buf.subarray(pos, pos + 12 + size),
        });
        pos += 12 + size;
      }
    }
    return out;
  }

  /** The entries of node `id`'s leader-epoch-checkpoint for `topic-partition` ("epoch startOffset" lines). */
  readEpochs(id: number, topic: string, partition: number): string[] {
    const f = join(this.node(id).dataDir, `${topic}-${partition}`, 'leader-epoch-checkpoint');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8').trim().split('\n').slice(2);
  }

  /** Every process ends (by its handle), etcd is killed, the data dirs go. */
  async close(): Promise<void> {
    for (const id of this.nodes.keys()) await this.kill(id).catch(() => undefined);
    await this.etcd.cleanup().catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }
}
