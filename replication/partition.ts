/**
 * Partition: this node's replica of one topic-partition, the single gate to its PartitionLog (Kafka's
 * `Partition`). It holds the leader epoch and whether this node leads the partition, checks the epoch a
 * client believes current, and owns the high watermark.
 *
 * - Epoch checks (Kafka's checkCurrentLeaderEpoch): a client epoch of -1 is not checked; newer than ours →
 *   UNKNOWN_LEADER_EPOCH (our metadata is behind), older → FENCED_LEADER_EPOCH (the client's is); then, for
 *   leader-only operations, a node that does not lead the partition → NOT_LEADER_OR_FOLLOWER.
 * - High watermark: the log does not advance it by itself; the Partition does, to the smallest end offset
 *   acknowledged by every in-sync replica, never backwards. With one replica that is the end of each append
 *   once the log acknowledged it (after the fsync when flush.messages demands one). Every move is reported to
 *   `onChange` (the replica manager wakes the purgatory).
 * - Replication, as leader (replicas/ISR from the metadata image, `updateAssignment`): each follower's
 *   replica fetch (`recordFollowerFetch`) gives its log end offset and, when it reached the leader's log end
 *   (or the leader's end at its previous fetch), its last caught-up time. A follower outside the ISR whose
 *   end reached the HW (and this epoch's start) is proposed for the ISR; an ISR member not caught up for
 *   replica.lag.time.max.ms is proposed out (`maybeShrinkIsr`). Proposals go through `alterIsr` (the replica
 *   manager's store.alterPartition, a CAS on the partition epoch), one at a time; the ISR changes here only
 *   when the metadata delta comes back. Until a follower has fetched since this node became leader its end
 *   is unknown and the HW waits for it. A leader keeps its latest appends in memory (leader-tail-cache.ts): with
 *   followers for their fetches (`readForFollower`), up to the HW; without, on a small budget of its own
 *   (log.tail.cache.max.bytes), for consumers' reads at the log end (`read`) while a consumer reads there
 *   (partition-tail.ts decides).
 * - As follower: `appendAsFollower` writes the leader's batches
 *   unchanged and takes min(leader's HW, log end) as its HW; `truncateTo` removes a divergent tail.
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
import type { PartitionRegistration } from './metadata/image.js';
import { PartitionTail } from './partition-tail.js';
import type { FollowerState, PartitionOptions, PartitionReadOptions, PartitionReadResult } from './partition-types.js';

/** A client's current leader epoch of -1: "do not check". */
export const NO_LEADER_EPOCH = -1;

/** Thrown by leader-only writes on a partition this node does not lead, or with a bad epoch. */
export class PartitionStateError extends RunnelError {
  constructor(message: string, kafkaCode: number) {
    super('ERR_PARTITION_STATE', message, kafkaCode);
  }
}

export type { FollowerState, PartitionOptions, PartitionReadOptions, PartitionReadResult } from './partition-types.js';

export class Partition {
  readonly topic: string;
  readonly partition: number;
  private epoch: number;
  private leader: boolean;
  /** End offset this replica has acknowledged (appends resolved), the local part of the HW. */
  private localEnd: number;
  /** Followers' end offsets fed by `updateFollowerEnd` without an assignment (tests; all count as in sync). */
  private readonly followerEnds = new Map<number, number>();
  private readonly onChange: ((p: Partition) => void) | undefined;
  readonly localId: number;
  private readonly alterIsr: PartitionOptions['alterIsr'];
  /** From the metadata image; undefined on a single node without one (this node alone is the ISR). */
  private assignment: PartitionRegistration | undefined;
  private readonly followers = new Map<number, FollowerState>();
  /** An ISR proposal is in flight (one writer at a time). */
  private isrPending = false;
  /** Offset where this node's current leadership started (followers join the ISR only past it). */
  private leaderStartOffset = 0;
  /** The leader this follower fetches from (-1: none / this node leads). */
  private leaderIdValue = -1;
  /** A leader's latest appends in memory (partition-tail.ts). */
  private readonly tail: PartitionTail;

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
    this.localId = options.localId ?? 0;
    this.alterIsr = options.alterIsr;
    this.tail = new PartitionTail(log, options);
    if (this.leader) this.assignEpochStart();
  }

  get leaderEpoch(): number {
    return this.epoch;
  }
  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * The leader epoch starts at the log end, recorded now rather than by the epoch's first append (written to the
   * checkpoint later: see PartitionLog.assignLeaderEpoch). A failure (log closed) leaves that to the append path.
   */
  private assignEpochStart(): void {
    this.log.assignLeaderEpoch(this.epoch).catch(() => undefined);
  }

  /** Leadership change: epochs only move forward. `now`: followers in the ISR count as caught up now. */
  makeLeader(leaderEpoch: number, assignment?: PartitionRegistration, now = 0): void {
    if (leaderEpoch < this.epoch) throw new PartitionStateError(`epoch ${leaderEpoch} < ${this.epoch}`, -1);
    this.epoch = leaderEpoch;
    this.leader = true;
    this.tail.clear();
    this.leaderIdValue = this.localId;
    this.followerEnds.clear();
    this.followers.clear();
    this.isrPending = false;
    this.localEnd = this.log.logEndOffset;
    this.leaderStartOffset = this.log.logEndOffset;
    this.assignEpochStart();
    if (assignment) {
      this.assignment = assignment;
      for (const id of assignment.replicas) {
        if (id === this.localId) continue;
        const inSync = assignment.isr.includes(id);
        this.followers.set(id, {
          logEndOffset: -1,
          lastCaughtUpTime: inSync ? now : 0,
          lastFetchTime: 0,
          lastFetchLeaderEnd: -1,
        });
      }
    }
    if (this.maybeIncrementHighWatermark()) this.onChange?.(this);
  }

  makeFollower(leaderEpoch: number, leaderId = -1, assignment?: PartitionRegistration): void {
    if (leaderEpoch < this.epoch) throw new PartitionStateError(`epoch ${leaderEpoch} < ${this.epoch}`, -1);
    this.epoch = leaderEpoch;
    this.leader = false;
    this.tail.clear();
    this.leaderIdValue = leaderId;
    this.followerEnds.clear();
    this.followers.clear();
    this.isrPending = false;
    if (assignment) this.assignment = assignment;
  }

  /** The leader this node follows (this node's id when it leads; -1 unknown). */
  get leaderId(): number {
    return this.leaderIdValue;
  }
  /** Replicas from the metadata image ([this node] without one). */
  get replicas(): readonly number[] {
    return this.assignment?.replicas ?? [this.localId];
  }
  /** The committed ISR ([this node] without an image). */
  get isr(): readonly number[] {
    return this.assignment?.isr ?? [this.localId];
  }
  get partitionEpoch(): number {
    return this.assignment?.partitionEpoch ?? 0;
  }
  /** What the leader knows of `replicaId` (undefined: not a follower of this leader). */
  followerState(replicaId: number): Readonly<FollowerState> | undefined {
    return this.followers.get(replicaId);
  }

  /**
   * A new registration of this partition with the same leader and epoch (ISR or replicas changed): the HW
   * may move (a follower left the ISR) and new replicas get a follower state.
   */
  updateAssignment(assignment: PartitionRegistration): void {
    this.assignment = assignment;
    this.isrPending = false;
    if (this.leader) {
      for (const id of assignment.replicas) {
        if (id !== this.localId && !this.followers.has(id))
          this.followers.set(id, { logEndOffset: -1, lastCaughtUpTime: 0, lastFetchTime: 0, lastFetchLeaderEnd: -1 });
      }
      for (const id of [...this.followers.keys()]) if (!assignment.replicas.includes(id)) this.followers.delete(id);
      if (this.maybeIncrementHighWatermark()) this.onChange?.(this);
    }
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
    if (!this.leader) return false;
    let hw = this.localEnd;
    if (this.assignment) {
      for (const id of this.assignment.isr) {
        if (id === this.localId) continue;
        hw = Math.min(hw, this.followers.get(id)?.logEndOffset ?? -1);
      }
    } else {
      for (const end of this.followerEnds.values()) hw = Math.min(hw, end);
    }
    if (hw <= this.log.highWatermark) return false;
    this.log.updateHighWatermark(hw);
    this.tail.hwMoved(hw, this.followers.size > 0);
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
    const followers = this.followers.size > 0;
    if (this.leader) this.tail.appended(records, r.baseOffset, r.lastOffset + 1, r.duplicate === true, followers);
    this.acknowledged(r.lastOffset + 1, !r.duplicate);
    return r;
  }

  /** A transaction marker (COMMIT/ABORT control batch) for a producer, at this epoch. */
  async appendTxnMarker(m: Omit<TxnMarkerRequest, 'leaderEpoch'>): Promise<AppendResult> {
    this.requireLeader();
    const r = await this.log.appendTxnMarker({ ...m, leaderEpoch: this.epoch });
    if (!r.duplicate) this.tail.clear(); // not cached: the cache no longer reaches the log end
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

  /**
   * Leader: a replica fetch from `replicaId` at `fetchOffset` (its log end) at time `now`, before the read.
   * Returns false when `replicaId` is not a follower of this partition (NOT_LEADER_OR_FOLLOWER).
   */
  recordFollowerFetch(replicaId: number, fetchOffset: number, now: number): boolean {
    const f = this.followers.get(replicaId);
    if (!this.leader || !f) return false;
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) f.lastCaughtUpTime = Math.max(f.lastCaughtUpTime, now);
    else if (fetchOffset >= f.lastFetchLeaderEnd && f.lastFetchLeaderEnd >= 0)
      f.lastCaughtUpTime = Math.max(f.lastCaughtUpTime, f.lastFetchTime);
    f.logEndOffset = Math.min(fetchOffset, leaderEnd);
    f.lastFetchTime = now;
    f.lastFetchLeaderEnd = leaderEnd;
    this.maybeExpandIsr(replicaId, f);
    if (this.maybeIncrementHighWatermark()) this.onChange?.(this);
    return true;
  }

  /** A follower outside the ISR whose end reached the HW and this leadership's start joins it. */
  private maybeExpandIsr(replicaId: number, f: FollowerState): void {
    const a = this.assignment;
    if (!a || this.isrPending || a.isr.includes(replicaId)) return;
    if (f.logEndOffset < this.log.highWatermark || f.logEndOffset < this.leaderStartOffset) return;
    this.proposeIsr([...a.isr, replicaId]);
  }

  /** Leader: propose the ISR without followers not caught up within `maxLagMs`; true if proposed. */
  maybeShrinkIsr(now: number, maxLagMs: number): boolean {
    const a = this.assignment;
    if (!this.leader || !a || this.isrPending) return false;
    const leaderEnd = this.log.logEndOffset;
    const out = a.isr.filter((id) => {
      if (id === this.localId) return false;
      const f = this.followers.get(id);
      return !f || (f.logEndOffset !== leaderEnd && now - f.lastCaughtUpTime > maxLagMs);
    });
    if (out.length === 0) return false;
    this.proposeIsr(a.isr.filter((id) => !out.includes(id)));
    return true;
  }

  private proposeIsr(isr: number[]): void {
    if (!this.alterIsr || !this.assignment) return;
    this.isrPending = true;
    const expected = this.assignment.partitionEpoch;
    this.alterIsr(this, isr, expected).then(
      () => {
        // The delta normally arrived already (updateAssignment); unblock if it did not change the epoch.
        if (this.assignment?.partitionEpoch === expected) this.isrPending = false;
      },
      () => {
        this.isrPending = false;
      },
    );
  }

  /**
   * Follower: append the leader's batches as they are, then take min(leader's HW, log end) as the HW.
   * Throws PartitionStateError (NOT_LEADER_OR_FOLLOWER) on the leader.
   */
  async appendAsFollower(records: Buffer, leaderHighWatermark: number): Promise<AppendResult | undefined> {
    if (this.leader) {
      throw new PartitionStateError(`${this.topic}-${this.partition} is led here`, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    }
    const r = records.length > 0 ? await this.log.appendAsFollower(records) : undefined;
    const before = this.log.highWatermark;
    const hw = Math.min(leaderHighWatermark, this.log.logEndOffset);
    if (hw >= 0 && hw !== before) this.log.updateHighWatermark(hw);
    if (r || this.log.highWatermark !== before) this.onChange?.(this);
    return r;
  }

  /** Follower: remove every record at or above `offset` (a divergent tail); true if anything went. */
  truncateTo(offset: number): Promise<boolean> {
    return this.log.truncateTo(offset);
  }

  /** Follower: the log restarts empty at `offset` (the leader's log start is past our end). */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.log.truncateFullyAndStartAt(offset);
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
    const minOne = options.minOneBatch ?? true;
    const cached = this.leader ? this.tail.read(fetchOffset, maxBytes, minOne, limit, true, options.alloc) : undefined;
    if (cached) {
      const { highWatermark, logStartOffset, logEndOffset } = this.log;
      return {
        errorCode: ErrorCode.NONE,
        records: cached,
        highWatermark,
        logStartOffset,
        logEndOffset,
        lastStableOffset: lso,
      };
    }
    const r = await this.log.read(fetchOffset, maxBytes, {
      maxOffset: limit,
      minOneBatch: options.minOneBatch ?? true,
      alloc: options.alloc,
    });
    const { errorCode, records, highWatermark, logStartOffset, logEndOffset } = r;
    return { errorCode, records, highWatermark, logStartOffset, logEndOffset, lastStableOffset: lso };
  }

  /**
   * Leader, a follower's fetch: whole batches from `fetchOffset` up to the log end, from the tail cache when
   * it holds the appends starting there, else from the log (as `readLocal`).
   */
  readForFollower(fetchOffset: number, maxBytes: number, minOneBatch = true): Promise<ReadResult> {
    const log = this.log;
    const end = log.logEndOffset;
    const records = this.leader ? this.tail.read(fetchOffset, maxBytes, minOneBatch, end, false) : undefined;
    if (records) {
      const { highWatermark, logStartOffset, logEndOffset } = log;
      return Promise.resolve({ errorCode: ErrorCode.NONE, records, highWatermark, logStartOffset, logEndOffset });
    }
    return this.readLocal(fetchOffset, maxBytes, minOneBatch);
  }

  /** Drop the tail cache (the partition is no longer hosted here). */
  releaseTailCache(): void {
    this.tail.clear();
  }

  /**
   * Whole batches from `fetchOffset` up to the log end (coordinators replaying their own topics), read into
   * `alloc(length)` if given.
   */
  readLocal(
    fetchOffset: number,
    maxBytes: number,
    minOneBatch = true,
    alloc?: (length: number) => Buffer,
  ): Promise<ReadResult> {
    return this.log.read(fetchOffset, maxBytes, { maxOffset: this.log.logEndOffset, minOneBatch, alloc });
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
