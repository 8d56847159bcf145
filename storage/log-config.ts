/**
 * Per-topic log configuration as plain typed data, with Kafka's property names mapped to fields.
 *
 * Not persisted by itself: topic overrides are stored as Kafka-named strings in the topic metadata
 * (topic-store.ts) and turned into a LogConfig with `logConfigFromProps`. The broker's declarative
 * config table (elsewhere) owns validation messages, documentation and broker-level defaults
 * (log.segment.bytes, ...); this module only knows the topic-level names and their Kafka defaults.
 *
 * "Long.MAX_VALUE" is represented by LONG_MAX (Number.MAX_SAFE_INTEGER, i.e. "never"); it is rendered
 * back as 9223372036854775807 and any parsed value above 2^53 - 1 clamps to it.
 */

import { RunnelError } from '../protocol/errors.js';

export const LONG_MAX = Number.MAX_SAFE_INTEGER;
const LONG_MAX_STRING = '9223372036854775807';

/** An override that cannot be parsed or is out of range (Kafka INVALID_CONFIG = 40). */
export class InvalidConfigError extends RunnelError {
  constructor(message: string) {
    super('ERR_INVALID_CONFIG', message, 40);
  }
}

export type TimestampTypeName = 'CreateTime' | 'LogAppendTime';
export type CleanupPolicy = 'delete' | 'compact';

export interface LogConfig {
  /** segment.bytes */
  segmentBytes: number;
  /** segment.ms */
  segmentMs: number;
  /** segment.jitter.ms (not applied yet) */
  segmentJitterMs: number;
  /** segment.index.bytes */
  segmentIndexBytes: number;
  /** index.interval.bytes */
  indexIntervalBytes: number;
  /** retention.ms (-1 = unlimited) */
  retentionMs: number;
  /** retention.bytes (-1 = unlimited) */
  retentionBytes: number;
  /** flush.messages */
  flushMessages: number;
  /** flush.ms */
  flushMs: number;
  /** max.message.bytes */
  maxMessageBytes: number;
  /** message.timestamp.type */
  messageTimestampType: TimestampTypeName;
  /** message.timestamp.before.max.ms */
  messageTimestampBeforeMaxMs: number;
  /** message.timestamp.after.max.ms */
  messageTimestampAfterMaxMs: number;
  /** cleanup.policy */
  cleanupPolicy: CleanupPolicy[];
  /** min.insync.replicas */
  minInsyncReplicas: number;
  /** file.delete.delay.ms */
  fileDeleteDelayMs: number;
  /** compression.type */
  compressionType: string;
  /** unclean.leader.election.enable */
  uncleanLeaderElectionEnable: boolean;
  /** preallocate (accepted, ignored: indexes and segments are append-only) */
  preallocate: boolean;
  /** delete.retention.ms */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms */
  maxCompactionLagMs: number;
  /** min.cleanable.dirty.ratio */
  minCleanableDirtyRatio: number;
}

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentJitterMs: 0,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  flushMessages: LONG_MAX,
  flushMs: LONG_MAX,
  maxMessageBytes: 1048588,
  messageTimestampType: 'CreateTime',
  messageTimestampBeforeMaxMs: LONG_MAX,
  messageTimestampAfterMaxMs: LONG_MAX,
  cleanupPolicy: ['delete'],
  minInsyncReplicas: 1,
  fileDeleteDelayMs: 60000,
  compressionType: 'producer',
  uncleanLeaderElectionEnable: false,
  preallocate: false,
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: LONG_MAX,
  minCleanableDirtyRatio: 0.5,
} satisfies LogConfig);

type Kind =
  | { t: 'int'; min: number }
  | { t: 'long'; min: number }
  | { t: 'double'; min: number; max: number }
  | { t: 'bool' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'list'; values: readonly string[] };

interface Spec {
  field: keyof LogConfig;
  kind: Kind;
}

const INT_MAX = 2147483647;

/** Kafka topic-level property name -> field and type. */
export const LOG_CONFIG_SPECS: Readonly<Record<string, Spec>> = Object.freeze({
  'segment.bytes': { field: 'segmentBytes', kind: { t: 'int', min: 14 } },
  'segment.ms': { field: 'segmentMs', kind: { t: 'long', min: 1 } },
  'segment.jitter.ms': { field: 'segmentJitterMs', kind: { t: 'long', min: 0 } },
  'segment.index.bytes': { field: 'segmentIndexBytes', kind: { t: 'int', min: 4 } },
  'index.interval.bytes': { field: 'indexIntervalBytes', kind: { t: 'int', min: 0 } },
  'retention.ms': { field: 'retentionMs', kind: { t: 'long', min: -1 } },
  'retention.bytes': { field: 'retentionBytes', kind: { t: 'long', min: -1 } },
  'flush.messages': { field: 'flushMessages', kind: { t: 'long', min: 1 } },
  'flush.ms': { field: 'flushMs', kind: { t: 'long', min: 0 } },
  'max.message.bytes': { field: 'maxMessageBytes', kind: { t: 'int', min: 0 } },
  'message.timestamp.type': {
    field: 'messageTimestampType',
    kind: { t: 'enum', values: ['CreateTime', 'LogAppendTime'] },
  },
  'message.timestamp.before.max.ms': { field: 'messageTimestampBeforeMaxMs', kind: { t: 'long', min: 0 } },
  'message.timestamp.after.max.ms': { field: 'messageTimestampAfterMaxMs', kind: { t: 'long', min: 0 } },
  'cleanup.policy': { field: 'cleanupPolicy', kind: { t: 'list', values: ['delete', 'compact'] } },
  'min.insync.replicas': { field: 'minInsyncReplicas', kind: { t: 'int', min: 1 } },
  'file.delete.delay.ms': { field: 'fileDeleteDelayMs', kind: { t: 'long', min: 0 } },
  'compression.type': {
    field: 'compressionType',
    kind: { t: 'enum', values: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] },
  },
  'unclean.leader.election.enable': { field: 'uncleanLeaderElectionEnable', kind: { t: 'bool' } },
  preallocate: { field: 'preallocate', kind: { t: 'bool' } },
  'delete.retention.ms': { field: 'deleteRetentionMs', kind: { t: 'long', min: 0 } },
  'min.compaction.lag.ms': { field: 'minCompactionLagMs', kind: { t: 'long', min: 0 } },
  'max.compaction.lag.ms': { field: 'maxCompactionLagMs', kind: { t: 'long', min: 1 } },
  'min.cleanable.dirty.ratio': { field: 'minCleanableDirtyRatio', kind: { t: 'double', min: 0, max: 1 } },
});

function parseValue(name: string, kind: Kind, raw: string | number | boolean): unknown {
  const s = String(raw).trim();
  const fail = (why: string): never => {
    throw new InvalidConfigError(`Invalid value ${JSON.stringify(String(raw))} for configuration ${name}: ${why}`);
  };
  switch (kind.t) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(s)) fail('not an integer');
      let n = Number(s);
      if (kind.t === 'int' && n > INT_MAX) fail('above int range');
      if (n > LONG_MAX) n = LONG_MAX;
      if (n < kind.min) fail(`must be at least ${kind.min}`);
      return n;
    }
    case 'double': {
      const n = Number(s);
      if (s === '' || !Number.isFinite(n)) fail('not a number');
      if (n < kind.min || n > kind.max) fail(`must be in [${kind.min}, ${kind.max}]`);
      return n;
    }
    case 'bool':
      if (s.toLowerCase() === 'true') return true;
      if (s.toLowerCase() === 'false') return false;
      return fail('not a boolean');
    case 'enum':
      if (!kind.values.includes(s)) fail(`must be one of ${kind.values.join(', ')}`);
      return s;
    case 'list': {
      const items = s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
      for (const x of items) if (!kind.values.includes(x)) fail(`must be a list of ${kind.values.join(', ')}`);
      return [...new Set(items)];
    }
  }
}

/**
 * Apply Kafka-named overrides on top of `base`. Unknown names are ignored (broker-level validation
 * rejects them); invalid values throw InvalidConfigError.
 */
export function logConfigFromProps(
  props: Readonly<Record<string, string | number | boolean>>,
  base: Readonly<LogConfig> = DEFAULT_LOG_CONFIG,
): LogConfig {
  const out: LogConfig = { ...base, cleanupPolicy: [...base.cleanupPolicy] };
  for (const [name, raw] of Object.entries(props)) {
    const spec = LOG_CONFIG_SPECS[name];
    if (spec === undefined) continue;
    (out as unknown as Record<string, unknown>)[spec.field] = parseValue(name, spec.kind, raw);
  }
  return out;
}

/** Render a config as Kafka-named strings (all known properties). */
export function logConfigToProps(config: Readonly<LogConfig>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(LOG_CONFIG_SPECS)) {
    const v = config[spec.field];
    out[name] = Array.isArray(v) ? v.join(',') : typeof v === 'number' && v >= LONG_MAX ? LONG_MAX_STRING : String(v);
  }
  return out;
}
