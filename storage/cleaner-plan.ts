/**
 * Which part of a compacted log the cleaner may clean, and whether it should clean it now (pure).
 *
 * Terms (Kafka's): the log from its start to `firstDirty` (the cleaner checkpoint) is "clean" (every key
 * occurs at most once there); from `firstDirty` to `firstUncleanable` it is "dirty". `firstUncleanable`
 * is the base offset of the first closed segment that is too young (max timestamp newer than
 * now - min.compaction.lag.ms) or of the active segment: cleaning covers whole closed segments only.
 *
 * A clean is due when there are dirty bytes and
 * - dirty / (clean + dirty) >= min.cleanable.dirty.ratio ("dirty-ratio"), or
 * - the first dirty record is older than max.compaction.lag.ms ("max-compaction-lag"),
 * or, with no dirty bytes, when a delete horizon stamped by an earlier clean has passed
 * ("delete-horizon": tombstones or removable transaction markers can now be dropped). Byte counts are
 * whole segments; the segment holding `firstDirty` counts as dirty.
 */

import type { LogConfig } from './log-config.js';

export interface SegmentFacts {
  baseOffset: number;
  nextOffset: number;
  size: number;
  largestTimestamp: number;
}

export type CleanReason = 'dirty-ratio' | 'max-compaction-lag' | 'delete-horizon';

export interface CleanPlanInput<S extends SegmentFacts> {
  /** Closed segments, oldest first. */
  closed: readonly S[];
  firstDirty: number;
  now: number;
  config: Pick<LogConfig, 'minCleanableDirtyRatio' | 'minCompactionLagMs' | 'maxCompactionLagMs'>;
  /** Timestamp of the first dirty batch (max timestamp of that batch), if known. */
  firstDirtyTimestamp?: number;
  /** Earliest delete horizon stamped by an earlier clean and still pending, if any. */
  pendingDeleteHorizon?: number;
}

export interface CleanPlan<S extends SegmentFacts> {
  /** Closed segments the cleaner may rewrite (all before firstUncleanable), oldest first. */
  cleanable: S[];
  firstUncleanable: number;
  cleanBytes: number;
  dirtyBytes: number;
  dirtyRatio: number;
  /** Why a clean is due now; undefined: not due. */
  reason?: CleanReason;
}

export function planClean<S extends SegmentFacts>(input: CleanPlanInput<S>): CleanPlan<S> {
  const { closed, firstDirty, now, config } = input;
  const cleanable: S[] = [];
  for (const seg of closed) {
    if (config.minCompactionLagMs > 0 && now - seg.largestTimestamp < config.minCompactionLagMs) break;
    cleanable.push(seg);
  }
  const firstUncleanable =
    cleanable.length > 0 ? cleanable[cleanable.length - 1]!.nextOffset : (closed[0]?.baseOffset ?? firstDirty);
  let cleanBytes = 0;
  let dirtyBytes = 0;
  for (const seg of cleanable) {
    if (seg.nextOffset <= firstDirty) cleanBytes += seg.size;
    else dirtyBytes += seg.size;
  }
  const total = cleanBytes + dirtyBytes;
  const dirtyRatio = total > 0 ? dirtyBytes / total : 0;
  const plan: CleanPlan<S> = { cleanable, firstUncleanable, cleanBytes, dirtyBytes, dirtyRatio };
  if (dirtyBytes > 0 && dirtyRatio >= config.minCleanableDirtyRatio) plan.reason = 'dirty-ratio';
  else if (
    dirtyBytes > 0 &&
    input.firstDirtyTimestamp !== undefined &&
    input.firstDirtyTimestamp >= 0 &&
    now - input.firstDirtyTimestamp > config.maxCompactionLagMs
  ) {
    plan.reason = 'max-compaction-lag';
  } else if (cleanBytes > 0 && input.pendingDeleteHorizon !== undefined && now >= input.pendingDeleteHorizon)
    plan.reason = 'delete-horizon';
  return plan;
}
