/**
 * Start-up loading and recovery of one partition directory (used by PartitionLog.open).
 *
 * Directory layout handled here: `<base>.log` / `.index` / `.timeindex` segment files (segment.ts),
 * `leader-epoch-checkpoint` (leader-epoch-cache.ts), plus leftovers of interrupted operations:
 * `*.deleted` (segments being deleted), `*.tmp` (checkpoint writes), `*.cleaned` / `*.swap`
 * (compaction, which does not exist yet: TODO complete or roll back swaps once the cleaner lands);
 * all leftovers are removed. Index files without a `.log` are removed.
 *
 * Recovery rule: the recovery point R (from the log manager's `recovery-point-offset-checkpoint`)
 * says offsets < R were fsynced. Every segment is opened (index load + sanity check + header scan of
 * its tail); a segment is then fully recovered (every batch validated, torn/corrupt tail truncated,
 * indexes rebuilt) if its content reaches R or beyond (nextOffset > R) or if it failed to open cleanly.
 * If recovery truncates a segment at/after R, or such a segment does not end exactly where the next
 * one begins (its unsynced tail was lost while a later segment's file survived), all later segments
 * are deleted: they follow lost or corrupt data. A segment before R that needs an index rebuild is
 * recovered without deleting anything after it.
 * Leader epochs are re-learned from the batches of recovered segments, then the cache is truncated to
 * [logStartOffset, logEndOffset). Finally everything recovered is fsynced, so the new recovery point is
 * the log end offset.
 */

import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { FileSystem } from './fs.js';
import { ensureDirDurable } from './fs.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
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
import { PARTITION_LEADER_EPOCH_OFFSET } from '../protocol/records/batch-header.js';
import { batchBaseOffset } from './batch-scan.js';

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
}

export interface LoadContext {
  fs: FileSystem;
  clock: Clock;
  logger?: Logger;
  recoveryPoint: number;
  logStartOffset: number;
}

export function segmentConfigOf(config: LogConfig): SegmentConfig {
  return { indexIntervalBytes: config.indexIntervalBytes, maxIndexBytes: config.segmentIndexBytes };
}

const LEFTOVER = [DELETED_SUFFIX, '.tmp', '.cleaned', '.swap'];

export async function loadLog(dir: string, config: LogConfig, ctx: LoadContext): Promise<LoadedLog> {
  const { fs, clock, logger } = ctx;
  const started = Date.now();
  const segDeps: SegmentDeps = logger ? { fs, clock, logger } : { fs, clock };
  const segCfg = segmentConfigOf(config);
  const summary: RecoverySummary = {
    dir,
    recoveryPoint: ctx.recoveryPoint,
    logStartOffset: 0,
    logEndOffset: 0,
    segments: 0,
    recovered: [],
    indexRebuilds: [],
    deletedSegments: [],
    removedFiles: [],
    durationMs: 0,
  };
  let dirChanged = await ensureDirDurable(fs, dir);

  const names = await fs.readdir(dir);
  const logBases = new Set<number>();
  for (const n of names) {
    const b = parseSegmentFileName(n, LOG_SUFFIX);
    if (b !== undefined) logBases.add(b);
  }
  for (const n of names) {
    const orphanIndex = [INDEX_SUFFIX, TIME_INDEX_SUFFIX].some((sfx) => {
      const b = parseSegmentFileName(n, sfx);
      return b !== undefined && !logBases.has(b);
    });
    if (orphanIndex || LEFTOVER.some((sfx) => n.endsWith(sfx))) {
      await fs.rmrf(path.join(dir, n));
      summary.removedFiles.push(n);
      dirChanged = true;
    }
  }

  const epochCache = await LeaderEpochCache.load(fs, dir, logger);
  const segments = new SegmentSet();
  const toRecover = new Map<LogSegment, string | undefined>();
  for (const base of [...logBases].sort((a, b) => a - b)) {
    const { segment, problem } = await LogSegment.open(dir, base, segCfg, segDeps);
    segments.add(segment);
    if (problem !== undefined || segment.nextOffset > ctx.recoveryPoint) toRecover.set(segment, problem);
  }

  const onBatch = (buf: Buffer, pos: number): void => {
    epochCache.assign(buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET), batchBaseOffset(buf, pos));
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
  await epochCache.flush();

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
  const eventful = summary.recovered.some((r) => r.truncatedBytes > 0) || summary.indexRebuilds.length > 0 || summary.deletedSegments.length > 0;
  if (eventful) logger?.warn({ summary }, 'partition log recovered');
  else logger?.debug({ summary }, 'partition log loaded');
  return { segments, epochCache, logStartOffset, summary };
}
