/**
 * Which of a leading Partition's appends go into memory, and the reads answered from there (issue #16): the
 * policy around one LeaderTailCache (leader-tail-cache.ts). The Partition (partition.ts) owns one and tells it
 * of its appends, reads, HW moves and role changes; no I/O.
 *
 * - With followers, every append is kept on the replication budget (`tailCache`) until every in-sync follower
 *   has it (`hwMoved`), for their fetches (`readForFollower`).
 * - Without followers, appends are kept on the node's small consumer budget (`localTailCache`,
 *   log.tail.cache.max.bytes) only while a consumer reads at the log end: a consumer's read there (or one the
 *   cache answered) grants TAIL_READ_CREDITS appends, each cached append uses one, and with none left the cache
 *   is let go. Copying a request frame's bytes costs a produce stream without readers ~10 % of the broker's CPU
 *   and V8 major GCs for the external memory.
 * - Entries are contiguous appends: a duplicate writes nothing; a transaction marker, an append not cached or a
 *   role change empties the cache, so it never answers short of what the log would return.
 * - Reads come only from the active segment (a rolled one may since be compacted or its start deleted) and only
 *   when the cache reaches the read's bound.
 */
import type { PartitionLog } from '../storage/partition-log.js';
import { requestFrameMemory } from '../protocol/frame-memory.js';
import { LeaderTailCache, type TailCacheBudget } from './leader-tail-cache.js';
import type { PartitionOptions } from './partition-types.js';

/** Appends cached without followers after a consumer's read at the log end. */
export const TAIL_READ_CREDITS = 64;

export class PartitionTail {
  private readonly replicaBudget: TailCacheBudget | undefined;
  private readonly localBudget: TailCacheBudget | undefined;
  private cache: LeaderTailCache | undefined;
  private readCredits = 0;

  constructor(
    private readonly log: PartitionLog,
    options: Pick<PartitionOptions, 'tailCache' | 'localTailCache'>,
  ) {
    this.replicaBudget = options.tailCache;
    this.localBudget = options.localTailCache;
  }

  /** The leader appended `records` at [base, end) (`duplicate`: nothing was written); `followers`: it has some. */
  appended(records: Buffer, base: number, end: number, duplicate: boolean, followers: boolean): void {
    if (duplicate) return;
    let budget = this.replicaBudget;
    if (!followers) {
      budget = this.readCredits > 0 ? this.localBudget : undefined;
      if (budget) this.readCredits--;
    }
    if (!budget) {
      this.clear();
      return;
    }
    if (this.cache?.budget !== budget) {
      this.cache?.clear();
      this.cache = new LeaderTailCache(budget);
    }
    // A request frame's memory is reused once the request is done: the cache keeps a copy of such bytes.
    this.cache.add(base, end, requestFrameMemory.owned(records));
  }

  /** Every in-sync follower has what lies below `hw` (without followers, entries leave by the budget). */
  hwMoved(hw: number, followers: boolean): void {
    if (followers) this.cache?.evictBelow(hw);
  }

  /**
   * A read below `maxOffset` from the cache, undefined when the log must answer. `consumer`: a consumer's read,
   * which at the log end (or answered here) keeps appends coming into memory.
   */
  read(
    fetchOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    maxOffset: number,
    consumer: boolean,
    alloc?: (length: number) => Buffer,
  ): Buffer | undefined {
    const got = this.readCache(fetchOffset, maxBytes, minOneBatch, maxOffset, alloc);
    if (consumer && (got || fetchOffset >= maxOffset)) this.readCredits = TAIL_READ_CREDITS;
    return got;
  }

  private readCache(
    fetchOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    maxOffset: number,
    alloc?: (length: number) => Buffer,
  ): Buffer | undefined {
    const log = this.log;
    if (!this.cache || fetchOffset < Math.max(log.logStartOffset, log.activeSegmentBase)) return undefined;
    const bound = Math.min(maxOffset, log.logEndOffset);
    // The cache answers only when it reaches the bound: a write it does not hold (a transaction marker, an
    // append not yet added) must not cut an answer short of what the log returns.
    if (fetchOffset >= bound || this.cache.end < bound) return undefined;
    // From the active segment no later segment begins: the read never needs to stop at one.
    return this.cache.read(fetchOffset, maxBytes, minOneBatch, maxOffset, alloc);
  }

  /** Empty the cache (a marker, a role change, the partition no longer hosted here). */
  clear(): void {
    this.cache?.clear();
  }
}
