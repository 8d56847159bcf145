/**
 * A Runnel node: configuration, data directory, the Kafka listener and (as they land) the storage and
 * coordinator services the handlers use. `start()` resolves once the listener accepts connections;
 * `stop()` stops accepting, lets in-flight requests finish, flushes and closes files.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BrokerConfig } from './config.js';
import type { LogManager } from '../storage/log-manager.js';
import { LogApplier } from '../replication/log-applier.js';
import { LocalMetadataStore } from '../replication/metadata/local-store.js';
import type { MetadataStore } from '../replication/metadata/store.js';
import type { LogConfig } from '../storage/log-config.js';
import { DynamicConfigStore } from '../replication/metadata/dynamic-configs.js';
import { followDynamicConfigs } from './broker-configs.js';
import { SystemClock, type Clock } from '../storage/clock.js';
import type { FileSystem } from '../storage/fs.js';
import { KafkaServer } from './server.js';
import { ConnectionLimits, parseIpOverrides } from './connection-limits.js';
import { listenerPlan } from './security/listeners.js';
import { ListenerTls, usesTls } from './security/tls.js';
import { validateSaslListener } from './security/sasl/mechanisms.js';
import { addScramUsers, type ScramUserSpec } from './security/sasl/add-scram.js';
import { sessionFactory, type SecurityProtocol, type Session } from './security/session.js';
import type { RequestEvent } from './connection.js';
import { logger, type Logger } from './logger.js';
import { ReplicaManager } from '../replication/replica-manager.js';
import { HighWatermarkCheckpoint } from '../replication/hw-checkpoint.js';
import { FetchSessionCache } from './fetch-sessions.js';
import { createGroupCoordinator, loadGroups, type GroupCoordinator } from './groups/index.js';
import { createTransactionCoordinator, loadTransactions, type Transactions } from './txn/index.js';
import { ProducerIdManager } from './producer-ids.js';
import { DEFAULT_INLINE_WRITES, NodeFileSystem } from '../storage/fs.js';
import { CachingFileSystem, deriveMaxOpenFiles, processFdLimit } from '../storage/fd-cache.js';
import { ClientQuotaStore } from '../replication/metadata/client-quotas.js';
import { ScramCredentialStore } from '../replication/metadata/scram-credentials.js';
import type { Authorizer } from './authorizer.js';
import { interBrokerClient } from './broker-connection.js';
import { openAuthorizer } from './security/authorizer/configure.js';
import type { BrokerServices, CoreServices } from './services.js';
import { NotStartedError } from '../protocol/errors.js';
import { ClusterNode } from './cluster.js';
import { QuotaManager } from './quotas/quota-manager.js';
import './handlers/index.js';

/** One listener as bound and advertised. */
export interface BoundListener {
  name: string;
  securityProtocol: SecurityProtocol;
  host: string;
  port: number;
  advertisedHost: string;
  advertisedPort: number;
}

export interface BrokerInfo {
  /** The first listener's bind address and port, and what clients are told of it. */
  host: string;
  port: number;
  advertisedHost: string;
  advertisedPort: number;
  /** Every listener, in the order of `listeners`. */
  listeners: BoundListener[];
  clusterId: string;
  nodeId: number;
  dataDir: string;
}

export interface BrokerDeps {
  log?: Logger;
  /** The logger every part of this broker logs through (as children by namespace); default: broker/logger.ts's root. */
  logRoot?: Logger;
  /** Storage filesystem (default: the real one). */
  fs?: FileSystem;
  clock?: Clock;
  /** SCRAM credentials to create at start when the user has none for that mechanism (`--add-scram`). */
  addScram?: readonly (string | ScramUserSpec)[];
}

export class Broker {
  readonly config: BrokerConfig;
  readonly log: Logger;
  private servers: KafkaServer[] = [];
  private info: BrokerInfo | undefined;
  private logApplier: LogApplier | undefined;
  private metadataStore: MetadataStore | undefined;
  private dynamicConfigStore: DynamicConfigStore | undefined;
  private replicas: ReplicaManager | undefined;
  /** `replication-offset-checkpoint`: the high watermarks, periodically and on a clean stop. */
  private hwCheckpoint: HighWatermarkCheckpoint | undefined;
  /** The replicated-cluster path (etcd.endpoints set), else undefined. */
  private clusterNode: ClusterNode | undefined;
  readonly fetchSessions: FetchSessionCache;
  /** The broker's clock (injected in tests); handlers and storage read time from it. */
  readonly clock: Clock;
  /** Aborted once stop() begins (a new one per start). */
  private stopSignal = new AbortController();
  private builtServices: BrokerServices | undefined;
  private groupCoordinator: GroupCoordinator | undefined;
  private producerIdManager: ProducerIdManager | undefined;
  private quotaStore: ClientQuotaStore | undefined;
  private scramStore: ScramCredentialStore | undefined;
  /** The ACL authorizer (`authorizer.class.name`); undefined: every action allowed, ACL APIs SECURITY_DISABLED. */
  authorizer: Authorizer | undefined;
  /**
   * Test hook: called after a Produce appended a partition's batch; returning true makes the broker
   * close the connection instead of answering (the client must retry the request).
   */
  dropProduceResponse: ((topic: string, partition: number) => boolean) | undefined;
  private txnCoordinator: Transactions | undefined;
  /** The admin HTTP server (broker/admin/, loaded only when it starts). */
  private admin: { url: string; close(): Promise<void> } | undefined;
  /** Sees every handled Kafka request (set by the admin metrics). */
  requestObserver: ((e: RequestEvent) => void) | undefined;
  /** Sees the duration (seconds) of every partition flush (fsync) run (set by the admin metrics). */
  flushObserver: ((seconds: number) => void) | undefined;

  constructor(
    config: BrokerConfig,
    private readonly deps: BrokerDeps = {},
  ) {
    this.config = config;
    this.fetchSessions = new FetchSessionCache(config.int('max.incremental.fetch.session.cache.slots'));
    this.log = deps.log ?? this.childLogger('broker');
    this.clock = deps.clock ?? new SystemClock();
  }

  /** A logger for one part of this broker (`ns` names it), a child of deps.logRoot. */
  childLogger(ns: string): Logger {
    return logger(ns, this.deps.logRoot);
  }

  /** The consumer-group coordinator (classic protocol) and committed offsets. */
  get groups(): GroupCoordinator {
    if (!this.groupCoordinator) throw new NotStartedError('broker not started');
    return this.groupCoordinator;
  }

  /** The transaction coordinator (broker/txn/) and transactional offset commits. */
  get transactions(): Transactions {
    if (!this.txnCoordinator) throw new NotStartedError('broker not started');
    return this.txnCoordinator;
  }

  /** Producer ids unique across restarts (InitProducerId). */
  get producerIds(): ProducerIdManager {
    if (!this.producerIdManager) throw new NotStartedError('broker not started');
    return this.producerIdManager;
  }

  /** Client quotas set with AlterClientQuotas (enforced by `services.quotas`, broker/quotas/). */
  get clientQuotas(): ClientQuotaStore {
    if (!this.quotaStore) throw new NotStartedError('broker not started');
    return this.quotaStore;
  }

  /** SCRAM credentials set with AlterUserScramCredentials. */
  get scramCredentials(): ScramCredentialStore {
    if (!this.scramStore) throw new NotStartedError('broker not started');
    return this.scramStore;
  }

  /** The partition logs (following the metadata image). */
  get logs(): LogManager {
    if (!this.logApplier) throw new NotStartedError('broker not started');
    return this.logApplier.logs;
  }

  /** The cluster metadata: `metadata.image` to read (topics, partitions, brokers), the store's ops to change. */
  get metadata(): MetadataStore {
    if (!this.metadataStore) throw new NotStartedError('broker not started');
    return this.metadataStore;
  }

  /** Dynamic broker configs of the metadata image (AlterConfigs on BROKER resources; broker-configs.ts). */
  get dynamicConfigs(): DynamicConfigStore {
    if (!this.dynamicConfigStore) throw new NotStartedError('broker not started');
    return this.dynamicConfigStore;
  }

  /** The hosted partitions (every read and write of a partition log) and the purgatory. */
  get replicaManager(): ReplicaManager {
    if (!this.replicas) throw new NotStartedError('broker not started');
    return this.replicas;
  }

  /** Broker-level defaults of every topic config, as the storage layer takes them (dynamic ones included). */
  defaultLogConfig(): LogConfig {
    return this.config.logDefaults();
  }

  /** Set once stop() begins: long polls answer at once. */
  get stopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  /** What handlers and the admin API use (broker/services.ts), built once by start(). */
  get services(): BrokerServices {
    if (!this.builtServices) throw new NotStartedError('broker not started');
    return this.builtServices;
  }

  get started(): BrokerInfo {
    if (!this.info) throw new NotStartedError('broker not started');
    return this.info;
  }

  /** The partition logs' file system: node:fs behind a bounded descriptor cache (storage/fd-cache.ts). */
  private cachingFileSystem(): CachingFileSystem {
    const fdLimit = processFdLimit();
    const maxOpen = deriveMaxOpenFiles(this.config.int('log.max.open.files'), fdLimit);
    const log = this.childLogger('fd-cache');
    log.debug({ maxOpen, fdLimit }, 'file descriptor cache');
    const inline = { ...DEFAULT_INLINE_WRITES, maxBytes: this.config.int('log.append.inline.max.bytes') };
    return new CachingFileSystem(new NodeFileSystem(inline), { maxOpen, logger: log });
  }

  /** max.connections, max.connections.per.ip(.overrides) over this node's listeners (connection-limits.ts). */
  private async connectionLimits(interBrokerListener: string): Promise<ConnectionLimits> {
    const log = this.childLogger('network');
    const overrides = parseIpOverrides(this.config.str('max.connections.per.ip.overrides'));
    return new ConnectionLimits({
      maxConnections: this.config.int('max.connections'),
      listenerMax: (l) => Number(this.config.listenerValue(l, 'max.connections')),
      maxPerIp: this.config.int('max.connections.per.ip'),
      overrides: await ConnectionLimits.resolve(overrides, log),
      interBrokerListener,
      log,
    });
  }

  async start(): Promise<BrokerInfo> {
    this.stopSignal = new AbortController();
    const plan = listenerPlan(this.config);
    const tlsByListener = new Map<string, ListenerTls>();
    for (const l of plan.listeners) {
      // Reads and checks the keystore and truststore now: a bad TLS config refuses start-up.
      if (usesTls(l.securityProtocol))
        tlsByListener.set(l.name, new ListenerTls(this.config, l.name, l.securityProtocol, this.childLogger('tls')));
      if (l.securityProtocol === 'SASL_PLAINTEXT' || l.securityProtocol === 'SASL_SSL')
        validateSaslListener(this.config, l.name);
    }
    // A cluster node logs in to the others on a SASL inter-broker listener: its user must be configured.
    if (this.config.etcdEndpoints.length > 0) interBrokerClient(this.config);
    // The admin API's TLS (admin.ssl.enabled: the ssl.* configs of listener name ADMIN), read and checked now too.
    const adminTls =
      this.config.int('admin.port') >= 0 && this.config.bool('admin.ssl.enabled')
        ? new ListenerTls(this.config, 'ADMIN', 'SSL', this.childLogger('tls'))
        : undefined;
    const dataDir = resolve(this.config.str('data.dir'));
    if (this.deps.fs) await this.deps.fs.mkdirp(dataDir);
    else await mkdir(dataDir, { recursive: true });
    const nodeId = this.config.int('node.id');
    const fs = this.deps.fs ?? this.cachingFileSystem();
    const validateConfigs = (overrides: Readonly<Record<string, string>>): void =>
      void this.config.resolveLogConfig(overrides);
    if (this.config.etcdEndpoints.length > 0) {
      this.clusterNode = await ClusterNode.open({
        config: this.config,
        nodeId,
        clock: this.clock,
        log: this.childLogger('cluster'),
        validateConfigs,
      });
      this.metadataStore = this.clusterNode.store;
    } else {
      this.metadataStore = await LocalMetadataStore.open(dataDir, { nodeId, fs, validateConfigs });
    }
    const clusterId = this.metadataStore.image.clusterId;
    this.authorizer = openAuthorizer(this.config, this.metadataStore, this.childLogger('authorizer'));
    // Dynamic configs, SCRAM credentials and client quotas live in the metadata image (every node of a cluster).
    this.dynamicConfigStore = new DynamicConfigStore(this.metadataStore);
    followDynamicConfigs(this.config, this.metadataStore, nodeId, this.log, () => this.logApplier?.logs);
    this.logApplier = await LogApplier.open(this.metadataStore, dataDir, {
      fs,
      clock: this.clock,
      logger: this.childLogger('storage'),
      resolveConfig: (overrides) => this.config.resolveLogConfig(overrides),
      retentionCheckIntervalMs: this.config.int('log.retention.check.interval.ms'),
      cleanerEnabled: this.config.bool('log.cleaner.enable'),
      cleanerBackoffMs: this.config.int('log.cleaner.backoff.ms'),
      cleaner: { ioMaxBytesPerSecond: this.config.get('log.cleaner.io.max.bytes.per.second') as number },
      producerIdExpirationMs: this.config.int('producer.id.expiration.ms'),
      producerIdExpirationCheckIntervalMs: this.config.int('producer.id.expiration.check.interval.ms'),
      onFlush: (seconds) => this.flushObserver?.(seconds),
      autoAdvanceHighWatermark: false,
    });
    const replicas = this.clusterNode
      ? new ReplicaManager(this.logApplier.logs, {
          clock: this.clock,
          store: this.metadataStore,
          replicaLagTimeMaxMs: this.config.int('replica.lag.time.max.ms'),
          initialHighWatermarks: await HighWatermarkCheckpoint.load(fs, dataDir, this.log),
          localTailCacheBytes: this.config.int('log.tail.cache.max.bytes'),
        })
      : new ReplicaManager(this.logApplier.logs, {
          clock: this.clock,
          localStore: this.metadataStore,
          localTailCacheBytes: this.config.int('log.tail.cache.max.bytes'),
        });
    this.replicas = replicas;
    this.hwCheckpoint = new HighWatermarkCheckpoint({
      fs,
      dataDir,
      clock: this.clock,
      intervalMs: this.config.int('replica.high.watermark.checkpoint.interval.ms'),
      partitions: () => replicas.allPartitions(),
      log: this.log,
    });
    this.hwCheckpoint.start();
    // A single node reports the partitions of topics created later as led here (the coordinators follow).
    if (!this.clusterNode) replicas.start();
    this.producerIdManager = new ProducerIdManager(this.metadataStore, nodeId);
    this.quotaStore = new ClientQuotaStore(this.metadataStore);
    this.scramStore = new ScramCredentialStore(this.metadataStore);
    if (this.deps.addScram?.length) {
      const created = await addScramUsers(this.scramStore, this.deps.addScram);
      if (created.length > 0) this.log.info({ created }, 'SCRAM credentials added');
    }
    const core = {
      nodeId,
      dataDir,
      config: this.config,
      clock: this.clock,
      log: this.log,
      childLogger: (ns: string) => this.childLogger(ns),
      partitions: replicas,
      logs: this.logApplier.logs,
      metadata: this.metadataStore,
      producerIds: this.producerIdManager,
    };
    const { coordinator, offsetsLog } = createGroupCoordinator(core);
    this.groupCoordinator = coordinator;
    this.txnCoordinator = createTransactionCoordinator({ ...core, groups: coordinator });
    // As Kafka: the listeners open while the coordinators replay their topics, so produce and fetch are
    // served meanwhile; start() resolves once both are loaded. The groups follow their partitions' leadership
    // from now on (a group of a partition not loaded yet gets COORDINATOR_LOAD_IN_PROGRESS). Transactions
    // load after the groups, as before (their completions must find every staged offset of the group
    // loads), and answer COORDINATOR_LOAD_IN_PROGRESS until then.
    const txn = this.txnCoordinator;
    txn.loading = true;
    const loads = loadGroups(coordinator, offsetsLog).then(() => loadTransactions(txn, offsetsLog));
    loads.catch(() => undefined); // awaited below; not an unhandled rejection while the listeners open
    const services = this.composeServices(core, this.txnCoordinator);
    this.builtServices = services;
    const listeners: BoundListener[] = [];
    const limits = await this.connectionLimits(plan.interBrokerListener);
    for (const spec of plan.listeners) {
      const server = new KafkaServer(
        {
          maxRequestBytes: this.config.int('socket.request.max.bytes'),
          idleMs: this.config.int('connections.max.idle.ms'),
          services,
          log: this.childLogger('network'),
          newSession: sessionFactory(spec.name, spec.securityProtocol),
          onRequest: (e) => this.requestObserver?.(e),
        },
        this.log,
        tlsByListener.get(spec.name),
        {
          admit: (socket) => limits.admit(spec.name, socket.remoteAddress),
          acceptError: (err) => limits.acceptError(spec.name, err),
        },
      );
      this.servers.push(server);
      const addr = await server.listen(spec.host, spec.port);
      listeners.push({
        name: spec.name,
        securityProtocol: spec.securityProtocol,
        host: spec.host,
        port: addr.port,
        advertisedHost: spec.advertisedHost,
        advertisedPort: spec.advertisedPort ?? addr.port,
      });
    }
    const first = listeners[0];
    const host = first.host;
    this.info = {
      host,
      port: first.port,
      advertisedHost: first.advertisedHost,
      advertisedPort: first.advertisedPort,
      listeners,
      clusterId,
      nodeId,
      dataDir,
    };
    const endpoints = listeners.map((l) => ({
      name: l.name,
      host: l.advertisedHost,
      port: l.advertisedPort,
      securityProtocol: l.securityProtocol,
    }));
    if (this.clusterNode) {
      await this.clusterNode.register(endpoints);
      this.clusterNode.startReplication(replicas);
    } else {
      await this.metadataStore.registerBroker({ nodeId, rack: null, listeners: endpoints, fenced: false });
    }
    await loads;
    if (this.config.int('admin.port') >= 0) {
      const { startAdminServer } = await import('./admin/server.js');
      const adminHost = this.config.str('admin.host');
      this.admin = await startAdminServer(this, adminHost, this.config.int('admin.port'), adminTls);
    }
    this.log.info(
      {
        host,
        port: first.port,
        advertised: `${first.advertisedHost}:${first.advertisedPort}`,
        listeners: listeners.map((l) => `${l.name}://${l.host}:${l.port}`).join(','),
        dataDir,
        nodeId,
        clusterId,
        admin: this.admin?.url,
      },
      `listening on ${host}:${first.port}`,
    );
    return this.info;
  }

  /** The composition root: every service handlers may use, the mutable ones read through this Broker. */
  private composeServices(core: CoreServices, transactions: Transactions): BrokerServices {
    const broker = this;
    return {
      ...core,
      groups: this.groups,
      transactions,
      fetchSessions: this.fetchSessions,
      clientQuotas: this.clientQuotas,
      quotas: new QuotaManager({
        source: this.clientQuotas,
        clock: this.clock,
        numSamples: this.config.int('quota.window.num'),
        windowMs: this.config.int('quota.window.size.seconds') * 1000,
        mutationSamples: this.config.int('controller.quota.window.num'),
        mutationWindowMs: this.config.int('controller.quota.window.size.seconds') * 1000,
      }),
      scramCredentials: this.scramCredentials,
      dynamicConfigs: this.dynamicConfigs,
      get authorizer() {
        return broker.authorizer;
      },
      stopping: this.stopSignal.signal,
      testHooks: {
        get dropProduceResponse() {
          return broker.dropProduceResponse;
        },
      },
    };
  }

  /** Base URL of the admin HTTP API ("http://host:port", https with admin.ssl.enabled), when it runs. */
  get adminUrl(): string | undefined {
    return this.admin?.url;
  }

  /** The replicated-cluster path of this broker (`etcd.endpoints` set), else undefined (tests, diagnostics). */
  get cluster(): ClusterNode | undefined {
    return this.clusterNode;
  }

  /** The security sessions of the open Kafka client connections, every listener (diagnostics and tests). */
  connectionSessions(): Session[] {
    return this.servers.flatMap((s) => s.sessions());
  }

  /** Open Kafka client connections. */
  get connectionCount(): number {
    return this.servers.reduce((n, s) => n + s.connectionCount, 0);
  }

  async stop(): Promise<void> {
    // Cluster: leaderships move to other in-sync replicas first, while this broker still serves (cluster.ts).
    await this.clusterNode?.controlledShutdown();
    this.stopSignal.abort();
    this.replicas?.shutdown();
    await this.clusterNode?.stopFetchers();
    // Pending JoinGroup/SyncGroup answers must not hold the server's drain.
    this.groupCoordinator?.shutdown();
    this.txnCoordinator?.shutdown();
    if (this.admin) {
      await this.admin.close();
      this.admin = undefined;
    }
    await Promise.all(this.servers.map((s) => s.stop()));
    this.servers = [];
    this.builtServices = undefined;
    if (this.clusterNode) {
      // Resign, close the store, revoke the lease: the other brokers take over this node's leaderships.
      await this.clusterNode.close();
      this.clusterNode = undefined;
      this.metadataStore = undefined;
    }
    if (this.hwCheckpoint) {
      await this.hwCheckpoint
        .close()
        .catch((err: unknown) => this.log.warn({ err }, 'final high watermark checkpoint failed'));
      this.hwCheckpoint = undefined;
    }
    if (this.logApplier) {
      await this.logApplier.close();
      this.logApplier = undefined;
      this.replicas = undefined;
    }
    if (this.metadataStore) {
      await this.metadataStore.close();
      this.metadataStore = undefined;
    }
    this.log.info('stopped');
  }
}
