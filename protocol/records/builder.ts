/**
 * Record batch v2 builder: records + options → one batch Buffer with a correct CRC-32C.
 *
 * Format written (batch-header.ts, batch.ts): 61-byte header, then the records, compressed as one stream when
 * a codec is chosen. Conventions follow Kafka's MemoryRecordsBuilder:
 * - baseTimestamp = first record's timestamp (or the delete horizon when `deleteHorizon` is given, which also
 *   sets attributes bit 6); timestampDelta = record timestamp − baseTimestamp (may be negative).
 * - maxTimestamp = largest record timestamp (-1 for no records), or `logAppendTime` with LogAppendTime.
 * - offsetDelta defaults to the record's index; given deltas must be non-negative and strictly increasing
 *   (gaps allowed, as after compaction); lastOffsetDelta = the last record's delta.
 * - producerId/producerEpoch/baseSequence default to -1 (not idempotent); partitionLeaderEpoch to -1.
 * - record attributes are 0; header keys are UTF-8 and never null.
 *
 * Invariants: sizes are computed first so the batch is written into one exactly sized buffer (uncompressed
 * builds copy each key/value once); nothing outside protocol/errors.ts is thrown (EncodeError for bad input).
 * Compressed builds are async (compression.ts); uncompressed ones also have a sync form.
 */
import { EncodeError, CompressionError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  CompressionType,
  DELETE_HORIZON_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  TimestampType,
} from './batch-header.js';
import { compress } from './compression.js';
import { crc32c } from './crc.js';
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

export type Bytes = Buffer | Uint8Array | string;

export interface RecordHeaderInput {
  key: string;
  value: Bytes | null;
}

export interface RecordInput {
  key?: Bytes | null;
  value?: Bytes | null;
  headers?: RecordHeaderInput[];
  /** Milliseconds since the epoch; defaults to the build time. */
  timestamp?: bigint | number;
  offsetDelta?: number;
}

export interface BatchOptions {
  baseOffset?: bigint | number;
  partitionLeaderEpoch?: number;
  compression?: CompressionType;
  /** Codec level (gzip, zstd). */
  compressionLevel?: number;
  timestampType?: TimestampType;
  /** With LogAppendTime: the append time written as maxTimestamp (default: build time). */
  logAppendTime?: bigint | number;
  producerId?: bigint | number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  /** Compaction's delete horizon: stored as baseTimestamp with attributes bit 6. */
  deleteHorizon?: bigint | number;
  /** lastOffsetDelta of a batch with no records (default -1). */
  lastOffsetDelta?: number;
}

type Ts = number | bigint;

interface Prepared {
  keys: (Uint8Array | null)[];
  values: (Uint8Array | null)[];
  headerKeys: (string[] | null)[];
  headerKeyLens: (Int32Array | null)[];
  headerValues: ((Uint8Array | null)[] | null)[];
  tsDeltas: Ts[];
  offsetDeltas: Int32Array;
  bodySizes: Int32Array;
  size: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  lastOffsetDelta: number;
}

function toBytes(v: Bytes | null | undefined): Uint8Array | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** A timestamp as a number when it is a safe integer, else a bigint. */
function normTs(t: bigint | number | undefined, now: number): Ts {
  if (t === undefined) return now;
  if (typeof t === 'number') {
    if (!Number.isSafeInteger(t)) throw new EncodeError(`timestamp ${t} is not a safe integer`);
    return t;
  }
  return t >= -9007199254740991n && t <= 9007199254740991n ? Number(t) : t;
}

function sub(a: Ts, b: Ts): Ts {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return BigInt(a) - BigInt(b);
}

function sizeOfBytes(b: Uint8Array | null): number {
  return b === null ? 1 : sizeOfVarint(b.length) + b.length;
}

function prepare(records: readonly RecordInput[], opts: BatchOptions): Prepared {
  const n = records.length;
  const now = Date.now();
  const keys: (Uint8Array | null)[] = new Array(n);
  const values: (Uint8Array | null)[] = new Array(n);
  const headerKeys: (string[] | null)[] = new Array(n);
  const headerKeyLens: (Int32Array | null)[] = new Array(n);
  const headerValues: ((Uint8Array | null)[] | null)[] = new Array(n);
  const stamps: Ts[] = new Array(n);
  const tsDeltas: Ts[] = new Array(n);
  const offsetDeltas = new Int32Array(n);
  const bodySizes = new Int32Array(n);
  let maxTs: Ts = -1;
  let prevDelta = -1;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    const ts = normTs(r.timestamp, now);
    stamps[i] = ts;
    if (i === 0 || ts > maxTs) maxTs = ts;
    const delta = r.offsetDelta ?? i;
    if (!Number.isInteger(delta) || delta <= prevDelta || delta > 0x7fffffff) {
      throw new EncodeError(
        `record ${i}: offsetDelta ${delta} must be an int32 greater than the previous (${prevDelta})`,
      );
    }
    offsetDeltas[i] = prevDelta = delta;
    keys[i] = toBytes(r.key);
    values[i] = toBytes(r.value);
    const hs = r.headers;
    if (hs && hs.length > 0) {
      const hk: string[] = new Array(hs.length);
      const hl = new Int32Array(hs.length);
      const hv: (Uint8Array | null)[] = new Array(hs.length);
      for (let h = 0; h < hs.length; h++) {
        const key = hs[h].key;
        if (typeof key !== 'string') throw new EncodeError(`record ${i}: header key must be a string`);
        hk[h] = key;
        hl[h] = Buffer.byteLength(key, 'utf8');
        hv[h] = toBytes(hs[h].value);
      }
      headerKeys[i] = hk;
      headerKeyLens[i] = hl;
      headerValues[i] = hv;
    } else {
      headerKeys[i] = null;
      headerKeyLens[i] = null;
      headerValues[i] = null;
    }
  }
  const baseTs: Ts = opts.deleteHorizon !== undefined ? normTs(opts.deleteHorizon, now) : n > 0 ? stamps[0] : -1;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const d = sub(stamps[i], baseTs);
    tsDeltas[i] = d;
    let body = 1 + sizeOfVarlong(d) + sizeOfVarint(offsetDeltas[i]) + sizeOfBytes(keys[i]) + sizeOfBytes(values[i]);
    const hl = headerKeyLens[i];
    const hv = headerValues[i];
    if (hl !== null && hv !== null) {
      body += sizeOfVarint(hl.length);
      for (let h = 0; h < hl.length; h++) body += sizeOfVarint(hl[h]) + hl[h] + sizeOfBytes(hv[h]);
    } else {
      body += 1;
    }
    bodySizes[i] = body;
    size += sizeOfVarint(body) + body;
  }
  const lastOffsetDelta = n > 0 ? offsetDeltas[n - 1] : (opts.lastOffsetDelta ?? -1);
  return {
    keys,
    values,
    headerKeys,
    headerKeyLens,
    headerValues,
    tsDeltas,
    offsetDeltas,
    bodySizes,
    size,
    baseTimestamp: BigInt(baseTs),
    maxTimestamp: BigInt(maxTs),
    lastOffsetDelta,
  };
}

function writeBytes(out: Buffer, pos: number, b: Uint8Array | null): number {
  if (b === null) return writeVarint(out, pos, -1);
  pos = writeVarint(out, pos, b.length);
  out.set(b, pos);
  return pos + b.length;
}

function writeRecords(p: Prepared, out: Buffer, pos: number): number {
  const n = p.bodySizes.length;
  for (let i = 0; i < n; i++) {
    pos = writeVarint(out, pos, p.bodySizes[i]);
    out[pos++] = 0; // attributes
    pos = writeVarlong(out, pos, p.tsDeltas[i]);
    pos = writeVarint(out, pos, p.offsetDeltas[i]);
    pos = writeBytes(out, pos, p.keys[i]);
    pos = writeBytes(out, pos, p.values[i]);
    const hk = p.headerKeys[i];
    const hl = p.headerKeyLens[i];
    const hv = p.headerValues[i];
    if (hk !== null && hl !== null && hv !== null) {
      pos = writeVarint(out, pos, hk.length);
      for (let h = 0; h < hk.length; h++) {
        pos = writeVarint(out, pos, hl[h]);
        pos += out.write(hk[h], pos, hl[h], 'utf8');
        pos = writeBytes(out, pos, hv[h]);
      }
    } else {
      out[pos++] = 0; // zero headers
    }
  }
  return pos;
}

function attributesOf(opts: BatchOptions, compression: number): number {
  let a = compression & COMPRESSION_CODEC_MASK;
  if (opts.timestampType === TimestampType.LogAppendTime) a |= TIMESTAMP_TYPE_MASK;
  if (opts.transactional || opts.control) a |= TRANSACTIONAL_FLAG_MASK;
  if (opts.control) a |= CONTROL_FLAG_MASK;
  if (opts.deleteHorizon !== undefined) a |= DELETE_HORIZON_FLAG_MASK;
  return a;
}

/** Fill in the 61-byte header of `out` (whose length is the batch size) and its CRC. */
function finishBatch(out: Buffer, p: Prepared, opts: BatchOptions, compression: number, count: number): Buffer {
  out.writeBigInt64BE(BigInt(opts.baseOffset ?? 0n), 0);
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET);
  out.writeInt32BE(opts.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET);
  out.writeInt8(2, MAGIC_OFFSET);
  out.writeInt16BE(attributesOf(opts, compression), ATTRIBUTES_OFFSET);
  out.writeInt32BE(p.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  out.writeBigInt64BE(p.baseTimestamp, BASE_TIMESTAMP_OFFSET);
  const maxTs =
    opts.timestampType === TimestampType.LogAppendTime ? BigInt(opts.logAppendTime ?? Date.now()) : p.maxTimestamp;
  out.writeBigInt64BE(maxTs, MAX_TIMESTAMP_OFFSET);
  out.writeBigInt64BE(BigInt(opts.producerId ?? -1n), PRODUCER_ID_OFFSET);
  out.writeInt16BE(opts.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
  out.writeInt32BE(opts.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
  out.writeInt32BE(count, RECORDS_COUNT_OFFSET);
  out.writeUInt32BE(crc32c(out, ATTRIBUTES_OFFSET), CRC_OFFSET);
  return out;
}

/** Encode records (without a batch header) relative to baseTimestamp, as they appear inside a batch. */
export function encodeRecords(records: readonly RecordInput[], opts: BatchOptions = {}): Buffer {
  const p = prepare(records, opts);
  const out = Buffer.allocUnsafe(p.size);
  writeRecords(p, out, 0);
  return out;
}

/** Build an uncompressed batch synchronously (throws CompressionError if a codec is requested). */
export function buildRecordBatchSync(records: readonly RecordInput[], opts: BatchOptions = {}): Buffer {
  const compression = opts.compression ?? CompressionType.None;
  if (compression !== CompressionType.None)
    throw new CompressionError('compressed batches are built with buildRecordBatch()');
  const p = prepare(records, opts);
  const out = Buffer.allocUnsafe(RECORDS_OFFSET + p.size);
  writeRecords(p, out, RECORDS_OFFSET);
  return finishBatch(out, p, opts, compression, records.length);
}

/** Build a batch, compressing the records when opts.compression is set. */
export async function buildRecordBatch(records: readonly RecordInput[], opts: BatchOptions = {}): Promise<Buffer> {
  const compression = opts.compression ?? CompressionType.None;
  if (compression === CompressionType.None) return buildRecordBatchSync(records, opts);
  if (compression < 0 || compression > CompressionType.Zstd)
    throw new CompressionError(`unknown compression codec ${compression}`);
  const p = prepare(records, opts);
  const raw = Buffer.allocUnsafe(p.size);
  writeRecords(p, raw, 0);
  const compressed = await compress(compression, raw, { level: opts.compressionLevel });
  const out = Buffer.allocUnsafe(RECORDS_OFFSET + compressed.length);
  compressed.copy(out, RECORDS_OFFSET);
  return finishBatch(out, p, opts, compression, records.length);
}

export const CONTROL_TYPE_ABORT = 0;
export const CONTROL_TYPE_COMMIT = 1;

/**
 * A transaction marker batch: transactional + control, one record whose key is [int16 0, int16 type] and
 * whose value is EndTxnMarker v0 [int16 0, int32 coordinatorEpoch]. type: 0 ABORT, 1 COMMIT.
 */
export function buildControlBatch(
  type: number,
  producerId: bigint | number,
  producerEpoch: number,
  coordinatorEpoch: number,
  baseOffset: bigint | number = 0n,
  timestamp: bigint | number = Date.now(),
  partitionLeaderEpoch = -1,
): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return buildRecordBatchSync([{ key, value, timestamp }], {
    baseOffset,
    producerId,
    producerEpoch,
    partitionLeaderEpoch,
    transactional: true,
    control: true,
  });
}
