/**
 * TxnOffsetCommit (key 28), versions 0-4 (v3+ flexible; v3 adds generation, member id and group instance
 * id). v5 (KIP-890 part 2) is not offered.
 *
 * Offsets are written to the group's `__consumer_offsets` partition as a transactional batch and become
 * visible to the group only when the transaction commits (broker/groups/txn-offsets.ts). A producer that
 * lost its epoch gets INVALID_PRODUCER_EPOCH (what Kafka's log append answers here), an unknown producer
 * INVALID_PRODUCER_ID_MAPPING, a group partition not added by AddOffsetsToTxn INVALID_TXN_STATE.
 * Authorization (Kafka's KafkaApis): WRITE on the transactional id (else every partition
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), READ on the group (else GROUP_AUTHORIZATION_FAILED), READ on each
 * topic (else its partitions TOPIC_AUTHORIZATION_FAILED); denied partitions are not staged.
 */
import {
  decodeTxnOffsetCommitRequest,
  type TxnOffsetCommitRequest,
} from '../../protocol/generated/txn-offset-commit-request.js';
import {
  defaultTxnOffsetCommitResponse,
  encodeTxnOffsetCommitResponse,
  type TxnOffsetCommitResponse,
} from '../../protocol/generated/txn-offset-commit-response.js';
import { txnCommitOffsets } from '../groups/txn-offsets.js';
import { fencedFor } from './24-add-partitions-to-txn.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const txnOffsetCommitHandler = registerHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse>({
  apiKey: 28,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 4,
  decode: decodeTxnOffsetCommitRequest,
  encode: encodeTxnOffsetCommitResponse,
  async handle(req, ctx) {
    const { transactions: txn } = ctx.services;
    let denied: number = ErrorCode.NONE;
    if (!authorized(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, req.transactionalId)) {
      denied = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (!authorized(ctx, AclOperation.READ, AclResourceType.GROUP, req.groupId)) {
      denied = ErrorCode.GROUP_AUTHORIZATION_FAILED;
    }
    const readable =
      denied !== ErrorCode.NONE
        ? new Set<string>()
        : filterAuthorized(
            ctx,
            AclOperation.READ,
            AclResourceType.TOPIC,
            req.topics.map((t) => t.name),
          );
    const topics = req.topics.filter((t) => readable.has(t.name));
    const codes =
      topics.length === 0
        ? []
        : await txnCommitOffsets(ctx.services, txn.offsets, txn, {
            transactionalId: req.transactionalId,
            groupId: req.groupId,
            producerId: Number(req.producerId),
            producerEpoch: req.producerEpoch,
            generationId: ctx.apiVersion >= 3 ? req.generationId : -1,
            memberId: ctx.apiVersion >= 3 ? req.memberId : '',
            groupInstanceId: ctx.apiVersion >= 3 ? req.groupInstanceId : null,
            partitions: topics.flatMap((t) =>
              t.partitions.map((p) => ({
                topic: t.name,
                partition: p.partitionIndex,
                offset: Number(p.committedOffset),
                leaderEpoch: p.committedLeaderEpoch,
                metadata: p.committedMetadata,
              })),
            ),
          });
    const res = defaultTxnOffsetCommitResponse();
    let i = 0;
    res.topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: !readable.has(t.name)
          ? denied || ErrorCode.TOPIC_AUTHORIZATION_FAILED
          : fencedFor(codes[i++]!, 0, 1),
      })),
    }));
    return res;
  },
});
