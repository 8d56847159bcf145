/**
 * Cluster nodes in one process for metadata tests: each node its own etcd connection, leased session
 * (TTL 2 s), EtcdMetadataStore registered as a broker with a loopback listener, and optionally a Controller.
 * Every wait is bounded.
 */
import { connectEtcd, type EtcdConnection } from '../../replication/etcd/connection.js';
import { EtcdSession } from '../../replication/etcd/session.js';
import { Controller } from '../../replication/controller.js';
import { EtcdMetadataStore } from '../../replication/metadata/etcd-store.js';
import type { MetadataChange } from '../../replication/metadata/store.js';
import type { EtcdProcess } from './etcd.js';

export interface TestNode {
  nodeId: number;
  conn: EtcdConnection;
  session: EtcdSession;
  store: EtcdMetadataStore;
  controller?: Controller;
  /** Every change this node's store delivered, in order. */
  seen: MetadataChange[];
}

export class EtcdNodes {
  readonly nodes: TestNode[] = [];

  constructor(
    private readonly etcd: EtcdProcess,
    readonly cluster: string,
  ) {}

  async add(
    nodeId: number,
    opts: { rack?: string; controller?: boolean; unclean?: boolean; random?: () => number } = {},
  ): Promise<TestNode> {
    const conn = connectEtcd({ endpoints: [this.etcd.endpoint], cluster: this.cluster, callTimeoutMs: 1000 });
    const session = new EtcdSession(conn, { ttlMs: 2000, retryMs: 100 });
    await session.start();
    const store = await EtcdMetadataStore.open({ session, nodeId, writeTimeoutMs: 15_000, random: opts.random });
    const node: TestNode = { nodeId, conn, session, store, seen: [] };
    store.subscribe((d) => {
      node.seen.push(...d.changes);
    });
    await store.registerBroker({
      nodeId,
      rack: opts.rack ?? null,
      fenced: false,
      listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + nodeId, securityProtocol: 'PLAINTEXT' }],
    });
    if (opts.controller) {
      node.controller = new Controller({ store, session, nodeId, uncleanLeaderElection: opts.unclean });
      node.controller.start();
    }
    this.nodes.push(node);
    return node;
  }

  async closeAll(): Promise<void> {
    for (const n of this.nodes) await n.controller?.close();
    for (const n of this.nodes) await n.store.close();
    for (const n of this.nodes) await n.session.close({ revoke: false });
    for (const n of this.nodes) n.conn.close();
    this.nodes.length = 0;
  }
}

/** Polls `cond` every 20 ms until it holds; fails after `ms`. */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A readable summary of a change (type and topic or broker). */
export function describeChange(c: MetadataChange): string {
  switch (c.type) {
    case 'topic-created':
    case 'topic-deleted':
    case 'topic-configs-changed':
      return `${c.type} ${c.topic.name}`;
    case 'partitions-created':
      return `${c.type} ${c.topic.name} ${c.partitions.map((p) => p.partition).join(',')}`;
    case 'partition-changed':
      return `${c.type} ${c.topic.name}-${c.partition.partition} e${c.partition.partitionEpoch}`;
    case 'broker-registered':
    case 'broker-fenced':
      return `${c.type} ${c.broker.nodeId}`;
    case 'controller-changed':
      return `${c.type} ${c.controllerId}`;
    case 'producer-ids-allocated':
      return `${c.type} ${c.block.firstProducerId}`;
    case 'record-changed':
      return `${c.type} ${c.section}/${c.key}${c.record === undefined ? ' deleted' : ''}`;
  }
}
