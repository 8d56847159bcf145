/**
 * The clean-shutdown file of a data directory: Kafka's `.kafka_cleanshutdown` marker, carrying what a clean
 * start would otherwise read from two small files in every partition directory (with 10,000 partitions those
 * 20,000 reads were most of the start-up).
 *
 * On-disk format: `.runnel_cleanshutdown` in the data directory, JSON
 *   {"version":1,"partitions":{"<topic>-<partition>":
 *     {"leo":N,"epochs":[[epoch,startOffset],...],"snapshot":"<base64>","segments":[[...],...]}}}
 * where `leo` is the partition's log end offset at close, `epochs` (absent if unknown) the content of its
 * `leader-epoch-checkpoint` and `snapshot` (absent if none) its producer state at `leo` in the snapshot format:
 * what `<leo>.snapshot` holds, less producers expired since it was written (the next expiry check would drop
 * them from the file's state too); `segments` (absent if unknown) lists every segment as
 * [baseOffset, size, offsetIndexBytes, timeIndexBytes, nextOffset, maxTimestamp, offsetOfMaxTimestamp,
 * bytesSinceLastIndexEntry] (segment-sizes.ts: a segment whose log file has that size is opened without
 * stating its indexes or scanning its tail).
 *
 * Invariants:
 * - Written durably (tmp + fsync + rename + directory fsync) by LogManager.closeAll only after every log
 *   closed cleanly and the final checkpoints were written; a partition's epochs are included only when its
 *   leader epoch cache has no unpersisted change, its snapshot only when the snapshot file at `leo` was written.
 * - Read once and removed durably at LogManager open, before any partition is opened or changed: a start that
 *   crashes never leaves a stale file for the next one.
 * - It only replaces reads. A partition uses its entry only if the load found nothing to recover or remove and
 *   the same log end offset, and the snapshot only if the directory lists `<leo>.snapshot`; otherwise (and if
 *   the file is missing or unreadable) the partition's own files are read as without it.
 */

import path from 'node:path';
import type { Logger } from 'pino';
import type { FileSystem } from './fs.js';
import { isNotFound } from './fs.js';
import { writeFileAtomically } from './checkpoint.js';
import type { EpochEntry } from './checkpoint.js';
import type { SegmentTail } from './segment-types.js';

export const CLEAN_SHUTDOWN_FILE = '.runnel_cleanshutdown';

/** What a clean close left for one partition. */
export interface CleanShutdownState {
  /** Log end offset at close. */
  leo: number;
  /** The leader epoch cache's entries (persisted), if known. */
  epochs?: readonly EpochEntry[];
  /** The producer state at `leo`, encoded as a snapshot (producer-snapshot.ts), if `<leo>.snapshot` exists. */
  snapshot?: Buffer;
  /** Every segment's file sizes and tail state (segment-sizes.ts). */
  segments?: readonly SegmentTail[];
}

/** A SegmentTail as a JSON array, in this order. */
const TAIL_FIELDS = [
  'baseOffset',
  'size',
  'offsetIndexBytes',
  'timeIndexBytes',
  'nextOffset',
  'maxTimestamp',
  'offsetOfMaxTimestamp',
  'bytesSinceLastIndexEntry',
] as const;

interface FileJson {
  version: number;
  partitions: Record<string, { leo: number; epochs?: [number, number][]; snapshot?: string; segments?: number[][] }>;
}

const isInt = (x: unknown): x is number => Number.isSafeInteger(x);

function parseTail(a: unknown): SegmentTail | undefined {
  if (!Array.isArray(a) || a.length !== TAIL_FIELDS.length || !a.every(isInt)) return undefined;
  const [baseOffset, size, offsetIndexBytes, timeIndexBytes, nextOffset, maxTimestamp, offsetOfMax, bytesSince] =
    a as number[];
  return {
    baseOffset: baseOffset!,
    size: size!,
    offsetIndexBytes: offsetIndexBytes!,
    timeIndexBytes: timeIndexBytes!,
    nextOffset: nextOffset!,
    maxTimestamp: maxTimestamp!,
    offsetOfMaxTimestamp: offsetOfMax!,
    bytesSinceLastIndexEntry: bytesSince!,
  };
}

/** Durably write the file (keys are `topic-partition`). */
export async function writeCleanShutdown(
  fs: FileSystem,
  dataDir: string,
  states: ReadonlyMap<string, CleanShutdownState>,
): Promise<void> {
  const partitions: FileJson['partitions'] = {};
  for (const [key, s] of states) {
    partitions[key] = {
      leo: s.leo,
      ...(s.epochs ? { epochs: s.epochs.map((e) => [e.epoch, e.startOffset] as [number, number]) } : {}),
      ...(s.snapshot ? { snapshot: s.snapshot.toString('base64') } : {}),
      ...(s.segments ? { segments: s.segments.map((t) => TAIL_FIELDS.map((f) => t[f])) } : {}),
    };
  }
  const json: FileJson = { version: 1, partitions };
  await writeFileAtomically(fs, path.join(dataDir, CLEAN_SHUTDOWN_FILE), Buffer.from(JSON.stringify(json)));
}

/**
 * Read and durably remove the file. Returns undefined when there is none (the last stop was not clean) or it
 * cannot be used (unreadable, malformed: logged); entries that do not parse are left out.
 */
export async function takeCleanShutdown(
  fs: FileSystem,
  dataDir: string,
  logger?: Logger,
): Promise<Map<string, CleanShutdownState> | undefined> {
  const file = path.join(dataDir, CLEAN_SHUTDOWN_FILE);
  let raw: Buffer;
  try {
    raw = await fs.readFile(file);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    logger?.warn({ err, path: file }, 'ignoring unreadable clean-shutdown file');
    raw = Buffer.alloc(0);
  }
  await fs.rmrf(file);
  await fs.syncDir(dataDir);
  let json: FileJson | undefined;
  try {
    json = JSON.parse(raw.toString('utf8')) as FileJson;
  } catch {
    json = undefined;
  }
  if (json?.version !== 1 || typeof json.partitions !== 'object' || json.partitions === null) {
    if (raw.length > 0) logger?.warn({ path: file }, 'ignoring malformed clean-shutdown file');
    return undefined;
  }
  const out = new Map<string, CleanShutdownState>();
  for (const [key, p] of Object.entries(json.partitions)) {
    if (!p || !isInt(p.leo)) continue;
    const s: CleanShutdownState = { leo: p.leo };
    if (Array.isArray(p.epochs) && p.epochs.every((e) => Array.isArray(e) && isInt(e[0]) && isInt(e[1])))
      s.epochs = p.epochs.map(([epoch, startOffset]) => ({ epoch, startOffset }));
    if (typeof p.snapshot === 'string') s.snapshot = Buffer.from(p.snapshot, 'base64');
    const tails = Array.isArray(p.segments) ? p.segments.map(parseTail) : [];
    if (tails.length > 0 && tails.every((t) => t !== undefined)) s.segments = tails as SegmentTail[];
    out.set(key, s);
  }
  return out;
}
