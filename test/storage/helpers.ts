/**
 * Tiny test-only builder/decoder for uncompressed record batch v2 (the real builder lives in
 * protocol/records). Batch: 61-byte header, records with zig-zag varints, CRC-32C over [21, end).
 */

import { crc32c } from '@node-rs/crc32';
import { gzipSync } from 'node:zlib';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestRecord {
  key?: string | Buffer | null;
  value?: string | Buffer | null;
  timestamp?: number;
  headers?: Array<[string, string | Buffer]>;
}

export interface BatchOptions {
  baseOffset?: number;
  baseTimestamp?: number;
  attributes?: number;
  partitionLeaderEpoch?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Compress the records section with gzip (codec 1). */
  gzip?: boolean;
}

function varint(n: number, out: number[]): void {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function bytes(x: string | Buffer | null | undefined): Buffer | null {
  if (x === null || x === undefined) return null;
  return typeof x === 'string' ? Buffer.from(x) : x;
}

function encodeRecord(r: TestRecord, offsetDelta: number, baseTs: number): Buffer {
  const body: number[] = [0];
  varint((r.timestamp ?? baseTs) - baseTs, body);
  varint(offsetDelta, body);
  const parts: Buffer[] = [];
  const key = bytes(r.key);
  const value = bytes(r.value === undefined ? `value-${offsetDelta}` : r.value);
  const pushBytes = (b: Buffer | null): void => {
    const len: number[] = [];
    varint(b === null ? -1 : b.length, len);
    parts.push(Buffer.from(len));
    if (b) parts.push(b);
  };
  const head = Buffer.from(body);
  parts.unshift(head);
  pushBytes(key);
  pushBytes(value);
  const hc: number[] = [];
  varint(r.headers?.length ?? 0, hc);
  parts.push(Buffer.from(hc));
  for (const [k, v] of r.headers ?? []) {
    pushBytes(Buffer.from(k));
    pushBytes(bytes(v));
  }
  const content = Buffer.concat(parts);
  const len: number[] = [];
  varint(content.length, len);
  return Buffer.concat([Buffer.from(len), content]);
}

/** Build one valid uncompressed v2 batch. */
export function buildBatch(records: TestRecord[], opts: BatchOptions = {}): Buffer {
  const baseTs = opts.baseTimestamp ?? records[0]?.timestamp ?? 0;
  const recs = records.map((r, i) => encodeRecord(r, i, baseTs));
  const maxTs = records.reduce((m, r) => Math.max(m, r.timestamp ?? baseTs), -1);
  const body = opts.gzip ? gzipSync(Buffer.concat(recs)) : Buffer.concat(recs);
  const buf = Buffer.alloc(61 + body.length);
  buf.writeBigInt64BE(BigInt(opts.baseOffset ?? 0), 0);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE((opts.attributes ?? 0) | (opts.gzip ? 1 : 0), 21);
  buf.writeInt32BE(records.length - 1, 23);
  buf.writeBigInt64BE(BigInt(baseTs), 27);
  buf.writeBigInt64BE(BigInt(maxTs), 35);
  buf.writeBigInt64BE(opts.producerId ?? -1n, 43);
  buf.writeInt16BE(opts.producerEpoch ?? -1, 51);
  buf.writeInt32BE(opts.baseSequence ?? -1, 53);
  buf.writeInt32BE(records.length, 57);
  body.copy(buf, 61);
  buf.writeUInt32BE(crc32c(buf.subarray(21)) >>> 0, 17);
  return buf;
}

/** `count` records with timestamps ts, ts+1, ... and values of `valueSize` bytes (or `v<i>`). */
export function batchOf(count: number, opts: { timestamp?: number; valueSize?: number; tag?: string } = {}): Buffer {
  const ts = opts.timestamp ?? 1000;
  const records: TestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const value = opts.valueSize !== undefined ? Buffer.alloc(opts.valueSize, 97 + (i % 26)) : `${opts.tag ?? 'v'}${i}`;
    records.push({ value, timestamp: ts + i });
  }
  return buildBatch(records);
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  leaderEpoch: number;
}

function readVarint(buf: Buffer, pos: { p: number }): number {
  let result = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos.p++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    mul *= 128;
  }
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}

/** Decode every record of a run of uncompressed batches (checks each CRC). */
export function decodeRecords(buf: Buffer): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = 12 + buf.readInt32BE(pos + 8);
    const crc = crc32c(buf.subarray(pos + 21, pos + size)) >>> 0;
    if (crc !== buf.readUInt32BE(pos + 17)) throw new Error(`bad CRC at ${pos}`);
    const base = Number(buf.readBigInt64BE(pos));
    const baseTs = Number(buf.readBigInt64BE(pos + 27));
    const epoch = buf.readInt32BE(pos + 12);
    const count = buf.readInt32BE(pos + 57);
    const cur = { p: pos + 61 };
    for (let i = 0; i < count; i++) {
      const len = readVarint(buf, cur);
      const start = cur.p;
      cur.p++; // attributes
      const tsDelta = readVarint(buf, cur);
      const offDelta = readVarint(buf, cur);
      const kl = readVarint(buf, cur);
      const key = kl < 0 ? null : buf.subarray(cur.p, cur.p + kl);
      cur.p += Math.max(0, kl);
      const vl = readVarint(buf, cur);
      const value = vl < 0 ? null : buf.subarray(cur.p, cur.p + vl);
      out.push({ offset: base + offDelta, timestamp: baseTs + tsDelta, key, value, leaderEpoch: epoch });
      cur.p = start + len;
    }
    pos += size;
  }
  return out;
}

/** [baseOffset, lastOffset] of each batch in a run of batches. */
export function batchRanges(buf: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let pos = 0;
  while (pos < buf.length) {
    const base = Number(buf.readBigInt64BE(pos));
    out.push([base, base + buf.readInt32BE(pos + 23)]);
    pos += 12 + buf.readInt32BE(pos + 8);
  }
  return out;
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'runnel-storage-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Let pending promise continuations and macrotasks run. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}
