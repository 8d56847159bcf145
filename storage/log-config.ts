/**
 * Per-topic log configuration as the storage layer uses it: plain typed data, one field per Kafka topic
 * config. Storage keeps no config names, defaults or validation of its own: the broker's one config table
 * (broker/config.ts; each topic-config row names its LogConfig field) owns them. A LogManager is given a
 * LogConfigResolver that turns a topic's persisted overrides (Kafka-named strings, the metadata image's) into the
 * LogConfig in force on top of the current broker-level defaults (static, or changed at run time), and
 * throws InvalidConfigError for a value it cannot take. This keeps storage below broker/ in the import
 * floors while there is a single source of truth.
 *
 * "Long.MAX_VALUE" is represented by LONG_MAX (Number.MAX_SAFE_INTEGER, i.e. "never"); the config table
 * renders it back as 9223372036854775807 and clamps any parsed value above 2^53 - 1 to it.
 */

import { RunnelError } from '../protocol/errors.js';

export const LONG_MAX = Number.MAX_SAFE_INTEGER;

/** An override that cannot be parsed or is out of range (Kafka INVALID_CONFIG = 40). */
export class InvalidConfigError extends RunnelError {
  constructor(message: string, code = 'ERR_INVALID_CONFIG') {
    super(code, message, 40);
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

/**
 * The LogConfig in force for a topic with these overrides (Kafka topic-config names → text values) on top
 * of the broker-level defaults current when called; throws InvalidConfigError for a bad value.
 */
export type LogConfigResolver = (overrides: Readonly<Record<string, string>>) => LogConfig;
