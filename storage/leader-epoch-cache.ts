/**
 * Leader epoch cache: which leader epoch started at which offset, for one partition.
 *
 * On-disk format: `leader-epoch-checkpoint` in the partition directory, a checkpoint file (see
 * checkpoint.ts) of version 0 with one `<epoch> <startOffset>` line per entry, replaced atomically.
 *
 * Invariants: entries are sorted with strictly increasing epochs and non-decreasing start offsets;
 * epochs are >= 0. Mutations happen in memory and mark the cache dirty; `flush()` persists. Writes never overlap
 * (a flush waits for the one in flight), and a flush whose entries are those the file already holds writes nothing.
 * When a change must be durable (Kafka's rule, kept by the owners):
 * - an assigned entry before the recovery point that covers its start offset is checkpointed (the log manager
 *   flushes `unflushedBelow(rp)` caches first; PartitionLog.close flushes). Until then a crash loses nothing: the
 *   entry's batches lie above the recovery point and the load re-learns their epochs from them.
 * - truncations may stay in memory: entries the file still holds past the log end or before the log start are
 *   cut again by the next load (Kafka flushes them in the background for the same reason).
 *
 * Replication (OffsetsForLeaderEpoch, follower truncation) uses `endOffsetFor`, `truncateFromEnd`
 * and `truncateFromStart`, following Kafka's LeaderEpochFileCache semantics.
 */

import path from 'node:path';
import type { Logger } from 'pino';
import type { FileSystem } from './fs.js';
import { CheckpointFile, LEADER_EPOCH_CHECKPOINT_FORMAT } from './checkpoint.js';
import type { EpochEntry } from './checkpoint.js';

export type { EpochEntry } from './checkpoint.js';

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export class LeaderEpochCache {
  private entries: EpochEntry[] = [];
  private dirty = false;
  /** What the file holds, as far as known (undefined: unknown, e.g. unreadable). */
  private persisted: readonly EpochEntry[] | undefined = [];
  /** The lowest start offset assigned since the last flush (Infinity: none). */
  private assignedFrom = Infinity;
  private writing: Promise<void> | undefined;
  private readonly file: CheckpointFile<EpochEntry>;

  private constructor(fs: FileSystem, dir: string) {
    this.file = new CheckpointFile(fs, path.join(dir, LEADER_EPOCH_CHECKPOINT), LEADER_EPOCH_CHECKPOINT_FORMAT);
  }

  /** Load from `dir`; a missing file gives an empty cache, a corrupt one an empty cache and a warning. */
  /** Reads the checkpoint; `exists` false (known from a directory listing) skips the read. */
  static async load(fs: FileSystem, dir: string, logger?: Logger, exists = true): Promise<LeaderEpochCache> {
    const cache = new LeaderEpochCache(fs, dir);
    if (!exists) return cache;
    try {
      const entries = (await cache.file.read()) ?? [];
      for (const e of entries) cache.assign(e.epoch, e.startOffset);
      cache.markPersisted();
    } catch (err) {
      logger?.warn({ err, path: cache.file.path }, 'leader epoch checkpoint unreadable; starting empty');
      cache.entries = [];
      cache.dirty = true;
      cache.persisted = undefined;
    }
    return cache;
  }

  /** A cache holding `entries`, known to be what `dir`'s checkpoint holds (clean-shutdown.ts). */
  static fromPersisted(fs: FileSystem, dir: string, entries: readonly EpochEntry[]): LeaderEpochCache {
    const cache = new LeaderEpochCache(fs, dir);
    for (const e of entries) cache.assign(e.epoch, e.startOffset);
    cache.markPersisted();
    return cache;
  }

  private markPersisted(): void {
    this.dirty = false;
    this.assignedFrom = Infinity;
    this.persisted = this.entries.slice();
  }

  /** True if an entry assigned since the last flush starts below `offset` (it must be flushed before a
   * recovery point above it is checkpointed). */
  unflushedBelow(offset: number): boolean {
    return this.dirty && this.assignedFrom < offset;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  all(): readonly EpochEntry[] {
    return this.entries;
  }

  latestEntry(): EpochEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  latestEpoch(): number {
    return this.latestEntry()?.epoch ?? UNDEFINED_EPOCH;
  }

  /**
   * Record that `epoch` starts at `startOffset`. Ignored for negative epochs and for an entry that adds
   * nothing (same latest epoch at an equal or later offset). Conflicting later entries (epoch >= epoch
   * or startOffset >= startOffset) are removed first. Returns true if the cache changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false;
    const last = this.latestEntry();
    if (last && last.epoch === epoch && startOffset >= last.startOffset) return false;
    while (this.entries.length > 0) {
      const e = this.entries[this.entries.length - 1]!;
      if (e.epoch >= epoch || e.startOffset >= startOffset) this.entries.pop();
      else break;
    }
    this.entries.push({ epoch, startOffset });
    this.dirty = true;
    if (startOffset < this.assignedFrom) this.assignedFrom = startOffset;
    return true;
  }

  /** Epoch of the entry covering `offset`, or UNDEFINED_EPOCH. */
  epochForOffset(offset: number): number {
    let ans = UNDEFINED_EPOCH;
    for (const e of this.entries) {
      if (e.startOffset <= offset) ans = e.epoch;
      else break;
    }
    return ans;
  }

  /**
   * OffsetsForLeaderEpoch: the largest epoch <= requested and the offset where the next epoch starts
   * (or logEndOffset for the latest epoch); (-1, -1) if the requested epoch is unknown and above all.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    if (requestedEpoch === UNDEFINED_EPOCH) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const latest = this.latestEntry();
    if (latest && requestedEpoch === latest.epoch) return { epoch: latest.epoch, endOffset: logEndOffset };
    const higher = this.entries.find((e) => e.epoch > requestedEpoch);
    if (higher === undefined) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    let floor: EpochEntry | undefined;
    for (const e of this.entries) if (e.epoch <= requestedEpoch) floor = e;
    return { epoch: floor ? floor.epoch : requestedEpoch, endOffset: higher.startOffset };
  }

  /** Remove entries starting at or after `endOffset` (log truncated to endOffset). */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.entries.length;
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.startOffset >= endOffset)
      this.entries.pop();
    const changed = this.entries.length !== before;
    if (changed) this.dirty = true;
    return changed;
  }

  /** Log start moved to `startOffset`: drop entries wholly before it, clamp the one covering it. */
  truncateFromStart(startOffset: number): boolean {
    let i = 0;
    while (i < this.entries.length && this.entries[i]!.startOffset <= startOffset) i++;
    if (i === 0) return false;
    const covering = this.entries[i - 1]!;
    if (i === 1 && covering.startOffset === startOffset) return false;
    this.entries.splice(0, i, { epoch: covering.epoch, startOffset });
    this.dirty = true;
    return true;
  }

  clear(): void {
    if (this.entries.length === 0) return;
    this.entries = [];
    this.dirty = true;
  }

  /**
   * Persist if changed since the last flush (after any write in flight; nothing when the file holds it). True if
   * the file was replaced. `syncDir` false: the caller fsyncs the partition directory (the rename) itself.
   */
  async flush(syncDir = true): Promise<boolean> {
    while (this.writing) await this.writing.catch(() => undefined);
    if (!this.dirty) return false;
    const entries = this.entries.slice();
    const from = this.assignedFrom;
    this.dirty = false;
    this.assignedFrom = Infinity;
    const same = (a: readonly EpochEntry[] | undefined): boolean =>
      a !== undefined &&
      a.length === entries.length &&
      a.every((e, i) => e.epoch === entries[i]!.epoch && e.startOffset === entries[i]!.startOffset);
    if (same(this.persisted)) return false;
    this.writing = this.file.write(entries, syncDir);
    try {
      await this.writing;
      this.persisted = entries;
      return true;
    } catch (err) {
      this.dirty = true;
      if (from < this.assignedFrom) this.assignedFrom = from;
      throw err;
    } finally {
      this.writing = undefined;
    }
  }
}
