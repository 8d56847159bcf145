/**
 * The compaction swap of a PartitionLog (partition-log.ts): replacing consecutive closed segments by
 * the log cleaner's output (log-cleaner.ts), kept out of partition-log.ts.
 *
 * The cleaner reads closed segments without holding the log's mutation queue and writes its output as
 * `<base>.log.cleaned` (+ indexes); only the swap runs on the queue (PartitionLog.replaceSegments): it
 * checks that the segments it replaces are still in the log (no truncation or deletion raced with the
 * clean), renames the output to `.swap` (dir fsync), retires the old segments (`.deleted`) and renames
 * the output to its final names (dir fsync). The rename to `.swap` is the commit point: the loader
 * (log-loader.ts) completes a `.swap` left by a crash.
 *
 * Invariant: a swap that returns false has touched nothing (the caller then deletes `cleaned`).
 */

import type { Logger } from 'pino';
import type { FileSystem } from './fs.js';
import type { SegmentSet } from './segment-set.js';
import type { LogSegment } from './segment.js';
import { SWAP_SUFFIX } from './segment.js';

/** What the swap needs from its PartitionLog (called on its mutation queue). */
export interface SwapContext {
  fs: FileSystem;
  dir: string;
  segments: SegmentSet;
  logger: Logger | undefined;
  /** Take a segment out of the log now; its files go `.deleted` and are unlinked later. */
  retire(seg: LogSegment): Promise<void>;
}

/**
 * Swap `cleaned` (a fsynced `.cleaned` segment covering exactly the offsets of `old`) in for the
 * consecutive closed segments `old`. Returns false, touching nothing, if `old` are no longer
 * consecutive segments of the log, include the active one, or `cleaned` does not cover exactly their
 * offsets. On-disk order: `.cleaned` -> `.swap`, dir fsync, old segments -> `.deleted`, `.swap` ->
 * final names, dir fsync. `afterSwapRename` is a test hook (crash injection) run after the first dir
 * fsync.
 */
export async function swapInCleanedSegment(
  ctx: SwapContext,
  old: readonly LogSegment[],
  cleaned: LogSegment,
  afterSwapRename?: () => Promise<void> | void,
): Promise<boolean> {
  const segs = ctx.segments.values();
  const i = segs.indexOf(old[0]!);
  if (old.length === 0 || i < 0) return false;
  for (let k = 0; k < old.length; k++) {
    if (segs[i + k] !== old[k]) return false;
  }
  if (i + old.length >= segs.length) return false; // would include the active segment
  if (cleaned.baseOffset !== old[0]!.baseOffset || cleaned.nextOffset !== old[old.length - 1]!.nextOffset) return false;
  await cleaned.changeSuffix(SWAP_SUFFIX);
  await ctx.fs.syncDir(ctx.dir);
  await afterSwapRename?.();
  for (const seg of old) await ctx.retire(seg);
  await cleaned.changeSuffix('');
  ctx.segments.add(cleaned);
  await ctx.fs.syncDir(ctx.dir);
  ctx.logger?.info(
    { dir: ctx.dir, replaced: old.map((s) => s.baseOffset), size: cleaned.size },
    'swapped in cleaned segment',
  );
  return true;
}
