/**
 * Growable big-endian writer for the Kafka wire protocol.
 *
 * Small fields go into a scratch buffer; `records` (and large `bytes`) are kept as references and emitted
 * as separate chunks, so a Fetch response carrying megabytes of records is encoded without copying them.
 * `chunks()` returns the frame as Buffer[] for a vectored socket write; `toBuffer()` concatenates.
 */
import { EncodeError } from '../errors.js';

/** `bytes` values at least this large are referenced, not copied. */
const ZERO_COPY_THRESHOLD = 4096;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  /** Start of the scratch region not yet emitted as a chunk. */
  private mark = 0;
  private readonly out: Buffer[] = [];
  private flushed = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.flushed + (this.pos - this.mark);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Emit what is pending and start a fresh scratch buffer; earlier chunks stay valid.
    if (this.pos > this.mark) {
      this.out.push(this.buf.subarray(this.mark, this.pos));
      this.flushed += this.pos - this.mark;
    }
    this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2, 256));
    this.pos = 0;
    this.mark = 0;
  }

  writeInt8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }

  writeBool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  writeInt16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  writeUint16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  writeInt32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  writeUint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  writeInt64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  writeFloat64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  writeUVarint(v: number): void {
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  writeUuid(v: string): void {
    this.ensure(16);
    const n = v.length === 22 ? this.buf.write(v, this.pos, 16, 'base64url') : 0;
    if (n !== 16) throw new EncodeError(`uuid must be 22 base64url characters (16 bytes): ${JSON.stringify(v)}`);
    this.pos += 16;
  }

  /** Copy raw bytes into the scratch buffer. */
  writeRaw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Reference a buffer as its own chunk (no copy). */
  writeRef(b: Buffer): void {
    if (b.length < ZERO_COPY_THRESHOLD) {
      this.writeRaw(b);
      return;
    }
    if (this.pos > this.mark) {
      this.out.push(this.buf.subarray(this.mark, this.pos));
      this.flushed += this.pos - this.mark;
      this.mark = this.pos;
    }
    this.out.push(b);
    this.flushed += b.length;
  }

  private utf8(s: string, len: number): void {
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }

  writeString(s: string | null): void {
    if (s === null) {
      this.writeInt16(-1);
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff) throw new EncodeError(`string of ${len} bytes exceeds int16 length`);
    this.writeInt16(len);
    this.utf8(s, len);
  }

  writeCompactString(s: string | null): void {
    if (s === null) {
      this.writeUVarint(0);
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.writeUVarint(len + 1);
    this.utf8(s, len);
  }

  writeBytes(b: Buffer | null): void {
    if (b === null) {
      this.writeInt32(-1);
      return;
    }
    this.writeInt32(b.length);
    this.writeRef(b);
  }

  writeCompactBytes(b: Buffer | null): void {
    if (b === null) {
      this.writeUVarint(0);
      return;
    }
    this.writeUVarint(b.length + 1);
    this.writeRef(b);
  }

  writeArrayLength(n: number): void {
    this.writeInt32(n);
  }

  writeCompactArrayLength(n: number): void {
    this.writeUVarint(n + 1);
  }

  /** Append everything another writer holds (used for tagged-field values, whose size comes first). */
  writeWriter(other: Writer): void {
    for (const c of other.chunks()) this.writeRef(c);
  }

  /** The encoded bytes as chunks, in order. */
  chunks(): Buffer[] {
    if (this.pos > this.mark) {
      this.out.push(this.buf.subarray(this.mark, this.pos));
      this.flushed += this.pos - this.mark;
      this.mark = this.pos;
    }
    return this.out;
  }

  toBuffer(): Buffer {
    const c = this.chunks();
    return c.length === 1 ? c[0] : Buffer.concat(c, this.flushed);
  }
}
