/**
 * Public types and constants of PartitionLog (split out to keep partition-log.ts small).
 * Offsets, positions and timestamps are JS numbers (exact to 2^53 - 1).
 */

import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { FileSystem } from './fs.js';
import type { CleanShutdownState } from './clean-shutdown.js';

/** Kafka error codes returned as data. */
export const NONE = 0;
export const OFFSET_OUT_OF_RANGE = 1;

/** ListOffsets special timestamps. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;

export interface PartitionLogDeps {
  fs?: FileSystem;
  clock?: Clock;
  logger?: Logger;
  /** Offsets below this were fsynced (from recovery-point-offset-checkpoint). Default 0: recover all. */
  recoveryPoint?: number;
  /** From log-start-offset-checkpoint. */
  logStartOffset?: number;
  /** This partition's entry of the clean-shutdown file (clean-shutdown.ts), if the last stop was clean. */
  cleanShutdown?: CleanShutdownState | undefined;
  /**
   * The directory is new (its parent's entry made durable by the caller): create it without fsyncs; the log's
   * first flush makes its files' entries durable (log-loader.ts).
   */
  fresh?: boolean;
  /** Told when assignLeaderEpoch recorded an epoch it did not write (the owner writes it later: persistEpochs). */
  onEpochRecorded?: () => void;
  /** Make the current log start offset durable (the LogManager writes its checkpoint). */
  persistLogStartOffset?: () => Promise<void>;
  /** Default: parsed from the directory name `<topic>-<partition>`. */
  topic?: string;
  partition?: number;
  /** The high watermark follows the log end offset (default true); false: its owner sets it. */
  autoAdvanceHighWatermark?: boolean;
  /** producer.id.expiration.ms: idle producers are forgotten after this long (default 86400000). */
  producerIdExpirationMs?: number;
  /** Observer of flush (fsync) run durations in seconds, for metrics. */
  onFlush?: (seconds: number) => void;
}

export interface AppendOptions {
  /** Stamped into every batch's partitionLeaderEpoch and recorded in the leader epoch cache. */
  leaderEpoch?: number;
  /** Broker receive time (ms); default clock.now(). */
  appendTime?: number;
  /**
   * Who writes (producer-state.ts): 'client' (default; full idempotence checks for batches with a
   * producer id), 'coordinator' (group/transaction coordinators: producer epoch checks only, no
   * sequence numbers needed), 'replay' (no checks).
   */
  origin?: 'client' | 'coordinator' | 'replay';
  /**
   * Replication (appendAsFollower): the batches keep their offsets and leader epochs as the leader wrote
   * them (nothing is stamped); the first batch must start at or after the log end offset.
   */
  asFollower?: boolean;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** appendTime if message.timestamp.type is LogAppendTime, else -1. */
  logAppendTime: number;
  logStartOffset: number;
  maxTimestamp: number;
  batches: number;
  bytes: number;
  /**
   * True when the append repeated one of the producer's last five batches: nothing was written and the offsets are
   * the original's.
   */
  duplicate?: boolean;
}

export interface ReadOptions {
  /** Exclusive upper offset bound (the high watermark for consumers); default logEndOffset. */
  maxOffset?: number;
  /** Return the first batch even if larger than maxBytes (default true). */
  minOneBatch?: boolean;
  /**
   * Where the file range is read into (a consumer Fetch's `ReadLease.alloc`, storage/read-buffers.ts); the
   * returned records may then live in reused memory, valid only while the caller's lease is. Default: fresh.
   */
  alloc?: (length: number) => Buffer;
}

export interface ReadResult {
  /** NONE, or OFFSET_OUT_OF_RANGE when fetchOffset is outside [logStartOffset, logEndOffset]. */
  errorCode: number;
  /** Whole record batches, byte-for-byte as stored; empty if none. */
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface DeleteRecordsResult {
  errorCode: number;
  lowWatermark: number;
}

export function parseTopicPartition(dirName: string): { topic: string; partition: number } | undefined {
  const i = dirName.lastIndexOf('-');
  if (i <= 0) return undefined;
  const p = dirName.slice(i + 1);
  if (!/^\d+$/.test(p)) return undefined;
  return { topic: dirName.slice(0, i), partition: Number(p) };
}
