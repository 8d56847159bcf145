/**
 * AddOffsetsToTxn (key 25), versions 0-4 (v3+ flexible).
 *
 * The group's `__consumer_offsets` partition joins the producer's transaction, so EndTxn writes a marker
 * there and the group's TxnOffsetCommit offsets become visible on commit (broker/txn/coordinator.ts
 * addOffsets). Errors as AddPartitionsToTxn; below v2 PRODUCER_FENCED is answered as
 * INVALID_PRODUCER_EPOCH (KIP-588).
 * Authorization (Kafka's KafkaApis): WRITE on the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
 * then READ on the group (else GROUP_AUTHORIZATION_FAILED); a denied request adds nothing.
 */
import {
  decodeAddOffsetsToTxnRequest,
  type AddOffsetsToTxnRequest,
} from '../../protocol/generated/add-offsets-to-txn-request.js';
import {
  defaultAddOffsetsToTxnResponse,
  encodeAddOffsetsToTxnResponse,
  type AddOffsetsToTxnResponse,
} from '../../protocol/generated/add-offsets-to-txn-response.js';
import { fencedFor } from './24-add-partitions-to-txn.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const addOffsetsToTxnHandler = registerHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>({
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  minVersion: 0,
  maxVersion: 4,
  decode: decodeAddOffsetsToTxnRequest,
  encode: encodeAddOffsetsToTxnResponse,
  async handle(req, ctx) {
    const { transactions } = ctx.services;
    const res = defaultAddOffsetsToTxnResponse();
    if (!authorized(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, req.transactionalId)) {
      res.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      return res;
    }
    if (!authorized(ctx, AclOperation.READ, AclResourceType.GROUP, req.groupId)) {
      res.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return res;
    }
    const code = await transactions.addOffsets(
      req.transactionalId,
      Number(req.producerId),
      req.producerEpoch,
      req.groupId,
    );
    res.errorCode = fencedFor(code, ctx.apiVersion);
    return res;
  },
});
