/**
 * ListTransactions (key 66), versions 0-2 (flexible). v1 adds DurationFilter (only transactions open
 * longer than that many ms), v2 TransactionalIdPattern (KIP-1152: ids fully matching the regular
 * expression; an invalid expression answers INVALID_REQUEST).
 *
 * Lists the transactional ids this coordinator owns (those of the `__transaction_state` partitions this node
 * leads), filtered by state names (unknown names are echoed in
 * UnknownStateFilters and match nothing) and producer ids; empty filters match everything. While a
 * partition of `__transaction_state` loads: COORDINATOR_LOAD_IN_PROGRESS.
 * Authorization (Kafka's KafkaApis): only the transactional ids the principal may DESCRIBE are listed.
 */
import {
  decodeListTransactionsRequest,
  type ListTransactionsRequest,
} from '../../protocol/generated/list-transactions-request.js';
import {
  defaultListTransactionsResponse,
  encodeListTransactionsResponse,
  type ListTransactionsResponse,
} from '../../protocol/generated/list-transactions-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { STATE_NAMES } from '../txn/state.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

const KNOWN = new Set(Object.values(STATE_NAMES));

export const listTransactionsHandler = registerHandler<ListTransactionsRequest, ListTransactionsResponse>({
  apiKey: 66,
  name: 'ListTransactions',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeListTransactionsRequest,
  encode: encodeListTransactionsResponse,
  handle(req, ctx) {
    const { clock, transactions } = ctx.services;
    const txn = transactions;
    const res = defaultListTransactionsResponse();
    if (txn.loading || txn.ownership?.anyLoading) {
      res.errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      return res;
    }
    let pattern: RegExp | undefined;
    if (ctx.apiVersion >= 2 && req.transactionalIdPattern) {
      try {
        pattern = new RegExp(`^(?:${req.transactionalIdPattern})$`, 'u');
      } catch {
        res.errorCode = ErrorCode.INVALID_REQUEST;
        return res;
      }
    }
    res.unknownStateFilters = req.stateFilters.filter((s) => !KNOWN.has(s));
    const states = new Set(req.stateFilters);
    const pids = new Set(req.producerIdFilters.map((p) => Number(p)));
    const duration = ctx.apiVersion >= 1 ? Number(req.durationFilter) : -1;
    const now = clock.now();
    for (const md of txn.txns.values()) {
      if (md.state === 'Dead' || txn.unavailable(md.transactionalId)) continue;
      if (states.size > 0 && !states.has(STATE_NAMES[md.state])) continue;
      if (pids.size > 0 && !pids.has(md.producerId)) continue;
      if (duration >= 0 && (md.state !== 'Ongoing' || now - md.startTimestamp < duration)) continue;
      if (pattern && !pattern.test(md.transactionalId)) continue;
      res.transactionStates.push({
        transactionalId: md.transactionalId,
        producerId: BigInt(md.producerId),
        transactionState: STATE_NAMES[md.state],
      });
    }
    const visible = filterAuthorized(
      ctx,
      AclOperation.DESCRIBE,
      AclResourceType.TRANSACTIONAL_ID,
      res.transactionStates.map((t) => t.transactionalId),
    );
    res.transactionStates = res.transactionStates.filter((t) => visible.has(t.transactionalId));
    return res;
  },
});
