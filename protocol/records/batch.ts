/**
 * Zero-copy view over one record batch v2 (magic 2), iteration over its records, and splitting a buffer of
 * consecutive batches. Control records (transaction markers) are parsed in control-record.ts.
 *
 * Layout (see batch-header.ts for offsets): 61-byte header, then `recordsCount` records, or, when the
 * compression bits of attributes are non-zero, one compressed stream holding those records. Each record:
 * length varint, attributes int8, timestampDelta varlong, offsetDelta varint, key (varint length, -1 null),
 * value (varint length, -1 null), headers count varint, headers (key: varint length + UTF-8, value: varint
 * length -1 null + bytes). All varints zig-zag (varint.ts).
 *
 * Invariants:
 * - A RecordBatch wraps exactly the batch's bytes (a subarray; nothing is copied). Header getters read the
 *   buffer on each call; validate() checks lengths, magic and the CRC-32C of bytes [21, end) without decoding
 *   a single record. baseOffset and partitionLeaderEpoch can be stamped in place (outside the CRC).
 * - Records of uncompressed batches are yielded lazily; their key/value/header values are subarrays of the
 *   batch buffer. A compressed batch is decompressed once (decompressRecords(), cached) and then iterated
 *   the same way over the decompressed bytes.
 * - Any structural problem (a record running past its length or the batch, a wrong count, trailing bytes,
 *   negative header count) throws CorruptRecordError; truncated batches in a buffer of batches are reported by
 *   splitBatches, not thrown.
 * - Record timestamps: baseTimestamp + timestampDelta, or maxTimestamp for every record when the batch uses
 *   LogAppendTime (as Kafka's DefaultRecordBatch does).
 */
import { CorruptRecordError, CompressionError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  CompressionType,
  DELETE_HORIZON_FLAG_MASK,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  TimestampType,
} from './batch-header.js';
import * as hdr from './batch-header.js';
import { crc32c } from './crc.js';
import { decompress, type DecompressOptions } from './compression.js';
import { readVarint, readVarlong, readVarlongNumber, type Cursor } from './varint.js';
import { parseControlRecord, type ControlRecord } from './control-record.js';

export * from './control-record.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface DecodedRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  attributes: number;
  offsetDelta: number;
  timestampDelta: bigint;
}

/** Smallest possible batch: the header with no records. */
export const MIN_BATCH_SIZE = BATCH_HEADER_SIZE;
/** Bytes up to and including magic; what must be present to tell the format of an entry. */
export const HEADER_SIZE_UP_TO_MAGIC = MAGIC_OFFSET + 1;

export class RecordBatch {
  /** Exactly the batch's bytes. */
  readonly buffer: Buffer;
  private decompressed: Buffer | null = null;

  /** Wrap `buf`, which must hold exactly one batch (use RecordBatch.at / splitBatches to find one). */
  constructor(buf: Buffer) {
    if (buf.length < MIN_BATCH_SIZE) {
      throw new CorruptRecordError(
        `record batch of ${buf.length} bytes is shorter than the ${MIN_BATCH_SIZE}-byte header`,
      );
    }
    this.buffer = buf;
  }

  /** The batch starting at `pos` in `buf`, sized by its length field (throws if it does not fit). */
  static at(buf: Buffer, pos = 0): RecordBatch {
    if (pos + LOG_OVERHEAD > buf.length) throw new CorruptRecordError('record batch truncated before its length field');
    const size = hdr.entrySize(buf, pos);
    if (size < MIN_BATCH_SIZE)
      throw new CorruptRecordError(`record batch size ${size} is below the minimum ${MIN_BATCH_SIZE}`);
    if (pos + size > buf.length)
      throw new CorruptRecordError(`record batch of ${size} bytes is truncated to ${buf.length - pos}`);
    return new RecordBatch(buf.subarray(pos, pos + size));
  }

  get baseOffset(): bigint {
    return hdr.baseOffset(this.buffer);
  }
  get batchLength(): number {
    return hdr.batchLength(this.buffer);
  }
  get partitionLeaderEpoch(): number {
    return hdr.partitionLeaderEpoch(this.buffer);
  }
  get magic(): number {
    return hdr.magic(this.buffer);
  }
  get crc(): number {
    return hdr.storedCrc(this.buffer);
  }
  get attributes(): number {
    return hdr.attributes(this.buffer);
  }
  get lastOffsetDelta(): number {
    return hdr.lastOffsetDelta(this.buffer);
  }
  get baseTimestamp(): bigint {
    return hdr.baseTimestamp(this.buffer);
  }
  get maxTimestamp(): bigint {
    return hdr.maxTimestamp(this.buffer);
  }
  get producerId(): bigint {
    return hdr.producerId(this.buffer);
  }
  get producerEpoch(): number {
    return hdr.producerEpoch(this.buffer);
  }
  get baseSequence(): number {
    return hdr.baseSequence(this.buffer);
  }
  get recordsCount(): number {
    return hdr.recordsCount(this.buffer);
  }

  /** Total bytes of the batch (batchLength + 12). */
  get size(): number {
    return this.buffer.length;
  }
  get lastOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta);
  }
  get nextOffset(): bigint {
    return this.lastOffset + 1n;
  }
  /** Sequence of the last record, wrapping at 2^31 like Kafka; -1 when the batch has no sequence. */
  get lastSequence(): number {
    const base = this.baseSequence;
    if (base === -1) return -1;
    return (base + this.lastOffsetDelta) % 0x80000000;
  }
  get compression(): CompressionType {
    return (this.attributes & COMPRESSION_CODEC_MASK) as CompressionType;
  }
  get timestampType(): TimestampType {
    return this.attributes & TIMESTAMP_TYPE_MASK ? TimestampType.LogAppendTime : TimestampType.CreateTime;
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_FLAG_MASK) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & CONTROL_FLAG_MASK) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & DELETE_HORIZON_FLAG_MASK) !== 0;
  }
  /** The delete horizon written by compaction (baseTimestamp when bit 6 is set), else null. */
  get deleteHorizonMs(): bigint | null {
    return this.hasDeleteHorizon ? this.baseTimestamp : null;
  }
  /** The records section as stored (compressed bytes when compressed). Zero copy. */
  get recordsData(): Buffer {
    return this.buffer.subarray(RECORDS_OFFSET);
  }

  /** Stamp the base offset in place (not covered by the CRC). */
  setBaseOffset(offset: bigint): void {
    hdr.setBaseOffset(this.buffer, offset);
  }
  /** Stamp the partition leader epoch in place (not covered by the CRC). */
  setPartitionLeaderEpoch(epoch: number): void {
    hdr.setPartitionLeaderEpoch(this.buffer, epoch);
  }

  /** CRC-32C over bytes [21, end). */
  computeCrc(): number {
    return crc32c(this.buffer, ATTRIBUTES_OFFSET);
  }

  /** Why the batch is invalid (length, magic, CRC), or null when it is valid. Decodes no records. */
  problem(): string | null {
    const buf = this.buffer;
    if (hdr.entrySize(buf) !== buf.length) {
      const field = hdr.batchLength(buf);
      return `batch length field ${field} does not match the ${buf.length - LOG_OVERHEAD} bytes present`;
    }
    const magic = hdr.magic(buf);
    if (magic !== 2) return `unsupported magic ${magic} in a record batch`;
    if (hdr.recordsCount(buf) < 0) return 'negative record count';
    const stored = hdr.storedCrc(buf);
    const actual = this.computeCrc();
    if (stored !== actual)
      return `record batch CRC mismatch: stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}`;
    return null;
  }

  isValid(): boolean {
    return this.problem() === null;
  }

  /** Throw CorruptRecordError unless the batch passes isValid(). */
  validate(): void {
    const p = this.problem();
    if (p !== null) throw new CorruptRecordError(p);
  }

  /** Recompute and store the CRC (after changing attributes or maxTimestamp). */
  updateCrc(): void {
    this.buffer.writeUInt32BE(this.computeCrc(), CRC_OFFSET);
  }

  /** Switch the batch to LogAppendTime with the given time as maxTimestamp, updating the CRC. */
  stampLogAppendTime(time: bigint): void {
    this.buffer.writeInt16BE(this.attributes | TIMESTAMP_TYPE_MASK, ATTRIBUTES_OFFSET);
    this.buffer.writeBigInt64BE(time, MAX_TIMESTAMP_OFFSET);
    this.updateCrc();
  }

  /**
   * The uncompressed records section: the stored bytes for an uncompressed batch, else decompressed once and
   * cached.
   */
  async decompressRecords(opts?: DecompressOptions): Promise<Buffer> {
    if (this.decompressed === null) {
      const codec = this.compression;
      if (codec === CompressionType.None) {
        this.decompressed = this.recordsData;
      } else {
        if (codec > CompressionType.Zstd) throw new CompressionError(`unknown compression codec ${codec}`);
        this.decompressed = await decompress(codec, this.recordsData, opts);
      }
    }
    return this.decompressed;
  }

  /** Records, lazily; decompresses first when needed. */
  async *records(opts?: DecompressOptions): AsyncGenerator<DecodedRecord, void, undefined> {
    await this.decompressRecords(opts);
    yield* this.iterateRecords();
  }

  /** All records in an array (convenience for callers that want them all). */
  async recordsArray(opts?: DecompressOptions): Promise<DecodedRecord[]> {
    await this.decompressRecords(opts);
    return [...this.iterateRecords()];
  }

  /**
   * Records, lazily and synchronously. Works for uncompressed batches, and for compressed ones once
   * decompressRecords() has resolved; otherwise throws CompressionError.
   */
  *iterateRecords(): Generator<DecodedRecord, void, undefined> {
    const data = this.recordsSection();
    const count = this.recordsCount;
    const baseOffset = this.baseOffset;
    const baseTimestamp = this.baseTimestamp;
    const logAppend = this.timestampType === TimestampType.LogAppendTime ? this.maxTimestamp : null;
    const cur: Cursor = { pos: 0 };
    for (let i = 0; i < count; i++) {
      const r = readRecord(data, cur, baseOffset, baseTimestamp);
      if (logAppend !== null) r.timestamp = logAppend;
      yield r;
    }
    if (cur.pos !== data.length) {
      throw new CorruptRecordError(`${data.length - cur.pos} unexpected bytes after the ${count} records of the batch`);
    }
  }

  /**
   * Walk all records without building objects: checks every record's framing, that there are exactly
   * recordsCount of them with no trailing bytes, that offset deltas strictly increase and that the last one
   * equals lastOffsetDelta. Returns the record count. Compressed batches must be decompressed first.
   */
  checkRecords(): number {
    const data = this.recordsSection();
    const count = this.recordsCount;
    const cur: Cursor = { pos: 0 };
    let prevDelta = -1;
    for (let i = 0; i < count; i++) {
      const delta = skipRecord(data, cur);
      if (delta <= prevDelta)
        throw new CorruptRecordError(`record offset delta ${delta} does not increase (previous ${prevDelta})`);
      prevDelta = delta;
    }
    if (cur.pos !== data.length) {
      throw new CorruptRecordError(`${data.length - cur.pos} unexpected bytes after the ${count} records of the batch`);
    }
    if (count > 0 && prevDelta !== this.lastOffsetDelta) {
      throw new CorruptRecordError(
        `last record offset delta ${prevDelta} differs from lastOffsetDelta ${this.lastOffsetDelta}`,
      );
    }
    return count;
  }

  /** For a control batch: its marker (first record's key/value), decompressing if needed. */
  async controlRecord(): Promise<ControlRecord> {
    if (!this.isControl) throw new CorruptRecordError('not a control batch');
    for await (const r of this.records()) return parseControlRecord(r);
    throw new CorruptRecordError('control batch without records');
  }

  private recordsSection(): Buffer {
    if (this.decompressed !== null) return this.decompressed;
    if (this.compression === CompressionType.None) {
      this.decompressed = this.recordsData;
      return this.decompressed;
    }
    throw new CompressionError(
      `batch is ${this.compression === CompressionType.Zstd ? 'zstd' : 'compressed'}: call decompressRecords() first`,
    );
  }
}

function readBytes(data: Buffer, cur: Cursor, end: number, what: string): Buffer | null {
  const len = readVarint(data, cur, end);
  if (len < 0) return null; // Kafka treats any negative length as null
  const start = cur.pos;
  if (start + len > end) throw new CorruptRecordError(`record ${what} of ${len} bytes runs past its record`);
  cur.pos = start + len;
  return data.subarray(start, start + len);
}

/** Decode one record at cur.pos (advancing it) into an object. */
export function readRecord(data: Buffer, cur: Cursor, baseOffset: bigint, baseTimestamp: bigint): DecodedRecord {
  const length = readVarint(data, cur);
  const start = cur.pos;
  const end = start + length;
  if (length < 0 || end > data.length) throw new CorruptRecordError(`record length ${length} runs past the batch`);
  if (start >= end) throw new CorruptRecordError('empty record');
  const attributes = data.readInt8(cur.pos++);
  const timestampDelta = readVarlong(data, cur, end);
  const offsetDelta = readVarint(data, cur, end);
  const key = readBytes(data, cur, end, 'key');
  const value = readBytes(data, cur, end, 'value');
  const headerCount = readVarint(data, cur, end);
  if (headerCount < 0) throw new CorruptRecordError(`invalid negative header count ${headerCount}`);
  if (headerCount > end - cur.pos) throw new CorruptRecordError(`header count ${headerCount} exceeds the record size`);
  const headers: RecordHeader[] = [];
  for (let h = 0; h < headerCount; h++) {
    const keyLen = readVarint(data, cur, end);
    if (keyLen < 0) throw new CorruptRecordError(`invalid negative header key size ${keyLen}`);
    if (cur.pos + keyLen > end) throw new CorruptRecordError('header key runs past its record');
    const hk = data.toString('utf8', cur.pos, cur.pos + keyLen);
    cur.pos += keyLen;
    headers.push({ key: hk, value: readBytes(data, cur, end, 'header value') });
  }
  if (cur.pos !== end) {
    throw new CorruptRecordError(`record declares ${length} bytes but its fields take ${cur.pos - start}`);
  }
  return {
    offset: baseOffset + BigInt(offsetDelta),
    timestamp: baseTimestamp + timestampDelta,
    key,
    value,
    headers,
    attributes,
    offsetDelta,
    timestampDelta,
  };
}

function skipBytes(data: Buffer, cur: Cursor, end: number): void {
  const len = readVarint(data, cur, end);
  if (len > 0) {
    if (cur.pos + len > end) throw new CorruptRecordError('record field runs past its record');
    cur.pos += len;
  }
}

/** Check one record's framing at cur.pos without allocating; returns its offsetDelta. */
function skipRecord(data: Buffer, cur: Cursor): number {
  const length = readVarint(data, cur);
  const start = cur.pos;
  const end = start + length;
  if (length < 1 || end > data.length) throw new CorruptRecordError(`record length ${length} runs past the batch`);
  cur.pos++; // attributes
  readVarlongNumber(data, cur, end);
  const offsetDelta = readVarint(data, cur, end);
  skipBytes(data, cur, end);
  skipBytes(data, cur, end);
  const headerCount = readVarint(data, cur, end);
  if (headerCount < 0) throw new CorruptRecordError(`invalid negative header count ${headerCount}`);
  for (let h = 0; h < headerCount; h++) {
    const keyLen = readVarint(data, cur, end);
    if (keyLen < 0) throw new CorruptRecordError(`invalid negative header key size ${keyLen}`);
    if (cur.pos + keyLen > end) throw new CorruptRecordError('header key runs past its record');
    cur.pos += keyLen;
    skipBytes(data, cur, end);
  }
  if (cur.pos !== end)
    throw new CorruptRecordError(`record declares ${length} bytes but its fields take ${cur.pos - start}`);
  return offsetDelta;
}

// ---------------------------------------------------------------------------------------------------------
// Splitting a buffer of consecutive batches

export interface SplitResult {
  batches: RecordBatch[];
  /** Bytes covered by the whole batches (where a truncated tail starts). */
  validBytes: number;
  /** True when bytes remain after the last whole batch (a batch cut short, as in a Fetch response). */
  truncated: boolean;
  /** Number of bytes after the last whole batch. */
  trailingBytes: number;
}

/**
 * Split `buf` into consecutive v2 batches. A last entry cut short (fewer than 17 bytes, or fewer bytes than its
 * length field says) is reported via `truncated`, not thrown. Throws CorruptRecordError for a length below the
 * minimum batch size or an entry whose magic is not 2 (legacy message sets are handled by legacy.ts).
 * Batches are not CRC-checked here; call validate() on each.
 */
export function splitBatches(buf: Buffer): SplitResult {
  const state = { validBytes: 0, truncated: false };
  const batches = [...iterateBatches(buf, state)];
  return {
    batches,
    validBytes: state.validBytes,
    truncated: state.truncated,
    trailingBytes: buf.length - state.validBytes,
  };
}

/** Lazy form of splitBatches; `state` (if given) is updated as batches are yielded. */
export function* iterateBatches(
  buf: Buffer,
  state: { validBytes: number; truncated: boolean } = { validBytes: 0, truncated: false },
): Generator<RecordBatch, void, undefined> {
  let pos = 0;
  state.validBytes = 0;
  state.truncated = false;
  while (pos < buf.length) {
    if (buf.length - pos < HEADER_SIZE_UP_TO_MAGIC) {
      state.truncated = true;
      return;
    }
    const size = hdr.entrySize(buf, pos);
    const magic = hdr.magic(buf, pos);
    if (magic !== 2) throw new CorruptRecordError(`entry at byte ${pos} has magic ${magic}, not a v2 record batch`);
    if (size < MIN_BATCH_SIZE)
      throw new CorruptRecordError(`record batch at byte ${pos} has size ${size}, below the minimum ${MIN_BATCH_SIZE}`);
    if (pos + size > buf.length) {
      state.truncated = true;
      return;
    }
    const batch = new RecordBatch(buf.subarray(pos, pos + size));
    pos += size;
    state.validBytes = pos;
    yield batch;
  }
}
