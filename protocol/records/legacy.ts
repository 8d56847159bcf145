/**
 * Legacy message sets, magic 0 and 1 (Kafka < 0.11), and conversions to and from record batch v2.
 *
 * Log entry = offset int64, messageSize int32, message. Message: crc uint32 (CRC-32 IEEE of magic .. end of
 * value), magic int8, attributes int8 (bits 0-2 codec, bit 3 timestamp type in v1), timestamp int64 (v1 only),
 * key int32 length (-1 null) + bytes, value int32 length (-1 null) + bytes. Minimum message size 14 (v0) /
 * 22 (v1). A compressed message is a "wrapper" whose value is the compressed concatenation of inner log
 * entries: v0 inner offsets are absolute; v1 inner offsets are relative and the wrapper's offset is the
 * absolute offset of the last inner message, so inner absolute = wrapperOffset − lastRelative + relative
 * (a wrapper offset of 0, sent by some librdkafka versions, means "inner offsets as they are", as in Kafka).
 * With LogAppendTime (v1) the wrapper's timestamp replaces the inner ones. lz4 wrappers of magic 0 carry the
 * historic wrong frame header checksum (compression.ts `legacyMagic0`). zstd is never allowed.
 *
 * Invariants: every message's CRC is verified on read (wrappers and inner messages); inner messages must not
 * be compressed and must have the wrapper's magic (as Kafka's broker-side check); malformed input throws
 * CorruptRecordError, a codec that magic 0/1 cannot carry throws CompressionError (kafkaCode 76,
 * UNSUPPORTED_COMPRESSION_TYPE). A truncated last entry in a message set is reported by splitMessageSet, and is
 * an error for legacyToBatchV2 (produce data must be whole).
 */
import { CompressionError, CorruptRecordError, EncodeError } from '../errors.js';
import {
  CompressionType,
  entrySize,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  magic as magicAt,
  TimestampType,
} from './batch-header.js';
import { type RecordBatch, iterateBatches, type DecodedRecord } from './batch.js';
import { buildRecordBatch, type RecordInput } from './builder.js';
import { compress, decompress, type DecompressOptions } from './compression.js';
import { crc32 } from './crc.js';

export const MIN_MESSAGE_SIZE_V0 = 14;
export const MIN_MESSAGE_SIZE_V1 = 22;
const CODEC_MASK = 0x07;
const TIMESTAMP_TYPE_BIT = 0x08;

/** One log entry of a message set (shallow: a wrapper is not opened). key/value are subarrays. */
export interface LegacyMessage {
  offset: bigint;
  magic: 0 | 1;
  attributes: number;
  compression: CompressionType;
  timestampType: TimestampType;
  /** -1 for magic 0. */
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  crc: number;
  /** The whole entry, log overhead included. */
  buffer: Buffer;
}

/** A message after opening wrappers, with its absolute offset. */
export interface LegacyRecord {
  offset: bigint;
  magic: 0 | 1;
  timestamp: bigint;
  timestampType: TimestampType;
  key: Buffer | null;
  value: Buffer | null;
  /** Codec of the wrapper this record came from (None for a plain message). */
  compression: CompressionType;
}

function readNullableBytes(buf: Buffer, pos: number, end: number, what: string): [Buffer | null, number] {
  if (pos + 4 > end) throw new CorruptRecordError(`legacy message ${what} length runs past the message`);
  const len = buf.readInt32BE(pos);
  pos += 4;
  if (len < 0) return [null, pos];
  if (pos + len > end) throw new CorruptRecordError(`legacy message ${what} of ${len} bytes runs past the message`);
  return [buf.subarray(pos, pos + len), pos + len];
}

/** Parse and CRC-check the log entry that exactly fills `entry`. */
export function parseLegacyEntry(entry: Buffer): LegacyMessage {
  if (entry.length < LOG_OVERHEAD + MIN_MESSAGE_SIZE_V0)
    throw new CorruptRecordError(`legacy entry of ${entry.length} bytes is too short`);
  const size = entry.readInt32BE(LENGTH_OFFSET);
  if (size + LOG_OVERHEAD !== entry.length)
    throw new CorruptRecordError(`legacy message size ${size} does not match its ${entry.length - LOG_OVERHEAD} bytes`);
  const magic = entry.readInt8(MAGIC_OFFSET);
  if (magic !== 0 && magic !== 1) throw new CorruptRecordError(`legacy message has magic ${magic}`);
  const min = magic === 0 ? MIN_MESSAGE_SIZE_V0 : MIN_MESSAGE_SIZE_V1;
  if (size < min)
    throw new CorruptRecordError(`legacy message size ${size} is below the minimum ${min} for magic ${magic}`);
  const stored = entry.readUInt32BE(LOG_OVERHEAD);
  const actual = crc32(entry, MAGIC_OFFSET);
  if (stored !== actual) {
    throw new CorruptRecordError(
      `legacy message CRC mismatch: stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}`,
    );
  }
  const attributes = entry.readInt8(MAGIC_OFFSET + 1);
  let pos = MAGIC_OFFSET + 2;
  let timestamp = -1n;
  if (magic === 1) {
    timestamp = entry.readBigInt64BE(pos);
    pos += 8;
  }
  const [key, afterKey] = readNullableBytes(entry, pos, entry.length, 'key');
  const [value, end] = readNullableBytes(entry, afterKey, entry.length, 'value');
  if (end !== entry.length)
    throw new CorruptRecordError(`${entry.length - end} unexpected bytes after a legacy message value`);
  return {
    offset: entry.readBigInt64BE(0),
    magic,
    attributes,
    compression: (attributes & CODEC_MASK) as CompressionType,
    timestampType:
      magic === 1 && attributes & TIMESTAMP_TYPE_BIT ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    timestamp,
    key,
    value,
    crc: stored,
    buffer: entry,
  };
}

export interface LegacySplit {
  entries: LegacyMessage[];
  validBytes: number;
  truncated: boolean;
  trailingBytes: number;
}

/** Split a message set into its (shallow) entries; a cut-short last entry is reported, not thrown. */
export function splitMessageSet(buf: Buffer): LegacySplit {
  const entries: LegacyMessage[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < LOG_OVERHEAD + 5) break; // up to magic
    const size = buf.readInt32BE(pos + LENGTH_OFFSET);
    const magic = buf.readInt8(pos + MAGIC_OFFSET);
    if (magic !== 0 && magic !== 1)
      throw new CorruptRecordError(`entry at byte ${pos} has magic ${magic}, not a legacy message`);
    const min = magic === 0 ? MIN_MESSAGE_SIZE_V0 : MIN_MESSAGE_SIZE_V1;
    if (size < min)
      throw new CorruptRecordError(`legacy message at byte ${pos} has size ${size}, below the minimum ${min}`);
    if (pos + LOG_OVERHEAD + size > buf.length) break;
    entries.push(parseLegacyEntry(buf.subarray(pos, pos + LOG_OVERHEAD + size)));
    pos += LOG_OVERHEAD + size;
  }
  return { entries, validBytes: pos, truncated: pos < buf.length, trailingBytes: buf.length - pos };
}

/** Open a wrapper (or pass a plain message through) into records with absolute offsets. */
export async function expandLegacyMessage(msg: LegacyMessage, opts?: DecompressOptions): Promise<LegacyRecord[]> {
  if (msg.compression === CompressionType.None) {
    return [
      {
        offset: msg.offset,
        magic: msg.magic,
        timestamp: msg.timestamp,
        timestampType: msg.timestampType,
        key: msg.key,
        value: msg.value,
        compression: CompressionType.None,
      },
    ];
  }
  if (msg.compression > CompressionType.Lz4) {
    throw new CompressionError(`compression codec ${msg.compression} is not allowed in magic ${msg.magic} messages`);
  }
  if (msg.value === null) throw new CorruptRecordError('compressed legacy wrapper message has a null value');
  const inner = await decompress(msg.compression, msg.value, { ...opts, legacyMagic0: msg.magic === 0 });
  const split = splitMessageSet(inner);
  if (split.truncated) throw new CorruptRecordError('compressed legacy wrapper holds a truncated inner message');
  if (split.entries.length === 0) throw new CorruptRecordError('compressed legacy wrapper holds no messages');
  // v1: absolute = wrapperOffset - lastInner + inner. A wrapper offset of 0 (some librdkafka versions and
  // kafka-python send that) means the inner offsets are taken as they are, as Kafka's DeepRecordsIterator does.
  const lastInner = split.entries[split.entries.length - 1].offset;
  if (msg.magic === 1 && msg.offset !== 0n && msg.offset < lastInner) {
    throw new CorruptRecordError(`wrapper offset ${msg.offset} is below the last inner offset ${lastInner} and not 0`);
  }
  const absoluteBase = msg.offset === 0n ? 0n : msg.offset - lastInner;
  const out: LegacyRecord[] = [];
  for (const e of split.entries) {
    if (e.compression !== CompressionType.None)
      throw new CorruptRecordError('inner legacy messages must not be compressed');
    if (e.magic !== msg.magic)
      throw new CorruptRecordError(`inner message magic ${e.magic} differs from wrapper magic ${msg.magic}`);
    const logAppend = msg.magic === 1 && msg.timestampType === TimestampType.LogAppendTime;
    out.push({
      offset: msg.magic === 0 ? e.offset : absoluteBase + e.offset,
      magic: msg.magic,
      timestamp: logAppend ? msg.timestamp : e.timestamp,
      timestampType: logAppend ? TimestampType.LogAppendTime : TimestampType.CreateTime,
      key: e.key,
      value: e.value,
      compression: msg.compression,
    });
  }
  return out;
}

/** All records of a message set, wrappers opened. A truncated last entry is ignored and reported. */
export async function readMessageSet(
  buf: Buffer,
  opts?: DecompressOptions,
): Promise<{ records: LegacyRecord[]; truncated: boolean }> {
  const split = splitMessageSet(buf);
  const records: LegacyRecord[] = [];
  for (const e of split.entries) {
    for (const r of await expandLegacyMessage(e, opts)) records.push(r);
  }
  return { records, truncated: split.truncated };
}

// ---------------------------------------------------------------------------------------------------------
// Writing

export interface LegacyRecordInput {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  /** Ignored for magic 0; default build time for magic 1. */
  timestamp?: bigint | number;
  /** Absolute offset; default baseOffset + index. */
  offset?: bigint | number;
}

export interface LegacyBuildOptions {
  magic: 0 | 1;
  compression?: CompressionType;
  compressionLevel?: number;
  baseOffset?: bigint | number;
  timestampType?: TimestampType;
  /** With LogAppendTime (magic 1): the time written into every message (default: build time). */
  logAppendTime?: bigint | number;
}

function toBuf(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** One log entry: offset, size, crc, magic, attributes, [timestamp], key, value. */
export function writeLegacyEntry(
  offset: bigint,
  magic: 0 | 1,
  attributes: number,
  timestamp: bigint,
  key: Buffer | null,
  value: Buffer | null,
): Buffer {
  const size = (magic === 0 ? MIN_MESSAGE_SIZE_V0 : MIN_MESSAGE_SIZE_V1) + (key?.length ?? 0) + (value?.length ?? 0);
  const out = Buffer.allocUnsafe(LOG_OVERHEAD + size);
  out.writeBigInt64BE(offset, 0);
  out.writeInt32BE(size, LENGTH_OFFSET);
  out.writeInt8(magic, MAGIC_OFFSET);
  out.writeInt8(attributes, MAGIC_OFFSET + 1);
  let pos = MAGIC_OFFSET + 2;
  if (magic === 1) {
    out.writeBigInt64BE(timestamp, pos);
    pos += 8;
  }
  for (const b of [key, value]) {
    if (b === null) {
      out.writeInt32BE(-1, pos);
      pos += 4;
    } else {
      out.writeInt32BE(b.length, pos);
      b.copy(out, pos + 4);
      pos += 4 + b.length;
    }
  }
  out.writeUInt32BE(crc32(out, MAGIC_OFFSET), LOG_OVERHEAD);
  return out;
}

/** Build a magic 0/1 message set: plain messages, or one compressed wrapper holding them all. */
export async function buildMessageSet(
  records: readonly LegacyRecordInput[],
  opts: LegacyBuildOptions,
): Promise<Buffer> {
  const { magic } = opts;
  const compression = opts.compression ?? CompressionType.None;
  if (compression > CompressionType.Lz4 || compression < 0) {
    throw new CompressionError(`compression codec ${compression} is not allowed in magic ${magic} messages`);
  }
  const logAppend = magic === 1 && opts.timestampType === TimestampType.LogAppendTime;
  const now = BigInt(Date.now());
  const logAppendTime = BigInt(opts.logAppendTime ?? now);
  const tsBit = logAppend ? TIMESTAMP_TYPE_BIT : 0;
  const base = BigInt(opts.baseOffset ?? 0n);
  const offsets = records.map((r, i) => (r.offset !== undefined ? BigInt(r.offset) : base + BigInt(i)));
  const stamps = records.map((r) => (magic === 0 ? -1n : logAppend ? logAppendTime : BigInt(r.timestamp ?? now)));
  if (compression === CompressionType.None) {
    return Buffer.concat(
      records.map((r, i) => writeLegacyEntry(offsets[i], magic, tsBit, stamps[i], toBuf(r.key), toBuf(r.value))),
    );
  }
  if (records.length === 0) throw new EncodeError('a compressed legacy wrapper needs at least one message');
  const first = offsets[0];
  const inner = Buffer.concat(
    records.map((r, i) =>
      writeLegacyEntry(
        magic === 0 ? offsets[i] : offsets[i] - first,
        magic,
        tsBit,
        stamps[i],
        toBuf(r.key),
        toBuf(r.value),
      ),
    ),
  );
  const value = await compress(compression, inner, { level: opts.compressionLevel, legacyMagic0: magic === 0 });
  let wrapperTs = -1n;
  if (magic === 1) {
    if (logAppend) wrapperTs = logAppendTime;
    else for (const s of stamps) if (s > wrapperTs) wrapperTs = s;
  }
  return writeLegacyEntry(offsets[offsets.length - 1], magic, compression | tsBit, wrapperTs, null, value);
}

// ---------------------------------------------------------------------------------------------------------
// Conversions

export interface LegacyToV2Options {
  /** Codec of the v2 batch; default: the codec of the first compressed wrapper, else none. */
  compression?: CompressionType;
  baseOffset?: bigint | number;
  maxSize?: number;
}

/**
 * Convert a whole magic 0/1 message set (as produced by an old client) to one v2 batch, as Kafka's broker
 * does: all messages in one batch, offset deltas 0..n-1, CreateTime with the messages' timestamps (-1 for
 * magic 0), no producer id, partitionLeaderEpoch -1, CRC-32C computed.
 */
export async function legacyToBatchV2(messageSet: Buffer, opts: LegacyToV2Options = {}): Promise<Buffer> {
  const split = splitMessageSet(messageSet);
  if (split.truncated)
    throw new CorruptRecordError(`message set ends with ${split.trailingBytes} bytes of a truncated message`);
  if (split.entries.length === 0) throw new CorruptRecordError('empty message set');
  const records: RecordInput[] = [];
  let codec: CompressionType | undefined = opts.compression;
  for (const e of split.entries) {
    if (codec === undefined && e.compression !== CompressionType.None) codec = e.compression;
    for (const r of await expandLegacyMessage(e, { maxSize: opts.maxSize })) {
      records.push({ key: r.key, value: r.value, timestamp: r.timestamp });
    }
  }
  return buildRecordBatch(records, { baseOffset: opts.baseOffset ?? 0n, compression: codec ?? CompressionType.None });
}

export interface DownConvertOptions {
  /** What to do with zstd batches: Kafka answers UNSUPPORTED_COMPRESSION_TYPE ('error', the default). */
  zstd?: 'error' | 'uncompressed';
  maxSize?: number;
}

async function convertV2Batch(batch: RecordBatch, magic: 0 | 1, opts: DownConvertOptions): Promise<Buffer | null> {
  if (batch.isControl || batch.recordsCount === 0) return null; // markers and emptied batches are dropped
  batch.validate();
  let compression = batch.compression;
  if (compression === CompressionType.Zstd) {
    if ((opts.zstd ?? 'error') === 'error') {
      throw new CompressionError(`zstd-compressed data cannot be converted to magic ${magic}`);
    }
    compression = CompressionType.None;
  }
  const records: DecodedRecord[] = await batch.recordsArray({ maxSize: opts.maxSize });
  const logAppend = batch.timestampType === TimestampType.LogAppendTime;
  return buildMessageSet(
    records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, offset: r.offset })),
    {
      magic,
      compression,
      timestampType: batch.timestampType,
      logAppendTime: logAppend ? batch.maxTimestamp : undefined,
    },
  );
}

/**
 * Down-convert the entries of `records` (v2 batches, possibly legacy entries) to a magic 0/1 message set for
 * an old fetcher, keeping each batch's codec (one wrapper per compressed batch). Control batches and headers
 * are dropped; legacy entries already at or below `magic` pass through unchanged; a truncated last entry is
 * dropped. zstd: CompressionError (UNSUPPORTED_COMPRESSION_TYPE) unless opts.zstd is 'uncompressed'.
 */
export async function batchToLegacy(records: Buffer, magic: 0 | 1, opts: DownConvertOptions = {}): Promise<Buffer> {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos + LOG_OVERHEAD + 5 <= records.length) {
    const size = entrySize(records, pos);
    const entryMagic = magicAt(records, pos);
    if (size < LOG_OVERHEAD + MIN_MESSAGE_SIZE_V0)
      throw new CorruptRecordError(`entry at byte ${pos} has size ${size}`);
    if (pos + size > records.length) break;
    const entry = records.subarray(pos, pos + size);
    pos += size;
    if (entryMagic === 2) {
      for (const batch of iterateBatches(entry)) {
        const converted = await convertV2Batch(batch, magic, opts);
        if (converted !== null) out.push(converted);
      }
    } else if (entryMagic === 0 || entryMagic === 1) {
      const msg = parseLegacyEntry(entry);
      if (entryMagic <= magic) {
        out.push(entry);
      } else {
        const expanded = await expandLegacyMessage(msg, { maxSize: opts.maxSize });
        out.push(
          await buildMessageSet(
            expanded.map((r) => ({ key: r.key, value: r.value, offset: r.offset })),
            { magic, compression: msg.compression },
          ),
        );
      }
    } else {
      throw new CorruptRecordError(`entry at byte ${pos - size} has unknown magic ${entryMagic}`);
    }
  }
  return out.length === 1 ? out[0] : Buffer.concat(out);
}
