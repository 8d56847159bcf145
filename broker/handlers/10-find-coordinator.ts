/**
 * FindCoordinator (key 10), versions 0-6 (v3+ flexible; v4+ batched `coordinatorKeys`).
 *
 * The coordinator of a group (key type 0) is the leader of the group's `__consumer_offsets` partition, of a
 * transactional id (key type 1) the leader of its `__transaction_state` partition (abs(Java String.hashCode)
 * % partitions, as Kafka), answered at that broker's endpoint in the metadata image. The internal topic is
 * created on first use, as Kafka does (its replication factor capped at the live brokers). A partition with
 * no leader, or a leader not registered/live, answers COORDINATOR_NOT_AVAILABLE (the client retries); so
 * does a topic that could not be created, except on a single node, which coordinates everything itself.
 * Other key types get INVALID_REQUEST. v0 has no error message field; errors below v4 are reported at the
 * top level (for the one key).
 * Authorization (Kafka's KafkaApis): DESCRIBE on the GROUP (key type 0) or on the TransactionalId (1), else
 * that key answers GROUP_AUTHORIZATION_FAILED / TRANSACTIONAL_ID_AUTHORIZATION_FAILED and no node; the internal
 * topic is created only for an authorized key.
 */
import {
  decodeFindCoordinatorRequest,
  type FindCoordinatorRequest,
} from '../../protocol/generated/find-coordinator-request.js';
import {
  defaultFindCoordinatorResponse,
  encodeFindCoordinatorResponse,
  type FindCoordinatorResponse,
} from '../../protocol/generated/find-coordinator-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { OFFSETS_TOPIC, OffsetsTopicLog } from '../groups/offsets-log.js';
import { offsetsPartitionFor } from '../groups/records.js';
import { TxnStateTopicLog } from '../txn/state-log.js';
import { TRANSACTION_STATE_TOPIC } from '../txn/records.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, deniedMessage } from '../security/authorize.js';
import { registerHandler, type RequestContext } from './registry.js';

const GROUP = 0;
const TRANSACTION = 1;

interface Found {
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
}

function notFound(errorCode: number, errorMessage: string | null): Found {
  return { nodeId: -1, host: '', port: -1, errorCode, errorMessage };
}

/** Create the key type's internal topic if missing; its name (undefined for an unknown key type). */
async function ensureTopic(keyType: number, ctx: RequestContext): Promise<string | undefined> {
  if (keyType !== GROUP && keyType !== TRANSACTION) return undefined;
  const topic = keyType === GROUP ? new OffsetsTopicLog(ctx.services) : new TxnStateTopicLog(ctx.services);
  try {
    await topic.ensureTopic();
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message, keyType }, 'creating the coordinator topic failed');
  }
  return keyType === GROUP ? OFFSETS_TOPIC : TRANSACTION_STATE_TOPIC;
}

/** The keys the client may not DESCRIBE and their error (undefined for an unknown key type). */
function deniedKeys(
  ctx: RequestContext,
  keyType: number,
  keys: string[],
): { keys: Set<string>; code: number } | undefined {
  if (keyType !== GROUP && keyType !== TRANSACTION) return undefined;
  const type = keyType === GROUP ? AclResourceType.GROUP : AclResourceType.TRANSACTIONAL_ID;
  const denied = new Set(keys.filter((k) => !authorized(ctx, AclOperation.DESCRIBE, type, k)));
  const code =
    keyType === GROUP ? ErrorCode.GROUP_AUTHORIZATION_FAILED : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  return { keys: denied, code };
}

function locate(topicName: string, key: string, ctx: RequestContext): Found {
  const { metadata, nodeId, config } = ctx.services;
  const image = metadata.image;
  const topic = image.topic(topicName);
  let leader = nodeId;
  if (topic) leader = image.partition(topicName, offsetsPartitionFor(key, topic.partitions))?.leader ?? -1;
  else if (config.etcdEndpoints.length > 0) return notFound(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'no coordinator yet');
  const broker = leader >= 0 ? image.broker(leader) : undefined;
  const endpoint = broker && !broker.fenced ? image.endpoint(leader, ctx.session.listenerName) : undefined;
  // No endpoint: no leader yet, a leader not live, or (single node) not registered yet.
  if (!endpoint) return notFound(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'coordinator not available');
  return { nodeId: leader, host: endpoint.host, port: endpoint.port, errorCode: ErrorCode.NONE, errorMessage: null };
}

export const findCoordinatorHandler = registerHandler<FindCoordinatorRequest, FindCoordinatorResponse>({
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  decode: decodeFindCoordinatorRequest,
  encode: encodeFindCoordinatorResponse,
  async handle(req, ctx) {
    const res = defaultFindCoordinatorResponse();
    const keys = ctx.apiVersion >= 4 ? req.coordinatorKeys : [req.key];
    const denial = deniedKeys(ctx, req.keyType, keys);
    const topicName = denial && keys.every((k) => denial.keys.has(k)) ? undefined : await ensureTopic(req.keyType, ctx);
    const find = (key: string): Found => {
      if (denial?.keys.has(key)) return notFound(denial.code, deniedMessage(denial.code));
      return topicName === undefined
        ? notFound(ErrorCode.INVALID_REQUEST, `unknown coordinator key type ${req.keyType}`)
        : locate(topicName, key, ctx);
    };
    if (ctx.apiVersion >= 4) {
      res.coordinators = req.coordinatorKeys.map((key) => {
        const f = find(key);
        return { key, ...f, errorMessage: ctx.apiVersion >= 1 ? f.errorMessage : null };
      });
      return res;
    }
    const f = find(req.key);
    res.errorCode = f.errorCode;
    res.errorMessage = ctx.apiVersion >= 1 ? f.errorMessage : null;
    res.nodeId = f.nodeId;
    res.host = f.host;
    res.port = f.port;
    return res;
  },
});
