/**
 * The leader side of replica fetches (Kafka's ReplicaManager.fetchMessages for a follower), used by the Fetch
 * handler (replicaId >= 0) and by the in-process transport of replica-fetcher.ts.
 *
 * - `readForReplica`: one partition. The follower's fetch offset is its log end: it is recorded first
 *   (Partition.recordFollowerFetch: ISR expansion, HW, the acks=all produces waiting on it), so the HW moves
 *   without waiting for the read, then the read goes up to the log end (not the HW), from the leader's tail
 *   cache when it holds the appends starting there (Partition.readForFollower), and the answer carries the
 *   HW. Errors as Kafka's: UNKNOWN_TOPIC_OR_PARTITION, epoch errors, NOT_LEADER_OR_FOLLOWER (not the leader,
 *   or `replicaId` is not a follower), or the read's OFFSET_OUT_OF_RANGE (then nothing is recorded).
 * - `fetchForReplica`: a whole replica fetch: every partition, and when nothing was read and no partition
 *   failed, a wait up to `maxWaitMs` for an append on one of them, then a new read.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { Clock } from '../storage/clock.js';
import type { Partition } from './partition.js';

/** One partition of a replica fetch. */
export interface ReplicaFetchPartition {
  topic: string;
  partition: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  maxBytes: number;
}

/** The answer for one partition of a replica fetch. */
export interface ReplicaFetchData {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  logEndOffset: number;
  records: Buffer;
}

/** What the reads need of the replica manager. */
export interface ReplicaReadSource {
  getPartitionOrError(topic: string, partition: number, currentLeaderEpoch?: number): Partition | number;
  delayFetch(partitions: Iterable<[string, number]>, timeoutMs: number): Promise<void>;
}

const EMPTY = Buffer.alloc(0);

export async function readForReplica(
  source: ReplicaReadSource,
  clock: Clock,
  replicaId: number,
  it: ReplicaFetchPartition,
  minOneBatch = true,
): Promise<ReplicaFetchData> {
  const out: ReplicaFetchData = {
    topic: it.topic,
    partition: it.partition,
    errorCode: ErrorCode.NONE,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    logEndOffset: -1,
    records: EMPTY,
  };
  const p = source.getPartitionOrError(it.topic, it.partition, it.currentLeaderEpoch);
  if (typeof p === 'number') return { ...out, errorCode: p };
  let recorded = false;
  if (it.fetchOffset >= p.logStartOffset && it.fetchOffset <= p.logEndOffset) {
    if (!p.recordFollowerFetch(replicaId, it.fetchOffset, clock.now()))
      return { ...out, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    recorded = true;
  }
  const r = await p.readForFollower(it.fetchOffset, it.maxBytes, minOneBatch);
  if (r.errorCode !== ErrorCode.NONE) return { ...out, errorCode: r.errorCode, logStartOffset: r.logStartOffset };
  if (!recorded && !p.recordFollowerFetch(replicaId, it.fetchOffset, clock.now())) {
    return { ...out, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
  }
  return {
    ...out,
    highWatermark: p.highWatermark,
    lastStableOffset: p.lastStableOffset,
    logStartOffset: p.logStartOffset,
    logEndOffset: p.logEndOffset,
    records: r.records,
  };
}

export async function fetchForReplica(
  source: ReplicaReadSource,
  clock: Clock,
  replicaId: number,
  items: ReplicaFetchPartition[],
  maxWaitMs: number,
): Promise<ReplicaFetchData[]> {
  const deadline = clock.now() + Math.max(0, maxWaitMs);
  for (;;) {
    const out: ReplicaFetchData[] = [];
    let bytes = 0;
    for (const it of items) {
      const d = await readForReplica(source, clock, replicaId, it, bytes === 0);
      bytes += d.records.length;
      out.push(d);
    }
    const failed = out.some((d) => d.errorCode !== ErrorCode.NONE);
    if (bytes > 0 || failed || items.length === 0 || clock.now() >= deadline) return out;
    await source.delayFetch(
      items.map((it) => [it.topic, it.partition] as [string, number]),
      deadline - clock.now(),
    );
  }
}
