/**
 * Bounds-checked big-endian reader over one frame of the Kafka wire protocol.
 *
 * Invariants: `pos` never passes `end`; every read checks the bytes it needs first and throws
 * DecodeError (never a RangeError, never an allocation sized by the input) when they are missing.
 * Lengths read from the input are checked against the bytes that remain before anything is allocated.
 * `bytes` and `records` come back as zero-copy slices of the input buffer.
 */
import { DecodeError } from '../errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: false });

export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.end - this.pos < n) {
      throw new DecodeError(`truncated input: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  readInt8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  readBool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }

  readInt16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  readUint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  readInt32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  readUint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  readInt64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  readFloat64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned varint of at most 5 bytes (a uint32); longer encodings are refused. */
  readUVarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw new DecodeError(`truncated varint at offset ${this.pos}`);
      const b = this.buf[this.pos++];
      if (i === 4 && b > 0x0f) throw new DecodeError(`varint overflows 32 bits at offset ${this.pos - 1}`);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new DecodeError(`varint longer than 5 bytes at offset ${this.pos}`);
  }

  /** 16 raw bytes, returned as Kafka's base64url text form (22 characters). */
  readUuid(): string {
    this.need(16);
    const s = this.buf.toString('base64url', this.pos, this.pos + 16);
    this.pos += 16;
    return s;
  }

  private utf8(len: number): string {
    this.need(len);
    const start = this.pos;
    this.pos += len;
    if (len < 48) {
      // Short strings (topic names, client ids): an ASCII fast path beats the decoder call.
      let ascii = true;
      for (let i = start; i < start + len; i++) {
        if (this.buf[i] > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) return this.buf.toString('latin1', start, start + len);
    }
    return UTF8.decode(this.buf.subarray(start, start + len));
  }

  /** int16 length (-1 = null) + UTF-8. */
  readString(): string | null {
    const len = this.readInt16();
    if (len < 0) {
      if (len === -1) return null;
      throw new DecodeError(`negative string length ${len}`);
    }
    return this.utf8(len);
  }

  /** unsigned varint length+1 (0 = null) + UTF-8. */
  readCompactString(): string | null {
    const n = this.readUVarint();
    if (n === 0) return null;
    return this.utf8(n - 1);
  }

  /** A string that the schema says is never null in this version. */
  readStringNotNull(): string {
    const s = this.readString();
    if (s === null) throw new DecodeError(`null in a non-nullable string field at offset ${this.pos}`);
    return s;
  }

  readCompactStringNotNull(): string {
    const s = this.readCompactString();
    if (s === null) throw new DecodeError(`null in a non-nullable string field at offset ${this.pos}`);
    return s;
  }

  private slice(len: number): Buffer {
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  /** int32 length (-1 = null) + bytes, as a slice of the input. */
  readBytes(): Buffer | null {
    const len = this.readInt32();
    if (len < 0) {
      if (len === -1) return null;
      throw new DecodeError(`negative bytes length ${len}`);
    }
    return this.slice(len);
  }

  readCompactBytes(): Buffer | null {
    const n = this.readUVarint();
    if (n === 0) return null;
    return this.slice(n - 1);
  }

  readBytesNotNull(): Buffer {
    const b = this.readBytes();
    if (b === null) throw new DecodeError(`null in a non-nullable bytes field at offset ${this.pos}`);
    return b;
  }

  readCompactBytesNotNull(): Buffer {
    const b = this.readCompactBytes();
    if (b === null) throw new DecodeError(`null in a non-nullable bytes field at offset ${this.pos}`);
    return b;
  }

  /** Array element count, int32 (-1 = null). Refuses counts larger than the bytes left. */
  readArrayLength(): number {
    const n = this.readInt32();
    if (n < 0) {
      if (n === -1) return -1;
      throw new DecodeError(`negative array length ${n}`);
    }
    if (n > this.end - this.pos)
      throw new DecodeError(`array length ${n} exceeds the ${this.end - this.pos} bytes left`);
    return n;
  }

  /** Compact array element count (-1 = null). Refuses counts larger than the bytes left. */
  readCompactArrayLength(): number {
    const n = this.readUVarint() - 1;
    if (n > this.end - this.pos)
      throw new DecodeError(`array length ${n} exceeds the ${this.end - this.pos} bytes left`);
    return n;
  }

  /** Start of a tagged field's value: returns the offset where it must end. */
  taggedFieldEnd(): number {
    const size = this.readUVarint();
    this.need(size);
    return this.pos + size;
  }

  /** After reading a known tagged field, the reader must sit exactly at its declared end. */
  checkTaggedFieldEnd(end: number, tag: number): void {
    if (this.pos !== end)
      throw new DecodeError(`tagged field ${tag} size mismatch: ended at ${this.pos}, declared ${end}`);
  }

  /** Skip a tagged-field section entirely (all tags unknown). */
  skipTaggedFields(): void {
    const n = this.readUVarint();
    for (let i = 0; i < n; i++) {
      this.readUVarint();
      const size = this.readUVarint();
      this.skip(size);
    }
  }
}
