/**
 * DeleteTopics (key 20), versions 0-6 (v0 from Kafka 3.9.1's definition, for sarama's default config).
 *
 * v0-5 name topics in `topicNames`; v6 in `topics`, each by name or by id (both → INVALID_REQUEST, neither
 * → INVALID_REQUEST). A name or id given twice → INVALID_REQUEST for it. Unknown names get
 * UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID. Deletion is synchronous (metadata first, then
 * the partition directories), so the timeout is not needed; v5+ carry an error message, v6 the topic id.
 *
 * Internal topics: Kafka's broker deletes `__consumer_offsets` when asked (only the kafka-topics tool
 * refuses, client side), so this handler does too; the topic is recreated on demand like any other.
 * Topic deletion is always enabled (there is no `delete.topic.enable`). The deleted topic's committed
 * offsets are removed from every consumer group with tombstones (groups/offsets.ts deleteTopicOffsets), as Kafka.
 * Controller mutation quota (KIP-599, broker/quotas/): a deletion takes the topic's partition count from the
 * client's controller_mutation_rate; from v5 (strict) a topic asked for while it is used up is not deleted
 * (THROTTLING_QUOTA_EXCEEDED, the response carrying the time until it recovers); below v5 it is only throttled.
 * Authorization (Kafka's KafkaApis): DELETE on each topic, else TOPIC_AUTHORIZATION_FAILED and the topic stays;
 * a topic named by name is checked before its existence (an unauthorized client cannot tell unknown from
 * denied); one named by id (v6) answers UNKNOWN_TOPIC_ID when unknown, and without DESCRIBE on the topic
 * TOPIC_AUTHORIZATION_FAILED with no name.
 */
import { decodeDeleteTopicsRequest, type DeleteTopicsRequest } from '../../protocol/generated/delete-topics-request.js';
import {
  defaultDeleteTopicsResponse,
  defaultDeleteTopicsResponseDeletableTopicResult,
  encodeDeleteTopicsResponse,
  type DeleteTopicsResponse,
} from '../../protocol/generated/delete-topics-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { errorOf, type ApiErr } from '../topic-configs.js';
import { ZERO_UUID } from '../topics.js';
import { deleteTopicOffsets } from '../groups/offsets.js';
import { THROTTLED } from '../quotas/request-quota.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

const UNKNOWN_TOPIC: ApiErr = {
  code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  message: 'This server does not host this topic-partition.',
};
const UNKNOWN_ID: ApiErr = { code: ErrorCode.UNKNOWN_TOPIC_ID, message: 'This server does not host this topic ID.' };

const DENIED: ApiErr = { code: ErrorCode.TOPIC_AUTHORIZATION_FAILED, message: deniedMessage(29) };

export const deleteTopicsHandler = registerHandler<DeleteTopicsRequest, DeleteTopicsResponse>({
  apiKey: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  decode: decodeDeleteTopicsRequest,
  encode: encodeDeleteTopicsResponse,
  async handle(req, ctx) {
    const { groups, log, metadata } = ctx.services;
    const res = defaultDeleteTopicsResponse();
    const answer = (name: string | null, topicId: string, e: ApiErr | null): void => {
      const out = defaultDeleteTopicsResponseDeletableTopicResult();
      out.name = name;
      out.topicId = topicId;
      out.errorCode = e ? e.code : ErrorCode.NONE;
      out.errorMessage = e ? e.message : null;
      res.responses.push(out);
    };
    const wanted: { name: string | null; topicId: string }[] = [
      ...req.topicNames.map((name) => ({ name, topicId: ZERO_UUID })),
      ...req.topics.map((t) => ({ name: t.name, topicId: t.topicId })),
    ];
    const nameCount = new Map<string, number>();
    const idCount = new Map<string, number>();
    for (const w of wanted) {
      if (w.name !== null && w.topicId === ZERO_UUID) nameCount.set(w.name, (nameCount.get(w.name) ?? 0) + 1);
      if (w.name === null && w.topicId !== ZERO_UUID) idCount.set(w.topicId, (idCount.get(w.topicId) ?? 0) + 1);
    }
    const reported = new Set<string>();
    const targeted = new Set<string>();
    const quota = ctx.quota.mutationQuota(ctx.apiVersion >= 5);
    for (const w of wanted) {
      if (w.name === null && w.topicId === ZERO_UUID) {
        answer(null, ZERO_UUID, {
          code: ErrorCode.INVALID_REQUEST,
          message: 'Neither topic name nor id were specified.',
        });
        continue;
      }
      if (w.name !== null && w.topicId !== ZERO_UUID) {
        answer(w.name, w.topicId, {
          code: ErrorCode.INVALID_REQUEST,
          message: 'You may not specify both topic name and topic id.',
        });
        continue;
      }
      const byName = w.name !== null;
      const key = byName ? `n:${w.name}` : `i:${w.topicId}`;
      if ((byName ? nameCount.get(w.name!) : idCount.get(w.topicId))! > 1) {
        if (!reported.has(key))
          answer(w.name, w.topicId, {
            code: ErrorCode.INVALID_REQUEST,
            message: byName ? 'Duplicate topic name.' : 'Duplicate topic id.',
          });
        reported.add(key);
        continue;
      }
      const may = (op: number, name: string): boolean => authorized(ctx, op, AclResourceType.TOPIC, name);
      if (byName && !may(AclOperation.DELETE, w.name!)) {
        answer(w.name, w.topicId, DENIED);
        continue;
      }
      const meta = byName ? metadata.image.topic(w.name!) : metadata.image.topicById(w.topicId);
      if (!meta) {
        answer(w.name, w.topicId, byName ? UNKNOWN_TOPIC : UNKNOWN_ID);
        continue;
      }
      if (!byName && !may(AclOperation.DESCRIBE, meta.name)) {
        // The client may not learn the name behind the id.
        answer(null, w.topicId, DENIED);
        continue;
      }
      if (!byName && !may(AclOperation.DELETE, meta.name)) {
        answer(meta.name, w.topicId, DENIED);
        continue;
      }
      if (targeted.has(meta.topicId)) {
        answer(meta.name, meta.topicId, {
          code: ErrorCode.INVALID_REQUEST,
          message: 'The provided topic name maps to an ID that was already supplied.',
        });
        continue;
      }
      targeted.add(meta.topicId);
      if (!quota.record(meta.partitions)) {
        answer(meta.name, meta.topicId, THROTTLED);
        continue;
      }
      try {
        const deleted = await metadata.deleteTopic(meta.name);
        if (deleted) log.info({ topic: meta.name, topicId: meta.topicId }, 'topic deleted by DeleteTopics');
        if (deleted) await deleteTopicOffsets(groups, meta.name);
        answer(meta.name, meta.topicId, deleted ? null : byName ? UNKNOWN_TOPIC : UNKNOWN_ID);
      } catch (err) {
        answer(meta.name, meta.topicId, errorOf(err));
      }
    }
    return res;
  },
});
