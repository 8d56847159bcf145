/**
 * Replay of one `__consumer_offsets` partition at load (offsets-log.ts's replayPartition), made cheap:
 *
 * - Records are walked straight from the batch bytes (`forEachRecord`): key and value are positions in the
 *   records section, the timestamp a number; no per-record object, view, BigInt or header array as
 *   RecordBatch.iterateRecords builds (views and BigInts are what a walk of small records spends its time on).
 * - Last value wins (`LastValues`): records are kept by key, each new record of a key replacing the older and
 *   moving to the end, and only what is left is applied, in the order of each key's last record. That is
 *   exactly the log the cleaner would leave after compacting everything (the last record of each key at its
 *   own position, tombstones included), which a load must handle anyway; so only the final value of a key
 *   is decoded and applied, not the thirty commits before it.
 * Invariants: a record below `readFrom` (the batch started before the read) is skipped; a structural problem
 * throws CorruptRecordError, as RecordBatch's own walk does.
 */
import { CorruptRecordError } from '../../protocol/errors.js';
import {
  CompressionType,
  TimestampType,
  baseOffsetNumber,
  baseTimestampNumber,
  maxTimestampNumber,
} from '../../protocol/records/batch-header.js';
import type { RecordBatch } from '../../protocol/records/batch.js';
import { readVarint, readVarlongNumber, type Cursor } from '../../protocol/records/varint.js';

export type ApplyRecord = (key: Buffer, value: Buffer | null, timestamp: number) => void;

/** A record as positions in its batch's records section; valueStart -1: null value (tombstone). */
export type RawRecord = (
  data: Buffer,
  keyStart: number,
  keyEnd: number,
  valueStart: number,
  valueEnd: number,
  timestamp: number,
) => void;

/** Reads a varint length at cur, checks the bytes fit in the record, moves past them; returns the length. */
function lengthAt(data: Buffer, cur: Cursor, end: number): number {
  const len = readVarint(data, cur, end);
  if (len > 0) {
    if (cur.pos + len > end) throw new CorruptRecordError(`record field of ${len} bytes runs past its record`);
    cur.pos += len;
  }
  return len;
}

/** The records section of `batch`, uncompressed: synchronous (no await) for an uncompressed batch. */
export function recordsOf(batch: RecordBatch): Buffer | Promise<Buffer> {
  return batch.compression === CompressionType.None ? batch.recordsData : batch.decompressRecords();
}

/**
 * Every record of `batch` (its uncompressed records section `data`, see recordsOf) at or above offset
 * `readFrom` with a non-null key, in order: fn(key, value, timestamp).
 */
export function forEachRecord(batch: RecordBatch, data: Buffer, readFrom: number, fn: RawRecord): void {
  const buf = batch.buffer;
  const count = batch.recordsCount;
  const baseOffset = baseOffsetNumber(buf);
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
    const keyLen = lengthAt(data, cur, end);
    const keyEnd = cur.pos;
    const valueLen = lengthAt(data, cur, end);
    const valueEnd = cur.pos;
    cur.pos = end; // headers: none are written to this topic, and none are needed
    if (keyLen < 0 || baseOffset + offsetDelta < readFrom) continue;
    const keyStart = keyEnd - keyLen;
    const valueStart = valueLen < 0 ? -1 : valueEnd - valueLen;
    fn(data, keyStart, keyEnd, valueStart, valueEnd, logAppend ? baseTs : baseTs + tsDelta);
  }
}

/** The record's key and value as buffers of their own (copies: nothing keeps the read buffer alive). */
export function copyRecord(
  data: Buffer,
  keyStart: number,
  keyEnd: number,
  valueStart: number,
  valueEnd: number,
): { key: Buffer; value: Buffer | null } {
  return {
    key: copyRange(data, keyStart, keyEnd),
    value: valueStart < 0 ? null : copyRange(data, valueStart, valueEnd),
  };
}

/** A copy of data[start, end) (from the buffer pool when small, and no intermediate view). */
function copyRange(data: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  data.copy(out, 0, start, end);
  return out;
}

/** Values are copied into arena chunks of this size (larger ones get a buffer of their own). */
const ARENA_CHUNK = 256 * 1024;

/** The last record of each key, in the order of those last records (see the header). */
export class LastValues {
  /** Key (latin1 string of its bytes) → its slot; a superseded slot is emptied (`dead`). */
  private readonly slotOf = new Map<string, number>();
  private keys: string[] = [];
  private dead: boolean[] = [];
  /** A slot's value: the arena chunk holding it (null: tombstone), its position and length there. */
  private valueIn: (Buffer | null)[] = [];
  private valueAt: number[] = [];
  private valueLen: number[] = [];
  private timestamps: number[] = [];
  private arena = Buffer.allocUnsafe(0);
  private arenaPos = 0;

  readonly add: RawRecord = (data, keyStart, keyEnd, valueStart, valueEnd, timestamp) => {
    const k = data.toString('latin1', keyStart, keyEnd);
    const old = this.slotOf.get(k);
    if (old !== undefined) this.dead[old] = true;
    this.slotOf.set(k, this.keys.length);
    this.keys.push(k);
    this.dead.push(false);
    this.timestamps.push(timestamp);
    if (valueStart < 0) {
      this.valueIn.push(null);
      this.valueAt.push(0);
      this.valueLen.push(0);
      return;
    }
    // A copy: a view would keep the whole read buffer (up to a MiB) alive for the rest of the partition.
    const len = valueEnd - valueStart;
    if (this.arenaPos + len > this.arena.length) {
      this.arena = Buffer.allocUnsafe(Math.max(ARENA_CHUNK, len));
      this.arenaPos = 0;
    }
    const arena = this.arena;
    const at = this.arenaPos;
    // Offset values are some 30 bytes: a loop beats Buffer#copy's argument handling at that size.
    if (len <= 64) for (let j = 0; j < len; j++) arena[at + j] = data[valueStart + j]!;
    else data.copy(arena, at, valueStart, valueEnd);
    this.valueIn.push(this.arena);
    this.valueAt.push(this.arenaPos);
    this.valueLen.push(len);
    this.arenaPos += len;
  };

  /** Add a record held as buffers (a transaction's records, applied at its COMMIT marker). */
  addRecord(key: Buffer, value: Buffer | null, timestamp: number): void {
    if (value === null) this.add(key, 0, key.length, -1, 0, timestamp);
    else {
      const both = Buffer.concat([key, value]);
      this.add(both, 0, key.length, key.length, both.length, timestamp);
    }
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** Hand every kept record to `apply` (in last-record order) while `current()` holds. */
  applyTo(apply: ApplyRecord, current: () => boolean = () => true): void {
    const { keys, dead, valueIn, valueAt, valueLen, timestamps } = this;
    this.slotOf.clear();
    this.keys = [];
    this.dead = [];
    this.valueIn = [];
    this.valueAt = [];
    this.valueLen = [];
    this.timestamps = [];
    this.arena = Buffer.allocUnsafe(0);
    this.arenaPos = 0;
    for (let i = 0; i < keys.length; i++) {
      if (dead[i]) continue;
      if (!current()) return;
      const chunk = valueIn[i]!;
      const value = chunk === null ? null : chunk.subarray(valueAt[i]!, valueAt[i]! + valueLen[i]!);
      apply(Buffer.from(keys[i]!, 'latin1'), value, timestamps[i]!);
    }
  }
}
