/**
 * Produce-time check for compacted topics (no on-disk effects).
 *
 * Kafka rejects a produce to a topic whose cleanup.policy contains `compact` if any record has a null
 * key (INVALID_RECORD, error code 87). The broker calls `hasKeylessRecord` on the request's record set
 * for such topics. Control batches are ignored (their keys are markers). Compressed batches are
 * decompressed. Structural problems throw CorruptRecordError (the broker's own validation normally
 * catches them first).
 */

import { iterateBatches } from '../protocol/records/batch.js';

export async function hasKeylessRecord(batch: Buffer): Promise<boolean> {
  for (const b of iterateBatches(batch)) {
    if (b.isControl) continue;
    for await (const r of b.records()) {
      if (r.key === null) return true;
    }
  }
  return false;
}
