/**
 * Runnel's public API: `startBroker()` runs a real broker in-process, for tests in any Node test runner
 * (node:test, Vitest, Jest). Several instances in one process stay isolated: each has its own port,
 * data directory, storage, state and (with `logger` / `logLevel`) logging. Quiet by default: only
 * warnings and errors, on stderr (broker/logger.ts), so the host's stdout stays its own.
 * `startCluster()` runs a replicated cluster instead: an etcd and N nodes as child processes
 * (broker/dev-cluster.ts, loaded on first use).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, type BrokerInfo } from './broker.js';
import { BrokerConfig, configDef } from './config.js';
import { deleteTopicOffsets } from './groups/offsets.js';
import type { TopicMetadata } from '../replication/metadata/image.js';
import { brokerLogRoot, type Logger, type LogLevel } from './logger.js';
import { BadArgumentError } from '../protocol/errors.js';
import type { RunningCluster, StartClusterOptions } from './dev-cluster.js';
import type { ScramUserSpec } from './security/sasl/add-scram.js';

export { Broker } from './broker.js';
export { BrokerConfig, CONFIG_DEFS } from './config.js';
export type { Logger, LogLevel } from './logger.js';
export type { ScramUserSpec } from './security/sasl/add-scram.js';
export type { ClusterEtcd, NodeHandle, RunningCluster, StartClusterOptions } from './dev-cluster.js';

export interface TopicSpec {
  name: string;
  /** Default: the broker's num.partitions. */
  partitions?: number;
  /** Topic configs by Kafka name (retention.ms, cleanup.policy, ...). */
  configs?: Record<string, string | number | boolean>;
}

export interface StartBrokerOptions {
  /** Kafka listener port; 0 (the default) picks a free one. */
  port?: number;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Data directory; default: a fresh temporary directory, removed by stop(). Ignored with storage 'memory'. */
  dataDir?: string;
  /**
   * 'disk' (the default): real files in dataDir. 'memory': every log lives in this process's memory
   * (storage/memory-fs.ts; nothing touches the disk, everything is gone on stop()) — for tests that do not
   * need durability.
   */
  storage?: 'disk' | 'memory';
  /** Topics created before startBroker() resolves: names, or specs with partitions and configs. */
  topics?: (string | TopicSpec)[];
  /** Any broker config by name. */
  config?: Record<string, string | number | boolean>;
  /**
   * 'dev' (the default for embedded brokers) shortens the consumer-group initial rebalance delay so test
   * consumers join at once; 'kafka' keeps every Kafka default.
   */
  profile?: 'dev' | 'kafka';
  /**
   * This broker's log level (trace, debug, info, warn, error, fatal, silent). Default: config `log.level`
   * when given, else the `logger`'s own level, else warn (env RUNNEL_LOG_LEVEL changes that last default).
   */
  logLevel?: LogLevel;
  /**
   * A pino logger (the application's) the broker logs through, as children with an `ns` binding
   * (broker, network, storage, groups, txn, admin). Default: JSON lines on stderr.
   */
  logger?: Logger;
  /**
   * SCRAM users created at start unless they already have a credential for that mechanism: Kafka's
   * `--add-scram` syntax (`'SCRAM-SHA-256=[name=alice,password=alice-secret]'`) or objects.
   */
  scramUsers?: (string | ScramUserSpec)[];
}

export interface RunningBroker {
  /** "host:port" for the clients' bootstrap list. */
  bootstrapServers: string;
  port: number;
  /**
   * Every listener by name (`listeners` config; one PLAINTEXT listener by default) with its bound port and the
   * "host:port" clients bootstrap from.
   */
  listeners: Record<string, { port: number; bootstrapServers: string; securityProtocol: string }>;
  /**
   * Base URL of the admin HTTP API ("http://127.0.0.1:PORT"; admin.port defaults to 0 here); undefined with
   * admin.port -1.
   */
  adminUrl: string | undefined;
  /** The data directory ('/runnel-memory', a path inside the in-memory filesystem, with storage 'memory'). */
  dataDir: string;
  broker: Broker;
  /** Create a topic; it can be produced to and consumed from as soon as the promise resolves. */
  createTopic(
    name: string,
    partitions?: number,
    configs?: Record<string, string | number | boolean>,
  ): Promise<TopicMetadata>;
  deleteTopic(name: string): Promise<boolean>;
  stop(): Promise<void>;
}

/** Config values of the 'dev' profile, applied where the broker knows the config. */
const DEV_PROFILE: Record<string, string | number> = {
  'group.initial.rebalance.delay.ms': 0,
};

function stringify(configs: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(configs ?? {})) out[k] = String(v);
  return out;
}

export async function startBroker(opts: StartBrokerOptions = {}): Promise<RunningBroker> {
  const memory = opts.storage === 'memory';
  if (opts.storage !== undefined && opts.storage !== 'disk' && !memory)
    throw new BadArgumentError(`storage must be 'disk' or 'memory', not ${JSON.stringify(opts.storage)}`);
  const configLevel = opts.config?.['log.level'];
  const logRoot = brokerLogRoot(
    opts.logger,
    opts.logLevel ?? (configLevel === undefined ? undefined : String(configLevel)),
  );
  const tempDir = opts.dataDir === undefined && !memory ? await mkdtemp(join(tmpdir(), 'runnel-')) : undefined;
  const dataDir = memory ? '/runnel-memory' : (opts.dataDir ?? tempDir!);
  const profile: Record<string, string | number> = {};
  if ((opts.profile ?? 'dev') === 'dev') {
    for (const [k, v] of Object.entries(DEV_PROFILE)) if (configDef(k)) profile[k] = v;
  }
  const config = new BrokerConfig({
    overrides: {
      ...profile,
      'admin.port': 0,
      ...opts.config,
      port: opts.port ?? 0,
      host: opts.host ?? '127.0.0.1',
      'data.dir': dataDir,
    },
  });
  const broker = new Broker(config, {
    logRoot,
    addScram: opts.scramUsers,
    ...(memory ? { fs: new (await import('../storage/memory-fs.js')).MemoryFileSystem() } : {}),
  });
  let info: BrokerInfo;
  try {
    info = await broker.start();
    const defaultPartitions = config.int('num.partitions');
    for (const t of opts.topics ?? []) {
      const spec = typeof t === 'string' ? { name: t } : t;
      if (!broker.metadata.image.topic(spec.name)) {
        await broker.metadata.createTopic(spec.name, {
          partitions: spec.partitions ?? defaultPartitions,
          configs: stringify(spec.configs),
        });
      }
    }
  } catch (err) {
    await broker.stop().catch(() => {});
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw err;
  }
  return {
    bootstrapServers: `${info.advertisedHost}:${info.advertisedPort}`,
    port: info.port,
    listeners: Object.fromEntries(
      info.listeners.map((l) => [
        l.name,
        {
          port: l.port,
          bootstrapServers: `${l.advertisedHost}:${l.advertisedPort}`,
          securityProtocol: l.securityProtocol,
        },
      ]),
    ),
    adminUrl: broker.adminUrl,
    dataDir,
    broker,
    createTopic(name, partitions, configs) {
      return broker.metadata.createTopic(name, {
        partitions: partitions ?? config.int('num.partitions'),
        configs: stringify(configs),
      });
    },
    async deleteTopic(name) {
      const deleted = await broker.metadata.deleteTopic(name);
      if (deleted) await deleteTopicOffsets(broker.groups, name);
      return deleted;
    },
    async stop() {
      await broker.stop();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a replicated cluster for tests and development: etcd (the `etcd` binary on PATH) and `nodes` Runnel
 * nodes as child processes on 127.0.0.1, resolved once every node is registered and one is controller. Each
 * node can be stopped, killed, paused, resumed and restarted; close() ends them all. See broker/dev-cluster.ts.
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<RunningCluster> {
  return (await import('./dev-cluster.js')).startCluster(opts);
}
