/**
 * Offset calls shared by the admin client and the consumer: ListOffsets (v1-10, per partition leader, earliest
 * -2 / latest -1 / by timestamp, isolation level), OffsetFetch (v2-9; v8+ in the batched-groups form) and
 * OffsetCommit (v2-9).
 */
import { decodeListOffsetsResponse } from '../protocol/generated/list-offsets-response.js';
import { encodeListOffsetsRequest } from '../protocol/generated/list-offsets-request.js';
import { decodeOffsetFetchResponse } from '../protocol/generated/offset-fetch-response.js';
import { encodeOffsetFetchRequest } from '../protocol/generated/offset-fetch-request.js';
import { decodeOffsetCommitResponse } from '../protocol/generated/offset-commit-response.js';
import { encodeOffsetCommitRequest } from '../protocol/generated/offset-commit-request.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { Connection } from './connection.js';
import { KafkaError, check, needsMetadataRefresh } from './errors.js';
import { sleep, type Metadata } from './metadata.js';

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };
export interface CommitEntry {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string;
  leaderEpoch?: number;
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export function specTimestamp(spec: OffsetSpec): bigint {
  if (spec === 'earliest') return -2n;
  if (spec === 'latest') return -1n;
  return BigInt(Math.trunc(spec.timestamp));
}

/**
 * ListOffsets for some partitions of one topic, each asked of its leader. A partition whose leader moved
 * is looked up again (metadata refresh) a few times. offset -1 = no record at or after the timestamp.
 */
export async function listOffsets(
  md: Metadata,
  topic: string,
  partitions: number[],
  spec: OffsetSpec,
  readCommitted = false,
): Promise<Array<{ partition: number; offset: number; timestamp: number }>> {
  const out: Array<{ partition: number; offset: number; timestamp: number }> = [];
  let todo = [...partitions];
  for (let attempt = 0; todo.length > 0; attempt++) {
    const info = await md.topic(topic, { refresh: attempt > 0 });
    const byLeader = new Map<number, number[]>();
    for (const p of todo) {
      const leader = info.partitions[p]?.leader ?? -1;
      if (leader < 0)
        throw new KafkaError(
          info.partitions[p] ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `${topic}-${p}`,
        );
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    const retry: number[] = [];
    let lastErr: KafkaError | null = null;
    await Promise.all(
      [...byLeader].map(async ([leader, parts]) => {
        const conn = await md.connection(leader);
        const v = conn.versionFor(2, 1, 10);
        const res = await conn.send(
          2,
          v,
          (w) =>
            encodeListOffsetsRequest(w, v, {
              replicaId: -1,
              isolationLevel: readCommitted ? 1 : 0,
              timeoutMs: 30_000,
              topics: [
                {
                  name: topic,
                  partitions: parts.map((p) => ({
                    partitionIndex: p,
                    currentLeaderEpoch: -1,
                    timestamp: specTimestamp(spec),
                    maxNumOffsets: 1,
                  })),
                },
              ],
            }),
          decodeListOffsetsResponse,
        );
        for (const t of res.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE) {
              lastErr = new KafkaError(p.errorCode, `${topic}-${p.partitionIndex}`);
              if (needsMetadataRefresh(p.errorCode) || lastErr.retriable) {
                retry.push(p.partitionIndex);
                continue;
              }
              throw lastErr;
            }
            out.push({ partition: p.partitionIndex, offset: Number(p.offset), timestamp: Number(p.timestamp) });
          }
        }
      }),
    );
    if (retry.length > 0 && attempt >= 5) throw lastErr!;
    if (retry.length > 0) await sleep(100 * (attempt + 1));
    todo = retry;
  }
  return out;
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
  leaderEpoch: number;
}

/** Committed offsets of a group on its coordinator `conn`; `topics` null = every topic the group has offsets for. */
export async function fetchOffsets(
  conn: Connection,
  groupId: string,
  topics: Array<{ topic: string; partitions: number[] }> | null,
  requireStable = false,
): Promise<FetchedOffset[]> {
  const v = conn.versionFor(9, 2, 9);
  const res = await conn.send(
    9,
    v,
    (w) =>
      encodeOffsetFetchRequest(w, v, {
        groupId,
        topics: topics === null ? null : topics.map((t) => ({ name: t.topic, partitionIndexes: t.partitions })),
        groups: [
          {
            groupId,
            memberId: null,
            memberEpoch: -1,
            topics:
              topics === null
                ? null
                : topics.map((t) => ({ name: t.topic, topicId: ZERO_UUID, partitionIndexes: t.partitions })),
          },
        ],
        requireStable,
      }),
    decodeOffsetFetchResponse,
  );
  const out: FetchedOffset[] = [];
  const push = (
    topic: string,
    p: {
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      metadata: string | null;
      errorCode: number;
    },
  ): void => {
    check(p.errorCode, `${groupId} ${topic}-${p.partitionIndex}`);
    out.push({
      topic,
      partition: p.partitionIndex,
      offset: Number(p.committedOffset),
      metadata: p.metadata,
      leaderEpoch: p.committedLeaderEpoch,
    });
  };
  if (v >= 8) {
    const g = res.groups.find((x) => x.groupId === groupId);
    if (!g) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `OffsetFetch returned nothing for group ${groupId}`);
    check(g.errorCode, `group ${groupId}`);
    for (const t of g.topics) for (const p of t.partitions) push(t.name, p);
  } else {
    check(res.errorCode, `group ${groupId}`);
    for (const t of res.topics) for (const p of t.partitions) push(t.name, p);
  }
  return out;
}

export interface Generation {
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

/** OffsetCommit on the coordinator `conn`; any per-partition error is thrown (the first one). */
export async function commitOffsets(
  conn: Connection,
  groupId: string,
  entries: CommitEntry[],
  gen: Generation,
): Promise<void> {
  if (entries.length === 0) return;
  const byTopic = new Map<string, CommitEntry[]>();
  for (const e of entries) byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), e]);
  const v = conn.versionFor(8, 2, 9);
  const res = await conn.send(
    8,
    v,
    (w) =>
      encodeOffsetCommitRequest(w, v, {
        groupId,
        generationIdOrMemberEpoch: gen.generationId,
        memberId: gen.memberId,
        groupInstanceId: gen.groupInstanceId,
        retentionTimeMs: -1n,
        topics: [...byTopic].map(([name, es]) => ({
          name,
          topicId: ZERO_UUID,
          partitions: es.map((e) => ({
            partitionIndex: e.partition,
            committedOffset: BigInt(e.offset),
            committedLeaderEpoch: e.leaderEpoch ?? -1,
            committedMetadata: e.metadata ?? '',
            commitTimestamp: -1n,
          })),
        })),
      }),
    decodeOffsetCommitResponse,
  );
  for (const t of res.topics)
    for (const p of t.partitions) check(p.errorCode, `commit ${groupId} ${t.name}-${p.partitionIndex}`);
}
