/**
 * CleanTask: the CPU- and I/O-heavy part of one clean of one log (log-cleaner.ts steps 2 and 3), written to run
 * anywhere: in the log cleaner's worker thread (cleaner-worker.ts, real files) or inline on the broker's event
 * loop (a MemoryFileSystem in tests). It owns nothing of the PartitionLog: the main thread hands it a `CleanJob`
 * (plain data: the paths and bounds of the closed segments to clean, taken when the clean began) and it
 * - `buildMap()`: builds the offset map (offset-map.ts, key -> latest offset) over the dirty section, segment by
 *   segment until the map is full; returns `end`, the end of the last dirty segment read;
 * - `rewrite(first, count, markersRemovable)`: rewrites the job's segments [first, first + count) batch by
 *   batch (batch-filter.ts; aborted transactions' data dropped, markers per cleaned-txns.ts) into ONE new segment
 *   `<base>.log.cleaned` (+ `.index.cleaned`, `.timeindex.cleaned`), fsynced and closed; returns its tail state
 *   (segment-types.ts SegmentTail), with which the main thread opens it (PartitionLog.openCleanedSegment) and
 *   swaps it in. The last batch of the range is always written (empty if all its records went).
 * Sources are read through descriptors of the task's own (read-only), by position from the start (the rewrite)
 * or from the index position of the first dirty offset (the map), never past the size taken when the clean began;
 * every batch is CRC-checked. A source file gone (retention retired it meanwhile) ends the task's step with
 * `changed` (the swap would be refused anyway). On any failure or abort the `.cleaned` output is deleted here.
 * Pacing: `pause()` after each batch and every 512 records (a TimeSlicer inline; nothing in the worker) and
 * `throttle(bytes)` for log.cleaner.io.max.bytes.per.second (cleaner-pacing.ts); `stopped()` is polled per batch.
 * Invariant: calls of one task are sequential (the main thread awaits each) and `rewrite` ranges come in
 * offset order, which the marker rule (cleaned-txns.ts) relies on.
 */

import type { FileHandle, FileSystem } from './fs.js';
import { isNotFound, readAt } from './fs.js';
import { LogSegment, CLEANED_SUFFIX } from './segment.js';
import type { SegmentConfig, SegmentTail } from './segment-types.js';
import type { Clock } from './clock.js';
import type { AbortedTxn } from './txn-index.js';
import { OffsetMap } from './offset-map.js';
import { filterBatch, filterMarker, isTxnMarker } from './batch-filter.js';
import { CleanedTxns } from './cleaned-txns.js';
import { inAbortedTxn } from './txn-queries.js';
import { RecordBatch } from '../protocol/records/batch.js';
import { BATCH_HEADER_SIZE, entrySize } from '../protocol/records/batch-header.js';
import { CorruptRecordError, StorageError } from '../protocol/errors.js';

/** Raised inside a clean when the cleaner is being stopped. */
export class CleanerAbortedError extends StorageError {
  constructor() {
    super('log cleaner stopped');
  }
}

/** A closed segment to clean, as the main thread saw it when the clean began. */
export interface SourceSegment {
  /** Its `.log` file. */
  path: string;
  baseOffset: number;
  nextOffset: number;
  /** Bytes of whole batches; nothing past it is read. */
  size: number;
  /** Position of the batch holding the first dirty offset (offset index lookup; 0 if the segment is all dirty). */
  dirtyPosition: number;
}

/** Everything a task needs (structured-clonable: it is posted to the worker). */
export interface CleanJob {
  dir: string;
  firstDirty: number;
  now: number;
  deleteRetentionMs: number;
  /** Aborted transactions with data in the cleanable range. */
  aborted: AbortedTxn[];
  segmentConfig: SegmentConfig;
  mapMaxEntries: number;
  readChunkBytes: number;
  writeChunkBytes: number;
  /** The cleanable segments, oldest first. */
  segments: SourceSegment[];
}

export interface RewriteStats {
  bytesBefore: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  markersRemoved: number;
  deleteHorizon?: number;
}

/** What `rewrite` produced: the `.cleaned` segment's tail state, or `changed` (a source file is gone). */
export type RewriteResult = { changed: true } | { changed: false; tail: SegmentTail; stats: RewriteStats };

/** Where a task runs: its file system, pacing and stop flag. */
export interface TaskEnv {
  fs: FileSystem;
  clock: Clock;
  /** Undefined while work may go on; else a promise to await first (a turn of the event loop). */
  pause(): Promise<void> | undefined;
  throttle(bytes: number): Promise<void>;
  stopped(): boolean;
}

/** A source file disappeared under the task. */
class SourceGoneError extends StorageError {}

export class CleanTask {
  private readonly map: OffsetMap;
  private readonly txns = new CleanedTxns();

  constructor(
    private readonly job: CleanJob,
    private readonly env: TaskEnv,
  ) {
    this.map = new OffsetMap(job.mapMaxEntries);
  }

  private checkStopped(): void {
    if (this.env.stopped()) throw new CleanerAbortedError();
  }

  private isAborted(b: RecordBatch): boolean {
    const aborted = this.job.aborted;
    return (
      aborted.length > 0 &&
      b.isTransactional &&
      !b.isControl &&
      inAbortedTxn(aborted, Number(b.producerId), Number(b.baseOffset), Number(b.lastOffset))
    );
  }

  /** The offset map over the dirty section; returns `end` (firstDirty if nothing), or undefined if changed. */
  async buildMap(): Promise<number | undefined> {
    const { firstDirty } = this.job;
    let end = firstDirty;
    try {
      for (const seg of this.job.segments) {
        if (seg.nextOffset <= firstDirty) continue;
        for await (const batch of this.batchesOf(seg, seg.dirtyPosition, firstDirty)) {
          if (batch.isControl || this.isAborted(batch)) continue;
          let n = 0;
          for await (const r of batch.records()) {
            if (r.key !== null && Number(r.offset) >= firstDirty) this.map.put(r.key, Number(r.offset));
            if (++n % 512 === 0) await this.env.pause();
          }
        }
        end = seg.nextOffset;
        if (this.map.full) break;
      }
    } catch (err) {
      if (err instanceof SourceGoneError) return undefined;
      throw err;
    }
    return end;
  }

  /** Every batch of `seg` from `position` whose last offset >= from, CRC-checked, in order. */
  private async *batchesOf(seg: SourceSegment, position: number, from: number): AsyncGenerator<RecordBatch> {
    let handle: FileHandle;
    try {
      handle = await this.env.fs.open(seg.path, { readOnly: true });
    } catch (err) {
      if (isNotFound(err)) throw new SourceGoneError(`${seg.path} is gone`);
      throw err;
    }
    try {
      let pos = position;
      const limit = seg.size;
      const maxReads = Math.floor((limit - pos) / BATCH_HEADER_SIZE) + 2;
      for (let i = 0; i < maxReads && pos < limit; i++) {
        this.checkStopped();
        let buf = await readAt(handle, pos, Math.min(this.job.readChunkBytes, limit - pos));
        if (buf.length < BATCH_HEADER_SIZE) throw new CorruptRecordError(`${seg.path}: short batch at ${pos}`);
        const first = entrySize(buf, 0);
        if (first > buf.length) {
          if (first > limit - pos || first < BATCH_HEADER_SIZE)
            throw new CorruptRecordError(`${seg.path}: batch of ${first} bytes at ${pos} passes the segment's end`);
          buf = await readAt(handle, pos, first);
        }
        await this.env.throttle(buf.length);
        let p = 0;
        while (p + BATCH_HEADER_SIZE <= buf.length && p + entrySize(buf, p) <= buf.length) {
          const batch = RecordBatch.at(buf, p);
          p += batch.buffer.length;
          if (Number(batch.lastOffset) < from) continue;
          batch.validate();
          yield batch;
          await this.env.pause(); // the batch is handled: requests get a turn if the slice is over
        }
        pos += p;
      }
    } finally {
      await handle.close();
    }
  }

  /** Rewrite segments [first, first + count) into one `.cleaned` segment (see the header). */
  async rewrite(first: number, count: number, markersRemovable: boolean): Promise<RewriteResult> {
    const group = this.job.segments.slice(first, first + count);
    const deps = { fs: this.env.fs, clock: this.env.clock };
    const { dir, segmentConfig } = this.job;
    const cleaned = await LogSegment.createWithSuffix(dir, group[0]!.baseOffset, segmentConfig, deps, CLEANED_SUFFIX);
    try {
      const stats = await this.writeGroup(group, cleaned, markersRemovable);
      cleaned.seal();
      await cleaned.flush(true);
      const tail = cleaned.tailState();
      await cleaned.close();
      return { changed: false, tail, stats };
    } catch (err) {
      await cleaned.delete().catch(() => undefined);
      if (err instanceof SourceGoneError) return { changed: true };
      throw err;
    }
  }

  private async writeGroup(group: SourceSegment[], cleaned: LogSegment, removable: boolean): Promise<RewriteStats> {
    const { now, deleteRetentionMs } = this.job;
    const stats: RewriteStats = { bytesBefore: 0, recordsRemoved: 0, tombstonesRemoved: 0, markersRemoved: 0 };
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let firstOffset = -1;
    let last = -1;
    let maxTs = -1;
    let maxTsOffset = -1;
    const writePending = async (): Promise<void> => {
      if (pending.length === 0) return;
      const info = { firstOffset, lastOffset: last, maxTimestamp: maxTs, offsetOfMaxTimestamp: maxTsOffset };
      await cleaned.append(pending, { ...info, size: pendingBytes });
      await this.env.throttle(pendingBytes);
      pending = [];
      pendingBytes = 0;
      firstOffset = last = maxTs = maxTsOffset = -1;
    };
    const groupEnd = group[group.length - 1]!.nextOffset;
    for (const seg of group) {
      stats.bytesBefore += seg.size;
      for await (const batch of this.batchesOf(seg, 0, seg.baseOffset)) {
        const retainEmpty = Number(batch.lastOffset) + 1 === groupEnd;
        let f: { batch: Buffer | undefined; deleteHorizon?: number };
        if (await isTxnMarker(batch)) {
          const hasData = this.txns.markerRead(Number(batch.producerId));
          const m = await filterMarker(batch, {
            now,
            deleteRetentionMs,
            retainEmpty,
            removable: removable && !hasData,
          });
          if (m.markerRemoved) stats.markersRemoved++;
          f = m;
        } else {
          const discard = this.isAborted(batch);
          const d = await filterBatch(batch, this.map, { now, deleteRetentionMs, retainEmpty, discard });
          stats.recordsRemoved += d.recordsRemoved;
          stats.tombstonesRemoved += d.tombstonesRemoved;
          if (d.batch !== undefined && batch.isTransactional && !batch.isControl)
            this.txns.dataRetained(Number(batch.producerId));
          f = d;
        }
        if (f.deleteHorizon !== undefined)
          stats.deleteHorizon = Math.min(stats.deleteHorizon ?? Infinity, f.deleteHorizon);
        if (f.batch === undefined) continue;
        const out = new RecordBatch(f.batch);
        const base = Number(out.baseOffset);
        if (firstOffset < 0) firstOffset = base;
        last = Number(out.lastOffset);
        const ts = Number(out.maxTimestamp);
        if (ts > maxTs) {
          maxTs = ts;
          maxTsOffset = base;
        }
        pending.push(f.batch);
        pendingBytes += f.batch.length;
        if (pendingBytes >= this.job.writeChunkBytes) await writePending();
      }
    }
    await writePending();
    return stats;
  }
}
