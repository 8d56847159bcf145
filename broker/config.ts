/**
 * Broker and topic configuration, defined once in a declarative table (name, type, default, doc, scope,
 * validation). The same table parses `--set`/env/config-file values, answers DescribeConfigs, validates
 * AlterConfigs, and generates the README's configuration reference (`configReferenceMarkdown`).
 *
 * Broker-level names follow Kafka's server.properties names; a broker config that supplies the default of
 * a topic config names it in `topic` (e.g. log.retention.ms → retention.ms), as Kafka does.
 * Precedence, lowest first: table default < config file < RUNNEL_* environment variables < --set / flags.
 */
import { readFileSync } from 'node:fs';
import { RunnelError } from '../protocol/errors.js';

export type ConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list';
export type ConfigValue = number | boolean | string | string[] | null;

export interface ConfigDef {
  readonly name: string;
  readonly type: ConfigType;
  readonly default: ConfigValue;
  readonly doc: string;
  /** The topic-level config this broker config supplies the default for. */
  readonly topic?: string;
  readonly min?: number;
  readonly max?: number;
  readonly oneOf?: readonly string[];
  /** Read-only at run time (needs a restart). */
  readonly readOnly?: boolean;
}

/** Java's Long.MAX_VALUE (2^63 - 1), as Kafka shows it; stored as the nearest number, 2^63. */
export const LONG_MAX = 2 ** 63;
const LONG_MAX_TEXT = '9223372036854775807';
const DAY = 86_400_000;

export const CONFIG_DEFS: readonly ConfigDef[] = [
  { name: 'node.id', type: 'int', default: 1, min: 0, readOnly: true, doc: "This node's id in the cluster." },
  { name: 'host', type: 'string', default: '0.0.0.0', readOnly: true, doc: 'Address the Kafka listener binds to.' },
  {
    name: 'port',
    type: 'int',
    default: 9092,
    min: 0,
    max: 65535,
    readOnly: true,
    doc: 'Port of the Kafka listener (0 picks a free port).',
  },
  {
    name: 'advertised.host',
    type: 'string',
    default: null,
    readOnly: true,
    doc: 'Host clients are told to connect to; default: `host`, or `localhost` when `host` is a wildcard address.',
  },
  {
    name: 'advertised.port',
    type: 'int',
    default: null,
    min: 1,
    max: 65535,
    readOnly: true,
    doc: 'Port clients are told to connect to; default: the bound port.',
  },
  {
    name: 'admin.port',
    type: 'int',
    default: 9644,
    min: -1,
    max: 65535,
    readOnly: true,
    doc:
      'Port of the admin HTTP API (health, readiness, Prometheus metrics, topics, groups, records); ' +
      '0 picks a free port, -1 turns it off.',
  },
  {
    name: 'admin.host',
    type: 'string',
    default: null,
    readOnly: true,
    doc: 'Address the admin HTTP API binds to; default: `host`.',
  },
  {
    name: 'data.dir',
    type: 'string',
    default: './data',
    readOnly: true,
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
    readOnly: true,
    doc: 'Log output: JSON lines, human-readable (pino-pretty), or auto: pretty when stdout is a terminal, else JSON.',
  },
  {
    name: 'socket.request.max.bytes',
    type: 'int',
    default: 104_857_600,
    min: 1,
    readOnly: true,
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
    type: 'int',
    default: 1_073_741_824,
    min: 14,
    doc: 'Size at which a segment is rolled.',
  },
  {
    name: 'log.roll.ms',
    topic: 'segment.ms',
    type: 'long',
    default: 7 * DAY,
    min: 1,
    doc: "Age of a segment's first batch after which it is rolled.",
  },
  {
    name: 'log.retention.ms',
    topic: 'retention.ms',
    type: 'long',
    default: 7 * DAY,
    min: -1,
    doc: 'Segments whose newest record is older than this are deleted (-1: no limit).',
  },
  {
    name: 'log.retention.bytes',
    topic: 'retention.bytes',
    type: 'long',
    default: -1,
    min: -1,
    doc: 'Oldest segments are deleted while a partition is larger than this (-1: no limit).',
  },
  {
    name: 'log.index.interval.bytes',
    topic: 'index.interval.bytes',
    type: 'int',
    default: 4096,
    min: 0,
    doc: 'Bytes of log between two offset-index entries.',
  },
  {
    name: 'log.index.size.max.bytes',
    topic: 'segment.index.bytes',
    type: 'int',
    default: 10_485_760,
    min: 8,
    doc: 'Largest offset index of a segment; a full index rolls the segment.',
  },
  {
    name: 'log.flush.interval.messages',
    topic: 'flush.messages',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    doc: 'fsync after this many messages (1: every acknowledged write is on disk, done with group commit).',
  },
  {
    name: 'log.flush.interval.ms',
    topic: 'flush.ms',
    type: 'long',
    default: LONG_MAX,
    min: 0,
    doc: 'fsync data older than this many milliseconds.',
  },
  {
    name: 'message.max.bytes',
    topic: 'max.message.bytes',
    type: 'int',
    default: 1_048_588,
    min: 0,
    doc: 'Largest record batch accepted (after compression).',
  },
  {
    name: 'log.message.timestamp.type',
    topic: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    oneOf: ['CreateTime', 'LogAppendTime'],
    doc: "Keep the producer's timestamps (CreateTime) or stamp the append time (LogAppendTime).",
  },
  {
    name: 'log.message.timestamp.before.max.ms',
    topic: 'message.timestamp.before.max.ms',
    type: 'long',
    default: LONG_MAX,
    min: 0,
    doc: 'Largest allowed distance of a CreateTime timestamp into the past.',
  },
  {
    name: 'log.message.timestamp.after.max.ms',
    topic: 'message.timestamp.after.max.ms',
    type: 'long',
    default: 3_600_000,
    min: 0,
    doc: 'Largest allowed distance of a CreateTime timestamp into the future.',
  },
  {
    name: 'log.cleanup.policy',
    topic: 'cleanup.policy',
    type: 'list',
    default: ['delete'],
    oneOf: ['delete', 'compact'],
    doc: 'delete (retention), compact (keep the latest record per key), or both.',
  },
  {
    name: 'compression.type',
    topic: 'compression.type',
    type: 'string',
    default: 'producer',
    oneOf: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    doc: 'Codec of stored batches; producer keeps what the producer sent.',
  },
  {
    name: 'min.insync.replicas',
    topic: 'min.insync.replicas',
    type: 'int',
    default: 1,
    min: 1,
    doc: 'Replicas that must have a write for acks=all to succeed.',
  },
  {
    name: 'log.cleaner.delete.retention.ms',
    topic: 'delete.retention.ms',
    type: 'long',
    default: DAY,
    min: 0,
    doc: 'How long tombstones stay readable in compacted topics.',
  },
  {
    name: 'log.cleaner.min.cleanable.ratio',
    topic: 'min.cleanable.dirty.ratio',
    type: 'double',
    default: 0.5,
    min: 0,
    max: 1,
    doc: 'Dirty share of a compacted log that triggers cleaning.',
  },
  {
    name: 'log.cleaner.min.compaction.lag.ms',
    topic: 'min.compaction.lag.ms',
    type: 'long',
    default: 0,
    min: 0,
    doc: 'Records younger than this are not compacted.',
  },
  {
    name: 'log.cleaner.max.compaction.lag.ms',
    topic: 'max.compaction.lag.ms',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    doc: 'Records older than this are compacted even below the dirty ratio.',
  },
  { name: 'log.retention.check.interval.ms', type: 'long', default: 300_000, min: 1, doc: 'How often retention runs.' },
  {
    name: 'producer.id.expiration.ms',
    type: 'int',
    default: 86_400_000,
    min: 1,
    readOnly: true,
    doc:
      'A producer id with no batch on a partition for this long (by the batch timestamps, no open transaction) ' +
      'is forgotten by that partition, as are its sequence numbers.',
  },
  {
    name: 'producer.id.expiration.check.interval.ms',
    type: 'int',
    default: 600_000,
    min: 1,
    readOnly: true,
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
    readOnly: true,
    doc: 'Partitions of the internal __consumer_offsets topic, created on first use (fixed once created).',
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
    readOnly: true,
    doc: 'Partitions of the internal __transaction_state topic, created on first use (fixed once created).',
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

const BY_NAME = new Map(CONFIG_DEFS.map((d) => [d.name, d]));
const BY_TOPIC_NAME = new Map(CONFIG_DEFS.filter((d) => d.topic).map((d) => [d.topic!, d]));

export class ConfigError extends RunnelError {
  constructor(message: string) {
    super('ERR_CONFIG', message, 40 /* INVALID_CONFIG */);
  }
}

export function configDef(name: string): ConfigDef | undefined {
  return BY_NAME.get(name);
}

export function topicConfigDef(name: string): ConfigDef | undefined {
  return BY_TOPIC_NAME.get(name);
}

/** Parse and validate one value given as text. */
export function parseConfigValue(def: ConfigDef, text: string, name = def.name): ConfigValue {
  const t = text.trim();
  let v: ConfigValue;
  switch (def.type) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(t)) throw new ConfigError(`${name}: ${JSON.stringify(text)} is not an integer`);
      v = t === LONG_MAX_TEXT ? LONG_MAX : Number(t);
      if (def.type === 'int' && (v > 2147483647 || v < -2147483648))
        throw new ConfigError(`${name}: ${t} does not fit an int`);
      break;
    }
    case 'double':
      v = Number(t);
      if (t === '' || !Number.isFinite(v)) throw new ConfigError(`${name}: ${JSON.stringify(text)} is not a number`);
      break;
    case 'boolean':
      if (t.toLowerCase() !== 'true' && t.toLowerCase() !== 'false')
        throw new ConfigError(`${name}: ${JSON.stringify(text)} is not true or false`);
      v = t.toLowerCase() === 'true';
      break;
    case 'list':
      v = t === '' ? [] : t.split(',').map((s) => s.trim());
      break;
    default:
      v = text;
  }
  validateConfigValue(def, v, name);
  return v;
}

export function validateConfigValue(def: ConfigDef, v: ConfigValue, name = def.name): void {
  if (v === null) return;
  if (typeof v === 'number') {
    if (def.min !== undefined && v < def.min) throw new ConfigError(`${name}: ${v} is below the minimum ${def.min}`);
    if (def.max !== undefined && v > def.max) throw new ConfigError(`${name}: ${v} is above the maximum ${def.max}`);
  }
  if (def.oneOf) {
    const values = Array.isArray(v) ? v : [String(v)];
    for (const x of values) {
      if (!def.oneOf.includes(x))
        throw new ConfigError(`${name}: ${JSON.stringify(x)} is not one of ${def.oneOf.join(', ')}`);
    }
  }
}

/** Text form of a value, as DescribeConfigs shows it. */
export function formatConfigValue(def: ConfigDef, v: ConfigValue): string | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'number' && def.type === 'long' && v >= LONG_MAX) return LONG_MAX_TEXT;
  return String(v);
}

export function envName(configName: string): string {
  return `RUNNEL_${configName.toUpperCase().replace(/[.-]/g, '_')}`;
}

/** Read a config file: JSON (an object of name → value) or Java properties (`name=value` lines). */
export function readConfigFile(path: string): Record<string, string> {
  const text = readFileSync(path, 'utf8');
  const out: Record<string, string> = {};
  if (path.endsWith('.json')) {
    const obj = JSON.parse(text) as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) out[k] = Array.isArray(v) ? v.join(',') : String(v);
    return out;
  }
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    if (l === '' || l.startsWith('#') || l.startsWith('!')) continue;
    const eq = l.search(/[=:]/);
    if (eq < 0) throw new ConfigError(`${path}: line ${JSON.stringify(l)} is not name=value`);
    out[l.slice(0, eq).trim()] = l.slice(eq + 1).trim();
  }
  return out;
}

export interface ConfigSources {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Highest precedence: CLI flags and --set, or embedded options. */
  overrides?: Record<string, string | number | boolean | null | undefined>;
}

/** The effective broker configuration. */
export class BrokerConfig {
  private readonly values = new Map<string, ConfigValue>();
  /** Names set explicitly (not defaults), with where they came from. */
  readonly sources = new Map<string, 'file' | 'env' | 'override'>();

  constructor(src: ConfigSources = {}) {
    for (const d of CONFIG_DEFS) this.values.set(d.name, d.default);
    const apply = (name: string, raw: unknown, from: 'file' | 'env' | 'override'): void => {
      const def = BY_NAME.get(name) ?? BY_TOPIC_NAME.get(name);
      if (!def) throw new ConfigError(`unknown config ${JSON.stringify(name)}`);
      const v = raw === null ? null : parseConfigValue(def, String(raw), name);
      this.values.set(def.name, v);
      this.sources.set(def.name, from);
    };
    if (src.file) for (const [k, v] of Object.entries(readConfigFile(src.file))) apply(k, v, 'file');
    const env = src.env ?? {};
    for (const d of CONFIG_DEFS) {
      const e = env[envName(d.name)];
      if (e !== undefined && e !== '') apply(d.name, e, 'env');
    }
    for (const [k, v] of Object.entries(src.overrides ?? {})) if (v !== undefined) apply(k, v, 'override');
  }

  get(name: string): ConfigValue {
    if (!this.values.has(name)) throw new ConfigError(`unknown config ${JSON.stringify(name)}`);
    return this.values.get(name)!;
  }

  int(name: string): number {
    return this.get(name) as number;
  }

  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  str(name: string): string {
    return this.get(name) as string;
  }

  /** Broker-supplied default of a topic-level config. */
  topicDefault(topicName: string): ConfigValue {
    const d = BY_TOPIC_NAME.get(topicName);
    if (!d) throw new ConfigError(`unknown topic config ${JSON.stringify(topicName)}`);
    return this.values.get(d.name)!;
  }

  entries(): IterableIterator<[string, ConfigValue]> {
    return this.values.entries();
  }
}

/** Markdown table of every config, for README.md (kept in sync by a test). */
export function configReferenceMarkdown(): string {
  const rows = ['| broker config | topic config | type | default | meaning |', '| --- | --- | --- | --- | --- |'];
  for (const d of CONFIG_DEFS) {
    const def = d.default === null ? '(see meaning)' : `\`${formatConfigValue(d, d.default)}\``;
    const range = d.oneOf ? ` One of: ${d.oneOf.join(', ')}.` : '';
    rows.push(`| \`${d.name}\` | ${d.topic ? `\`${d.topic}\`` : ''} | ${d.type} | ${def} | ${d.doc}${range} |`);
  }
  return rows.join('\n');
}
