/**
 * The options of a LogManager (log-manager.ts) and the topic-partition pair it names logs by; a module of its
 * own so that log-manager.ts stays about its behaviour. Types only: no state, no I/O.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { FileSystem } from './fs.js';
import type { LogConfigResolver } from './log-config.js';
import type { LogCleanerOptions } from './log-cleaner.js';

export interface LogManagerOptions {
  fs?: FileSystem;
  clock?: Clock;
  logger?: Logger;
  /**
   * A topic's LogConfig from its overrides, on top of the broker-level defaults current when called (the
   * broker's config table; see log-config.ts).
   */
  resolveConfig: LogConfigResolver;
  /** A topic's config overrides (from the metadata image); default none. */
  topicConfigs?: (topic: string) => Readonly<Record<string, string>> | undefined;
  /** The partitions to open (recover) at open; directories of others are orphans. */
  partitions?: Iterable<TopicPartition>;
  /** log.retention.check.interval.ms (default 300000). */
  retentionCheckIntervalMs?: number;
  /** producer.id.expiration.ms (default 86400000): idle producers' state is dropped after this long. */
  producerIdExpirationMs?: number;
  /** producer.id.expiration.check.interval.ms (default 600000). */
  producerIdExpirationCheckIntervalMs?: number;
  /** log.flush.offset.checkpoint.interval.ms (default 60000). */
  recoveryPointCheckpointIntervalMs?: number;
  /** log.flush.start.offset.checkpoint.interval.ms (default 60000). */
  logStartOffsetCheckpointIntervalMs?: number;
  /** Partitions opened (recovered) concurrently (default 16: log-manager.ts RECOVERY_CONCURRENCY). */
  recoveryConcurrency?: number;
  /** log.cleaner.enable: schedule the log cleaner (default true; runCleaner works either way). */
  cleanerEnabled?: boolean;
  /** log.cleaner.backoff.ms: interval between cleaner runs (default 15000). */
  cleanerBackoffMs?: number;
  /** Offset map size, chunk sizes and test hooks of the cleaner. */
  cleaner?: Omit<LogCleanerOptions, 'clock' | 'logger'>;
  /** Observer of every partition's flush (fsync) run durations in seconds, for metrics. */
  onFlush?: (seconds: number) => void;
  /** false: the logs leave the high watermark to their owner (replication/partition.ts). Default true. */
  autoAdvanceHighWatermark?: boolean;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}
