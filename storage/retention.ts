/**
 * Which segments retention may delete (pure selection; PartitionLog does the deleting).
 *
 * Walks the segments oldest first and stops at the first one that must stay; the active (last)
 * segment is never selected. A segment is deletable if:
 * - it lies wholly below the log start offset (the next segment's base <= logStartOffset), or
 * - cleanup.policy contains `delete` and either
 *   - retention.ms >= 0 and now - segment.largestTimestamp > retention.ms, or
 *   - retention.bytes >= 0 and the log would still be at least retention.bytes after removing it
 *     (Kafka: `size - retention.bytes - segment.size >= 0`, counting segments already selected).
 */

import type { LogConfig } from './log-config.js';
import type { LogSegment } from './segment.js';

export function selectDeletableSegments(
  segs: readonly LogSegment[],
  logStartOffset: number,
  config: Pick<LogConfig, 'cleanupPolicy' | 'retentionMs' | 'retentionBytes'> | undefined,
  now: number,
): LogSegment[] {
  const policyDelete = config?.cleanupPolicy.includes('delete') === true;
  let total = 0;
  for (const s of segs) total += s.size;
  let excess = policyDelete && config.retentionBytes >= 0 ? total - config.retentionBytes : -Infinity;
  const out: LogSegment[] = [];
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    const belowStart = segs[i + 1]!.baseOffset <= logStartOffset;
    const byTime = policyDelete && config.retentionMs >= 0 && now - seg.largestTimestamp > config.retentionMs;
    const bySize = excess - seg.size >= 0;
    if (!belowStart && !byTime && !bySize) break;
    out.push(seg);
    excess -= seg.size;
  }
  return out;
}
