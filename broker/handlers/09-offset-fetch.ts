/**
 * OffsetFetch (key 9), versions 0-9 (v6+ flexible; v0 from the Kafka 3.9.1 definition).
 *
 * v0-7: one group; v2+ null topics = every partition with a committed offset, and a top-level error;
 * v8+: several groups, each with its own error; v9 carries memberId/memberEpoch, checked for KIP-848 groups
 * (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH; no member id with epoch -1 = an admin fetch, accepted). Partitions
 * without a committed offset answer offset -1, leader epoch -1, metadata "" and no error. requireStable (v7+):
 * a partition with an offset staged by a transaction that is still open answers UNSTABLE_OFFSET_COMMIT
 * (retriable; the client asks again once the transaction ends), as Kafka does. While the coordinator loads:
 * COORDINATOR_LOAD_IN_PROGRESS (top level, and per partition below v2, where there is no top-level error).
 * Authorization (Kafka's KafkaApis): DESCRIBE on each group, else the group answers GROUP_AUTHORIZATION_FAILED
 * (v8+ the group's error, v2-7 the top-level one, v0-1 on each requested partition) with no offsets; then
 * DESCRIBE on each topic: requested partitions of a denied topic answer TOPIC_AUTHORIZATION_FAILED (offset
 * -1), and "all partitions" (null topics) leaves denied topics out.
 */
import { decodeOffsetFetchRequest, type OffsetFetchRequest } from '../../protocol/generated/offset-fetch-request.js';
import {
  defaultOffsetFetchResponse,
  encodeOffsetFetchResponse,
  type OffsetFetchResponse,
  type OffsetFetchResponseTopics,
} from '../../protocol/generated/offset-fetch-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { fetchOffsets, type FetchedOffset } from '../groups/offsets.js';
import type { TxnOffsetStore } from '../groups/txn-offsets.js';
import { registerHandler } from './registry.js';
import type { RequestContext } from './registry.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, filterAuthorized } from '../security/authorize.js';

/** fetchOffsets behind the group's and the topics' DESCRIBE checks (see the header). */
function authorizedOffsets(
  ctx: RequestContext,
  groupId: string,
  topics: { name: string; partitions: number[] }[] | null,
  member?: { memberId: string | null; memberEpoch: number },
): { errorCode: number; offsets: FetchedOffset[] } {
  if (!authorized(ctx, AclOperation.DESCRIBE, AclResourceType.GROUP, groupId)) {
    return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, offsets: [] };
  }
  const { groups } = ctx.services;
  if (topics === null) {
    const r = fetchOffsets(groups, groupId, null, member);
    const allowed = filterAuthorized(
      ctx,
      AclOperation.DESCRIBE,
      AclResourceType.TOPIC,
      r.offsets.map((o) => o.topic),
      false,
    );
    return { errorCode: r.errorCode, offsets: r.offsets.filter((o) => allowed.has(o.topic)) };
  }
  const allowed = filterAuthorized(
    ctx,
    AclOperation.DESCRIBE,
    AclResourceType.TOPIC,
    topics.map((t) => t.name),
  );
  const r = fetchOffsets(
    groups,
    groupId,
    topics.filter((t) => allowed.has(t.name)),
    member,
  );
  if (r.errorCode !== ErrorCode.NONE) return r;
  const denied = topics
    .filter((t) => !allowed.has(t.name))
    .flatMap((t) =>
      t.partitions.map((partition) => ({
        topic: t.name,
        partition,
        offset: -1,
        leaderEpoch: -1,
        metadata: '',
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      })),
    );
  return { errorCode: r.errorCode, offsets: [...r.offsets, ...denied] };
}

/** With requireStable, partitions whose group has a transactional offset pending get UNSTABLE_OFFSET_COMMIT. */
function markUnstable(staged: TxnOffsetStore, groupId: string, offsets: FetchedOffset[]): FetchedOffset[] {
  if (staged.pending.size === 0) return offsets;
  return offsets.map((o) =>
    o.errorCode === ErrorCode.NONE && staged.hasPending(groupId, o.topic, o.partition)
      ? { ...o, offset: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT }
      : o,
  );
}

function byTopic(offsets: FetchedOffset[]): Map<string, FetchedOffset[]> {
  const m = new Map<string, FetchedOffset[]>();
  for (const o of offsets) {
    let l = m.get(o.topic);
    if (!l) {
      l = [];
      m.set(o.topic, l);
    }
    l.push(o);
  }
  return m;
}

export const offsetFetchHandler = registerHandler<OffsetFetchRequest, OffsetFetchResponse>({
  apiKey: 9,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 9,
  decode: decodeOffsetFetchRequest,
  encode: encodeOffsetFetchResponse,
  handle(req, ctx) {
    const { metadata, transactions } = ctx.services;
    const v = ctx.apiVersion;
    const res = defaultOffsetFetchResponse();
    if (v >= 8) {
      for (const g of req.groups) {
        const topics =
          g.topics === null ? null : g.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes }));
        const r = authorizedOffsets(
          ctx,
          g.groupId,
          topics,
          v >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : undefined,
        );
        const out: OffsetFetchResponseTopics[] = [];
        for (const [name, parts] of byTopic(
          req.requireStable ? markUnstable(transactions.offsets, g.groupId, r.offsets) : r.offsets,
        )) {
          out.push({
            name,
            topicId: metadata.image.topic(name)?.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA',
            partitions: parts.map((p) => ({
              partitionIndex: p.partition,
              committedOffset: BigInt(p.offset),
              committedLeaderEpoch: p.leaderEpoch,
              metadata: p.metadata,
              errorCode: p.errorCode,
            })),
          });
        }
        res.groups.push({ groupId: g.groupId, topics: out, errorCode: r.errorCode });
      }
      return res;
    }
    const wanted =
      req.topics === null && v >= 2
        ? null
        : (req.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes }));
    const r = authorizedOffsets(ctx, req.groupId, wanted);
    res.errorCode = r.errorCode;
    let offsets = v >= 7 && req.requireStable ? markUnstable(transactions.offsets, req.groupId, r.offsets) : r.offsets;
    if (r.errorCode !== ErrorCode.NONE && v < 2 && wanted !== null) {
      offsets = wanted.flatMap((t) =>
        t.partitions.map((partition) => ({
          topic: t.name,
          partition,
          offset: -1,
          leaderEpoch: -1,
          metadata: '',
          errorCode: r.errorCode,
        })),
      );
    }
    for (const [name, parts] of byTopic(offsets)) {
      res.topics.push({
        name,
        partitions: parts.map((p) => ({
          partitionIndex: p.partition,
          committedOffset: BigInt(p.offset),
          committedLeaderEpoch: p.leaderEpoch,
          metadata: p.metadata,
          errorCode: p.errorCode,
        })),
      });
    }
    return res;
  },
});
