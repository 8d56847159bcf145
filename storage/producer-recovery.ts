/**
 * Producer state from the log: reading producer fields from batch headers (append path and replay) and
 * rebuilding a partition's producer state at open or after a truncation.
 *
 * Rebuild (`recoverProducerState`): snapshots above the log end offset are removed (they describe data
 * that is gone), the newest snapshot that decodes is loaded (corrupt ones are removed), and every batch
 * from its offset (or from the first segment, without one) to the log end is replayed without checks.
 * The `.txnindex` of every replayed segment is cut back to entries whose marker lies before the replay
 * start and refilled from the ABORT markers replayed, so the aborted-transaction index always matches
 * the log, whatever a crash kept of it. A snapshot at the log end is written afterwards if anything
 * was replayed, so the next open starts there.
 *
 * Snapshots are written without fsync (tmp + rename): one lost in a crash only means an older snapshot
 * and a longer replay; a torn one fails its CRC and is ignored.
 */

import type { Logger } from 'pino';
import type { FileSystem } from './fs.js';
import type { SegmentSet } from './segment-set.js';
import {
  attributes,
  baseOffsetNumber,
  baseSequence,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  entrySize,
  lastOffsetDelta,
  maxTimestampNumber,
  producerEpoch,
  producerIdNumber,
  RECORDS_OFFSET,
  recordsCount,
  TRANSACTIONAL_FLAG_MASK,
} from '../protocol/records/batch-header.js';
import { parseControlRecord, readRecord } from '../protocol/records/batch.js';
import type {
  AppendOrigin,
  BatchMeta,
  DataBatchInfo,
  MarkerInfo,
  ProducerStage,
  ProducerStateManager,
} from './producer-state.js';
import { decodeSnapshot, encodeSnapshot, listSnapshots, snapshotPath } from './producer-snapshot.js';

const REPLAY_CHUNK = 4 * 1024 * 1024;

export function isControlBatch(buf: Buffer, pos: number): boolean {
  return (attributes(buf, pos) & CONTROL_FLAG_MASK) !== 0;
}

export function dataBatchInfo(buf: Buffer, pos: number): DataBatchInfo {
  return {
    producerId: producerIdNumber(buf, pos),
    epoch: producerEpoch(buf, pos),
    baseSeq: baseSequence(buf, pos),
    lastOffsetDelta: lastOffsetDelta(buf, pos),
    maxTimestamp: maxTimestampNumber(buf, pos),
    transactional: (attributes(buf, pos) & TRANSACTIONAL_FLAG_MASK) !== 0,
  };
}

/**
 * The COMMIT/ABORT marker of the (uncompressed) control batch at `pos`, or undefined (other control types,
 * unreadable).
 */
export function readMarker(buf: Buffer, pos: number): MarkerInfo | undefined {
  if ((attributes(buf, pos) & COMPRESSION_CODEC_MASK) !== 0) return undefined;
  const end = pos + entrySize(buf, pos);
  if (recordsCount(buf, pos) < 1) return undefined;
  try {
    const rec = readRecord(buf.subarray(pos + RECORDS_OFFSET, end), { pos: 0 }, 0n, 0n);
    const c = parseControlRecord(rec);
    if (c.coordinatorEpoch === null) return undefined;
    return {
      producerId: producerIdNumber(buf, pos),
      epoch: producerEpoch(buf, pos),
      coordinatorEpoch: c.coordinatorEpoch,
      commit: c.type === 1,
      timestamp: maxTimestampNumber(buf, pos),
    };
  } catch {
    return undefined;
  }
}

/** True if any batch of an append buffer carries a producer id (only those need producer checks). */
export function hasProducerBatches(buf: Buffer): boolean {
  for (let pos = 0; pos < buf.length; pos += entrySize(buf, pos)) {
    if (producerIdNumber(buf, pos) >= 0) return true;
  }
  return false;
}

/**
 * Check the producer batches of an append buffer whose first batch would get offset `firstOffset`
 * (consecutive offsets, as stampAppend assigns them), recording them in `stage`. Returns the original
 * batch when the append is a retry of one already written (Kafka answers such an append as a whole with
 * the duplicate's offsets). Throws ProducerStateError subclasses.
 */
export function checkAppendBatches(
  stage: ProducerStage,
  buf: Buffer,
  firstOffset: number,
  origin: AppendOrigin,
): BatchMeta | undefined {
  let pos = 0;
  let offset = firstOffset;
  while (pos < buf.length) {
    const delta = lastOffsetDelta(buf, pos);
    if (producerIdNumber(buf, pos) >= 0) {
      if (isControlBatch(buf, pos)) {
        // A marker appended as bytes (not through appendTxnMarker): it ends the transaction all the same.
        const m = readMarker(buf, pos);
        if (m) stage.addMarker(m, offset, origin);
      } else {
        const dup = stage.addData(dataBatchInfo(buf, pos), offset, origin);
        if (dup) return dup;
      }
    }
    offset += delta + 1;
    pos += entrySize(buf, pos);
  }
  return undefined;
}

export interface ProducerRecoveryContext {
  fs: FileSystem;
  dir: string;
  segments: SegmentSet;
  state: ProducerStateManager;
  logger?: Logger | undefined;
  /** The directory's file names when already listed (log-loader.ts); otherwise it is listed. */
  files?: Iterable<string> | undefined;
  /** The content of the snapshot at `offset`, known without reading it (clean-shutdown.ts). */
  preloaded?: { offset: number; data: Buffer } | undefined;
}

export interface ProducerRecoveryResult {
  /** Offset of the snapshot loaded, or -1. */
  snapshotOffset: number;
  replayFrom: number;
  replayedBatches: number;
  removedSnapshots: number[];
}

/** Rebuild `state` from the newest usable snapshot and the log after it (see the header). */
export async function recoverProducerState(ctx: ProducerRecoveryContext): Promise<ProducerRecoveryResult> {
  const { fs, dir, segments, state } = ctx;
  const leo = segments.last()!.nextOffset;
  const removed: number[] = [];
  let loaded = -1;
  const offsets = await listSnapshots(fs, dir, ctx.files);
  for (let i = offsets.length - 1; i >= 0; i--) {
    const o = offsets[i]!;
    if (o <= leo && loaded < 0) {
      const bytes = ctx.preloaded?.offset === o ? ctx.preloaded.data : await fs.readFile(snapshotPath(dir, o));
      const decoded = decodeSnapshot(bytes);
      if (typeof decoded !== 'string') {
        state.reset(decoded);
        loaded = o;
        continue;
      }
      ctx.logger?.warn({ dir, offset: o, problem: decoded }, 'ignoring unreadable producer snapshot');
    } else if (o <= leo) {
      continue;
    }
    await fs.rmrf(snapshotPath(dir, o));
    removed.push(o);
  }
  if (loaded < 0) state.reset();
  const start = Math.max(loaded, segments.first()!.baseOffset);
  let replayed = 0;
  for (const seg of segments.values()) {
    if (seg.nextOffset <= start && seg.txnIndex.count === 0) continue;
    await seg.txnIndex.truncateFrom(start);
    let next = Math.max(start, seg.baseOffset);
    while (next < seg.nextOffset) {
      const r = await seg.read(next, REPLAY_CHUNK);
      if (r === undefined || r.records.length === 0) break;
      const buf = r.records;
      for (let pos = 0; pos < buf.length; pos += entrySize(buf, pos)) {
        const base = baseOffsetNumber(buf, pos);
        next = base + lastOffsetDelta(buf, pos) + 1;
        if (producerIdNumber(buf, pos) < 0) continue;
        replayed++;
        const stage = state.stage();
        if (isControlBatch(buf, pos)) {
          const m = readMarker(buf, pos);
          const done = m && stage.addMarker(m, base, 'replay');
          state.commit(stage, false);
          if (done?.aborted) await seg.txnIndex.append({ ...done, lastStableOffset: state.stableOffsetAfter(done) });
        } else {
          stage.addData(dataBatchInfo(buf, pos), base, 'replay');
          state.commit(stage, false);
        }
      }
    }
  }
  if (replayed > 0)
    ctx.logger?.info(
      { dir, snapshot: loaded, from: start, to: leo, batches: replayed, producers: state.size },
      'rebuilt producer state',
    );
  return { snapshotOffset: loaded, replayFrom: start, replayedBatches: replayed, removedSnapshots: removed };
}

/** Write a snapshot of `state` at `offset` without fsync (see the header). */
export async function saveSnapshot(
  fs: FileSystem,
  dir: string,
  offset: number,
  state: ProducerStateManager,
): Promise<void> {
  const file = snapshotPath(dir, offset);
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, encodeSnapshot(state.all()));
  await fs.rename(tmp, file);
}
