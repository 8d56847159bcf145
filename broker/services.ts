/**
 * The services a request handler (and the helper modules it calls) may use, each behind a narrow type,
 * built once by the composition root (`Broker.start`, broker.ts) after every one of them exists. The
 * connection hands it to handlers as `ctx.services`; a handler destructures what it uses
 * (`const { partitions, metadata } = ctx.services;`) and never sees the Broker itself. Helper modules
 * take a `Pick<BrokerServices, ...>` of what they read, so what each depends on shows in its signature.
 */
import type { BrokerConfig } from './config.js';
import type { Clock } from '../storage/clock.js';
import type { LogManager } from '../storage/log-manager.js';
import type { Logger } from './logger.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { MetadataStore } from '../replication/metadata/store.js';
import type { DynamicConfigStore } from '../replication/metadata/dynamic-configs.js';
import type { ClientQuotaStore } from '../replication/metadata/client-quotas.js';
import type { ScramCredentialStore } from '../replication/metadata/scram-credentials.js';
import type { FetchSessionCache } from './fetch-sessions.js';
import type { GroupCoordinator } from './groups/index.js';
import type { Transactions } from './txn/index.js';
import type { ProducerIdManager } from './producer-ids.js';
import type { Authorizer } from './authorizer.js';
import type { QuotaManager } from './quotas/quota-manager.js';

/** Hooks tests set on the Broker; read at the moment they apply. */
export interface TestHooks {
  /**
   * Called after a Produce appended a partition's batch; returning true makes the broker close the
   * connection instead of answering (the client must retry the request).
   */
  readonly dropProduceResponse: ((topic: string, partition: number) => boolean) | undefined;
}

export interface BrokerServices {
  /** This broker's node.id. */
  readonly nodeId: number;
  /** The resolved data directory (the one log dir DescribeLogDirs reports). */
  readonly dataDir: string;
  /** Static and dynamic broker configs. */
  readonly config: BrokerConfig;
  /** The broker's clock (injected in tests). */
  readonly clock: Clock;
  /** The broker's own logger. */
  readonly log: Logger;
  /** A logger for one part of the broker (`ns` names it), a child of the broker's logger root. */
  readonly childLogger: (ns: string) => Logger;
  /** The hosted partitions: every read and write of a partition log, and the purgatory. */
  readonly partitions: ReplicaManager;
  /** The partition logs, for what only they do (re-reading configs after a broker config change). */
  readonly logs: Pick<LogManager, 'refreshConfigs'>;
  /** The cluster metadata: `metadata.image` to read, the store's operations to change it. */
  readonly metadata: MetadataStore;
  /** The consumer-group coordinator and committed offsets. */
  readonly groups: GroupCoordinator;
  /** The transaction coordinator and transactional offset commits. */
  readonly transactions: Transactions;
  /** Producer ids unique across restarts (InitProducerId). */
  readonly producerIds: Pick<ProducerIdManager, 'allocate'>;
  /** Incremental fetch sessions (KIP-227). */
  readonly fetchSessions: FetchSessionCache;
  /** Client quotas set with AlterClientQuotas. */
  readonly clientQuotas: ClientQuotaStore;
  /** Enforces the client quotas (throttling; broker/quotas/). */
  readonly quotas: QuotaManager;
  /** SCRAM credentials set with AlterUserScramCredentials. */
  readonly scramCredentials: ScramCredentialStore;
  /** Dynamic broker configs as stored in the data dir. */
  readonly dynamicConfigs: DynamicConfigStore;
  /** The ACL authorizer, when one is plugged in (read at each request). */
  readonly authorizer: Authorizer | undefined;
  /** Aborted once the broker begins to stop: long polls answer at once. */
  readonly stopping: AbortSignal;
  readonly testHooks: TestHooks;
}

/** The services that exist before the coordinators (which are built from them). */
export type CoreServices = Pick<
  BrokerServices,
  'nodeId' | 'dataDir' | 'config' | 'clock' | 'log' | 'childLogger' | 'partitions' | 'logs' | 'metadata' | 'producerIds'
>;
