/**
 * Rewriting one record batch for compaction (pure, no I/O besides (de)compression).
 *
 * A record is retained if it has a key, the offset map has no later offset for that key (offset >= the
 * map's offset, or the key is not in the dirty section), and, for a tombstone (null value), the batch's
 * delete horizon has not passed. Keyless records cannot be compacted and are dropped (the broker
 * rejects them on compacted topics; see compaction.ts).
 *
 * Output batch rules (what Kafka's cleaner preserves):
 * - Control batches go through `filterMarker`, never `filterBatch` (which keeps them verbatim).
 * - Records of aborted transactions (`discard`) are all removed, so compaction can never let them
 *   replace committed values.
 * - A batch that loses nothing and needs no new delete horizon is kept byte for byte.
 * - Otherwise it is rebuilt with the same base offset, partition leader epoch, codec, timestamp type
 *   (LogAppendTime keeps the original maxTimestamp), producer id/epoch, base sequence and transactional
 *   flag; each retained record keeps its offsetDelta (so its offset), timestamp and headers; and the
 *   original lastOffsetDelta is written back (so the batch still ends at the same offset and the
 *   producer's last sequence stays base + lastOffsetDelta), CRC recomputed.
 * - Tombstones retained in a batch without a delete horizon get one: now + delete.retention.ms, stored
 *   as the batch's baseTimestamp with attributes bit 6 (KIP-534). A later clean after the horizon drops
 *   them.
 * - A batch left with no records is dropped, unless `retainEmpty` (the last batch of a cleaned segment,
 *   which must keep the segment's end offset): it is then written as an empty batch with the original
 *   header fields and lastOffsetDelta.
 *
 * Transaction markers (`filterMarker`, KIP-534): a COMMIT/ABORT marker the cleaner found `removable`
 * (its transaction has no data left, see cleaned-txns.ts) without a delete horizon is rebuilt with one
 * (now + delete.retention.ms, attributes bit 6 + baseTimestamp; its one record keeps key, value and
 * timestamp); with a horizon that has passed it is dropped, unless `retainEmpty` (then it is kept
 * verbatim: an empty control batch would have no marker record, which readers expect). A marker that
 * is not removable, or that is `retainEmpty` and not yet stamped, is kept byte for byte. Other control
 * batches are kept verbatim.
 */

import { RecordBatch, ControlRecordType } from '../protocol/records/batch.js';
import { CompressionType, LAST_OFFSET_DELTA_OFFSET, TimestampType } from '../protocol/records/batch-header.js';
import { buildRecordBatch } from '../protocol/records/builder.js';
import type { RecordInput } from '../protocol/records/builder.js';
import type { OffsetMap } from './offset-map.js';

export interface FilterOptions {
  now: number;
  deleteRetentionMs: number;
  retainEmpty: boolean;
  /** The batch belongs to an aborted transaction: every record goes (Kafka's cleaner drops aborted data). */
  discard?: boolean;
}

export interface FilterResult {
  /** The batch to write, or undefined if the whole batch goes. */
  batch: Buffer | undefined;
  recordsRemoved: number;
  tombstonesRemoved: number;
  /** Delete horizon of the output batch if it retains tombstones. */
  deleteHorizon?: number;
}

export async function filterBatch(batch: RecordBatch, map: OffsetMap, opts: FilterOptions): Promise<FilterResult> {
  if (batch.isControl) return { batch: batch.buffer, recordsRemoved: 0, tombstonesRemoved: 0 };
  const records = await batch.recordsArray();
  const horizonBig = batch.deleteHorizonMs;
  const horizon = horizonBig === null ? undefined : Number(horizonBig);
  const kept: typeof records = [];
  let tombstonesRemoved = 0;
  let keptTombstones = 0;
  for (const r of records) {
    if (r.key === null || opts.discard) continue;
    const latest = map.get(r.key);
    if (latest !== undefined && Number(r.offset) < latest) continue;
    if (r.value === null) {
      if (horizon !== undefined && opts.now >= horizon) {
        tombstonesRemoved++;
        continue;
      }
      keptTombstones++;
    }
    kept.push(r);
  }
  const recordsRemoved = records.length - kept.length;
  const newHorizon = keptTombstones > 0 ? (horizon ?? opts.now + opts.deleteRetentionMs) : undefined;
  if (recordsRemoved === 0 && newHorizon === horizon) {
    const res: FilterResult = { batch: batch.buffer, recordsRemoved, tombstonesRemoved };
    if (newHorizon !== undefined) res.deleteHorizon = newHorizon;
    return res;
  }
  if (kept.length === 0 && !opts.retainEmpty) return { batch: undefined, recordsRemoved, tombstonesRemoved };
  const inputs: RecordInput[] = kept.map((r) => ({
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
    offsetDelta: r.offsetDelta,
  }));
  const logAppend = batch.timestampType === TimestampType.LogAppendTime;
  const out = await buildRecordBatch(inputs, {
    baseOffset: batch.baseOffset,
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
    compression: kept.length > 0 ? batch.compression : CompressionType.None,
    timestampType: batch.timestampType,
    ...(logAppend ? { logAppendTime: batch.maxTimestamp } : {}),
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    transactional: batch.isTransactional,
    ...(newHorizon !== undefined ? { deleteHorizon: newHorizon } : {}),
    lastOffsetDelta: batch.lastOffsetDelta,
  });
  if (out.readInt32BE(LAST_OFFSET_DELTA_OFFSET) !== batch.lastOffsetDelta) {
    out.writeInt32BE(batch.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
    new RecordBatch(out).updateCrc();
  }
  const res: FilterResult = { batch: out, recordsRemoved, tombstonesRemoved };
  if (newHorizon !== undefined) res.deleteHorizon = newHorizon;
  return res;
}

export interface MarkerFilterOptions {
  now: number;
  deleteRetentionMs: number;
  retainEmpty: boolean;
  /** The marker's transaction has no retained data batch anywhere in the log. */
  removable: boolean;
}

export interface MarkerFilterResult {
  /** The batch to write, or undefined if the marker goes. */
  batch: Buffer | undefined;
  markerRemoved: boolean;
  /** Delete horizon of a removable marker that is kept until then. */
  deleteHorizon?: number;
}

/** Whether a control batch holds a COMMIT or ABORT marker (decodes its first record only). */
export async function isTxnMarker(batch: RecordBatch): Promise<boolean> {
  if (!batch.isControl || !batch.isTransactional || batch.producerId < 0n) return false;
  try {
    const { type } = await batch.controlRecord();
    return type === ControlRecordType.Commit || type === ControlRecordType.Abort;
  } catch {
    return false; // unreadable marker: keep it (never remove what we cannot interpret)
  }
}

/** Apply the marker rule (see the header) to the control batch `batch` holding a COMMIT/ABORT marker. */
export async function filterMarker(batch: RecordBatch, opts: MarkerFilterOptions): Promise<MarkerFilterResult> {
  const keep: MarkerFilterResult = { batch: batch.buffer, markerRemoved: false };
  if (!opts.removable) return keep;
  const horizonBig = batch.deleteHorizonMs;
  if (horizonBig !== null) {
    const horizon = Number(horizonBig);
    if (opts.now < horizon) return { ...keep, deleteHorizon: horizon };
    return opts.retainEmpty ? keep : { batch: undefined, markerRemoved: true };
  }
  if (opts.retainEmpty) return keep;
  const records = await batch.recordsArray();
  const deleteHorizon = opts.now + opts.deleteRetentionMs;
  const logAppend = batch.timestampType === TimestampType.LogAppendTime;
  const out = await buildRecordBatch(
    records.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
      offsetDelta: r.offsetDelta,
    })),
    {
      baseOffset: batch.baseOffset,
      partitionLeaderEpoch: batch.partitionLeaderEpoch,
      compression: batch.compression,
      timestampType: batch.timestampType,
      ...(logAppend ? { logAppendTime: batch.maxTimestamp } : {}),
      producerId: batch.producerId,
      producerEpoch: batch.producerEpoch,
      baseSequence: batch.baseSequence,
      transactional: true,
      control: true,
      deleteHorizon,
      lastOffsetDelta: batch.lastOffsetDelta,
    },
  );
  if (out.readInt32BE(LAST_OFFSET_DELTA_OFFSET) !== batch.lastOffsetDelta) {
    out.writeInt32BE(batch.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
    new RecordBatch(out).updateCrc();
  }
  return { batch: out, markerRemoved: false, deleteHorizon };
}
