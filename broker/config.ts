/**
 * Broker and topic configuration, defined once in this declarative table (name, type, default, doc, scope,
 * dynamic or not, validation). The same table parses `--set`/env/config-file values, resolves and
 * validates topic configs (each topic-config row names its storage LogConfig field; LogManager gets a
 * resolver built from here, so storage keeps no config names or defaults of its own), answers
 * DescribeConfigs, validates AlterConfigs, and generates README's configuration reference.
 *
 * Broker-level names follow Kafka's server.properties; a broker config that supplies the default of a topic
 * config names it in `topic` (log.retention.ms → retention.ms), as Kafka does. `dynamic` rows can change at
 * run time (Kafka's DynamicBrokerConfig: the log.* defaults of topic configs, message.max.bytes, ...);
 * `removed` rows are configs Kafka 4.0 dropped that Runnel still accepts from older clients. Precedence,
 * lowest first: table default < config file < RUNNEL_* env < --set / flags (together: static) < dynamic
 * cluster default < dynamic per-broker value. What the rows mean (parsing, BrokerConfig): config-model.ts.
 */
import { ConfigTable, EffectiveConfig, LONG_MAX, type ConfigDef, type ConfigSources } from './config-model.js';
import type { LogConfig } from '../storage/log-config.js';

export * from './config-model.js';

const DAY = 86_400_000;

export const CONFIG_DEFS: readonly ConfigDef[] = [
  { name: 'node.id', type: 'int', default: 1, min: 0, doc: "This node's id in the cluster." },
  { name: 'host', type: 'string', default: '0.0.0.0', doc: 'Address the Kafka listener binds to.' },
  {
    name: 'port',
    type: 'int',
    default: 9092,
    min: 0,
    max: 65535,

    doc: 'Port of the Kafka listener (0 picks a free port).',
  },
  {
    name: 'etcd.endpoints',
    type: 'list',
    default: [],
    doc:
      'etcd endpoints (`http://host:port`, comma-separated) of a replicated cluster; empty: a single node with ' +
      'its metadata in the data dir.',
  },
  {
    name: 'cluster.name',
    type: 'string',
    default: 'runnel',
    doc: 'Name of the cluster in etcd (its keys live under `/runnel/<cluster.name>/`); needs `etcd.endpoints`.',
  },
  {
    name: 'broker.session.timeout.ms',
    type: 'int',
    default: 9000,
    min: 1000,
    doc: "TTL of the broker's etcd lease: a broker not heard from this long is fenced and loses its leaderships.",
  },
  {
    name: 'controlled.shutdown.enable',
    type: 'boolean',
    default: true,
    doc:
      'In a cluster, a stopping broker first asks the controller to move its leaderships to other in-sync ' +
      'replicas and take it out of the ISRs, and waits for that before closing its logs.',
  },
  {
    name: 'controlled.shutdown.max.retries',
    type: 'int',
    default: 3,
    min: 1,
    doc: 'Attempts of a controlled shutdown (each re-sends the request) before the broker stops anyway.',
  },
  {
    name: 'controlled.shutdown.retry.backoff.ms',
    type: 'long',
    default: 5000,
    min: 1,
    doc: 'How long one controlled-shutdown attempt waits for the leaderships to move before the next one.',
  },
  {
    name: 'auto.leader.rebalance.enable',
    type: 'boolean',
    default: true,
    doc:
      'The controller moves leadership back to preferred (first) replicas that are live and in sync, when a ' +
      "broker's leader imbalance exceeds leader.imbalance.per.broker.percentage.",
  },
  {
    name: 'leader.imbalance.check.interval.seconds',
    type: 'long',
    default: 300,
    min: 1,
    doc: 'How often the controller checks the leader imbalance (auto.leader.rebalance.enable).',
  },
  {
    name: 'leader.imbalance.per.broker.percentage',
    type: 'int',
    default: 10,
    min: 0,
    doc: 'Share (%) of the partitions a broker prefers that may be led elsewhere before a preferred election.',
  },
  {
    name: 'broker.rack',
    type: 'string',
    default: null,
    doc: 'Rack of this broker, used by rack-aware replica assignment and listed in Metadata.',
  },
  {
    name: 'replica.lag.time.max.ms',
    type: 'long',
    default: 30_000,
    min: 1,
    doc: 'A follower that has not caught up with the leader for this long leaves the ISR.',
  },
  {
    name: 'replica.fetch.wait.max.ms',
    type: 'int',
    default: 500,
    min: 0,
    doc: "Longest time a follower's fetch waits at the leader for new data.",
  },
  {
    name: 'replica.fetch.max.bytes',
    type: 'int',
    default: 1_048_576,
    min: 0,
    doc: 'Bytes a follower fetches per partition in one request (at least one batch).',
  },
  {
    name: 'replica.fetch.backoff.ms',
    type: 'int',
    default: 1000,
    min: 0,
    doc: 'How long a follower waits before fetching again after a fetch error.',
  },
  {
    name: 'replica.selector.class',
    type: 'string',
    default: null,
    oneOf: ['org.apache.kafka.common.replica.RackAwareReplicaSelector'],
    doc:
      'Which replica a consumer (Fetch v11+) reads from (KIP-392): unset, the leader; ' +
      '`org.apache.kafka.common.replica.RackAwareReplicaSelector`, an in-sync replica in its `client.rack`.',
  },
  {
    name: 'replica.high.watermark.checkpoint.interval.ms',
    type: 'long',
    default: 5000,
    min: 1,
    doc: 'How often the high watermarks are written to `replication-offset-checkpoint` in the data dir.',
  },
  {
    name: 'advertised.host',
    type: 'string',
    default: null,

    doc: 'Host clients are told to connect to; default: `host`, or `localhost` when `host` is a wildcard address.',
  },
  {
    name: 'advertised.port',
    type: 'int',
    default: null,
    min: 1,
    max: 65535,

    doc: 'Port clients are told to connect to; default: the bound port.',
  },
  {
    name: 'admin.port',
    type: 'int',
    default: 9644,
    min: -1,
    max: 65535,
    doc:
      'Port of the admin HTTP API (health, readiness, Prometheus metrics, topics, groups, records); ' +
      '0 picks a free port, -1 turns it off.',
  },
  {
    name: 'admin.host',
    type: 'string',
    default: null,

    doc: 'Address the admin HTTP API binds to; default: `host`.',
  },
  {
    name: 'data.dir',
    type: 'string',
    default: './data',

    doc: 'Directory holding the partition logs and metadata (Kafka: log.dirs).',
  },
  {
    name: 'log.level',
    type: 'string',
    default: 'info',
    oneOf: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    doc: 'Log level.',
  },
  {
    name: 'log.format',
    type: 'string',
    default: 'auto',
    oneOf: ['auto', 'json', 'pretty'],

    doc: 'Log output: JSON lines, human-readable (pino-pretty), or auto: pretty when stdout is a terminal, else JSON.',
  },
  {
    name: 'socket.request.max.bytes',
    type: 'int',
    default: 104_857_600,
    min: 1,

    doc: 'Largest request frame accepted; a larger one closes the connection without being read.',
  },
  {
    name: 'connections.max.idle.ms',
    type: 'long',
    default: 600_000,
    min: 1,
    doc: 'Idle connections are closed after this many milliseconds.',
  },
  {
    name: 'max.incremental.fetch.session.cache.slots',
    type: 'int',
    default: 1000,
    min: 0,
    doc: 'Most incremental fetch sessions (KIP-227) this node keeps; 0 turns sessions off (every fetch is a full one).',
  },
  {
    name: 'auto.create.topics.enable',
    type: 'boolean',
    default: true,
    doc: 'Create a topic when a client asks Metadata for one that does not exist.',
  },
  {
    name: 'num.partitions',
    type: 'int',
    default: 1,
    min: 1,
    doc: 'Partitions of auto-created topics and of CreateTopics requests that give -1.',
  },
  {
    name: 'default.replication.factor',
    type: 'int',
    default: 1,
    min: 1,
    doc: 'Replication factor of auto-created topics.',
  },
  {
    name: 'log.segment.bytes',
    topic: 'segment.bytes',
    field: 'segmentBytes',
    dynamic: 'cluster-wide',
    type: 'int',
    default: 1_073_741_824,
    min: 14,
    doc: 'Size at which a segment is rolled.',
  },
  {
    name: 'log.roll.ms',
    topic: 'segment.ms',
    field: 'segmentMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: 7 * DAY,
    min: 1,
    doc: "Age of a segment's first batch after which it is rolled.",
  },
  {
    name: 'log.retention.ms',
    topic: 'retention.ms',
    field: 'retentionMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: 7 * DAY,
    min: -1,
    doc: 'Segments whose newest record is older than this are deleted (-1: no limit).',
  },
  {
    name: 'log.retention.bytes',
    topic: 'retention.bytes',
    field: 'retentionBytes',
    dynamic: 'cluster-wide',
    type: 'long',
    default: -1,
    min: -1,
    doc: 'Oldest segments are deleted while a partition is larger than this (-1: no limit).',
  },
  {
    name: 'log.index.interval.bytes',
    topic: 'index.interval.bytes',
    field: 'indexIntervalBytes',
    dynamic: 'cluster-wide',
    type: 'int',
    default: 4096,
    min: 0,
    doc: 'Bytes of log between two offset-index entries.',
  },
  {
    name: 'log.index.size.max.bytes',
    topic: 'segment.index.bytes',
    field: 'segmentIndexBytes',
    dynamic: 'cluster-wide',
    type: 'int',
    default: 10_485_760,
    min: 4,
    doc: 'Largest offset index of a segment; a full index rolls the segment.',
  },
  {
    name: 'log.flush.interval.messages',
    topic: 'flush.messages',
    field: 'flushMessages',
    dynamic: 'cluster-wide',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    doc: 'fsync after this many messages (1: every acknowledged write is on disk, done with group commit).',
  },
  {
    name: 'log.flush.interval.ms',
    topic: 'flush.ms',
    field: 'flushMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: LONG_MAX,
    min: 0,
    doc: 'fsync data older than this many milliseconds.',
  },
  {
    name: 'message.max.bytes',
    topic: 'max.message.bytes',
    field: 'maxMessageBytes',
    dynamic: 'cluster-wide',
    type: 'int',
    default: 1_048_588,
    min: 0,
    doc: 'Largest record batch accepted (after compression).',
  },
  {
    name: 'log.message.timestamp.type',
    topic: 'message.timestamp.type',
    field: 'messageTimestampType',
    dynamic: 'cluster-wide',
    type: 'string',
    default: 'CreateTime',
    oneOf: ['CreateTime', 'LogAppendTime'],
    doc: "Keep the producer's timestamps (CreateTime) or stamp the append time (LogAppendTime).",
  },
  {
    name: 'log.message.timestamp.before.max.ms',
    topic: 'message.timestamp.before.max.ms',
    field: 'messageTimestampBeforeMaxMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: LONG_MAX,
    min: 0,
    doc: 'Largest allowed distance of a CreateTime timestamp into the past.',
  },
  {
    name: 'log.message.timestamp.after.max.ms',
    topic: 'message.timestamp.after.max.ms',
    field: 'messageTimestampAfterMaxMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: 3_600_000,
    min: 0,
    doc: 'Largest allowed distance of a CreateTime timestamp into the future.',
  },
  {
    name: 'log.cleanup.policy',
    topic: 'cleanup.policy',
    field: 'cleanupPolicy',
    dynamic: 'cluster-wide',
    type: 'list',
    default: ['delete'],
    oneOf: ['delete', 'compact'],
    doc: 'delete (retention), compact (keep the latest record per key), or both.',
  },
  {
    name: 'compression.type',
    topic: 'compression.type',
    field: 'compressionType',
    dynamic: 'cluster-wide',
    type: 'string',
    default: 'producer',
    oneOf: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    doc: 'Codec of stored batches; producer keeps what the producer sent.',
  },
  {
    name: 'min.insync.replicas',
    topic: 'min.insync.replicas',
    field: 'minInsyncReplicas',
    dynamic: 'cluster-wide',
    type: 'int',
    default: 1,
    min: 1,
    doc: 'Replicas that must have a write for acks=all to succeed.',
  },
  {
    name: 'log.cleaner.delete.retention.ms',
    topic: 'delete.retention.ms',
    field: 'deleteRetentionMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: DAY,
    min: 0,
    doc: 'How long tombstones stay readable in compacted topics.',
  },
  {
    name: 'log.cleaner.min.cleanable.ratio',
    topic: 'min.cleanable.dirty.ratio',
    field: 'minCleanableDirtyRatio',
    dynamic: 'cluster-wide',
    type: 'double',
    default: 0.5,
    min: 0,
    max: 1,
    doc: 'Dirty share of a compacted log that triggers cleaning.',
  },
  {
    name: 'log.cleaner.min.compaction.lag.ms',
    topic: 'min.compaction.lag.ms',
    field: 'minCompactionLagMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: 0,
    min: 0,
    doc: 'Records younger than this are not compacted.',
  },
  {
    name: 'log.cleaner.max.compaction.lag.ms',
    topic: 'max.compaction.lag.ms',
    field: 'maxCompactionLagMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    doc: 'Records older than this are compacted even below the dirty ratio.',
  },
  {
    name: 'log.cleaner.enable',
    type: 'boolean',
    default: true,
    doc: 'Run the log cleaner, which compacts topics whose cleanup.policy contains compact.',
  },
  {
    name: 'log.cleaner.backoff.ms',
    type: 'long',
    default: 15_000,
    min: 1,
    doc: 'Pause between two runs of the log cleaner over the compacted topics.',
  },
  {
    name: 'log.roll.jitter.ms',
    topic: 'segment.jitter.ms',
    field: 'segmentJitterMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: 0,
    min: 0,
    doc: 'Maximum random jitter subtracted from segment.ms (accepted, not applied yet).',
  },
  {
    name: 'log.segment.delete.delay.ms',
    topic: 'file.delete.delay.ms',
    field: 'fileDeleteDelayMs',
    dynamic: 'cluster-wide',
    type: 'long',
    default: 60_000,
    min: 0,
    doc: 'Time to wait before deleting a file from the filesystem.',
  },
  {
    name: 'unclean.leader.election.enable',
    topic: 'unclean.leader.election.enable',
    field: 'uncleanLeaderElectionEnable',
    dynamic: 'cluster-wide',
    type: 'boolean',
    default: false,
    doc: 'Allow out-of-sync replicas to become leader (single node: no effect).',
  },
  {
    name: 'log.preallocate',
    topic: 'preallocate',
    field: 'preallocate',
    dynamic: 'cluster-wide',
    type: 'boolean',
    default: false,
    doc: 'Preallocate segment files (accepted, ignored).',
  },
  {
    name: 'log.message.format.version',
    topic: 'message.format.version',
    type: 'string',
    default: '3.0-IV1',
    pattern: /^\d+\.\d+(\.\d+)?(-IV\d+)?$/,
    removed: 'Removed in Kafka 4.0 (KIP-724); accepted and ignored: batches are always stored as sent.',
    doc: 'Message format version (e.g. 0.10.0, 2.8-IV1).',
  },
  {
    name: 'log.message.timestamp.difference.max.ms',
    topic: 'message.timestamp.difference.max.ms',
    dynamic: 'cluster-wide',
    type: 'long',
    default: LONG_MAX,
    min: 0,
    removed:
      'Removed in Kafka 4.0 (KIP-937); accepted and mapped: where set, it is the before and after bound ' +
      'unless those are set themselves at that level.',
    doc: 'Largest allowed distance of a CreateTime timestamp from the broker time, either way.',
  },
  {
    name: 'log.message.downconversion.enable',
    topic: 'message.downconversion.enable',
    dynamic: 'cluster-wide',
    type: 'boolean',
    default: true,
    removed: 'Removed in Kafka 4.0 (KIP-724); accepted and ignored: old fetch versions are always served.',
    doc: 'Down-convert batches for consumers of older fetch versions.',
  },
  { name: 'log.retention.check.interval.ms', type: 'long', default: 300_000, min: 1, doc: 'How often retention runs.' },
  {
    name: 'producer.id.expiration.ms',
    type: 'int',
    default: 86_400_000,
    min: 1,
    doc:
      'A producer id with no batch on a partition for this long (by the batch timestamps, no open transaction) ' +
      'is forgotten by that partition, as are its sequence numbers.',
  },
  {
    name: 'producer.id.expiration.check.interval.ms',
    type: 'int',
    default: 600_000,
    min: 1,

    doc: 'How often expired producer ids are looked for.',
  },
  {
    name: 'group.initial.rebalance.delay.ms',
    type: 'int',
    default: 3000,
    min: 0,
    doc:
      'How long the first rebalance of a new (empty) group waits for more members to join; ' +
      'extended by this much as members keep joining, up to the rebalance timeout.',
  },
  {
    name: 'group.min.session.timeout.ms',
    type: 'int',
    default: 6000,
    min: 0,
    doc: 'Smallest session timeout a group member may ask for (JoinGroup answers INVALID_SESSION_TIMEOUT below it).',
  },
  {
    name: 'group.max.session.timeout.ms',
    type: 'int',
    default: 1_800_000,
    min: 0,
    doc: 'Largest session timeout a group member may ask for (JoinGroup answers INVALID_SESSION_TIMEOUT above it).',
  },
  {
    name: 'group.max.size',
    type: 'int',
    default: 2147483647,
    min: 1,
    doc: 'Most members a consumer group may have (GROUP_MAX_SIZE_REACHED beyond it).',
  },
  {
    name: 'group.consumer.heartbeat.interval.ms',
    type: 'int',
    default: 5000,
    min: 1,
    doc: 'Heartbeat interval given to members of KIP-848 consumer groups (ConsumerGroupHeartbeat).',
  },
  {
    name: 'group.consumer.session.timeout.ms',
    type: 'int',
    default: 45000,
    min: 1,
    doc: 'A KIP-848 consumer group member that has not heartbeated for this long is removed from its group.',
  },
  {
    name: 'group.consumer.assignors',
    type: 'list',
    default: ['uniform', 'range'],
    oneOf: ['uniform', 'range'],
    doc:
      'Server-side assignors KIP-848 consumer groups may use; ' +
      'the first is the default (UNSUPPORTED_ASSIGNOR for others).',
  },
  {
    name: 'offsets.retention.minutes',
    type: 'int',
    default: 10080,
    min: 1,
    doc: 'Committed offsets of a group that has been empty this long are deleted.',
  },
  {
    name: 'offsets.topic.num.partitions',
    type: 'int',
    default: 50,
    min: 1,

    doc: 'Partitions of the internal __consumer_offsets topic, created on first use (fixed once created).',
  },
  {
    name: 'offsets.topic.replication.factor',
    type: 'int',
    default: 3,
    min: 1,
    doc: 'Replication factor of __consumer_offsets when created (capped at the live broker count).',
  },
  {
    name: 'offsets.commit.timeout.ms',
    type: 'int',
    default: 5000,
    min: 1,
    doc:
      'How long an offset commit (or group record) waits for every in-sync replica of its ' +
      '__consumer_offsets partition (acks=all) before failing with COORDINATOR_NOT_AVAILABLE.',
  },
  {
    name: 'offsets.retention.check.interval.ms',
    type: 'long',
    default: 600_000,
    min: 1,
    doc: 'How often expired committed offsets are looked for.',
  },
  {
    name: 'transaction.state.log.num.partitions',
    type: 'int',
    default: 50,
    min: 1,

    doc: 'Partitions of the internal __transaction_state topic, created on first use (fixed once created).',
  },
  {
    name: 'transaction.state.log.replication.factor',
    type: 'int',
    default: 3,
    min: 1,
    doc: 'Replication factor of __transaction_state when created (capped at the live broker count).',
  },
  {
    name: 'transaction.max.timeout.ms',
    type: 'int',
    default: 900_000,
    min: 1,
    doc:
      'Largest transaction timeout a producer may ask for ' +
      '(InitProducerId answers INVALID_TRANSACTION_TIMEOUT above it).',
  },
  {
    name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    type: 'int',
    default: 10_000,
    min: 1,
    doc: 'How often transactions open past their timeout are looked for and aborted (with a producer epoch bump).',
  },
  {
    name: 'transactional.id.expiration.ms',
    type: 'int',
    default: 604_800_000,
    min: 1,
    doc: 'A transactional id with no transaction for this long is removed from __transaction_state.',
  },
  {
    name: 'transaction.remove.expired.transaction.cleanup.interval.ms',
    type: 'int',
    default: 3_600_000,
    min: 1,
    doc: 'How often expired transactional ids are looked for.',
  },
];

export const CONFIG_TABLE = new ConfigTable(CONFIG_DEFS);

export function configDef(name: string): ConfigDef | undefined {
  return CONFIG_TABLE.def(name);
}

export function topicConfigDef(name: string): ConfigDef | undefined {
  return CONFIG_TABLE.topicDef(name);
}

/** The effective broker configuration (config-model.ts's EffectiveConfig over this table). */
export class BrokerConfig extends EffectiveConfig {
  constructor(src: ConfigSources = {}) {
    super(CONFIG_TABLE, src);
  }

  /** `etcd.endpoints`: non-empty for a node of a replicated cluster. */
  get etcdEndpoints(): string[] {
    return (this.get('etcd.endpoints') as string[] | null) ?? [];
  }
}

/** The LogConfig of a topic with these overrides under the table defaults alone (tests, tools). */
export function defaultLogConfig(overrides: Readonly<Record<string, string>> = {}): LogConfig {
  return new BrokerConfig().resolveLogConfig(overrides);
}

/** Markdown table of every config, for README.md (kept in sync by a test). */
export function configReferenceMarkdown(): string {
  return CONFIG_TABLE.referenceMarkdown();
}
