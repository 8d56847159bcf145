/**
 * AppendQueue: the append path of one PartitionLog (partition-log.ts), kept out of it. It owns the
 * appends waiting to be written and writes them from a task on the log's mutation queue; it stores
 * nothing of its own on disk (it writes through the active segment, `roll` and the leader epoch cache).
 *
 * Appends: each append's batches are checked structurally, stamped in place (baseOffset,
 * partitionLeaderEpoch) and written with one positional writev. Appends that queue up behind a write
 * in flight are coalesced: the next drain writes all of them with a single writev (split where a roll
 * or a leader epoch change intervenes), so throughput does not hinge on one syscall per request.
 *
 * Invariants:
 * - At most one drain is queued at a time; it takes every append pending when it starts, and appends
 *   submitted while it runs queue the next drain.
 * - Producer checks (duplicates, sequence and epoch errors, markers) run against a producer-state stage
 *   that is committed only when the write of its group succeeds; the offsets they assume are the ones
 *   the write assigns.
 * - A failed write rejects exactly the appends of its group (the log end does not move); an append
 *   refused by its own checks, a roll or an epoch checkpoint failure rejects alone. If the mutation
 *   queue refuses the drain (log closed), every pending append is rejected.
 * - An append resolves once written and, when the flush policy (flush.messages) demands it, once a
 *   group-commit fdatasync covering its last offset is done (log-flusher.ts: the one in flight if it began
 *   after the write, else the next); a failed fsync rejects it.
 */

import type { Clock } from './clock.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import type { LogFlusher } from './log-flusher.js';
import type { SegmentSet } from './segment-set.js';
import type { LogSegment } from './segment.js';
import { scanAppend, stampAppend } from './batch-scan.js';
import { CorruptRecordError, StorageError } from '../protocol/errors.js';
import { baseOffsetNumber, entrySize, lastOffsetNumber } from '../protocol/records/batch-header.js';
import type { AppendOptions, AppendResult } from './partition-log-types.js';
import type { MarkerInfo, ProducerStage } from './producer-state.js';
import { checkAppendBatches, hasProducerBatches } from './producer-recovery.js';
import { PartitionProducers } from './partition-producers.js';

/** What the append path needs from its PartitionLog. */
export interface AppendContext {
  readonly segments: SegmentSet;
  readonly producers: PartitionProducers;
  readonly flusher: LogFlusher;
  readonly clock: Clock;
  readonly leaderEpochCache: LeaderEpochCache;
  /** The log's current config (updateConfig may replace it between and during drains). */
  config(): LogConfig;
  logStartOffset(): number;
  /** Run `fn` on the log's mutation queue (rejects if the log is closed). */
  enqueue<T>(fn: () => Promise<T>): Promise<T>;
  /** Start a new active segment at the log end offset; called from a drain (on the queue). */
  roll(reason: string): Promise<LogSegment>;
}

/** A written append: its result, and whether it must wait for an fsync before it is acknowledged. */
interface WrittenAppend {
  result: AppendResult;
  sync: boolean;
}

interface PendingAppend {
  buf: Buffer;
  options: AppendOptions;
  marker?: MarkerInfo;
  resolve: (v: WrittenAppend) => void;
  reject: (err: unknown) => void;
}

export class AppendQueue {
  private pending: PendingAppend[] = [];
  private drainQueued = false;
  private waitingForFlush = 0;

  constructor(private readonly ctx: AppendContext) {}

  /** Appends waiting for a flush (flush.messages) before they are acknowledged. */
  get flushWaiters(): number {
    return this.waitingForFlush;
  }

  /**
   * Write `records` (a transaction marker's control batch if `marker` is set) with the next drain and
   * resolve once the flush policy is satisfied.
   */
  async append(records: Buffer, options: AppendOptions, marker: MarkerInfo | undefined): Promise<AppendResult> {
    const { result, sync } = await this.submit(records, options, marker);
    if (sync) {
      this.waitingForFlush++;
      try {
        await this.ctx.flusher.request(result.lastOffset + 1);
      } finally {
        this.waitingForFlush--;
      }
    }
    return result;
  }

  /** Queue an append for the next drain; resolves once it is written. */
  private submit(records: Buffer, options: AppendOptions, marker: MarkerInfo | undefined): Promise<WrittenAppend> {
    return new Promise<WrittenAppend>((resolve, reject) => {
      this.pending.push(
        marker ? { buf: records, options, marker, resolve, reject } : { buf: records, options, resolve, reject },
      );
      if (!this.drainQueued) {
        this.drainQueued = true;
        this.ctx
          .enqueue(() => this.drain())
          .catch((err: unknown) => {
            // The queue refused (log closed): fail whatever is waiting.
            this.drainQueued = false;
            const waiting = this.pending;
            this.pending = [];
            for (const w of waiting) w.reject(err);
          });
      }
    });
  }

  private logEndOffset(): number {
    return this.ctx.segments.last()!.nextOffset;
  }

  /** Write every pending append, grouping consecutive ones into single writevs (split at rolls). */
  private async drain(): Promise<void> {
    const { segments, producers, flusher, clock, leaderEpochCache } = this.ctx;
    this.drainQueued = false;
    const items = this.pending;
    this.pending = [];
    const group: PendingAppend[] = [];
    const bufs: Buffer[] = [];
    const results: AppendResult[] = [];
    /** Per group member: the flush decision of a duplicate, or undefined (decided by the write). */
    const dupSync: Array<boolean | undefined> = [];
    let stage: ProducerStage = producers.state.stage();
    let groupBytes = 0;
    let groupOffsets = 0;
    let groupMaxTs = -1;
    let groupMaxTsOffset = -1;
    let active = segments.last()!;

    const writeGroup = async (): Promise<void> => {
      if (group.length === 0) return;
      const first = this.logEndOffset();
      const written = stage;
      stage = producers.state.stage();
      try {
        if (bufs.length > 0) {
          await active.append(bufs, {
            firstOffset: first,
            lastOffset: first + groupOffsets - 1,
            maxTimestamp: groupMaxTs,
            offsetOfMaxTimestamp: groupMaxTsOffset,
            size: groupBytes,
          });
        }
        const sync =
          bufs.length > 0 &&
          flusher.afterAppend(this.logEndOffset(), this.ctx.config().flushMessages, this.ctx.config().flushMs);
        producers.state.commit(written);
        await producers.recordAborts(active, written);
        for (let i = 0; i < group.length; i++) group[i]!.resolve({ result: results[i]!, sync: dupSync[i] ?? sync });
      } catch (err) {
        for (const g of group) g.reject(err);
      }
      group.length = bufs.length = results.length = dupSync.length = 0;
      groupBytes = groupOffsets = 0;
      groupMaxTs = groupMaxTsOffset = -1;
    };

    for (let idx = 0; idx < items.length; idx++) {
      const it = items[idx]!;
      const scan = scanAppend(it.buf);
      if (typeof scan === 'string') {
        it.reject(new CorruptRecordError(scan));
        continue;
      }
      const now = clock.now();
      try {
        let first = this.logEndOffset() + groupOffsets;
        // A follower keeps the leader's offsets: `span` covers gaps left by compaction on the leader.
        const follower = it.options.asFollower === true;
        let span = scan.offsets;
        if (follower) {
          const base = baseOffsetNumber(it.buf, 0);
          if (base < first) throw new StorageError(`follower append at ${base} below the log end ${first}`, 1);
          span = lastBatchOffset(it.buf) + 1 - base;
          first = base;
        }
        const reason = active.shouldRoll({
          appendBytes: it.buf.length,
          pendingBytes: groupBytes,
          lastOffset: first + span - 1,
          now,
          segmentBytes: this.ctx.config().segmentBytes,
          segmentMs: this.ctx.config().segmentMs,
        });
        const epoch = it.options.leaderEpoch;
        const epochChange = epoch !== undefined && epoch >= 0 && epoch !== leaderEpochCache.latestEpoch();
        if (reason || epochChange) {
          await writeGroup();
          if (!follower) first = this.logEndOffset();
          if (reason) active = await this.ctx.roll(reason);
          if (epochChange && leaderEpochCache.assign(epoch, first)) await leaderEpochCache.flush();
        }
        // Producer checks, atomic with the offsets assigned here (throws coded errors).
        if (it.marker || hasProducerBatches(it.buf)) {
          const own = producers.state.stage(stage);
          const origin = follower ? 'replay' : (it.options.origin ?? 'client');
          let dup: ReturnType<typeof checkAppendBatches>;
          if (it.marker) own.addMarker(it.marker, first, origin);
          else dup = checkAppendBatches(own, it.buf, first, origin);
          if (dup) {
            group.push(it);
            results.push(
              PartitionProducers.duplicateResult(dup, scan.batches, it.buf.length, this.ctx.logStartOffset()),
            );
            dupSync.push(
              dup.lastOffset >= flusher.recoveryPoint &&
                dup.lastOffset + 1 - flusher.recoveryPoint >= this.ctx.config().flushMessages,
            );
            continue;
          }
          own.mergeInto(stage);
        }
        if (follower) groupOffsets = first - this.logEndOffset();
        else stampAppend(it.buf, first, epoch);
        const appendTime = it.options.appendTime ?? now;
        results.push({
          baseOffset: first,
          lastOffset: first + span - 1,
          logAppendTime: this.ctx.config().messageTimestampType === 'LogAppendTime' ? appendTime : -1,
          logStartOffset: this.ctx.logStartOffset(),
          maxTimestamp: scan.maxTimestamp,
          batches: scan.batches,
          bytes: it.buf.length,
        });
        group.push(it);
        dupSync.push(undefined);
        bufs.push(it.buf);
        groupBytes += it.buf.length;
        groupOffsets += span;
        if (scan.maxTimestamp > groupMaxTs) {
          groupMaxTs = scan.maxTimestamp;
          groupMaxTsOffset = first + scan.maxTimestampDelta;
        }
      } catch (err) {
        // A producer check, roll or epoch checkpoint failed: this append fails, later ones try again.
        it.reject(err);
      }
    }
    await writeGroup();
  }
}

/** The last offset of the last batch in `buf` (whole batches, checked by scanAppend). */
function lastBatchOffset(buf: Buffer): number {
  let pos = 0;
  let last = -1;
  while (pos < buf.length) {
    last = lastOffsetNumber(buf, pos);
    pos += entrySize(buf, pos);
  }
  return last;
}
