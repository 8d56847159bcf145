/**
 * The replicated-cluster path of a broker (`etcd.endpoints` set), used by Broker.start (broker.ts). The etcd
 * client itself (`etcd3`, gRPC) is loaded only by connectEtcd, so a single node never loads it.
 *
 * - `openCluster`: connects to etcd under `/runnel/<cluster.name>/`, starts the broker's leased session (TTL
 *   broker.session.timeout.ms) and opens the EtcdMetadataStore. A node id already registered by a live broker
 *   is refused here with ERR_DUPLICATE_BROKER_REGISTRATION (registration, bound to the lease, refuses it too).
 * - `ClusterNode.register`: after the Kafka listener is bound, registers this broker (advertised listener,
 *   broker.rack) so others fetch from it and clients find it in Metadata.
 * - `ClusterNode.startReplication`: the ReplicaManager follows the store's leaders and ISRs; the partitions
 *   this node follows are fetched by a ReplicaFetcherManager over the network transport (replica-transport.ts,
 *   one per leader); the Controller campaigns and, when elected, moves leadership away from lost brokers.
 * - `ClusterNode.controlledShutdown` (Broker.stop calls it first, `controlled.shutdown.enable`): marks this
 *   broker's registration `inControlledShutdown`; the controller moves its leaderships to other active ISR
 *   members and takes it out of the ISRs (replication/controlled-shutdown.ts); it waits, each attempt up to
 *   controlled.shutdown.retry.backoff.ms and re-writing the mark, at most controlled.shutdown.max.retries
 *   attempts, until its image shows nothing left to move; the broker keeps serving meanwhile.
 * - `ClusterNode.close`: fetchers stop, the controller resigns, the store closes, the lease is revoked (the
 *   broker's key goes at once: the controller elects other leaders without waiting for the TTL), the etcd
 *   connection closes.
 */
import { CoordinationError } from '../protocol/errors.js';
import { connectEtcd, type EtcdConnection, type EtcdLog } from '../replication/etcd/connection.js';
import { EtcdSession } from '../replication/etcd/session.js';
import { Controller } from '../replication/controller.js';
import { shutdownPending } from '../replication/controlled-shutdown.js';
import type { BrokerEndpoint, BrokerRegistration } from '../replication/metadata/image.js';
import { EtcdMetadataStore } from '../replication/metadata/etcd-store.js';
import { ReplicaFetcherManager } from '../replication/replica-fetcher.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { Clock, TimerHandle } from '../storage/clock.js';
import type { BrokerConfig } from './config.js';
import type { Logger } from './logger.js';
import { interBrokerClient } from './broker-connection.js';
import { NetworkReplicaTransport } from './replica-transport.js';

export interface OpenClusterOptions {
  config: BrokerConfig;
  nodeId: number;
  clock: Clock;
  log: Logger;
  validateConfigs: (configs: Readonly<Record<string, string>>) => void;
}

function etcdLog(log: Logger): EtcdLog {
  return { warn: (o, m) => log.warn(o, m), info: (o, m) => log.info(o, m) };
}

export class ClusterNode {
  private controller: Controller | undefined;
  private fetchers: ReplicaFetcherManager | undefined;
  private readonly transports: NetworkReplicaTransport[] = [];
  private closed = false;
  private registration: BrokerRegistration | undefined;

  private constructor(
    private readonly o: OpenClusterOptions,
    readonly conn: EtcdConnection,
    readonly session: EtcdSession,
    readonly store: EtcdMetadataStore,
  ) {}

  static async open(o: OpenClusterOptions): Promise<ClusterNode> {
    const log = etcdLog(o.log);
    const conn = connectEtcd({ endpoints: o.config.etcdEndpoints, cluster: o.config.str('cluster.name') });
    let session: EtcdSession | undefined;
    try {
      session = new EtcdSession(conn, { ttlMs: o.config.int('broker.session.timeout.ms'), log });
      await session.start();
      const store = await EtcdMetadataStore.open({
        session,
        nodeId: o.nodeId,
        validateConfigs: o.validateConfigs,
        log,
      });
      const other = store.image.broker(o.nodeId);
      if (other && !other.fenced) {
        await store.close();
        throw new CoordinationError(
          'ERR_DUPLICATE_BROKER_REGISTRATION',
          `node.id ${o.nodeId} is already registered by a live broker of cluster ` +
            `${o.config.str('cluster.name')}: give every broker its own node.id`,
        );
      }
      return new ClusterNode(o, conn, session, store);
    } catch (err) {
      await session?.close().catch(() => undefined);
      conn.close();
      throw err;
    }
  }

  /** Registers this broker with its advertised listeners and rack (after the listeners are bound). */
  register(listeners: readonly BrokerEndpoint[]): Promise<void> {
    this.registration = {
      nodeId: this.o.nodeId,
      rack: (this.o.config.get('broker.rack') as string | null) ?? null,
      listeners: listeners.map((l) => ({ ...l })),
      fenced: false,
    };
    return this.store.registerBroker(this.registration);
  }

  /**
   * Controlled shutdown (see the header): true once nothing is left to move off this broker, false when the
   * attempts ran out (the broker then stops anyway; the controller acts on its lost lease).
   */
  async controlledShutdown(): Promise<boolean> {
    const c = this.o.config;
    if (!this.registration || this.closed || !c.bool('controlled.shutdown.enable')) return false;
    const retries = c.int('controlled.shutdown.max.retries');
    const backoffMs = c.int('controlled.shutdown.retry.backoff.ms');
    const started = this.o.clock.now();
    for (let attempt = 1; attempt <= retries; attempt++) {
      // One attempt (writing the mark, then waiting) takes at most backoffMs, even with etcd unreachable.
      const deadline = this.o.clock.now() + backoffMs;
      let timer: TimerHandle | undefined;
      const write = this.store.registerBroker({ ...this.registration, inControlledShutdown: true }).catch((err) => {
        this.o.log.warn({ err: (err as Error).message, attempt }, 'controlled shutdown request not written');
      });
      await Promise.race([write, new Promise<void>((r) => (timer = this.o.clock.setTimeout(r, backoffMs)))]);
      this.o.clock.clearTimeout(timer);
      const left = await this.waitMoved(Math.max(0, deadline - this.o.clock.now()));
      if (left.length === 0) {
        this.o.log.info({ ms: this.o.clock.now() - started, attempt }, 'controlled shutdown done');
        return true;
      }
      this.o.log.warn({ attempt, left: left.slice(0, 10), count: left.length }, 'controlled shutdown incomplete');
    }
    return false;
  }

  /** Waits up to `ms` until this node's image has nothing left to move off it; returns what is left. */
  private waitMoved(ms: number): Promise<string[]> {
    const self = (): boolean => this.store.image.broker(this.o.nodeId)?.inControlledShutdown === true;
    const left = (): string[] => shutdownPending(this.store.image, this.o.nodeId);
    if (self() && left().length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const done = (): void => {
        off();
        this.o.clock.clearTimeout(timer);
        resolve(left());
      };
      const off = this.store.subscribe(() => {
        if (self() && left().length === 0) done();
      });
      const timer = this.o.clock.setTimeout(done, ms);
    });
  }

  /** Followers fetch from their leaders; the controller campaigns. Call once the replica manager exists. */
  startReplication(replicas: ReplicaManager): void {
    const c = this.o.config;
    const via = interBrokerClient(c);
    const fetchers = new ReplicaFetcherManager(
      replicas,
      (leaderId) => {
        const t = new NetworkReplicaTransport({
          leaderId,
          nodeId: this.o.nodeId,
          image: () => this.store.image,
          requestTimeoutMs: 30_000,
          via,
        });
        this.transports.push(t);
        return t;
      },
      this.o.clock,
      {
        maxWaitMs: c.int('replica.fetch.wait.max.ms'),
        maxBytes: c.int('replica.fetch.max.bytes'),
        backoffMs: c.int('replica.fetch.backoff.ms'),
      },
    );
    this.fetchers = fetchers;
    replicas.followers = fetchers;
    replicas.start();
    fetchers.start();
    this.controller = new Controller({
      store: this.store,
      session: this.session,
      nodeId: this.o.nodeId,
      uncleanLeaderElection: c.bool('unclean.leader.election.enable'),
      autoLeaderRebalance: c.bool('auto.leader.rebalance.enable')
        ? {
            intervalMs: c.int('leader.imbalance.check.interval.seconds') * 1000,
            imbalancePercentage: c.int('leader.imbalance.per.broker.percentage'),
          }
        : undefined,
      clock: this.o.clock,
      log: etcdLog(this.o.log),
    });
    this.controller.start();
  }

  /** Stops fetching from leaders (first step of a stop: the logs close after). */
  async stopFetchers(): Promise<void> {
    await this.fetchers?.stop();
    for (const t of this.transports) t.close();
    this.transports.length = 0;
  }

  /** The controller of this node (tests, diagnostics). */
  get controllerActive(): boolean {
    return this.controller?.isActive ?? false;
  }

  /** This node's Controller (tests, diagnostics: e.g. `controllerOf().balancer.check()`). */
  controllerOf(): Controller | undefined {
    return this.controller;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopFetchers();
    await this.controller?.close();
    await this.store.close();
    await this.session.close();
    this.conn.close();
  }
}
