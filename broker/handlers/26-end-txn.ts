/**
 * EndTxn (key 26), versions 0-4 (v3+ flexible). v5 (KIP-890 part 2: the coordinator bumps the epoch and
 * returns it) is not offered.
 *
 * Commits or aborts the producer's transaction (broker/txn/coordinator.ts endTxn): the answer comes once
 * PrepareCommit / PrepareAbort is durable in `__transaction_state` (acks=all), as Kafka; markers to every
 * partition of the transaction, then CompleteCommit / CompleteAbort, follow in the background
 * (broker/txn/completion.ts), the id's next requests getting CONCURRENT_TRANSACTIONS until then (a retried
 * EndTxn too; NONE once complete). Below v2 PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH (KIP-588).
 * Authorization (Kafka's KafkaApis): WRITE on the transactional id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED and
 * the transaction is left as it is.
 */
import { decodeEndTxnRequest, type EndTxnRequest } from '../../protocol/generated/end-txn-request.js';
import {
  defaultEndTxnResponse,
  encodeEndTxnResponse,
  type EndTxnResponse,
} from '../../protocol/generated/end-txn-response.js';
import { fencedFor } from './24-add-partitions-to-txn.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const endTxnHandler = registerHandler<EndTxnRequest, EndTxnResponse>({
  apiKey: 26,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 4,
  decode: decodeEndTxnRequest,
  encode: encodeEndTxnResponse,
  async handle(req, ctx) {
    const { transactions } = ctx.services;
    const res = defaultEndTxnResponse();
    if (!authorized(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, req.transactionalId)) {
      res.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      return res;
    }
    const code = await transactions.endTxn(
      req.transactionalId,
      Number(req.producerId),
      req.producerEpoch,
      req.committed,
    );
    res.errorCode = fencedFor(code, ctx.apiVersion);
    return res;
  },
});
