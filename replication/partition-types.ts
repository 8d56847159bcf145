/**
 * The options, follower state and read shapes of a Partition (partition.ts), in a module of their own so that
 * partition.ts stays about its behaviour. Types only: no state, no I/O.
 */
import type { ReadResult } from '../storage/partition-log.js';
import type { TailCacheBudget } from './leader-tail-cache.js';
import type { Partition } from './partition.js';

export interface PartitionOptions {
  /** The epoch this node knows the partition's leadership at (single node: 0, it never moves). */
  leaderEpoch?: number;
  /** Whether this node leads the partition (single node: always). */
  isLeader?: boolean;
  /** Called after every append that wrote data and every HW move (the replica manager wakes the purgatory). */
  onChange?: (p: Partition) => void;
  /** This node's id (replication; default 0). */
  localId?: number;
  /** Propose a new ISR at the partition epoch this node knows (the replica manager's store.alterPartition). */
  alterIsr?: (p: Partition, isr: number[], partitionEpoch: number) => Promise<unknown>;
  /** Keep a leader's latest appends in memory for its followers' fetches (leader-tail-cache.ts). */
  tailCache?: TailCacheBudget;
  /** The same without followers, for consumers' fetches at the log end (log.tail.cache.max.bytes). */
  localTailCache?: TailCacheBudget;
}

/** What the leader knows of one follower. */
export interface FollowerState {
  /** Its log end offset (from its last fetch offset); -1 until it fetched from this leader. */
  logEndOffset: number;
  /** Last time its end reached the leader's log end (ms); the ISR shrinks when this is too old. */
  lastCaughtUpTime: number;
  lastFetchTime: number;
  /** The leader's log end at its last fetch. */
  lastFetchLeaderEnd: number;
}

export interface PartitionReadOptions {
  /** read_committed: up to the last stable offset; else up to the high watermark. */
  readCommitted?: boolean;
  /** Return the first batch even if larger than maxBytes (default true). */
  minOneBatch?: boolean;
  /** Where the file range is read into (storage ReadOptions.alloc); default fresh memory. */
  alloc?: (length: number) => Buffer;
}

export interface PartitionReadResult extends ReadResult {
  /** The last stable offset when the read began. */
  lastStableOffset: number;
}
