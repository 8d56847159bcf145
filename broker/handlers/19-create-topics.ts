/**
 * CreateTopics (key 19), versions 0-7 (0-1 from Kafka 3.9.1's definitions, for old sarama and kafka-go).
 *
 * Per topic, checked in Kafka's order: a name given twice in one request → INVALID_REQUEST for each; an
 * illegal name → INVALID_TOPIC_EXCEPTION; an existing topic → TOPIC_ALREADY_EXISTS; configs by name and
 * value → INVALID_CONFIG with a message (configs Kafka 4.0 removed, such as message.format.version, are
 * accepted as Kafka 3.x did: see topic-configs.ts); then the layout. numPartitions -1 = `num.partitions`;
 * replicationFactor -1 = `default.replication.factor`; 0 or < -1 → INVALID_PARTITIONS /
 * INVALID_REPLICATION_FACTOR. A factor above the live broker count (1 on a single node, which says it does not
 * replicate) gets INVALID_REPLICATION_FACTOR; in a cluster (`etcd.endpoints`) the store assigns the replicas
 * over the live brokers (assignor.ts). A manual assignment needs numPartitions and replicationFactor -1
 * (else INVALID_REQUEST, as Kafka) and must place every partition 0..n-1 on registered brokers (this node alone on a
 * single node), each broker once per partition, every partition with as many replicas as the first and at least
 * one active replica (else INVALID_REPLICA_ASSIGNMENT, Kafka's code and messages).
 * validateOnly checks everything and creates nothing. Every topic that passed its checks is created by one
 * metadata write (store.createTopics: one durable file replacement and one delta for the whole request, so
 * 1,000 topics cost one write, not 1,000), whose logs are created before it resolves, so a created topic can be
 * produced to as soon as the response arrives; the timeout is not needed.
 * v5+ results carry numPartitions, replicationFactor and the topic's configs (as DescribeConfigs shows
 * them, without synonyms); v7 the topic id (zero for validateOnly, where no topic exists).
 * Controller mutation quota (KIP-599, broker/quotas/): each created topic takes its partition count from the
 * client's controller_mutation_rate; from v6 (strict) a topic asked for while the quota is used up fails with
 * THROTTLING_QUOTA_EXCEEDED, and the response carries the time until it recovers; below v6 topics are created and
 * the client is only throttled. validateOnly takes nothing.
 * Authorization (Kafka's ControllerApis): CREATE on the CLUSTER allows every topic, else CREATE on each topic;
 * a denied topic answers TOPIC_AUTHORIZATION_FAILED "Authorization failed." (after the duplicate check, before
 * its name or existence is looked at) and is not created. v5+: without DESCRIBE_CONFIGS on the topic, a created
 * topic's result carries topicConfigErrorCode TOPIC_AUTHORIZATION_FAILED and no configs or layout.
 */
import {
  decodeCreateTopicsRequest,
  type CreateTopicsRequest,
  type CreateTopicsRequestCreatableTopic,
} from '../../protocol/generated/create-topics-request.js';
import {
  defaultCreateTopicsResponse,
  defaultCreateTopicsResponseCreatableTopicResult,
  encodeCreateTopicsResponse,
  type CreateTopicsResponse,
  type CreateTopicsResponseCreatableTopicResult,
} from '../../protocol/generated/create-topics-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { invalidTopicName, type TopicImage } from '../../replication/metadata/image.js';
import {
  describeTopicConfigs,
  errorOf,
  logRemovedConfigs,
  validateTopicConfigs,
  type ApiErr,
} from '../topic-configs.js';
import type { BrokerServices } from '../services.js';
import type { MutationQuota } from '../quotas/quota-manager.js';
import { THROTTLED } from '../quotas/request-quota.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorizedCluster, filterAuthorized } from '../security/authorize.js';
import { registerHandler } from './registry.js';
import { createTopicsOf, type NewTopic } from '../../replication/metadata/store.js';

interface Layout {
  partitions: number;
  replicationFactor: number;
}

const NOT_REPLICATED = 'Runnel is a single-node broker and does not replicate partitions yet.';

/** The partition count and replication factor to create, or the error. */
export function topicLayout(
  { config, nodeId, metadata }: Pick<BrokerServices, 'config' | 'nodeId'> & { metadata?: BrokerServices['metadata'] },
  t: CreateTopicsRequestCreatableTopic,
): Layout | ApiErr {
  const clustered = config.etcdEndpoints.length > 0 && metadata !== undefined;
  const live = clustered ? [...metadata.image.activeBrokerIds()] : [nodeId];
  const known = clustered ? metadata.image.brokers().map((b) => b.nodeId) : [nodeId];
  if (t.assignments.length > 0) {
    if (t.replicationFactor !== -1) {
      return {
        code: ErrorCode.INVALID_REQUEST,
        message: 'A manual partition assignment was specified, but replication factor was not set to -1.',
      };
    }
    if (t.numPartitions !== -1) {
      return {
        code: ErrorCode.INVALID_REQUEST,
        message: 'A manual partition assignment was specified, but numPartitions was not set to -1.',
      };
    }
    const seen = new Set<number>();
    for (const a of t.assignments) {
      if (seen.has(a.partitionIndex)) {
        return {
          code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          message: `Found multiple manual partition assignments for partition ${a.partitionIndex}`,
        };
      }
      seen.add(a.partitionIndex);
      const bad =
        checkReplicas(a.brokerIds, known, t.assignments[0].brokerIds.length) ??
        checkActive(a.brokerIds, live, a.partitionIndex);
      if (bad) return bad;
    }
    for (let p = 0; p < t.assignments.length; p++) {
      if (!seen.has(p))
        return {
          code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          message: 'partitions should be a consecutive 0-based integer sequence',
        };
    }
    return { partitions: t.assignments.length, replicationFactor: t.assignments[0].brokerIds.length };
  }
  if (t.replicationFactor === 0 || t.replicationFactor < -1) {
    return {
      code: ErrorCode.INVALID_REPLICATION_FACTOR,
      message: 'Replication factor must be larger than 0, or -1 to use the default value.',
    };
  }
  if (t.numPartitions === 0 || t.numPartitions < -1) {
    return {
      code: ErrorCode.INVALID_PARTITIONS,
      message: 'Number of partitions was set to an invalid non-positive value.',
    };
  }
  const rf = t.replicationFactor === -1 ? config.int('default.replication.factor') : t.replicationFactor;
  if (rf > live.length) {
    return {
      code: ErrorCode.INVALID_REPLICATION_FACTOR,
      message:
        `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached ` +
        `because only ${live.length} broker(s) are registered.${clustered ? '' : ` ${NOT_REPLICATED}`}`,
    };
  }
  return {
    partitions: t.numPartitions === -1 ? config.int('num.partitions') : t.numPartitions,
    replicationFactor: rf,
  };
}

/**
 * Kafka's checks of one manual replica list (ReplicationControlManager.validateManualPartitionAssignment):
 * not empty, every broker registered (`nodeIds`: the registered brokers, or this node's id alone), none twice
 * (in ascending id order, as Kafka checks), and `replicationFactor` replicas when given (the first partition's
 * count, or the topic's for new partitions).
 */
export function checkReplicas(
  brokerIds: readonly number[],
  nodeIds: number | readonly number[],
  replicationFactor?: number,
): ApiErr | undefined {
  const known = typeof nodeIds === 'number' ? [nodeIds] : nodeIds;
  if (brokerIds.length === 0)
    return {
      code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      message: 'The manual partition assignment includes an empty replica list.',
    };
  const seen = new Set<number>();
  for (const id of [...brokerIds].sort((a, b) => a - b)) {
    if (seen.has(id))
      return {
        code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        message: `The manual partition assignment includes the broker ${id} more than once.`,
      };
    seen.add(id);
    if (!known.includes(id)) {
      return {
        code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        message: `The manual partition assignment includes broker ${id}, but no such broker is registered.`,
      };
    }
  }
  if (replicationFactor !== undefined && brokerIds.length !== replicationFactor)
    return {
      code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      message:
        `The manual partition assignment includes a partition with ${brokerIds.length} replica(s), but this is ` +
        `not consistent with previous partitions, which have ${replicationFactor} replicas.`,
    };
  return undefined;
}

/** INVALID_REPLICA_ASSIGNMENT when none of a partition's replicas is active (live, not shutting down). */
export function checkActive(brokerIds: readonly number[], active: readonly number[], partition: number) {
  if (brokerIds.some((id) => active.includes(id))) return undefined;
  return {
    code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
    message:
      `All brokers specified in the manual partition assignment for partition ${partition} ` +
      'are fenced or in controlled shutdown.',
  };
}

function failed(name: string, e: ApiErr): CreateTopicsResponseCreatableTopicResult {
  const out = defaultCreateTopicsResponseCreatableTopicResult();
  out.name = name;
  out.errorCode = e.code;
  out.errorMessage = e.message;
  return out;
}

export const createTopicsHandler = registerHandler<CreateTopicsRequest, CreateTopicsResponse>({
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 7,
  decode: decodeCreateTopicsRequest,
  encode: encodeCreateTopicsResponse,
  async handle(req, ctx) {
    const res = defaultCreateTopicsResponse();
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const answered = new Set<string>();
    const quota = ctx.quota.mutationQuota(ctx.apiVersion >= 6);
    const names = req.topics.map((t) => t.name).filter((n) => counts.get(n) === 1);
    const creatable = authorizedCluster(ctx, AclOperation.CREATE, false)
      ? new Set(names)
      : filterAuthorized(ctx, AclOperation.CREATE, AclResourceType.TOPIC, names);
    const describable = filterAuthorized(ctx, AclOperation.DESCRIBE_CONFIGS, AclResourceType.TOPIC, names, false);
    const pending: Pending[] = [];
    for (const t of req.topics) {
      if (counts.get(t.name)! > 1) {
        if (!answered.has(t.name))
          res.topics.push(failed(t.name, { code: ErrorCode.INVALID_REQUEST, message: 'Duplicate topic name.' }));
        answered.add(t.name);
        continue;
      }
      if (!creatable.has(t.name)) {
        res.topics.push(
          failed(t.name, { code: ErrorCode.TOPIC_AUTHORIZATION_FAILED, message: 'Authorization failed.' }),
        );
        continue;
      }
      const out = checkOne(ctx.services, t, req.validateOnly, quota);
      if ('errorCode' in out) res.topics.push(out);
      else {
        pending.push(out);
        res.topics.push(out.result);
      }
    }
    // Every topic that passed its checks is created by one metadata write (its logs by one batch).
    if (!req.validateOnly) await createAll(ctx.services, pending);
    for (const p of pending) {
      const out = p.result;
      if (out.errorCode !== ErrorCode.NONE || ctx.apiVersion < 5) continue;
      if (!describable.has(p.topic.name)) {
        // Created, but the client may not see its configs (Kafka's ReplicationControlManager).
        out.topicConfigErrorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        out.numPartitions = -1;
        out.replicationFactor = -1;
        out.configs = [];
        continue;
      }
      out.numPartitions = p.layout.partitions;
      out.replicationFactor = p.layout.replicationFactor;
      out.configs = describeTopicConfigs(ctx.services, p.configs).map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        configSource: c.source,
        isSensitive: c.isSensitive,
      }));
    }
    return res;
  },
});

/** A topic that passed its checks; `result` is its answer slot (filled in once it is created). */
interface Pending {
  topic: CreateTopicsRequestCreatableTopic;
  layout: Layout;
  configs: Record<string, string>;
  result: CreateTopicsResponseCreatableTopicResult;
}

/** Kafka's per-topic checks, in its order; the topic's failed result, or what to create. */
function checkOne(
  services: Pick<BrokerServices, 'config' | 'nodeId' | 'metadata' | 'log'>,
  t: CreateTopicsRequestCreatableTopic,
  validateOnly: boolean,
  quota: MutationQuota,
): CreateTopicsResponseCreatableTopicResult | Pending {
  const bad = invalidTopicName(t.name);
  if (bad) return failed(t.name, { code: ErrorCode.INVALID_TOPIC_EXCEPTION, message: bad });
  if (services.metadata.image.topic(t.name))
    return failed(t.name, { code: ErrorCode.TOPIC_ALREADY_EXISTS, message: `Topic '${t.name}' already exists.` });
  const props: Record<string, string | null> = {};
  for (const c of t.configs) props[c.name] = c.value;
  const invalid = validateTopicConfigs(services, props);
  if (invalid) return failed(t.name, invalid);
  const layout = topicLayout(services, t);
  if ('code' in layout) return failed(t.name, layout);
  if (!validateOnly && !quota.record(layout.partitions)) return failed(t.name, THROTTLED);
  const result = defaultCreateTopicsResponseCreatableTopicResult();
  result.name = t.name;
  result.errorMessage = null;
  return { topic: t, layout, configs: props as Record<string, string>, result };
}

/** Create every pending topic in one store write; each result gets its topic id or its error. */
async function createAll(
  services: Pick<BrokerServices, 'config' | 'nodeId' | 'metadata' | 'log'>,
  pending: readonly Pending[],
): Promise<void> {
  if (pending.length === 0) return;
  const clustered = services.config.etcdEndpoints.length > 0;
  const specs: NewTopic[] = pending.map(({ topic: t, layout, configs }) => {
    const replicas =
      t.assignments.length > 0 && clustered
        ? [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex).map((a) => a.brokerIds)
        : undefined;
    return {
      name: t.name,
      options: { partitions: layout.partitions, configs, replicationFactor: layout.replicationFactor, replicas },
    };
  });
  let answers: Array<TopicImage | Error>;
  try {
    answers = await createTopicsOf(services.metadata, specs);
  } catch (err) {
    // The write went through but a subscriber failed: every topic of it answers with that error.
    answers = pending.map(() => err as Error);
  }
  pending.forEach((p, i) => {
    const a = answers[i]!;
    if (a instanceof Error) {
      const e = errorOf(a);
      p.result.errorCode = e.code;
      p.result.errorMessage = e.message;
      return;
    }
    p.result.topicId = a.topicId;
    const { configs } = p;
    services.log.info(
      { topic: p.topic.name, partitions: p.layout.partitions, configs },
      'topic created by CreateTopics',
    );
    logRemovedConfigs(services, p.topic.name, configs);
  });
}
