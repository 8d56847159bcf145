/**
 * Zig-zag variable-length integers as used inside record batch v2 records (protobuf `sint32` / `sint64`,
 * Kafka `ByteUtils.readVarint` / `readVarlong`). Not to be confused with the unsigned varints of flexible
 * protocol messages (compact lengths, tagged fields).
 *
 * Encoding: zig-zag maps signed to unsigned (0→0, -1→1, 1→2, -2→3, ...), then the unsigned value is written
 * 7 bits per byte, least significant group first, high bit set on every byte but the last.
 *
 * Invariants:
 * - a varint (int32) is at most 5 bytes and its 5th byte carries at most 4 bits; a varlong (int64) is at most
 *   10 bytes and its 10th byte carries at most 1 bit. Anything longer or wider throws CorruptRecordError; no
 *   loop runs more than 5 / 10 iterations.
 * - running past `end` (default buf.length) throws CorruptRecordError: a record that ends inside a varint is
 *   corrupt, never a partial read.
 * - readers take a Cursor ({ pos }) and advance it, so the hot path allocates no result objects; the caller
 *   reuses one cursor for a whole batch.
 * - readVarlong returns a bigint; readVarlongNumber returns a number and throws CorruptRecordError when the
 *   zig-zag value reaches 2^53 (|value| > 2^52), for callers where a JS number is enough (validation scans).
 * - writers accept number or bigint; numbers must be integers (EncodeError otherwise), varints must fit int32.
 */
import { CorruptRecordError, EncodeError } from '../errors.js';

/** Read position shared by successive reads. */
export interface Cursor {
  pos: number;
}

const TWO_POW_32 = 2 ** 32;
const TWO_POW_52 = 2 ** 52;
const TWO_POW_53 = 2 ** 53;

function truncated(what: string): never {
  throw new CorruptRecordError(`${what} runs past the end of its record data`);
}

/** Read a zig-zag varint (int32) at cur.pos, advancing cur.pos. */
export function readVarint(buf: Buffer | Uint8Array, cur: Cursor, end = buf.length): number {
  let pos = cur.pos;
  if (pos >= end) truncated('varint');
  let b = buf[pos++];
  if (b < 0x80) {
    cur.pos = pos;
    return (b >>> 1) ^ -(b & 1);
  }
  let value = b & 0x7f;
  let shift = 7;
  for (;;) {
    if (pos >= end) truncated('varint');
    b = buf[pos++];
    if (shift === 28) {
      if (b > 0x0f) throw new CorruptRecordError('varint is longer than 5 bytes or exceeds 32 bits');
      value = (value | (b << 28)) >>> 0;
      break;
    }
    value |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  cur.pos = pos;
  // value is an unsigned 32-bit number here; undo zig-zag into a signed int32.
  return (value >>> 1) ^ -(value & 1);
}

/**
 * Read a zig-zag varlong as a JS number, advancing cur.pos. Throws CorruptRecordError if the encoding is
 * over-long or the value is not a safe integer.
 */
export function readVarlongNumber(buf: Buffer | Uint8Array, cur: Cursor, end = buf.length): number {
  let pos = cur.pos;
  let value = 0; // unsigned zig-zag value, exact while < 2^53
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) truncated('varlong');
    const b = buf[pos++];
    value += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (value >= TWO_POW_53) throw new CorruptRecordError('varlong value exceeds the safe integer range');
      cur.pos = pos;
      // zig-zag decode without 32-bit operators
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
    mul *= 128;
    if (mul > TWO_POW_53) throw new CorruptRecordError('varlong value exceeds the safe integer range');
  }
  throw new CorruptRecordError('varlong is longer than 10 bytes');
}

/** Read a zig-zag varlong (int64) as a bigint at cur.pos, advancing cur.pos. */
export function readVarlong(buf: Buffer | Uint8Array, cur: Cursor, end = buf.length): bigint {
  let pos = cur.pos;
  // Fast path: up to 4 bytes (28 bits) fit in a small integer.
  let low = 0;
  let shift = 0;
  for (; shift < 28; shift += 7) {
    if (pos >= end) truncated('varlong');
    const b = buf[pos++];
    low |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cur.pos = pos;
      return BigInt((low >>> 1) ^ -(low & 1));
    }
  }
  // Slow path: the remaining up to 6 bytes as a second accumulator (<= 36 bits).
  let high = 0;
  let mul = 1;
  for (let i = 4; i < 10; i++) {
    if (pos >= end) truncated('varlong');
    const b = buf[pos++];
    if (i === 9 && b > 0x01) throw new CorruptRecordError('varlong is longer than 10 bytes or exceeds 64 bits');
    high += (b & 0x7f) * mul;
    if (b < 0x80) {
      cur.pos = pos;
      const u = (BigInt(high) << 28n) | BigInt(low >>> 0);
      return (u >> 1n) ^ -(u & 1n);
    }
    mul *= 128;
  }
  throw new CorruptRecordError('varlong is longer than 10 bytes');
}

/** Bytes taken by a zig-zag varint of an int32. */
export function sizeOfVarint(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

/** Bytes taken by a zig-zag varlong. */
export function sizeOfVarlong(value: bigint | number): number {
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= TWO_POW_52) {
    let v = value >= 0 ? value * 2 : -value * 2 - 1;
    let n = 1;
    while (v >= 128) {
      v = Math.floor(v / 128);
      n++;
    }
    return n;
  }
  if (typeof value === 'number' && !Number.isInteger(value))
    throw new EncodeError(`varlong value ${value} is not an integer`);
  let v = zigzag64(BigInt(value));
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function checkInt32(value: number): void {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new EncodeError(`varint value ${value} is not an int32`);
  }
}

/** Write a zig-zag varint (int32) at pos; returns the position after it. */
export function writeVarint(buf: Buffer | Uint8Array, pos: number, value: number): number {
  checkInt32(value);
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MASK = 2n ** 64n - 1n;

function zigzag64(value: bigint): bigint {
  if (value < INT64_MIN || value > INT64_MAX) throw new EncodeError(`varlong value ${value} is not an int64`);
  return ((value << 1n) ^ (value >> 63n)) & UINT64_MASK;
}

/** Write a zig-zag varlong (int64) at pos; returns the position after it. */
export function writeVarlong(buf: Buffer | Uint8Array, pos: number, value: bigint | number): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new EncodeError(`varlong value ${value} is not a safe integer`);
    if (Math.abs(value) > TWO_POW_52) return writeVarlong(buf, pos, BigInt(value));
    let v = value >= 0 ? value * 2 : -value * 2 - 1;
    if (v < TWO_POW_32) {
      v >>>= 0;
      while (v >= 0x80) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
      return pos;
    }
    while (v >= 128) {
      buf[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
    return pos;
  }
  let v = zigzag64(value);
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

/** Skip over one varint or varlong (at most 10 bytes) without decoding it; returns the new position. */
export function skipVarint(buf: Buffer | Uint8Array, pos: number, end = buf.length): number {
  for (let i = 0; i < 10; i++) {
    if (pos >= end) truncated('varint');
    if (buf[pos++] < 0x80) return pos;
  }
  throw new CorruptRecordError('varint is longer than 10 bytes');
}
