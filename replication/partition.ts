/**
 * Partition: this node's replica of one topic-partition, the single gate to its PartitionLog (Kafka's
 * `Partition`). It holds the leader epoch and whether this node leads the partition, checks the epoch a
 * client believes current, and owns the high watermark.
 *
 * - Epoch checks (Kafka's checkCurrentLeaderEpoch): a client epoch of -1 is not checked; newer than ours →
 *   UNKNOWN_LEADER_EPOCH (our metadata is behind), older → FENCED_LEADER_EPOCH (the client's is); then, for
 *   leader-only operations, a node that does not lead the partition → NOT_LEADER_OR_FOLLOWER.
 * - High watermark: the log does not advance it by itself; the Partition does, to the smallest end offset
 *   acknowledged by every in-sync replica. With one replica (today) that is the end of each append once the
 *   log acknowledged it (after the fsync when flush.messages demands one), exactly as before. Followers'
 *   progress will feed `followerEnds` when replication lands. Every move is reported to `onChange` (the
 *   replica manager wakes the purgatory).
 * - Writes: `appendAsLeader` (produce, internal topics, admin records), `appendTxnMarker`, DeleteRecords.
 *   Every batch is stamped with the current leader epoch.
 * - Reads: `read` up to the high watermark (read_uncommitted) or the last stable offset (read_committed),
 *   and the lookups handlers use (offsets by time, producers, end offsets per leader epoch).
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { RunnelError } from '../protocol/errors.js';
import type {
  ActiveProducer,
  AppendOptions,
  AppendResult,
  DeleteRecordsResult,
  PartitionLog,
  ReadResult,
  TxnMarkerRequest,
} from '../storage/partition-log.js';
import type { RecordLocation } from '../storage/batch-scan.js';
import type { LogConfig } from '../storage/log-config.js';

/** A client's current leader epoch of -1: "do not check". */
export const NO_LEADER_EPOCH = -1;

/** Thrown by leader-only writes on a partition this node does not lead, or with a bad epoch. */
export class PartitionStateError extends RunnelError {
  constructor(message: string, kafkaCode: number) {
    super('ERR_PARTITION_STATE', message, kafkaCode);
  }
}

export interface PartitionOptions {
  /** The epoch this node knows the partition's leadership at (single node: 0, it never moves). */
  leaderEpoch?: number;
  /** Whether this node leads the partition (single node: always). */
  isLeader?: boolean;
  /** Called after every append that wrote data and every HW move (the replica manager wakes the purgatory). */
  onChange?: (p: Partition) => void;
}

export interface PartitionReadOptions {
  /** read_committed: up to the last stable offset; else up to the high watermark. */
  readCommitted?: boolean;
  /** Return the first batch even if larger than maxBytes (default true). */
  minOneBatch?: boolean;
}

export interface PartitionReadResult extends ReadResult {
  /** The last stable offset when the read began. */
  lastStableOffset: number;
}

export class Partition {
  readonly topic: string;
  readonly partition: number;
  private epoch: number;
  private leader: boolean;
  /** End offset this replica has acknowledged (appends resolved), the local part of the HW. */
  private localEnd: number;
  /** In-sync followers' end offsets (empty until replication lands). */
  private readonly followerEnds = new Map<number, number>();
  private readonly onChange: ((p: Partition) => void) | undefined;

  constructor(
    readonly log: PartitionLog,
    options: PartitionOptions = {},
  ) {
    this.topic = log.topic;
    this.partition = log.partition;
    this.epoch = options.leaderEpoch ?? 0;
    this.leader = options.isLeader ?? true;
    this.localEnd = log.highWatermark;
    this.onChange = options.onChange;
  }

  get leaderEpoch(): number {
    return this.epoch;
  }
  get isLeader(): boolean {
    return this.leader;
  }

  /** Leadership change (from the controller later): epochs only move forward. */
  makeLeader(leaderEpoch: number): void {
    if (leaderEpoch < this.epoch) throw new PartitionStateError(`epoch ${leaderEpoch} < ${this.epoch}`, -1);
    this.epoch = leaderEpoch;
    this.leader = true;
    this.followerEnds.clear();
    this.localEnd = this.log.logEndOffset;
  }

  makeFollower(leaderEpoch: number): void {
    if (leaderEpoch < this.epoch) throw new PartitionStateError(`epoch ${leaderEpoch} < ${this.epoch}`, -1);
    this.epoch = leaderEpoch;
    this.leader = false;
    this.followerEnds.clear();
  }

  /**
   * NONE, or the error for a request made at `currentLeaderEpoch` (-1 = not checked): UNKNOWN_LEADER_EPOCH,
   * FENCED_LEADER_EPOCH, or NOT_LEADER_OR_FOLLOWER when `requireLeader` and this node is not the leader.
   */
  checkEpoch(currentLeaderEpoch = NO_LEADER_EPOCH, requireLeader = true): number {
    if (currentLeaderEpoch !== NO_LEADER_EPOCH) {
      if (currentLeaderEpoch > this.epoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
      if (currentLeaderEpoch < this.epoch) return ErrorCode.FENCED_LEADER_EPOCH;
    }
    if (requireLeader && !this.leader) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    return ErrorCode.NONE;
  }

  private requireLeader(): void {
    if (!this.leader) {
      throw new PartitionStateError(
        `this node does not lead ${this.topic}-${this.partition}`,
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
      );
    }
  }

  // ---- state ----------------------------------------------------------------------------------

  get highWatermark(): number {
    return this.log.highWatermark;
  }
  get lastStableOffset(): number {
    return this.log.lastStableOffset;
  }
  get logStartOffset(): number {
    return this.log.logStartOffset;
  }
  get logEndOffset(): number {
    return this.log.logEndOffset;
  }
  get logConfig(): Readonly<LogConfig> {
    return this.log.logConfig;
  }
  /** Bytes on disk (all segments). */
  get size(): number {
    return this.log.size;
  }
  /** Appends waiting for a flush (flush.messages) before they are acknowledged. */
  get flushWaiters(): number {
    return this.log.flushWaiters;
  }

  /** Move the HW to the smallest end acknowledged by every in-sync replica (never backwards). */
  private maybeIncrementHighWatermark(): boolean {
    let hw = this.localEnd;
    for (const end of this.followerEnds.values()) hw = Math.min(hw, end);
    if (hw <= this.log.highWatermark) return false;
    this.log.updateHighWatermark(hw);
    return true;
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * Append validated v2 batches as the leader: offsets and this epoch are stamped in place (the log
   * checks producer state), then the HW moves. Throws PartitionStateError (NOT_LEADER_OR_FOLLOWER) on a
   * follower, or the log's errors.
   */
  async appendAsLeader(
    records: Buffer,
    options: Omit<AppendOptions, 'leaderEpoch'> = {},
    onQueued?: () => void,
  ): Promise<AppendResult> {
    this.requireLeader();
    const appending = this.log.append(records, { ...options, leaderEpoch: this.epoch });
    onQueued?.();
    const r = await appending;
    this.acknowledged(r.lastOffset + 1, !r.duplicate);
    return r;
  }

  /** A transaction marker (COMMIT/ABORT control batch) for a producer, at this epoch. */
  async appendTxnMarker(m: Omit<TxnMarkerRequest, 'leaderEpoch'>): Promise<AppendResult> {
    this.requireLeader();
    const r = await this.log.appendTxnMarker({ ...m, leaderEpoch: this.epoch });
    this.acknowledged(r.lastOffset + 1, !r.duplicate);
    return r;
  }

  /** This replica acknowledged everything below `end`; `wrote`: the append added data (not a duplicate). */
  private acknowledged(end: number, wrote: boolean): void {
    if (end > this.localEnd) this.localEnd = end;
    if (this.maybeIncrementHighWatermark() || wrote) this.onChange?.(this);
  }

  /**
   * An in-sync follower's log end offset (replication feeds it from follower fetches); the HW then
   * moves to the smallest end every in-sync replica has.
   */
  updateFollowerEnd(replicaId: number, endOffset: number): void {
    this.followerEnds.set(replicaId, endOffset);
    if (this.maybeIncrementHighWatermark()) this.onChange?.(this);
  }

  /** DeleteRecords: move the log start offset to `offset` (-1 = the high watermark). */
  deleteRecordsBefore(offset: number): Promise<DeleteRecordsResult> {
    this.requireLeader();
    return this.log.deleteRecordsBefore(offset);
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** Whole batches from `fetchOffset` below the HW (or the LSO for read_committed). */
  async read(fetchOffset: number, maxBytes: number, options: PartitionReadOptions = {}): Promise<PartitionReadResult> {
    const lso = this.log.lastStableOffset;
    const limit = options.readCommitted ? lso : this.log.highWatermark;
    const r = await this.log.read(fetchOffset, maxBytes, {
      maxOffset: limit,
      minOneBatch: options.minOneBatch ?? true,
    });
    return { ...r, lastStableOffset: lso };
  }

  /** Whole batches from `fetchOffset` up to the log end (coordinators replaying their own topics). */
  readLocal(fetchOffset: number, maxBytes: number): Promise<ReadResult> {
    return this.log.read(fetchOffset, maxBytes, { maxOffset: this.log.logEndOffset });
  }

  /** Aborted transactions overlapping [fetchOffset, upperBoundOffset). */
  abortedTransactions(
    fetchOffset: number,
    upperBoundOffset: number,
  ): Promise<Array<{ producerId: number; firstOffset: number }>> {
    return this.log.abortedTransactions(fetchOffset, upperBoundOffset);
  }

  /** ListOffsets by timestamp: the first record with timestamp >= ts, if any. */
  offsetForTimestamp(timestamp: number): Promise<RecordLocation | undefined> {
    return this.log.offsetForTimestamp(timestamp);
  }

  /** The record with the largest timestamp, if any. */
  maxTimestampOffset(): Promise<RecordLocation | undefined> {
    return this.log.maxTimestampOffset();
  }

  /** Producers with state on this partition (DescribeProducers). */
  activeProducers(): ActiveProducer[] {
    return this.log.activeProducers();
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch <= `requested` and where it ends (the next epoch's start, or
   * the log end for the latest); (-1, -1) when unknown. The current epoch ends at the log end even before
   * an append put it in the leader-epoch cache.
   */
  endOffsetForEpoch(requested: number): { epoch: number; endOffset: number } {
    const cache = this.log.leaderEpochCache;
    const latest = cache.latestEntry();
    if (requested === this.epoch && (latest === undefined || latest.epoch < this.epoch)) {
      return { epoch: this.epoch, endOffset: this.log.logEndOffset };
    }
    return cache.endOffsetFor(requested, this.log.logEndOffset);
  }
}
