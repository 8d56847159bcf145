/**
 * OffsetDelete (key 47), version 0.
 *
 * Deletes committed offsets of a group (tombstones in __consumer_offsets). Top-level errors:
 * GROUP_ID_NOT_FOUND (unknown group), NON_EMPTY_GROUP (members and not a consumer-protocol group),
 * INVALID_GROUP_ID. Per partition: GROUP_SUBSCRIBED_TO_TOPIC when a live member subscribes to the topic,
 * else NONE (also when there was no offset).
 * Authorization (Kafka's KafkaApis): DELETE on the group, else a top-level GROUP_AUTHORIZATION_FAILED and nothing
 * deleted; READ on each topic, else its partitions answer TOPIC_AUTHORIZATION_FAILED and keep their offsets.
 */
import { decodeOffsetDeleteRequest, type OffsetDeleteRequest } from '../../protocol/generated/offset-delete-request.js';
import {
  defaultOffsetDeleteResponse,
  encodeOffsetDeleteResponse,
  type OffsetDeleteResponse,
} from '../../protocol/generated/offset-delete-response.js';
import { deleteOffsets } from '../groups/offsets.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const offsetDeleteHandler = registerHandler<OffsetDeleteRequest, OffsetDeleteResponse>({
  apiKey: 47,
  name: 'OffsetDelete',
  minVersion: 0,
  maxVersion: 0,
  decode: decodeOffsetDeleteRequest,
  encode: encodeOffsetDeleteResponse,
  async handle(req, ctx) {
    const { groups } = ctx.services;
    const res = defaultOffsetDeleteResponse();
    if (!authorized(ctx, AclOperation.DELETE, AclResourceType.GROUP, req.groupId)) {
      res.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return res;
    }
    const readable = filterAuthorized(
      ctx,
      AclOperation.READ,
      AclResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    const flat = req.topics
      .filter((t) => readable.has(t.name))
      .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex })));
    const r = await deleteOffsets(groups, req.groupId, flat);
    res.errorCode = r.errorCode;
    if (r.errorCode !== 0) return res;
    let i = 0;
    res.topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: readable.has(t.name) ? r.codes[i++]! : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      })),
    }));
    return res;
  },
});
