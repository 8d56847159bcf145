/**
 * Compression codecs for record batches (attributes bits 0-2) and legacy wrapper messages.
 *
 * Formats (NOTES.md c. "Compression framing"):
 * - gzip (1): RFC 1952 stream. Reading accepts several concatenated members (Java GZIPInputStream does);
 *   bytes after the last member must be zeros or another member (node's zlib rejects other trailing junk).
 * - snappy (2): written with snappy-java ("xerial") framing like Java Kafka: magic 82 'SNAPPY' 00, int32 BE
 *   version 1, int32 BE min-compatible version 1, then [int32 BE length][raw snappy block] per 32 KiB of input
 *   (snappy-java's default block size). Read: xerial framing (a repeated stream header between chunks is
 *   skipped, like SnappyInputStream) or, when the input does not start with the magic, one raw snappy block
 *   (what sarama and franz-go write).
 * - lz4 (3): LZ4 frame. Written as Kafka's Lz4BlockOutputStream does: magic 04 22 4D 18, FLG 0x60 (version
 *   01, independent blocks, no checksums, no content size), BD 0x40 (64 KiB blocks), HC = (xxh32(FLG BD) >> 8)
 *   & 0xff, blocks [int32 LE size | 0x80000000 if stored raw][data], end mark 0. With `legacyMagic0` the HC is
 *   the historic wrong one over magic+FLG+BD (KIP-57) and, on read, HC is not checked (Kafka ignores it for
 *   magic 0). Reading follows Kafka's Lz4BlockInputStream: version 01, reserved bits 0, block size id 4-7,
 *   dependent (linked) blocks rejected (Java Kafka cannot read them), optional content size skipped, optional
 *   block checksums and content checksum verified (xxh32, per the LZ4 frame spec). lz4-napi's compressFrame
 *   writes FLG 0x60 (independent blocks, no content size) with a BD that grows with the input (64 KiB up to
 *   4 MiB blocks), which Java Kafka would accept; but its decompressFrame always checks HC (so it cannot read
 *   magic-0 frames) and neither lets us fix the 64 KiB block size Kafka writes, so the frame is built and
 *   parsed here around lz4-napi's raw block functions.
 * - zstd (4): standard zstd frames (RFC 8878), level 3 like Kafka's default; concatenated and skippable
 *   frames are read.
 *
 * Packages (all native with prebuilt binaries delivered through per-platform optionalDependencies, none has an
 * install script, so `npm install` never compiles or downloads anything):
 * - node:zlib for gzip: built in, runs on the libuv thread pool.
 * - snappy (napi-rs, Rust snap crate): raw snappy compress/uncompress, async variants off the main thread.
 * - lz4-napi (napi-rs, Rust lz4_flex): raw block compress/uncompress (4-byte LE size prefix, which we strip /
 *   supply), async variants off the main thread. No installed package exposes xxHash32, so a small one is here.
 * - @mongodb-js/zstd (napi-rs, libzstd): async compress(buf, level) / decompress(buf).
 *
 * Invariants: decompression output is bounded by `maxSize` (default DEFAULT_MAX_DECOMPRESSED_SIZE); any
 * malformed input throws CorruptRecordError (never a library error); an unknown codec or zstd where it is not
 * allowed throws CompressionError. Inputs smaller than SYNC_LIMIT are handled with synchronous native calls
 * (cheaper than a thread-pool hop); larger ones go through the async functions.
 */
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import type * as ZlibLib from 'node:zlib';
import type * as SnappyLib from 'snappy';
import type * as Lz4Lib from 'lz4-napi';
import type * as ZstdLib from '@mongodb-js/zstd';
import { CompressionError, CorruptRecordError } from '../errors.js';
import { CompressionType } from './batch-header.js';

export const DEFAULT_MAX_DECOMPRESSED_SIZE = 256 * 1024 * 1024;
/** Below this many input bytes snappy and lz4 run synchronously. */
export const SYNC_LIMIT = 64 * 1024;
/** zstd level used by Kafka when none is configured. */
export const ZSTD_DEFAULT_LEVEL = 3;

export interface CompressOptions {
  /** gzip 1-9 (default 6, Java's default), zstd 1-22 (default 3). lz4 and snappy have no level here. */
  level?: number;
  /** lz4 only: write the historic wrong header checksum used in magic 0 messages. */
  legacyMagic0?: boolean;
}

export interface DecompressOptions {
  /** Upper bound for the decompressed size; larger output throws CorruptRecordError. */
  maxSize?: number;
  /** lz4 only: do not check the frame header checksum (magic 0 messages). */
  legacyMagic0?: boolean;
}

// node:zlib too loads on the first gzip batch (start-up budget, issue 5).
let zlib: typeof ZlibLib | undefined;
let gzipAsync: (buf: Buffer, opts: ZlibLib.ZlibOptions) => Promise<Buffer>;
let gunzipAsync: (buf: Buffer, opts: ZlibLib.ZlibOptions) => Promise<Buffer>;
// Loaded with require, not import(): these are CommonJS packages, and the bundles (broker/bundle.ts) are
// CommonJS scripts run through vm, where require is the loader that always works.
const requireHere = createRequire(import.meta.url);

function loadZlib(): void {
  if (zlib) return;
  zlib = requireHere('node:zlib') as typeof ZlibLib;
  gzipAsync = promisify(zlib.gzip);
  gunzipAsync = promisify(zlib.gunzip);
}

export function compressionName(type: number): string {
  switch (type) {
    case CompressionType.None:
      return 'none';
    case CompressionType.Gzip:
      return 'gzip';
    case CompressionType.Snappy:
      return 'snappy';
    case CompressionType.Lz4:
      return 'lz4';
    case CompressionType.Zstd:
      return 'zstd';
    default:
      return `unknown(${type})`;
  }
}

function unknownCodec(type: number): never {
  throw new CompressionError(`unknown compression codec ${type}`);
}

/** Compress `buf` with codec `type` (None returns `buf` itself). */
// The native codecs load on first use (start-up time and memory matter; most brokers never see some codecs).
let snappy: typeof SnappyLib;
let lz4: typeof Lz4Lib;
let zstd: typeof ZstdLib;

async function loadCodec(type: CompressionType | number): Promise<void> {
  if (type === CompressionType.Gzip) loadZlib();
  else if (type === CompressionType.Snappy) snappy ??= requireHere('snappy') as typeof SnappyLib;
  else if (type === CompressionType.Lz4) lz4 ??= requireHere('lz4-napi') as typeof Lz4Lib;
  else if (type === CompressionType.Zstd) zstd ??= requireHere('@mongodb-js/zstd') as typeof ZstdLib;
}

export async function compress(
  type: CompressionType | number,
  buf: Buffer,
  opts: CompressOptions = {},
): Promise<Buffer> {
  await loadCodec(type);
  switch (type) {
    case CompressionType.None:
      return buf;
    case CompressionType.Gzip:
      return gzipAsync(buf, { level: opts.level ?? 6 });
    case CompressionType.Snappy:
      return snappyXerialCompress(buf);
    case CompressionType.Lz4:
      return lz4FrameCompress(buf, opts.legacyMagic0 ?? false);
    case CompressionType.Zstd:
      return zstd.compress(buf, opts.level ?? ZSTD_DEFAULT_LEVEL);
    default:
      return unknownCodec(type);
  }
}

/** Decompress `buf` written with codec `type` (None returns `buf` itself). */
export async function decompress(
  type: CompressionType | number,
  buf: Buffer,
  opts: DecompressOptions = {},
): Promise<Buffer> {
  await loadCodec(type);
  const maxSize = opts.maxSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE;
  let out: Buffer;
  switch (type) {
    case CompressionType.None:
      return buf;
    case CompressionType.Gzip:
      try {
        out = await gunzipAsync(buf, { maxOutputLength: maxSize });
      } catch (e) {
        throw corrupt('gzip', e);
      }
      break;
    case CompressionType.Snappy:
      out = await snappyDecompress(buf, maxSize);
      break;
    case CompressionType.Lz4:
      out = await lz4FrameDecompress(buf, maxSize, opts.legacyMagic0 ?? false);
      break;
    case CompressionType.Zstd:
      checkZstdContentSize(buf, maxSize);
      try {
        out = await zstd.decompress(buf);
      } catch (e) {
        throw corrupt('zstd', e);
      }
      break;
    default:
      return unknownCodec(type);
  }
  if (out.length > maxSize) throw new CorruptRecordError(`decompressed data exceeds ${maxSize} bytes`);
  return out;
}

function corrupt(codec: string, e: unknown): CorruptRecordError {
  if (e instanceof CorruptRecordError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new CorruptRecordError(`invalid ${codec} data: ${msg}`);
}

// ---------------------------------------------------------------------------------------------------------
// snappy

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_MAGIC_HEAD = XERIAL_MAGIC.readInt32BE(0);
const XERIAL_BLOCK_SIZE = 32 * 1024;

/** True when `buf` starts with the snappy-java stream magic. */
export function isXerialSnappy(buf: Buffer): boolean {
  return buf.length >= XERIAL_MAGIC.length && buf.compare(XERIAL_MAGIC, 0, 8, 0, 8) === 0;
}

async function snappyXerialCompress(buf: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let off = 0; off < buf.length; off += XERIAL_BLOCK_SIZE) {
    chunks.push(buf.subarray(off, Math.min(off + XERIAL_BLOCK_SIZE, buf.length)));
  }
  const blocks =
    buf.length < SYNC_LIMIT
      ? chunks.map((c) => snappy.compressSync(c))
      : await Promise.all(chunks.map((c) => snappy.compress(c)));
  let total = XERIAL_HEADER_SIZE;
  for (const b of blocks) total += 4 + b.length;
  const out = Buffer.allocUnsafe(total);
  XERIAL_MAGIC.copy(out, 0);
  out.writeInt32BE(1, 8);
  out.writeInt32BE(1, 12);
  let pos = XERIAL_HEADER_SIZE;
  for (const b of blocks) {
    out.writeInt32BE(b.length, pos);
    b.copy(out, pos + 4);
    pos += 4 + b.length;
  }
  return out;
}

/** Uncompressed length from a raw snappy block's preamble (unsigned varint, at most 32 bits). */
function snappyRawLength(block: Buffer): number {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i];
    value += (b & 0x7f) * mul;
    if (b < 0x80) return value;
    mul *= 128;
  }
  throw new CorruptRecordError('invalid snappy data: bad length preamble');
}

async function snappyRaw(blocks: Buffer[], maxSize: number, inputSize: number): Promise<Buffer[]> {
  let total = 0;
  for (const b of blocks) {
    total += snappyRawLength(b);
    if (total > maxSize) throw new CorruptRecordError(`decompressed data exceeds ${maxSize} bytes`);
  }
  try {
    if (inputSize < SYNC_LIMIT) return blocks.map((b) => snappy.uncompressSync(b, { asBuffer: true }) as Buffer);
    return (await Promise.all(blocks.map((b) => snappy.uncompress(b, { asBuffer: true })))) as Buffer[];
  } catch (e) {
    throw corrupt('snappy', e);
  }
}

async function snappyDecompress(buf: Buffer, maxSize: number): Promise<Buffer> {
  if (!isXerialSnappy(buf)) return (await snappyRaw([buf], maxSize, buf.length))[0];
  if (buf.length < XERIAL_HEADER_SIZE) throw new CorruptRecordError('invalid snappy data: truncated xerial header');
  const minCompatible = buf.readInt32BE(12);
  if (minCompatible > 1) throw new CorruptRecordError(`unsupported xerial snappy version ${minCompatible}`);
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_SIZE;
  while (pos < buf.length) {
    if (pos + 4 > buf.length) throw new CorruptRecordError('invalid snappy data: truncated chunk length');
    const len = buf.readInt32BE(pos);
    if (
      len === XERIAL_MAGIC_HEAD &&
      pos + XERIAL_HEADER_SIZE <= buf.length &&
      buf.compare(XERIAL_MAGIC, 0, 8, pos, pos + 8) === 0
    ) {
      pos += XERIAL_HEADER_SIZE; // concatenated stream: skip its header
      continue;
    }
    if (len < 0 || pos + 4 + len > buf.length) throw new CorruptRecordError('invalid snappy data: bad chunk length');
    if (len > 0) blocks.push(buf.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  const parts = await snappyRaw(blocks, maxSize, buf.length);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------
// lz4 frame

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_SIZE = 64 * 1024;
const LZ4_FLG = 0x60; // version 01, block independence
const LZ4_BD = 0x40; // block max size id 4 = 64 KiB
const LZ4_STORED = 0x80000000;

async function lz4FrameCompress(buf: Buffer, legacyMagic0: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let off = 0; off < buf.length; off += LZ4_BLOCK_SIZE) {
    chunks.push(buf.subarray(off, Math.min(off + LZ4_BLOCK_SIZE, buf.length)));
  }
  // lz4-napi prefixes each compressed block with its uncompressed size (4 bytes LE); the frame does not.
  const compressed =
    buf.length < SYNC_LIMIT
      ? chunks.map((c) => lz4.compressSync(c))
      : await Promise.all(chunks.map((c) => lz4.compress(c)));
  let total = 7 + 4;
  for (let i = 0; i < chunks.length; i++) total += 4 + Math.min(compressed[i].length - 4, chunks[i].length);
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32LE(LZ4_MAGIC, 0);
  out[4] = LZ4_FLG;
  out[5] = LZ4_BD;
  out[6] = legacyMagic0 ? (xxhash32(out, 0, 6) >>> 8) & 0xff : (xxhash32(out, 4, 6) >>> 8) & 0xff;
  let pos = 7;
  for (let i = 0; i < chunks.length; i++) {
    const block = compressed[i].subarray(4);
    if (block.length >= chunks[i].length) {
      out.writeUInt32LE((chunks[i].length | LZ4_STORED) >>> 0, pos);
      chunks[i].copy(out, pos + 4);
      pos += 4 + chunks[i].length;
    } else {
      out.writeUInt32LE(block.length, pos);
      block.copy(out, pos + 4);
      pos += 4 + block.length;
    }
  }
  out.writeUInt32LE(0, pos);
  return out;
}

async function lz4FrameDecompress(buf: Buffer, maxSize: number, legacyMagic0: boolean): Promise<Buffer> {
  if (buf.length < 7) throw new CorruptRecordError('invalid lz4 data: truncated frame header');
  if (buf.readUInt32LE(0) !== LZ4_MAGIC) throw new CorruptRecordError('invalid lz4 data: bad frame magic');
  const flg = buf[4];
  const bd = buf[5];
  if (flg >>> 6 !== 1) throw new CorruptRecordError(`invalid lz4 data: frame version ${flg >>> 6}`);
  if ((flg & 0x03) !== 0) throw new CorruptRecordError('invalid lz4 data: reserved FLG bits set');
  if ((flg & 0x20) === 0) throw new CorruptRecordError('invalid lz4 data: dependent blocks are not supported');
  const blockId = (bd >>> 4) & 0x07;
  if ((bd & 0x8f) !== 0 || blockId < 4) throw new CorruptRecordError('invalid lz4 data: bad BD byte');
  const maxBlock = 1 << (2 * blockId + 8);
  const blockChecksum = (flg & 0x10) !== 0;
  const contentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  let pos = 6;
  if (contentSize) pos += 8;
  if (pos >= buf.length) throw new CorruptRecordError('invalid lz4 data: truncated frame header');
  if (!legacyMagic0 && buf[pos] !== ((xxhash32(buf, 4, pos) >>> 8) & 0xff)) {
    throw new CorruptRecordError('invalid lz4 data: frame descriptor checksum mismatch');
  }
  pos++;
  // Collect block descriptors first, then decompress (in parallel for big inputs).
  const blocks: { data: Buffer; stored: boolean }[] = [];
  let bound = 0;
  for (;;) {
    if (pos + 4 > buf.length) throw new CorruptRecordError('invalid lz4 data: truncated block');
    const word = buf.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const stored = (word & LZ4_STORED) !== 0;
    if (size > maxBlock) throw new CorruptRecordError(`invalid lz4 data: block of ${size} bytes exceeds ${maxBlock}`);
    if (pos + size + (blockChecksum ? 4 : 0) > buf.length)
      throw new CorruptRecordError('invalid lz4 data: truncated block');
    const data = buf.subarray(pos, pos + size);
    pos += size;
    if (blockChecksum) {
      if (xxhash32(data) !== buf.readUInt32LE(pos))
        throw new CorruptRecordError('invalid lz4 data: block checksum mismatch');
      pos += 4;
    }
    blocks.push({ data, stored });
    bound += stored ? size : maxBlock;
    if (stored && bound > maxSize) throw new CorruptRecordError(`decompressed data exceeds ${maxSize} bytes`);
  }
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32LE(maxBlock, 0);
  const withPrefix = (d: Buffer) => Buffer.concat([prefix, d], 4 + d.length);
  const parts: Buffer[] = [];
  let total = 0;
  const add = (p: Buffer) => {
    total += p.length;
    if (total > maxSize) throw new CorruptRecordError(`decompressed data exceeds ${maxSize} bytes`);
    parts.push(p);
  };
  try {
    if (buf.length < SYNC_LIMIT) {
      for (const b of blocks) add(b.stored ? b.data : lz4.uncompressSync(withPrefix(b.data)));
    } else if (bound <= maxSize) {
      const all = await Promise.all(blocks.map((b) => (b.stored ? b.data : lz4.uncompress(withPrefix(b.data)))));
      for (const p of all) add(p);
    } else {
      // The output could exceed maxSize: decode one block at a time so we stop early.
      for (const b of blocks) add(b.stored ? b.data : await lz4.uncompress(withPrefix(b.data)));
    }
  } catch (e) {
    throw corrupt('lz4', e);
  }
  const out = parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
  if (contentChecksum) {
    if (pos + 4 > buf.length) throw new CorruptRecordError('invalid lz4 data: truncated content checksum');
    if (xxhash32(out) !== buf.readUInt32LE(pos))
      throw new CorruptRecordError('invalid lz4 data: content checksum mismatch');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// zstd

/** If the first frame header declares a content size, reject it early when it exceeds maxSize. */
function checkZstdContentSize(buf: Buffer, maxSize: number): void {
  if (buf.length < 6 || buf.readUInt32LE(0) !== 0xfd2fb528) return;
  const fhd = buf[4];
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const dictIdFlag = fhd & 0x03;
  const pos = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictIdFlag];
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0 || pos + fcsBytes > buf.length) return;
  let size: number;
  switch (fcsBytes) {
    case 1:
      size = buf[pos];
      break;
    case 2:
      size = buf.readUInt16LE(pos) + 256;
      break;
    case 4:
      size = buf.readUInt32LE(pos);
      break;
    default:
      size = Number(buf.readBigUInt64LE(pos));
      break;
  }
  if (size > maxSize) throw new CorruptRecordError(`decompressed data exceeds ${maxSize} bytes`);
}

// ---------------------------------------------------------------------------------------------------------
// xxHash32 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), for lz4 frame checksums.

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

/** xxHash32 of buf[start, end) with the given seed, as an unsigned 32-bit number. */
export function xxhash32(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  const len = end - start;
  let p = start;
  let h: number;
  const word = (i: number) => buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    while (p <= limit) {
      v1 = round(v1, word(p));
      v2 = round(v2, word(p + 4));
      v3 = round(v3, word(p + 8));
      v4 = round(v4, word(p + 12));
      p += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + len) | 0;
  while (p + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(word(p), P3)) | 0, 17), P4);
    p += 4;
  }
  while (p < end) {
    h = Math.imul(rotl((h + Math.imul(buf[p], P5)) | 0, 11), P1);
    p++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}
