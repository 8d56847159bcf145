/**
 * Replay of one `__consumer_offsets` partition at load (offsets-log.ts's replayPartition), made cheap:
 *
 * - Records are walked straight from the batch bytes (`forEachRecord`): key and value are subarrays, the
 *   timestamp a number; no per-record object, BigInt or header array as RecordBatch.iterateRecords builds.
 * - Last value wins (`LastValues`): records are kept by key, each new record of a key replacing the older and
 *   moving to the end, and only what is left is applied, in the order of each key's last record. That is
 *   exactly the log the cleaner would leave after compacting everything (the last record of each key at its
 *   own position, tombstones included), which a load must handle anyway; so only the final value of a key
 *   is decoded and applied, not the thirty commits before it.
 * Invariants: a record below `readFrom` (the batch started before the read) is skipped; a structural problem
 * throws CorruptRecordError, as RecordBatch's own walk does.
 */
import { CorruptRecordError } from '../../protocol/errors.js';
import { baseTimestampNumber, maxTimestampNumber } from '../../protocol/records/batch-header.js';
import { TimestampType } from '../../protocol/records/batch-header.js';
import type { RecordBatch } from '../../protocol/records/batch.js';
import { readVarint, readVarlongNumber, type Cursor } from '../../protocol/records/varint.js';

export type ApplyRecord = (key: Buffer, value: Buffer | null, timestamp: number) => void;

function bytesAt(data: Buffer, cur: Cursor, end: number): Buffer | null {
  const len = readVarint(data, cur, end);
  if (len < 0) return null;
  const start = cur.pos;
  if (start + len > end) throw new CorruptRecordError(`record field of ${len} bytes runs past its record`);
  cur.pos = start + len;
  return data.subarray(start, start + len);
}

/**
 * Every record of `batch` at or above offset `readFrom` with a non-null key, in order: fn(key, value,
 * timestamp). Decompresses first when the batch is compressed.
 */
export async function forEachRecord(batch: RecordBatch, readFrom: number, fn: ApplyRecord): Promise<void> {
  const data = await batch.decompressRecords();
  const buf = batch.buffer;
  const count = batch.recordsCount;
  const baseOffset = Number(batch.baseOffset);
  const logAppend = batch.timestampType === TimestampType.LogAppendTime;
  const baseTs = logAppend ? maxTimestampNumber(buf) : baseTimestampNumber(buf);
  const cur: Cursor = { pos: 0 };
  for (let i = 0; i < count; i++) {
    const length = readVarint(data, cur);
    const end = cur.pos + length;
    if (length < 1 || end > data.length) throw new CorruptRecordError(`record length ${length} runs past the batch`);
    cur.pos++; // attributes
    const tsDelta = readVarlongNumber(data, cur, end);
    const offsetDelta = readVarint(data, cur, end);
    const key = bytesAt(data, cur, end);
    const value = bytesAt(data, cur, end);
    cur.pos = end; // headers: none are written to this topic, and none are needed
    if (key === null || baseOffset + offsetDelta < readFrom) continue;
    fn(key, value, logAppend ? baseTs : baseTs + tsDelta);
  }
}

/** The last record of each key, in the order of those last records (see the header). */
export class LastValues {
  private readonly byKey = new Map<string, { value: Buffer | null; timestamp: number }>();

  readonly add: ApplyRecord = (key, value, timestamp) => {
    const k = key.toString('latin1');
    this.byKey.delete(k);
    // Values are views into a read buffer of up to a MiB: a copy keeps the buffers of a long log collectable.
    this.byKey.set(k, { value: value === null ? null : Buffer.from(value), timestamp });
  };

  get size(): number {
    return this.byKey.size;
  }

  /** Hand every kept record to `apply` (in last-record order) while `current()` holds. */
  applyTo(apply: ApplyRecord, current: () => boolean = () => true): void {
    for (const [k, r] of this.byKey) {
      if (!current()) return;
      apply(Buffer.from(k, 'latin1'), r.value, r.timestamp);
    }
    this.byKey.clear();
  }
}
