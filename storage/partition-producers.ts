/**
 * PartitionProducers: the producer/transaction side of one PartitionLog, kept out of partition-log.ts.
 * Owns the partition's ProducerStateManager and its snapshot files; PartitionLog calls it from inside
 * its mutation queue (appends, roll, deletion, truncation, close), so nothing here runs concurrently
 * with itself.
 *
 * - load(): rebuild from the newest snapshot and the log after it (producer-recovery.ts), write a
 *   snapshot at the log end if anything was replayed, remove snapshots below the first segment.
 * - afterRoll(old): fsync `old`'s txn index, then snapshot at the new segment's base (recovery will not
 *   replay `old`, so the aborts it indexed must be durable first). Failures only log: a missing
 *   snapshot means a longer replay.
 * - recordAborts(seg, stage): after a write succeeded, index the transactions it aborted in the txn
 *   index of the segment that holds their markers.
 */

import type { Logger } from 'pino';
import type { FileSystem } from './fs.js';
import type { SegmentSet } from './segment-set.js';
import type { LogSegment } from './segment.js';
import { ProducerStateManager } from './producer-state.js';
import type { BatchMeta, MarkerInfo, ProducerStage } from './producer-state.js';
import { recoverProducerState, saveSnapshot } from './producer-recovery.js';
import { encodeSnapshot, listSnapshots, pruneSnapshots } from './producer-snapshot.js';
import { abortedTransactionsIn, describeProducers } from './txn-queries.js';
import type { ActiveProducer } from './txn-queries.js';
import type { AbortedTxn } from './txn-index.js';
import type { AppendOptions, AppendResult } from './partition-log-types.js';
import { buildControlBatch } from '../protocol/records/builder.js';

export interface TxnMarkerRequest {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
  leaderEpoch?: number;
}

export class PartitionProducers {
  readonly state = new ProducerStateManager();
  private snapshotAt = -1;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly segments: SegmentSet,
    private readonly logger: Logger | undefined,
  ) {}

  /** `files`: the directory's file names when just listed (at open), so that it is not listed again. */
  /** `preloaded`: a snapshot's content known without reading its file (clean-shutdown.ts). */
  async load(files?: Iterable<string>, preloaded?: { offset: number; data: Buffer }): Promise<void> {
    const names = files ? [...files] : undefined;
    const r = await recoverProducerState({
      fs: this.fs,
      dir: this.dir,
      segments: this.segments,
      state: this.state,
      logger: this.logger,
      files: names,
      preloaded,
    });
    this.snapshotAt = r.snapshotOffset;
    if (r.replayedBatches > 0) await this.snapshot();
    let known: number[] | undefined;
    if (names) {
      const left = (await listSnapshots(this.fs, this.dir, names)).filter((o) => !r.removedSnapshots.includes(o));
      if (this.snapshotAt >= 0 && !left.includes(this.snapshotAt)) left.push(this.snapshotAt);
      known = left;
    }
    await pruneSnapshots(this.fs, this.dir, this.segments.first()!.baseOffset, Infinity, known);
  }

  /** The state encoded as a snapshot if a snapshot file at `leo` was written or loaded (else undefined). */
  encodedAt(leo: number): Buffer | undefined {
    return this.snapshotAt === leo ? encodeSnapshot(this.state.all()) : undefined;
  }

  /** Snapshot the state at the log end offset (skipped if one was taken there already). */
  async snapshot(): Promise<void> {
    const leo = this.segments.last()!.nextOffset;
    if (leo === this.snapshotAt) return;
    await saveSnapshot(this.fs, this.dir, leo, this.state);
    this.snapshotAt = leo;
  }

  async afterRoll(old: LogSegment): Promise<void> {
    try {
      await old.txnIndex.flush();
      await this.snapshot();
    } catch (err) {
      this.logger?.warn({ err, dir: this.dir }, 'producer snapshot at roll failed (recovery will replay more)');
    }
  }

  /** Segments left the log from the front: their snapshots go too. */
  async afterDeleteSegments(): Promise<void> {
    await pruneSnapshots(this.fs, this.dir, this.segments.first()?.baseOffset ?? 0);
  }

  /** The log was truncated at its end: rebuild from what is left. */
  async afterTruncation(): Promise<void> {
    this.snapshotAt = -1;
    await this.load();
  }

  /** The log restarted empty: forget everything. */
  async clear(): Promise<void> {
    this.state.reset();
    this.snapshotAt = -1;
    await pruneSnapshots(this.fs, this.dir, Infinity);
  }

  async recordAborts(seg: LogSegment, written: ProducerStage): Promise<void> {
    for (const txn of written.completed) {
      if (!txn.aborted) continue;
      try {
        await seg.txnIndex.append({
          producerId: txn.producerId,
          firstOffset: txn.firstOffset,
          lastOffset: txn.lastOffset,
          lastStableOffset: this.state.stableOffsetAfter(txn),
        });
      } catch (err) {
        this.logger?.error({ err, dir: this.dir, txn }, 'could not record aborted transaction in the txn index');
      }
    }
  }

  /** The control batch, producer-state view and append options of a COMMIT/ABORT marker. */
  static marker(m: TxnMarkerRequest, now: number): { buf: Buffer; marker: MarkerInfo; options: AppendOptions } {
    const buf = buildControlBatch(m.commit ? 1 : 0, m.producerId, m.producerEpoch, m.coordinatorEpoch, 0, now);
    const marker: MarkerInfo = {
      producerId: m.producerId,
      epoch: m.producerEpoch,
      coordinatorEpoch: m.coordinatorEpoch,
      commit: m.commit,
      timestamp: now,
    };
    const options: AppendOptions = { appendTime: now, origin: 'coordinator' };
    if (m.leaderEpoch !== undefined) options.leaderEpoch = m.leaderEpoch;
    return { buf, marker, options };
  }

  static duplicateResult(dup: BatchMeta, batches: number, bytes: number, logStartOffset: number): AppendResult {
    return {
      baseOffset: dup.firstOffset,
      lastOffset: dup.lastOffset,
      logAppendTime: -1,
      logStartOffset,
      maxTimestamp: dup.timestamp,
      batches,
      bytes,
      duplicate: true,
    };
  }

  lastStableOffset(highWatermark: number): number {
    return Math.min(this.state.firstUnstableOffset(highWatermark), highWatermark);
  }

  aborted(from: number, upperBound: number): AbortedTxn[] {
    return abortedTransactionsIn(this.segments.values(), from, upperBound);
  }

  active(): ActiveProducer[] {
    return describeProducers(this.state.all());
  }
}
