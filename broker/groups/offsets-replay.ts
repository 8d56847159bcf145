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
 * - Values are borrowed from the read until it ends (`release`): a value is a position in the read buffer,
 *   and only the values still current when the read is done are copied out (into an arena). A key committed
 *   every second shows up ~100 times in a MiB read of its partition: one copy instead of a hundred, and the
 *   arena (garbage) stays the size of the live values.
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

/** Keys and values are copied into arena chunks of this size (larger ones get a buffer of their own). */
const ARENA_CHUNK = 256 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * The key's hash in the table: FNV-1a over data[start, end) taken four bytes at a time (a quarter of the
 * multiply chain of a byte-wise FNV), then murmur3's finaliser, so that every input bit reaches the low bits
 * the table masks with (a word-wise FNV alone leaves a word's high byte in the hash's high bits).
 */
function hashBytes(data: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4)
    h = Math.imul(h ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)), 0x01000193);
  for (; i < end; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Bytes data[start, start + len) into the chunk `arena` at `at` (a loop beats Buffer#copy for small sizes). */
function copyInto(arena: Buffer, at: number, data: Buffer, start: number, len: number): void {
  if (len <= 64) for (let j = 0; j < len; j++) arena[at + j] = data[start + j]!;
  else data.copy(arena, at, start, start + len);
}

/**
 * The last record of each key, in the order of those last records (see the header). Each distinct key has
 * one entry, found through an open-addressing table on a hash of its bytes (no string or Map entry per
 * record); a newer record of the key overwrites the entry's value and takes the next sequence number, and
 * `applyTo` hands the entries out in sequence order.
 */
export class LastValues {
  /** Open-addressing table: entry index + 1 (0: empty); size a power of two, at most half full. */
  private table = new Int32Array(1024);
  private count = 0;
  /**
   * Per entry: key hash, key bytes (chunk, position, length), value (arena chunk or a borrowed read buffer;
   * null: tombstone), seq, ts.
   */
  private hashes: number[] = [];
  private keyIn: Buffer[] = [];
  private keyAt: number[] = [];
  private keyLen: number[] = [];
  private valueIn: (Buffer | null)[] = [];
  private valueAt: number[] = [];
  private valueLen: number[] = [];
  private seqs: number[] = [];
  private timestamps: number[] = [];
  /** Entries whose value was set since the last `release` (may point into the read); borrowed[e] = 1 there. */
  private borrowed = new Uint8Array(1024);
  private pending: number[] = [];
  private seq = 0;
  private arena = EMPTY;
  private arenaPos = 0;

  /** A copy of data[start, start + len) in the arena: sets `copiedIn` / returns its position there. */
  private copiedIn: Buffer = EMPTY;
  private copy(data: Buffer, start: number, len: number): number {
    if (this.arenaPos + len > this.arena.length) {
      this.arena = Buffer.allocUnsafe(Math.max(ARENA_CHUNK, len));
      this.arenaPos = 0;
    }
    const at = this.arenaPos;
    copyInto(this.arena, at, data, start, len);
    this.arenaPos += len;
    this.copiedIn = this.arena;
    return at;
  }

  /** The entry of key data[keyStart, keyEnd) with hash `h`, or -1 (then `slot` is where it would go). */
  private slot = 0;
  private find(data: Buffer, keyStart: number, keyEnd: number, h: number): number {
    const table = this.table;
    const mask = table.length - 1;
    const len = keyEnd - keyStart;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = table[i]! - 1;
      if (e < 0) {
        this.slot = i;
        return -1;
      }
      if (this.hashes[e] !== h || this.keyLen[e] !== len) continue;
      const k = this.keyIn[e]!;
      const at = this.keyAt[e]!;
      let j = 0;
      while (j < len && k[at + j] === data[keyStart + j]) j++;
      if (j === len) return e;
    }
  }

  private grow(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let e = 0; e < this.count; e++) {
      let i = this.hashes[e]! & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = e + 1;
    }
    this.table = table;
  }

  readonly add: RawRecord = (data, keyStart, keyEnd, valueStart, valueEnd, timestamp) => {
    const h = hashBytes(data, keyStart, keyEnd);
    let e = this.find(data, keyStart, keyEnd, h);
    if (e < 0) {
      e = this.count++;
      this.table[this.slot] = e + 1;
      this.hashes.push(h);
      const keyLen = keyEnd - keyStart;
      this.keyAt.push(this.copy(data, keyStart, keyLen));
      this.keyIn.push(this.copiedIn);
      this.keyLen.push(keyLen);
      this.valueIn.push(null);
      this.valueAt.push(0);
      this.valueLen.push(0);
      this.seqs.push(0);
      this.timestamps.push(0);
      if (this.count * 2 > this.table.length) this.grow();
      if (e >= this.borrowed.length) {
        const b = new Uint8Array(this.borrowed.length * 2);
        b.set(this.borrowed);
        this.borrowed = b;
      }
    }
    this.seqs[e] = this.seq++;
    this.timestamps[e] = timestamp;
    if (valueStart < 0) {
      this.valueIn[e] = null;
      return;
    }
    // Borrowed until `release` (then copied if still current): most are superseded within the same read.
    this.valueIn[e] = data;
    this.valueAt[e] = valueStart;
    this.valueLen[e] = valueEnd - valueStart;
    if (this.borrowed[e] === 0) {
      this.borrowed[e] = 1;
      this.pending.push(e);
    }
  };

  /**
   * The read the values were added from ends (its buffer may be reused or dropped): copy the values still
   * borrowed from it into the arena. A view would keep the whole read buffer (a MiB) alive to the end.
   */
  release(): void {
    const { pending, borrowed, valueIn, valueAt, valueLen } = this;
    for (let i = 0; i < pending.length; i++) {
      const e = pending[i]!;
      borrowed[e] = 0;
      const data = valueIn[e];
      if (data === null || data === undefined) continue;
      const len = valueLen[e]!;
      valueAt[e] = this.copy(data, valueAt[e]!, len);
      valueIn[e] = this.copiedIn;
    }
    this.pending = [];
  }

  /** Add a record held as buffers (a transaction's records, applied at its COMMIT marker). */
  addRecord(key: Buffer, value: Buffer | null, timestamp: number): void {
    if (value === null) this.add(key, 0, key.length, -1, 0, timestamp);
    else {
      const both = Buffer.concat([key, value]);
      this.add(both, 0, key.length, key.length, both.length, timestamp);
    }
  }

  get size(): number {
    return this.count;
  }

  /** Hand every kept record to `apply` (in last-record order) while `current()` holds. */
  applyTo(apply: ApplyRecord, current: () => boolean = () => true): void {
    this.release();
    const { count, keyIn, keyAt, keyLen, valueIn, valueAt, valueLen, seqs, timestamps } = this;
    this.table = new Int32Array(1024);
    this.count = 0;
    this.hashes = [];
    this.keyIn = [];
    this.keyAt = [];
    this.keyLen = [];
    this.valueIn = [];
    this.valueAt = [];
    this.valueLen = [];
    this.seqs = [];
    this.timestamps = [];
    this.borrowed = new Uint8Array(1024);
    this.seq = 0;
    this.arena = EMPTY;
    this.arenaPos = 0;
    this.copiedIn = EMPTY;
    const order = Array.from({ length: count }, (_, e) => e).sort((a, b) => seqs[a]! - seqs[b]!);
    for (const e of order) {
      if (!current()) return;
      const chunk = valueIn[e]!;
      const value = chunk === null ? null : chunk.subarray(valueAt[e]!, valueAt[e]! + valueLen[e]!);
      apply(keyIn[e]!.subarray(keyAt[e]!, keyAt[e]! + keyLen[e]!), value, timestamps[e]!);
    }
  }
}
