/**
 * Start-up loading and recovery of one partition directory (used by PartitionLog.open).
 *
 * Directory layout handled here: `<base>.log` / `.index` / `.timeindex` / `.txnindex` segment files (segment.ts),
 * `leader-epoch-checkpoint` (leader-epoch-cache.ts), plus leftovers of interrupted operations:
 * `*.deleted` (segments being deleted), `*.tmp` (checkpoint writes) and `*.cleaned` (log cleaner
 * output not yet validated against the log) are removed. Index files without a `.log` are removed.
 *
 * Compaction swaps (log-cleaner.ts) are completed first: a `<base>.log.swap` is a fsynced cleaned
 * segment that was already accepted as the replacement of the segments it covers (its rename to
 * `.swap` is the commit point). Its range [base, next offset) is read from its batch headers; every
 * `.log` (+ indexes) whose base offset lies in that range is deleted, then the `.swap` files are
 * renamed to their final names (indexes first, log last). Redoing this after another crash is safe.
 *
 * Recovery rule: the recovery point R (from the log manager's `recovery-point-offset-checkpoint`)
 * says offsets < R were fsynced. Every segment is opened (index load + sanity check + header scan of
 * its tail); a segment is then fully recovered (every batch validated, torn/corrupt tail truncated,
 * indexes rebuilt) if its content reaches R or beyond (nextOffset > R) or if it failed to open cleanly.
 * If recovery truncates a segment at/after R, or such a segment does not end exactly where the next
 * one begins (its unsynced tail was lost while a later segment's file survived), all later segments
 * are deleted: they follow lost or corrupt data. A segment before R that needs an index rebuild is
 * recovered without deleting anything after it.
 * After a clean shutdown (clean-shutdown.ts) a segment whose log file has the size recorded takes its index
 * sizes and tail state from its file (segment-sizes.ts), and the leader epochs and the producer snapshot at
 * the log end come from it instead of this directory's files, when nothing here needs recovery or removal
 * and the log end offset is the one recorded.
 * Leader epochs are re-learned from the batches of recovered segments, then the cache is truncated to
 * [logStartOffset, logEndOffset) (checkpointed if epochs were re-learned; a truncation alone is not written
 * at load, see leader-epoch-cache.ts). Finally everything recovered is fsynced, so the new recovery point is
 * the log end offset.
 * A fresh log (`fresh`: a partition just created, its directory missing) is created without any read or fsync
 * (createFresh); its files' directory entries become durable at the log's first flush (LogFlusher: the directory
 * is marked dirty), before its recovery point can move.
 */

import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { FileSystem } from './fs.js';
import { ensureDirDurable } from './fs.js';
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import { SegmentSet } from './segment-set.js';
import {
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  LogSegment,
  TIME_INDEX_SUFFIX,
  parseSegmentFileName,
} from './segment.js';
import type { SegmentConfig, SegmentDeps, SegmentRecoveryResult } from './segment.js';
import { baseOffsetNumber, partitionLeaderEpoch } from '../protocol/records/batch-header.js';
import { BatchHeaderScanner } from './batch-scan.js';
import { isNotFound } from './fs.js';
import { segmentFileName, SWAP_SUFFIX } from './segment.js';
import { TXN_INDEX_SUFFIX } from './txn-index.js';
import type { CleanShutdownState } from './clean-shutdown.js';
import { SNAPSHOT_SUFFIX } from './producer-snapshot.js';

const snapshotFileName = (offset: number): string => segmentFileName(offset, SNAPSHOT_SUFFIX);

export interface RecoverySummary {
  dir: string;
  /** Recovery point the load started from. */
  recoveryPoint: number;
  logStartOffset: number;
  logEndOffset: number;
  segments: number;
  /** Segments fully validated, with what was cut from each. */
  recovered: SegmentRecoveryResult[];
  /** Segments whose indexes had to be rebuilt, and why. */
  indexRebuilds: Array<{ baseOffset: number; reason: string }>;
  /** Base offsets of segments deleted because they followed a truncated segment. */
  deletedSegments: number[];
  /** Leftover files removed. */
  removedFiles: string[];
  durationMs: number;
}

export interface LoadedLog {
  segments: SegmentSet;
  epochCache: LeaderEpochCache;
  logStartOffset: number;
  summary: RecoverySummary;
  /**
   * The directory's file names as listed at load (after leftovers were removed). Only the names of
   * producer snapshots are read from it (producer-recovery.ts), before anything else can change them.
   */
  files: ReadonlySet<string>;
  /** The producer snapshot at the log end offset as the clean shutdown recorded it (its file is not read). */
  cleanSnapshot?: { offset: number; data: Buffer };
  /** A fresh log: its files' directory entries are not durable yet (the owner's first flush syncs the dir). */
  dirEntriesPending?: boolean;
}

export interface LoadContext {
  fs: FileSystem;
  clock: Clock;
  logger?: Logger;
  recoveryPoint: number;
  logStartOffset: number;
  /** This partition's entry of the clean-shutdown file, if the last stop was clean. */
  cleanShutdown?: CleanShutdownState | undefined;
  /** The directory does not exist and is created without fsyncs (see `createFresh`). */
  fresh?: boolean;
}

export function segmentConfigOf(config: LogConfig): SegmentConfig {
  return { indexIntervalBytes: config.indexIntervalBytes, maxIndexBytes: config.segmentIndexBytes };
}

const LEFTOVER = [DELETED_SUFFIX, '.tmp', '.cleaned', '.swap'];

function emptySummary(dir: string, recoveryPoint: number): RecoverySummary {
  return {
    dir,
    recoveryPoint,
    logStartOffset: 0,
    logEndOffset: 0,
    segments: 0,
    recovered: [],
    indexRebuilds: [],
    deletedSegments: [],
    removedFiles: [],
    durationMs: 0,
  };
}

/**
 * A new, empty log (a partition just created): the directory and one empty segment at the log start offset,
 * without a single fsync. Nothing in it needs to survive a crash (the load after one completes or recreates the
 * directory; no offset is acknowledged as durable before the log's first flush, which fsyncs the directory); the
 * caller makes the directory's own entry durable (LogManager.createLogs: one fsync of the data dir per batch).
 */
async function createFresh(dir: string, config: LogConfig, ctx: LoadContext): Promise<LoadedLog> {
  const { fs, clock, logger } = ctx;
  const started = Date.now();
  const segDeps: SegmentDeps = logger ? { fs, clock, logger } : { fs, clock };
  await fs.mkdirp(dir);
  const logStartOffset = Math.max(0, ctx.logStartOffset);
  const segments = new SegmentSet();
  segments.add(await LogSegment.create(dir, logStartOffset, segmentConfigOf(config), segDeps));
  const summary = emptySummary(dir, ctx.recoveryPoint);
  summary.logStartOffset = logStartOffset;
  summary.logEndOffset = logStartOffset;
  summary.segments = 1;
  summary.durationMs = Date.now() - started;
  const epochCache = LeaderEpochCache.fromPersisted(fs, dir, []);
  return { segments, epochCache, logStartOffset, summary, files: new Set(), dirEntriesPending: true };
}

export async function loadLog(dir: string, config: LogConfig, ctx: LoadContext): Promise<LoadedLog> {
  if (ctx.fresh) return createFresh(dir, config, ctx);
  const { fs, clock, logger } = ctx;
  const started = Date.now();
  const segDeps: SegmentDeps = logger ? { fs, clock, logger } : { fs, clock };
  const segCfg = segmentConfigOf(config);
  const summary = emptySummary(dir, ctx.recoveryPoint);
  // One directory listing serves the whole load (swaps, leftovers, index presence, snapshots); a missing
  // directory is created durably. It is listed again only after a compaction swap was completed.
  let dirChanged = false;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    dirChanged = await ensureDirDurable(fs, dir);
    names = [];
  }
  if (await completeSwaps(fs, dir, names, summary, logger)) {
    dirChanged = true;
    names = await fs.readdir(dir);
  }
  const logBases = new Set<number>();
  for (const n of names) {
    const b = parseSegmentFileName(n, LOG_SUFFIX);
    if (b !== undefined) logBases.add(b);
  }
  for (const n of names) {
    const orphanIndex = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX].some((sfx) => {
      const b = parseSegmentFileName(n, sfx);
      return b !== undefined && !logBases.has(b);
    });
    if (orphanIndex || LEFTOVER.some((sfx) => n.endsWith(sfx))) {
      await fs.rmrf(path.join(dir, n));
      summary.removedFiles.push(n);
      dirChanged = true;
    }
  }
  const files = new Set(names);
  for (const n of summary.removedFiles) files.delete(n);

  const segments = new SegmentSet();
  const toRecover = new Map<LogSegment, string | undefined>();
  const tails = new Map((ctx.cleanShutdown?.segments ?? []).map((t) => [t.baseOffset, t]));
  for (const base of [...logBases].sort((a, b) => a - b)) {
    const { segment, problem } = await LogSegment.open(dir, base, segCfg, segDeps, files, tails.get(base));
    segments.add(segment);
    if (problem !== undefined || segment.nextOffset > ctx.recoveryPoint) toRecover.set(segment, problem);
  }
  // After a clean shutdown, what it recorded stands in for this directory's reads (clean-shutdown.ts) if the
  // directory is as it was left: nothing to recover or remove, the same log end offset.
  const clean =
    ctx.cleanShutdown !== undefined &&
    toRecover.size === 0 &&
    summary.removedFiles.length === 0 &&
    ctx.cleanShutdown.leo === (segments.last()?.nextOffset ?? -1)
      ? ctx.cleanShutdown
      : undefined;
  const epochCache = clean?.epochs
    ? LeaderEpochCache.fromPersisted(fs, dir, clean.epochs)
    : await LeaderEpochCache.load(fs, dir, logger, files.has(LEADER_EPOCH_CHECKPOINT));

  const onBatch = (buf: Buffer, pos: number): void => {
    epochCache.assign(partitionLeaderEpoch(buf, pos), baseOffsetNumber(buf, pos));
  };
  const floorBase = segments.floor(ctx.recoveryPoint)?.baseOffset ?? -Infinity;
  for (const seg of [...segments]) {
    if (!segments.values().includes(seg)) continue; // deleted below
    const unflushed = seg.baseOffset >= floorBase;
    let truncated = 0;
    if (toRecover.has(seg)) {
      const problem = toRecover.get(seg);
      if (problem) {
        summary.indexRebuilds.push({ baseOffset: seg.baseOffset, reason: problem });
        dirChanged = true; // a missing index file was recreated
      }
      const result = await seg.recover(unflushed ? { onBatch } : {});
      summary.recovered.push(result);
      truncated = result.truncatedBytes;
      if (truncated > 0) logger?.warn({ dir, ...result }, 'truncated invalid tail of segment');
    }
    if (!unflushed) {
      if (truncated > 0) logger?.error({ dir, baseOffset: seg.baseOffset }, 'corruption below the recovery point');
      continue;
    }
    // Rolls happen at the log end, so in the unflushed region each segment must end exactly where the
    // next one begins; a shortfall means data lost in the crash, and everything after it must go.
    const next = segments.next(seg);
    if (truncated > 0 || (next !== undefined && next.baseOffset !== seg.nextOffset)) {
      for (const later of segments.above(seg.baseOffset)) {
        segments.remove(later);
        await later.delete();
        summary.deletedSegments.push(later.baseOffset);
        dirChanged = true;
      }
    }
  }

  let logStartOffset = Math.max(0, ctx.logStartOffset);
  const first = segments.first();
  if (first) logStartOffset = Math.max(logStartOffset, first.baseOffset);
  const leo = segments.last()?.nextOffset ?? 0;
  if (segments.isEmpty || logStartOffset > leo) {
    // No data, or the log start offset is past everything we have: start fresh at logStartOffset.
    for (const seg of segments.clear()) {
      await seg.delete();
      summary.deletedSegments.push(seg.baseOffset);
    }
    segments.add(await LogSegment.create(dir, logStartOffset, segCfg, segDeps));
    dirChanged = true;
  }

  const logEndOffset = segments.last()!.nextOffset;
  epochCache.truncateFromEnd(logEndOffset);
  epochCache.truncateFromStart(logStartOffset);
  // Epochs re-learned from recovered batches lie below the new recovery point: durable now. Truncations alone
  // (an empty log's entry at its end, say) may wait: the next load cuts the same entries (leader-epoch-cache.ts).
  if (epochCache.unflushedBelow(Infinity)) await epochCache.flush();

  // Make everything durable so that the recovery point can be the log end offset. Segments past the
  // old recovery point may have directory entries that were never fsynced (process crash), so the
  // directory is synced whenever anything was recovered.
  if (summary.recovered.length > 0) dirChanged = true;
  const active = segments.last();
  for (const seg of segments) {
    if (seg !== active) seg.seal();
    await seg.flush(true);
  }
  if (dirChanged) await fs.syncDir(dir);

  summary.logStartOffset = logStartOffset;
  summary.logEndOffset = logEndOffset;
  summary.segments = segments.count;
  summary.durationMs = Date.now() - started;
  const eventful =
    summary.recovered.some((r) => r.truncatedBytes > 0) ||
    summary.indexRebuilds.length > 0 ||
    summary.deletedSegments.length > 0;
  if (eventful) logger?.warn({ summary }, 'partition log recovered');
  else logger?.debug({ summary }, 'partition log loaded');
  const snapshot =
    clean?.snapshot && clean.leo === logEndOffset && files.has(snapshotFileName(clean.leo))
      ? { offset: clean.leo, data: clean.snapshot }
      : undefined;
  return { segments, epochCache, logStartOffset, summary, files, ...(snapshot ? { cleanSnapshot: snapshot } : {}) };
}

/** One past the last offset of the valid batches of a log file, or undefined if it has none. */
async function nextOffsetOfFile(fs: FileSystem, file: string): Promise<number | undefined> {
  const h = await fs.open(file);
  try {
    const scan = new BatchHeaderScanner(h, 0, await h.size());
    let next: number | undefined;
    while (await scan.next()) next = scan.lastOffset + 1;
    return next;
  } finally {
    await h.close();
  }
}

async function renameIfExists(fs: FileSystem, from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Finish interrupted compaction swaps (see the header). Returns true if the directory changed. */
async function completeSwaps(
  fs: FileSystem,
  dir: string,
  names: readonly string[],
  summary: RecoverySummary,
  logger: Logger | undefined,
): Promise<boolean> {
  const swapLog = LOG_SUFFIX + SWAP_SUFFIX;
  const bases = names
    .map((n) => parseSegmentFileName(n, swapLog))
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  if (bases.length === 0) return false;
  const logBases = names.map((n) => parseSegmentFileName(n, LOG_SUFFIX)).filter((b): b is number => b !== undefined);
  for (const base of bases) {
    const swapPath = path.join(dir, segmentFileName(base, swapLog));
    const next = await nextOffsetOfFile(fs, swapPath);
    if (next === undefined) {
      // Never produced by the cleaner (it always keeps the last batch); do not let it replace anything.
      logger?.error({ dir, base }, 'empty compaction swap file; removing it');
      for (const sfx of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX])
        await fs.rmrf(path.join(dir, segmentFileName(base, sfx + SWAP_SUFFIX)));
      continue;
    }
    for (const old of logBases) {
      if (old < base || old >= next) continue;
      for (const sfx of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
        // At the swap's own base an index without a `.swap` twin is already the new one (renamed
        // before the crash); with a twin it is the old one.
        if (old === base && sfx !== LOG_SUFFIX && !names.includes(segmentFileName(base, sfx + SWAP_SUFFIX))) continue;
        await fs.rmrf(path.join(dir, segmentFileName(old, sfx)));
      }
      summary.deletedSegments.push(old);
    }
    for (const sfx of [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, LOG_SUFFIX]) {
      await renameIfExists(
        fs,
        path.join(dir, segmentFileName(base, sfx + SWAP_SUFFIX)),
        path.join(dir, segmentFileName(base, sfx)),
      );
    }
    summary.removedFiles.push(segmentFileName(base, swapLog));
    logger?.warn({ dir, base, next }, 'completed interrupted compaction swap');
  }
  await fs.syncDir(dir);
  return true;
}
