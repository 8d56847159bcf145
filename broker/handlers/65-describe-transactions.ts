/**
 * DescribeTransactions (key 65), version 0 (flexible).
 *
 * The coordinator's view of each transactional id: state name (Kafka's), timeout, start time (-1 when no
 * transaction is open), producer id and epoch, and the partitions of the open transaction. Unknown ids
 * answer TRANSACTIONAL_ID_NOT_FOUND; an id whose `__transaction_state` partition this node does not lead
 * NOT_COORDINATOR, one whose partition loads COORDINATOR_LOAD_IN_PROGRESS.
 * Authorization (Kafka's KafkaApis): DESCRIBE on each TransactionalId, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED
 * and nothing of it (not even whether it exists); the topics of a described transaction are only those the
 * principal may DESCRIBE.
 */
import {
  decodeDescribeTransactionsRequest,
  type DescribeTransactionsRequest,
} from '../../protocol/generated/describe-transactions-request.js';
import {
  defaultDescribeTransactionsResponse,
  encodeDescribeTransactionsResponse,
  type DescribeTransactionsResponse,
} from '../../protocol/generated/describe-transactions-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { splitPartitionKey, STATE_NAMES } from '../txn/state.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const describeTransactionsHandler = registerHandler<DescribeTransactionsRequest, DescribeTransactionsResponse>({
  apiKey: 65,
  name: 'DescribeTransactions',
  minVersion: 0,
  maxVersion: 0,
  decode: decodeDescribeTransactionsRequest,
  encode: encodeDescribeTransactionsResponse,
  handle(req, ctx) {
    const { transactions: txn } = ctx.services;
    const res = defaultDescribeTransactionsResponse();
    res.transactionStates = req.transactionalIds.map((transactionalId) => {
      const md = txn.txns.get(transactionalId);
      const base = {
        transactionalId,
        transactionState: '',
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n,
        producerId: -1n,
        producerEpoch: -1,
        topics: [] as { topic: string; partitions: number[] }[],
      };
      if (!authorized(ctx, AclOperation.DESCRIBE, AclResourceType.TRANSACTIONAL_ID, transactionalId))
        return { ...base, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
      const unavailable = txn.unavailable(transactionalId);
      if (unavailable) return { ...base, errorCode: unavailable };
      if (!md || md.state === 'Dead') return { ...base, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
      const topics = new Map<string, number[]>();
      for (const key of md.partitions) {
        const { topic, partition } = splitPartitionKey(key);
        topics.set(topic, [...(topics.get(topic) ?? []), partition]);
      }
      const visible = filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, topics.keys());
      for (const topic of [...topics.keys()]) if (!visible.has(topic)) topics.delete(topic);
      return {
        ...base,
        errorCode: ErrorCode.NONE,
        transactionState: STATE_NAMES[md.state],
        transactionTimeoutMs: md.timeoutMs,
        transactionStartTimeMs: BigInt(md.startTimestamp),
        producerId: BigInt(md.producerId),
        producerEpoch: md.producerEpoch,
        topics: [...topics].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) })),
      };
    });
    return res;
  },
});
