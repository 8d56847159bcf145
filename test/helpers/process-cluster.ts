/**
 * A replicated cluster of real processes for failure tests, on the product's own startCluster()
 * (broker/dev-cluster.ts: one etcd and N `runnel start` processes, each with its node id, port and data dir
 * across restarts; needs `npm run build`): kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT), stop (SIGTERM),
 * restart, and etcd stop/start. What only tests want is here: kafkajs clients, metadata as the brokers answer it
 * over the Kafka protocol (kafkajs admin), and a replica's segment files and leader-epoch checkpoint read from
 * disk. Every wait is bounded; only processes started here are signalled, by their pids.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  type ClusterEtcd,
  type NodeHandle,
  type RunningCluster,
  type StartClusterOptions,
  startCluster,
} from '../../broker/dev-cluster.js';

/** Configs every node gets unless the test gives others: quick replica fetches, one-partition internal topics. */
export const PROCESS_CLUSTER_CONFIG: Record<string, string | number> = {
  'cluster.name': 'proc-cluster',
  'replica.fetch.wait.max.ms': 100,
  'replica.fetch.backoff.ms': 100,
  'offsets.topic.num.partitions': 1,
  'transaction.state.log.num.partitions': 1,
};

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
  private constructor(private readonly cluster: RunningCluster) {}

  /**
   * etcd and `count` brokers (ids 1..count), each with PROCESS_CLUSTER_CONFIG and `sets` as `--set`; `output`
   * passes startCluster's logLevel / printOutput (to debug a failing run with the nodes' logs).
   */
  static async start(
    count: number,
    sets: Record<string, string | number> = {},
    output: Pick<StartClusterOptions, 'logLevel' | 'printOutput'> = {},
  ): Promise<ProcessCluster> {
    return new ProcessCluster(
      await startCluster({ ...output, nodes: count, sets: { ...PROCESS_CLUSTER_CONFIG, ...sets } }),
    );
  }

  /** The cluster's etcd: stop() and start() (which waits until every running node is registered again). */
  get etcd(): ClusterEtcd {
    return this.cluster.etcd;
  }

  node(id: number): NodeHandle {
    return this.cluster.node(id);
  }

  /** Running, not paused nodes. */
  liveIds(): number[] {
    return this.cluster.nodes.filter((n) => n.running && !n.paused).map((n) => n.nodeId);
  }

  bootstrap(ids = this.liveIds()): string[] {
    return ids.map((id) => this.node(id).address);
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

  /** Starts node `id` again on its port and data dir (stopping it first if running); resolves once registered. */
  restart(id: number): Promise<void> {
    return this.node(id).restart();
  }

  kill(id: number): Promise<void> {
    return this.node(id).kill();
  }

  /** SIGTERM (an orderly stop), then SIGKILL if it has not exited in time. */
  stop(id: number): Promise<void> {
    return this.node(id).stop();
  }

  pause(id: number): void {
    this.node(id).pause();
  }

  resume(id: number): void {
    this.node(id).resume();
  }

  output(id: number): string {
    return this.node(id).output();
  }

  /** Creates `topic` with `partitions` partitions replicated on every node, and waits until all are in sync. */
  async createTopic(topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
    const admin = this.kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: partitions,
            replicationFactor: this.cluster.nodes.length,
            configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    await this.waitIsr(topic, this.cluster.nodes.length);
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

  /** Every process is killed (by its pid), then etcd stopped and the data dirs removed. */
  async close(): Promise<void> {
    await Promise.all(this.cluster.nodes.map((n) => n.kill().catch(() => undefined)));
    await this.cluster.close();
  }
}
