/**
 * Rewriting one record batch for compaction (pure, no I/O besides (de)compression).
 *
 * A record is retained if it has a key, the offset map has no later offset for that key (offset >= the
 * map's offset, or the key is not in the dirty section), and, for a tombstone (null value), the batch's
 * delete horizon has not passed. Keyless records cannot be compacted and are dropped (the broker
 * rejects them on compacted topics; see compaction.ts).
 *
 * Output batch rules (what Kafka's cleaner preserves):
 * - Control batches (transaction markers) are kept verbatim (simple rule: markers are never removed).
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
 */

import { RecordBatch } from '../protocol/records/batch.js';
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
  const inputs: RecordInput[] = kept.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta }));
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
