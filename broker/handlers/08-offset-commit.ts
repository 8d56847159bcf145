/**
 * OffsetCommit (key 8), versions 0-9 (v8+ flexible; v0-1 from the Kafka 3.9.1 definitions).
 *
 * v0 has no generation/member (a simple commit); v1 adds them plus a per-partition commit timestamp
 * (ignored: the broker stamps commits); v2-4 a retention time (ignored: offsets.retention.minutes
 * applies); v6+ leader epochs; v7+ group.instance.id. Commits are accepted from members of the current
 * generation (UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION / REBALANCE_IN_PROGRESS / FENCED_INSTANCE_ID
 * otherwise) or from simple consumers (generation -1, empty member id) into an Empty or new group.
 * A member commit (generation >= 0) to an unknown group: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION
 * below, as Kafka. KIP-848 groups: the generation is the member epoch (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH;
 * UNSUPPORTED_VERSION below v9 for a KIP-848 member).
 * Per partition: OFFSET_METADATA_TOO_LARGE over 4096 bytes, UNKNOWN_TOPIC_OR_PARTITION for a missing
 * partition. The answer is sent after the commit is appended to __consumer_offsets.
 * Authorization (Kafka's KafkaApis): READ on the group, else every partition answers GROUP_AUTHORIZATION_FAILED
 * and nothing is committed; then READ on each topic, else its partitions answer TOPIC_AUTHORIZATION_FAILED and
 * are not committed (the rest are). With no partition left the group is not touched.
 */
import { decodeOffsetCommitRequest, type OffsetCommitRequest } from '../../protocol/generated/offset-commit-request.js';
import {
  defaultOffsetCommitResponse,
  encodeOffsetCommitResponse,
  type OffsetCommitResponse,
  type OffsetCommitResponseTopic,
} from '../../protocol/generated/offset-commit-response.js';
import { commitOffsets, type CommitPartition } from '../groups/offsets.js';
import { registerHandler } from './registry.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, filterAuthorized } from '../security/authorize.js';

export const offsetCommitHandler = registerHandler<OffsetCommitRequest, OffsetCommitResponse>({
  apiKey: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 9,
  decode: decodeOffsetCommitRequest,
  encode: encodeOffsetCommitResponse,
  // The hot path of a consumer fleet (every member commits every few seconds): plain loops, no intermediate
  // arrays per topic, no authorization work without an authorizer.
  async handle(req, ctx) {
    const { groups, metadata: meta } = ctx.services;
    const v = ctx.apiVersion;
    const groupAllowed = authorized(ctx, AclOperation.READ, AclResourceType.GROUP, req.groupId);
    // null: every topic readable (no authorizer).
    let readable: Set<string> | null = new Set<string>();
    if (groupAllowed)
      readable = ctx.services.authorizer
        ? filterAuthorized(
            ctx,
            AclOperation.READ,
            AclResourceType.TOPIC,
            req.topics.map((t) => t.name),
          )
        : null;
    const partitions: CommitPartition[] = [];
    for (const t of req.topics) {
      if (readable !== null && !readable.has(t.name)) continue;
      for (const p of t.partitions) {
        partitions.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: Number(p.committedOffset),
          leaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata,
        });
      }
    }
    const codes =
      partitions.length === 0
        ? []
        : await commitOffsets(
            groups,
            {
              groupId: req.groupId,
              generationId: v >= 1 ? req.generationIdOrMemberEpoch : -1,
              memberId: v >= 1 ? req.memberId : '',
              groupInstanceId: v >= 7 ? req.groupInstanceId : null,
              partitions,
              apiVersion: v,
            },
            (topic) => meta.image.topic(topic)?.partitions,
          );
    const denied = groupAllowed ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.GROUP_AUTHORIZATION_FAILED;
    const res = defaultOffsetCommitResponse();
    let i = 0;
    for (const t of req.topics) {
      const ok = readable === null || readable.has(t.name);
      const out: OffsetCommitResponseTopic = { name: t.name, topicId: t.topicId, partitions: [] };
      for (const p of t.partitions)
        out.partitions.push({ partitionIndex: p.partitionIndex, errorCode: ok ? codes[i++]! : denied });
      res.topics.push(out);
    }
    return res;
  },
});
