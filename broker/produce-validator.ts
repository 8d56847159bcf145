/**
 * Checks a partition's produce payload before it is appended, as Kafka's LogValidator does, reading only
 * batch headers (records stay bytes): framing and lengths, magic, CRC-32C, codec, size limit, timestamps.
 * Legacy message sets (magic 0/1, Produce v0-2) are converted to one v2 batch first — the only path
 * that decodes records. With message.timestamp.type=LogAppendTime the batch's maxTimestamp and timestamp
 * type are rewritten in place and the CRC recomputed.
 *
 * Compacted topics refuse records without a key (INVALID_RECORD), the one check that reads records on
 * every batch of those topics.
 *
 * Timestamp bounds use the header: maxTimestamp against message.timestamp.after.max.ms and baseTimestamp
 * (the first record's) against message.timestamp.before.max.ms. A header whose maxTimestamp is below its
 * baseTimestamp cannot be trusted (sarama 1.22 writes -1): then, and only then, the records are read to
 * compute the real maximum, which is written back (CRC recomputed) so time-index lookups work.
 */
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  TIMESTAMP_TYPE_MASK,
  attributes,
  baseTimestamp,
  entrySize,
  magic,
  maxTimestamp,
  storedCrc,
} from '../protocol/records/batch-header.js';
import { crc32c } from '../protocol/records/crc.js';
import { RecordBatch } from '../protocol/records/batch.js';
import { RunnelError } from '../protocol/errors.js';
import { hasKeylessRecord } from '../storage/compaction.js';
import { legacyToBatchV2 } from '../protocol/records/legacy.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { LogConfig } from '../storage/log-config.js';

export interface ValidationResult {
  errorCode: number;
  errorMessage?: string;
  /** The bytes to append (the request's own buffer, or a converted one). */
  records?: Buffer;
}

const fail = (errorCode: number, errorMessage: string): ValidationResult => ({ errorCode, errorMessage });

export async function validateProduce(
  records: Buffer | null,
  apiVersion: number,
  cfg: Readonly<LogConfig>,
  now: number,
): Promise<ValidationResult> {
  if (records === null || records.length === 0) return fail(ErrorCode.INVALID_RECORD, 'no record batch in the request');
  if (records.length < LOG_OVERHEAD + 5) return fail(ErrorCode.CORRUPT_MESSAGE, 'records shorter than a batch header');
  const m = magic(records);
  if (apiVersion >= 3 && m !== 2)
    return fail(ErrorCode.INVALID_RECORD, `Produce v${apiVersion} requires record batches of magic 2, got magic ${m}`);
  let buf = records;
  if (m === 0 || m === 1) {
    try {
      buf = await legacyToBatchV2(records);
    } catch (err) {
      return fail(ErrorCode.CORRUPT_MESSAGE, (err as Error).message);
    }
  } else if (m !== 2) {
    return fail(ErrorCode.CORRUPT_MESSAGE, `unknown magic ${m}`);
  }
  if (buf.length < BATCH_HEADER_SIZE) return fail(ErrorCode.CORRUPT_MESSAGE, 'batch shorter than its header');
  const size = entrySize(buf);
  if (size !== buf.length) {
    return fail(
      ErrorCode.CORRUPT_MESSAGE,
      size < buf.length
        ? 'Produce v3+ takes exactly one record batch per partition'
        : `batch length ${size} exceeds the ${buf.length} bytes sent`,
    );
  }
  if (apiVersion >= 3 && size !== records.length)
    return fail(ErrorCode.INVALID_RECORD, 'exactly one record batch per partition');
  if (size > cfg.maxMessageBytes)
    return fail(ErrorCode.MESSAGE_TOO_LARGE, `batch of ${size} bytes exceeds max.message.bytes ${cfg.maxMessageBytes}`);
  if (storedCrc(buf) !== crc32c(buf, ATTRIBUTES_OFFSET))
    return fail(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC mismatch');
  const attrs = attributes(buf);
  const codec = attrs & COMPRESSION_CODEC_MASK;
  if (codec > 4) return fail(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `unknown compression codec ${codec}`);
  if (codec === 4 && apiVersion < 7)
    return fail(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'zstd needs Produce v7 or later');
  if (attrs & CONTROL_FLAG_MASK) return fail(ErrorCode.INVALID_RECORD, 'clients may not produce control batches');
  if (cfg.cleanupPolicy.includes('compact')) {
    try {
      if (await hasKeylessRecord(buf))
        return fail(ErrorCode.INVALID_RECORD, 'Compacted topic cannot accept message without key.');
    } catch (err) {
      if (!(err instanceof RunnelError)) throw err;
      return fail(ErrorCode.CORRUPT_MESSAGE, err.message);
    }
  }
  if (cfg.messageTimestampType === 'LogAppendTime') {
    buf.writeInt16BE(attrs | TIMESTAMP_TYPE_MASK, ATTRIBUTES_OFFSET);
    buf.writeBigInt64BE(BigInt(now), MAX_TIMESTAMP_OFFSET);
    buf.writeUInt32BE(crc32c(buf, ATTRIBUTES_OFFSET), CRC_OFFSET);
  } else {
    let max = Number(maxTimestamp(buf));
    const first = Number(baseTimestamp(buf));
    if (max < first) {
      try {
        max = await recomputeMaxTimestamp(buf);
      } catch (err) {
        if (!(err instanceof RunnelError)) throw err;
        return fail(ErrorCode.CORRUPT_MESSAGE, err.message);
      }
    }
    if (max >= 0 && max - now > cfg.messageTimestampAfterMaxMs)
      return fail(
        ErrorCode.INVALID_TIMESTAMP,
        `timestamp ${max} is more than message.timestamp.after.max.ms in the future`,
      );
    if (first >= 0 && now - first > cfg.messageTimestampBeforeMaxMs)
      return fail(
        ErrorCode.INVALID_TIMESTAMP,
        `timestamp ${first} is more than message.timestamp.before.max.ms in the past`,
      );
    if (max < -1) return fail(ErrorCode.INVALID_TIMESTAMP, `invalid timestamp ${max}`);
  }
  return { errorCode: ErrorCode.NONE, records: buf };
}

/** Read the records of a batch whose header maxTimestamp is missing and stamp the real maximum. */
async function recomputeMaxTimestamp(buf: Buffer): Promise<number> {
  const batch = new RecordBatch(buf);
  let max = -1n;
  for await (const r of batch.records()) if (r.timestamp > max) max = r.timestamp;
  buf.writeBigInt64BE(max, MAX_TIMESTAMP_OFFSET);
  batch.updateCrc();
  return Number(max);
}
