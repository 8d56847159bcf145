/**
 * CreatePartitions (key 37), versions 0-3 (v2+ flexible).
 *
 * Per topic: grow to `count` partitions. Unknown topic → UNKNOWN_TOPIC_OR_PARTITION; the same count →
 * INVALID_PARTITIONS "Topic already has N partition(s)."; fewer → INVALID_PARTITIONS (partitions are never
 * removed); a topic named twice → INVALID_REQUEST. Manual assignments, when given, must number exactly the
 * added partitions and place each on registered brokers (this node alone on a single node), each broker once,
 * with as many replicas as the topic's first partition and at least one active replica (else
 * INVALID_REPLICA_ASSIGNMENT, with Kafka's messages); in a cluster (`etcd.endpoints`) they are the new
 * partitions' replicas, else the store assigns them over the active brokers with the topic's replication factor
 * (assignor.ts). validateOnly checks and changes nothing. Controller mutation quota (KIP-599, broker/quotas/):
 * the added partitions are taken from the client's controller_mutation_rate; from v3 (strict) a topic asked for
 * while it is used up is not grown (THROTTLING_QUOTA_EXCEEDED, with the time until it recovers). The answer is
 * sent once this broker's image has the new partitions (their logs exist here when it hosts them; the other
 * replicas create theirs as they see them).
 * Authorization (Kafka's ControllerApis): ALTER on each topic, after the duplicate check and before existence;
 * denied → TOPIC_AUTHORIZATION_FAILED with Kafka's message, and the topic is not grown.
 */
import {
  decodeCreatePartitionsRequest,
  type CreatePartitionsRequest,
  type CreatePartitionsTopic,
} from '../../protocol/generated/create-partitions-request.js';
import {
  defaultCreatePartitionsResponse,
  encodeCreatePartitionsResponse,
  type CreatePartitionsResponse,
} from '../../protocol/generated/create-partitions-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { errorOf, type ApiErr } from '../topic-configs.js';
import { checkActive, checkReplicas } from './19-create-topics.js';
import type { BrokerServices } from '../services.js';
import type { MutationQuota } from '../quotas/quota-manager.js';
import { THROTTLED } from '../quotas/request-quota.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { deniedMessage, filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';

async function growOne(
  { metadata, nodeId, log, config }: Pick<BrokerServices, 'metadata' | 'nodeId' | 'log' | 'config'>,
  t: CreatePartitionsTopic,
  validateOnly: boolean,
  quota: MutationQuota,
): Promise<ApiErr | undefined> {
  const meta = metadata.image.topic(t.name);
  if (!meta) return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `The topic '${t.name}' does not exist.` };
  const current = meta.partitions;
  if (t.count === current)
    return { code: ErrorCode.INVALID_PARTITIONS, message: `Topic already has ${current} partition(s).` };
  if (t.count < current) {
    return {
      code: ErrorCode.INVALID_PARTITIONS,
      message: `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`,
    };
  }
  const added = t.count - current;
  if (t.assignments !== null) {
    if (t.assignments.length !== added) {
      return {
        code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        message:
          `Attempted to add ${added} additional partition(s), ` +
          `but only ${t.assignments.length} assignment(s) were specified.`,
      };
    }
    const clustered = config.etcdEndpoints.length > 0;
    const known = clustered ? metadata.image.brokers().map((b) => b.nodeId) : [nodeId];
    const active = clustered ? [...metadata.image.activeBrokerIds()] : [nodeId];
    const rf = meta.partitionStates[0]?.replicas.length || undefined;
    for (let i = 0; i < t.assignments.length; i++) {
      const ids = t.assignments[i].brokerIds;
      const bad = checkReplicas(ids, known, rf) ?? checkActive(ids, active, current + i);
      if (bad) return bad;
    }
  }
  if (validateOnly) return undefined;
  if (!quota.record(added)) return THROTTLED;
  try {
    const replicas = config.etcdEndpoints.length > 0 ? t.assignments?.map((a) => a.brokerIds) : undefined;
    await metadata.createPartitions(t.name, t.count, replicas);
  } catch (err) {
    return errorOf(err);
  }
  log.info({ topic: t.name, from: current, to: t.count }, 'partitions added by CreatePartitions');
  return undefined;
}

export const createPartitionsHandler = registerHandler<CreatePartitionsRequest, CreatePartitionsResponse>({
  apiKey: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  decode: decodeCreatePartitionsRequest,
  encode: encodeCreatePartitionsResponse,
  async handle(req, ctx) {
    const res = defaultCreatePartitionsResponse();
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const reported = new Set<string>();
    const quota = ctx.quota.mutationQuota(ctx.apiVersion >= 3);
    const allowed = filterAuthorized(
      ctx,
      AclOperation.ALTER,
      AclResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    for (const t of req.topics) {
      let e: ApiErr | undefined;
      if (counts.get(t.name)! > 1) {
        if (reported.has(t.name)) continue;
        reported.add(t.name);
        e = { code: ErrorCode.INVALID_REQUEST, message: 'Duplicate topic name.' };
      } else if (!allowed.has(t.name)) {
        e = { code: ErrorCode.TOPIC_AUTHORIZATION_FAILED, message: deniedMessage(29) };
      } else {
        e = await growOne(ctx.services, t, req.validateOnly, quota);
      }
      res.results.push({ name: t.name, errorCode: e ? e.code : ErrorCode.NONE, errorMessage: e ? e.message : null });
    }
    return res;
  },
});
