/**
 * Record batch v2 (magic 2) header layout and zero-copy accessors.
 *
 * A batch is: baseOffset int64 @0, batchLength int32 @8 (bytes after this field), partitionLeaderEpoch
 * int32 @12, magic int8 @16, crc uint32 @17 (CRC-32C of bytes [21, end)), attributes int16 @21,
 * lastOffsetDelta int32 @23, baseTimestamp int64 @27, maxTimestamp int64 @35, producerId int64 @43,
 * producerEpoch int16 @51, baseSequence int32 @53, recordsCount int32 @57, records @61.
 * All big-endian. baseOffset and partitionLeaderEpoch are outside the CRC, so they can be stamped in place.
 *
 * The legacy log-entry prefix (offset int64, size int32) is shared by magic 0/1, so `magic` at byte 16
 * tells the formats apart for any entry at least 17 bytes long.
 *
 * The accessors take the buffer and the batch's position in it. int64 fields come as bigint (the protocol's
 * type) and, with a `Number` suffix, as JS numbers (exact up to 2^53 - 1; what storage keeps offsets and
 * timestamps in), read as two int32 halves.
 */

export const BASE_OFFSET_OFFSET = 0;
export const LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Bytes before the batchLength-counted part: baseOffset + batchLength. */
export const LOG_OVERHEAD = 12;
/** Size of the v2 batch header. */
export const BATCH_HEADER_SIZE = 61;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1n;

export enum CompressionType {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
}

/** Total bytes of the entry (batch or legacy log entry) that starts at `pos`, read from its length field. */
export function entrySize(buf: Buffer, pos = 0): number {
  return LOG_OVERHEAD + buf.readInt32BE(pos + LENGTH_OFFSET);
}

const TWO_32 = 4294967296;

/** A big-endian int64 at `pos` as a JS number. */
export function readInt64Number(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

/** Write a JS number (an integer within ±2^53) as a big-endian int64 at `pos`. */
export function writeInt64Number(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_32, pos + 4);
}

export function baseOffset(buf: Buffer, pos = 0): bigint {
  return buf.readBigInt64BE(pos + BASE_OFFSET_OFFSET);
}

export function baseOffsetNumber(buf: Buffer, pos = 0): number {
  return readInt64Number(buf, pos + BASE_OFFSET_OFFSET);
}

/** The batchLength field: bytes after it (see entrySize for the whole batch). */
export function batchLength(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + LENGTH_OFFSET);
}

export function partitionLeaderEpoch(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET);
}

export function magic(buf: Buffer, pos = 0): number {
  return buf.readInt8(pos + MAGIC_OFFSET);
}

export function lastOffsetDelta(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
}

/** Offset of the batch's last record: baseOffset + lastOffsetDelta. */
export function lastOffsetNumber(buf: Buffer, pos = 0): number {
  return baseOffsetNumber(buf, pos) + lastOffsetDelta(buf, pos);
}

export function attributes(buf: Buffer, pos = 0): number {
  return buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
}

export function maxTimestamp(buf: Buffer, pos = 0): bigint {
  return buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET);
}

export function maxTimestampNumber(buf: Buffer, pos = 0): number {
  return readInt64Number(buf, pos + MAX_TIMESTAMP_OFFSET);
}

export function baseTimestamp(buf: Buffer, pos = 0): bigint {
  return buf.readBigInt64BE(pos + BASE_TIMESTAMP_OFFSET);
}

export function baseTimestampNumber(buf: Buffer, pos = 0): number {
  return readInt64Number(buf, pos + BASE_TIMESTAMP_OFFSET);
}

export function producerId(buf: Buffer, pos = 0): bigint {
  return buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET);
}

export function producerIdNumber(buf: Buffer, pos = 0): number {
  return readInt64Number(buf, pos + PRODUCER_ID_OFFSET);
}

export function producerEpoch(buf: Buffer, pos = 0): number {
  return buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET);
}

export function baseSequence(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET);
}

export function recordsCount(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + RECORDS_COUNT_OFFSET);
}

export function storedCrc(buf: Buffer, pos = 0): number {
  return buf.readUInt32BE(pos + CRC_OFFSET);
}

/** Stamp the base offset in place (outside the CRC). */
export function setBaseOffset(buf: Buffer, value: bigint, pos = 0): void {
  buf.writeBigInt64BE(value, pos + BASE_OFFSET_OFFSET);
}

/** Stamp the partition leader epoch in place (outside the CRC). */
export function setPartitionLeaderEpoch(buf: Buffer, epoch: number, pos = 0): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}
