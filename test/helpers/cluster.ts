/**
 * A replicated cluster in this process for tests: a real etcd (etcd.ts) and N in-process brokers (startBroker
 * with `etcd.endpoints`, node ids 1..N), each on a data directory of its own that outlives the broker until
 * close(), so that a stopped node starts again on its files and a test can read them after a stop. Clients are
 * kafkajs (`kafka()`); the brokers' metadata images and logs are read directly (`waitAll`, `waitNewLeader`,
 * `logBytes`, `waitReplicated`). Every wait is bounded; everything listens on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../broker/index.js';
import type { MetadataImage } from '../../replication/metadata/image.js';
import { startEtcd, type EtcdProcess } from './etcd.js';
import { waitFor } from './etcd-nodes.js';
import './test-broker.js';

export type Configs = Record<string, string | number | boolean>;

/** Configs every node gets unless the test gives others: quick replica fetches, one-partition internal topics. */
export const CLUSTER_TEST_CONFIG: Configs = {
  'replica.fetch.wait.max.ms': 100,
  'replica.fetch.backoff.ms': 100,
  'offsets.topic.num.partitions': 1,
  'transaction.state.log.num.partitions': 1,
};

export interface TestClusterOptions {
  /** The cluster.name of every node and the default kafkajs clientId. */
  name: string;
  /** How many nodes (default 3). */
  nodes?: number;
  /** Broker configs of every node, over CLUSTER_TEST_CONFIG (node.id, etcd.endpoints and cluster.name are set). */
  config?: Configs;
  /** Configs of one node, over `config` (e.g. its broker.rack). */
  nodeConfig?: (nodeId: number) => Configs;
  /** SCRAM users every node adds at start when missing (startBroker's `scramUsers`, Kafka's --add-scram). */
  scramUsers?: string[];
  /** Runs on every start of a node, the first and each later one (e.g. to set a requestObserver). */
  onStart?: (nodeId: number, b: RunningBroker) => void;
  /** kafkajs retries of kafka() clients (default 10) and their maxRetryTime (default 1000 ms). */
  retries?: number;
  maxRetryTime?: number;
  /** How long start() waits until every broker sees every node live (default 30 s). */
  startTimeoutMs?: number;
}

export class TestCluster {
  /** The running brokers by node id (a stopped node is not here until started again). */
  readonly brokers = new Map<number, RunningBroker>();

  private constructor(
    readonly etcd: EtcdProcess,
    private readonly root: string,
    private readonly opts: TestClusterOptions,
  ) {}

  /** etcd and nodes 1..N, resolved once every broker sees all N live. */
  static async start(opts: TestClusterOptions): Promise<TestCluster> {
    const count = opts.nodes ?? 3;
    const etcd = await startEtcd();
    const c = new TestCluster(etcd, mkdtempSync(join(tmpdir(), `runnel-${opts.name}-`)), opts);
    try {
      for (let id = 1; id <= count; id++) await c.startNode(id);
      await c.waitAll(
        (b) => b.broker.metadata.image.liveBrokers().length === count,
        opts.startTimeoutMs ?? 30_000,
        `every broker sees ${count} live brokers`,
      );
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  /** The running brokers, in node id order of their starts. */
  live(): RunningBroker[] {
    return [...this.brokers.values()];
  }

  /** Node `id`'s running broker. */
  broker(id: number): RunningBroker {
    const b = this.brokers.get(id);
    if (!b) throw new Error(`broker ${id} is not running`);
    return b;
  }

  /** Node `id`'s data directory (kept across its stops and starts). */
  dataDir(id: number): string {
    return join(this.root, `node-${id}`);
  }

  /** Starts node `id` (again: same data directory) and resolves once it serves. */
  async startNode(id: number): Promise<RunningBroker> {
    if (this.brokers.has(id)) throw new Error(`broker ${id} is running`);
    const b = await startBroker({
      dataDir: this.dataDir(id),
      ...(this.opts.scramUsers ? { scramUsers: this.opts.scramUsers } : {}),
      config: {
        ...CLUSTER_TEST_CONFIG,
        ...this.opts.config,
        ...this.opts.nodeConfig?.(id),
        'node.id': id,
        'etcd.endpoints': this.etcd.endpoint,
        'cluster.name': this.opts.name,
      },
    });
    this.opts.onStart?.(id, b);
    this.brokers.set(id, b);
    return b;
  }

  /** Stops node `id` (a clean stop: controlled shutdown); it leaves live() before it starts stopping. */
  async stopNode(id: number): Promise<void> {
    const b = this.broker(id);
    this.brokers.delete(id);
    await b.stop();
  }

  /** A kafkajs client bootstrapped from `bootstrap` (default every running broker). */
  kafka(o: { bootstrap?: RunningBroker[]; clientId?: string } = {}): Kafka {
    return new Kafka({
      clientId: o.clientId ?? this.opts.name,
      brokers: (o.bootstrap ?? this.live()).map((b) => b.bootstrapServers),
      logLevel: logLevel.NOTHING,
      retry: { retries: this.opts.retries ?? 10, initialRetryTime: 100, maxRetryTime: this.opts.maxRetryTime ?? 1000 },
    });
  }

  /** Node `id`'s metadata image (default: the first running broker's). */
  image(id?: number): MetadataImage {
    const b = id === undefined ? this.live()[0] : this.broker(id);
    if (!b) throw new Error('no broker is running');
    return b.broker.metadata.image;
  }

  /** Waits until `cond` holds on every running broker. */
  waitAll(cond: (b: RunningBroker) => boolean, ms: number, what: string): Promise<void> {
    return waitFor(() => this.live().every(cond), ms, what);
  }

  /**
   * Waits until every running broker sees `topic`-`partition` led by a broker other than `old` in an epoch
   * above `oldEpoch` (default: any), and returns that leader.
   */
  async waitNewLeader(topic: string, partition: number, old: number, oldEpoch = -1, ms = 30_000): Promise<number> {
    await this.waitAll(
      (b) => {
        const p = b.broker.metadata.image.partition(topic, partition);
        return p !== undefined && p.leader !== old && p.leader !== -1 && p.leaderEpoch > oldEpoch;
      },
      ms,
      `a new leader for ${topic}-${partition}`,
    );
    return this.image().partition(topic, partition)!.leader;
  }

  /**
   * The record batches of `topic`-`partition` on broker `id`, from its log start up to its log end (or, with
   * `upTo` 'hw', reading on while below its high watermark), and that end.
   */
  async logBytes(
    id: number,
    topic: string,
    partition: number,
    upTo: 'end' | 'hw' = 'end',
  ): Promise<{ end: number; bytes: Buffer }> {
    const p = this.broker(id).broker.replicaManager.getPartition(topic, partition);
    if (typeof p === 'number') throw new Error(`broker ${id} hosts no ${topic}-${partition} (error ${p})`);
    const end = upTo === 'hw' ? p.highWatermark : p.logEndOffset;
    const chunks: Buffer[] = [];
    let offset = p.logStartOffset;
    for (let i = 0; i < 100_000 && offset < end; i++) {
      const r = await p.readLocal(offset, 1 << 20);
      if (r.records.length === 0) break;
      chunks.push(r.records);
      // Next offset: base offset (int64 at 0) + last offset delta (int32 at 23) + 1 of the last batch read.
      let pos = 0;
      while (pos + 61 <= r.records.length) {
        offset = Number(r.records.readBigInt64BE(pos)) + r.records.readInt32BE(pos + 23) + 1;
        pos += 12 + r.records.readInt32BE(pos + 8);
      }
    }
    return { end, bytes: Buffer.concat(chunks) };
  }

  /**
   * Waits (30 s at most) until every running broker's log of each of `topic`'s partitions 0..partitions-1 has
   * the same end and the same bytes; returns the ends.
   */
  async waitReplicated(topic: string, partitions: number, what: string): Promise<number[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ends: number[] = [];
      let same = true;
      for (let p = 0; p < partitions; p++) {
        const logs = await Promise.all(this.live().map((b) => this.logBytes(b.broker.started.nodeId, topic, p)));
        ends.push(logs[0]!.end);
        if (!logs.every((l) => l.end === logs[0]!.end && l.bytes.equals(logs[0]!.bytes))) same = false;
      }
      if (same) return ends;
      if (Date.now() > deadline) throw new Error(`${what}: logs not identical within 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops every running broker, removes etcd and the data directories. */
  async close(): Promise<void> {
    try {
      for (const id of [...this.brokers.keys()]) await this.stopNode(id);
    } finally {
      await this.etcd.cleanup();
      rmSync(this.root, { recursive: true, force: true });
    }
  }
}
