/**
 * Metadata (key 3), versions 0-12 (13 is Kafka 4.1's; not advertised until topic-id-only requests land).
 *
 * Brokers, controller, cluster id and each partition's leader / leader epoch / replicas / ISR come from the
 * metadata image (one node today: it leads every partition at epoch 0 and is the controller). Topic
 * selection: v0 with an empty list = all topics; v1+ null = all, empty = none. A missing topic is created
 * when `auto.create.topics.enable` is on and the request allows it (always below v4, the flag from v4),
 * with `num.partitions` partitions. As in Kafka, the request that triggers the creation answers
 * LEADER_NOT_AVAILABLE for that topic (name only, no partitions; clients retry), and the next Metadata
 * request sees the topic with its leaders (here the logs exist by then, so it is ready at once; a request
 * racing the creation may also see LEADER_NOT_AVAILABLE). Invalid names get INVALID_TOPIC_EXCEPTION, missing
 * ones UNKNOWN_TOPIC_OR_PARTITION
 * (UNKNOWN_TOPIC_ID when asked by id, v10+). In a cluster, the first requests after this node's etcd session
 * lost its lease wait (bounded) until its image caught up with etcd (MetadataStore.catchUpIfStale): a node
 * resumed after a stop past the session timeout must not name itself leader of partitions moved meanwhile.
 *
 * Authorization (Kafka's KafkaApis.handleTopicMetadataRequest): when all topics are asked for, those the
 * principal may not DESCRIBE are left out; listed ones answer TOPIC_AUTHORIZATION_FAILED without disclosing
 * whether they exist (asked by id: the id echoed, the name null). Auto-creation needs CREATE on the CLUSTER
 * or on the topic, else TOPIC_AUTHORIZATION_FAILED. Authorized operations (v8+, when asked): topics' as
 * Kafka's bitfield (every supported operation without an authorizer); the cluster's (v8-10) only with
 * DESCRIBE on the CLUSTER, else 0; -2147483648 when not asked.
 */
import { decodeMetadataRequest, type MetadataRequest } from '../../protocol/generated/metadata-request.js';
import {
  defaultMetadataResponse,
  defaultMetadataResponsePartition,
  defaultMetadataResponseTopic,
  encodeMetadataResponse,
  type MetadataResponse,
  type MetadataResponseTopic,
} from '../../protocol/generated/metadata-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { registerHandler } from './registry.js';
import { autoCreateTopic, isInternalTopic, ZERO_UUID } from '../topics.js';
import { NO_LEADER, type MetadataImage, type TopicImage } from '../../replication/metadata/image.js';
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from '../authorizer.js';
import { authorized, authorizedCluster, filterAuthorized } from '../security/authorize.js';
import { authorizedOperations, NO_OPERATIONS } from '../security/authorized-operations.js';

export function topicMetadata(image: MetadataImage, t: TopicImage): MetadataResponseTopic {
  const out = defaultMetadataResponseTopic();
  out.name = t.name;
  out.topicId = t.topicId;
  out.isInternal = isInternalTopic(t.name);
  out.topicAuthorizedOperations = NO_OPERATIONS;
  for (const s of t.partitionStates) {
    const part = defaultMetadataResponsePartition();
    part.partitionIndex = s.partition;
    part.leaderId = s.leader;
    part.leaderEpoch = s.leaderEpoch;
    part.replicaNodes = [...s.replicas];
    part.isrNodes = [...s.isr];
    part.offlineReplicas = s.replicas.filter((id) => image.broker(id)?.fenced ?? true);
    if (s.leader === NO_LEADER || part.offlineReplicas.includes(s.leader))
      part.errorCode = ErrorCode.LEADER_NOT_AVAILABLE;
    out.partitions.push(part);
  }
  return out;
}

/**
 * Each topic's entry built once per image (images and their topics are immutable): Metadata for all of 10,000
 * partitions then only encodes. Cached entries are shared between responses and never mutated.
 */
const topicCache = new WeakMap<MetadataImage, WeakMap<TopicImage, MetadataResponseTopic>>();

function cachedTopicMetadata(image: MetadataImage, t: TopicImage): MetadataResponseTopic {
  let byTopic = topicCache.get(image);
  if (!byTopic) {
    byTopic = new WeakMap();
    topicCache.set(image, byTopic);
  }
  let out = byTopic.get(t);
  if (!out) {
    out = topicMetadata(image, t);
    byTopic.set(t, out);
  }
  return out;
}

/** The live brokers with an endpoint, as Metadata lists them. */
function liveBrokerEndpoints(image: MetadataImage, listener: string): MetadataResponse['brokers'] {
  const out: MetadataResponse['brokers'] = [];
  for (const b of image.liveBrokers()) {
    const e = image.endpoint(b.nodeId, listener);
    if (e) out.push({ nodeId: b.nodeId, host: e.host, port: e.port, rack: b.rack });
  }
  return out;
}

export const metadataHandler = registerHandler<MetadataRequest, MetadataResponse>({
  apiKey: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 12,
  decode: decodeMetadataRequest,
  encode: encodeMetadataResponse,
  async handle(req, ctx) {
    const { metadata } = ctx.services;
    // After a lost etcd lease (this process stopped past the session timeout?), not from leaderships of before.
    const stale = metadata.catchUpIfStale?.();
    if (stale) await stale;
    const image = metadata.image;
    const res = defaultMetadataResponse();
    res.brokers = liveBrokerEndpoints(image, ctx.session.listenerName);
    res.clusterId = image.clusterId;
    res.controllerId = image.controllerId;
    res.clusterAuthorizedOperations = NO_OPERATIONS;
    const v = ctx.apiVersion;
    if (v >= 8 && v <= 10 && req.includeClusterAuthorizedOperations) {
      res.clusterAuthorizedOperations = authorizedCluster(ctx, AclOperation.DESCRIBE)
        ? authorizedOperations(ctx, AclResourceType.CLUSTER, CLUSTER_RESOURCE)
        : 0;
    }
    // A copy: `t` may be a cached entry.
    const withOperations = (t: MetadataResponseTopic): MetadataResponseTopic =>
      v >= 8 && req.includeTopicAuthorizedOperations && t.name !== null
        ? { ...t, topicAuthorizedOperations: authorizedOperations(ctx, AclResourceType.TOPIC, t.name) }
        : t;
    const all = req.topics === null || (v === 0 && req.topics.length === 0);
    if (all) {
      // Topics the principal may not DESCRIBE are left out, their denial not logged (Kafka's way).
      const topics = [...image.topics()];
      const names = topics.map((t) => t.name);
      const visible = filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, names, false);
      for (const t of topics) if (visible.has(t.name)) res.topics.push(withOperations(cachedTopicMetadata(image, t)));
      return res;
    }
    const byName = (wanted: { name: string | null; topicId: string }): string | undefined =>
      wanted.name === null || wanted.name === ''
        ? wanted.topicId !== ZERO_UUID
          ? image.topicById(wanted.topicId)?.name
          : undefined
        : wanted.name;
    const named = req.topics!.flatMap((w) => byName(w) ?? []);
    const describable = filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, named);
    const allowCreate = v < 4 || req.allowAutoTopicCreation;
    let clusterCreate: boolean | undefined;
    const mayCreate = (name: string): boolean => {
      clusterCreate ??= authorizedCluster(ctx, AclOperation.CREATE, false);
      return clusterCreate || authorized(ctx, AclOperation.CREATE, AclResourceType.TOPIC, name);
    };
    for (const wanted of req.topics!) {
      if (wanted.name === null || wanted.name === '') {
        const byId = wanted.topicId !== ZERO_UUID ? image.topicById(wanted.topicId) : undefined;
        if (byId && describable.has(byId.name)) {
          res.topics.push(withOperations(cachedTopicMetadata(image, byId)));
        } else {
          // Topic ids are not sensitive: a topic the principal may not see answers TOPIC_AUTHORIZATION_FAILED.
          const t = defaultMetadataResponseTopic();
          t.name = null;
          t.topicId = wanted.topicId;
          t.errorCode = byId
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : wanted.topicId === ZERO_UUID
              ? ErrorCode.INVALID_TOPIC_EXCEPTION
              : ErrorCode.UNKNOWN_TOPIC_ID;
          res.topics.push(t);
        }
        continue;
      }
      const t = defaultMetadataResponseTopic();
      t.name = wanted.name;
      if (!describable.has(wanted.name)) {
        // Whether it exists is not disclosed.
        t.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        res.topics.push(t);
        continue;
      }
      const existing = image.topic(wanted.name);
      if (existing) {
        res.topics.push(withOperations(cachedTopicMetadata(image, existing)));
        continue;
      }
      t.isInternal = isInternalTopic(wanted.name);
      if (allowCreate && ctx.services.config.bool('auto.create.topics.enable') && !mayCreate(wanted.name)) {
        t.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        res.topics.push(t);
        continue;
      }
      const created = await autoCreateTopic(ctx.services, wanted.name, allowCreate);
      t.errorCode = typeof created === 'number' ? created : ErrorCode.LEADER_NOT_AVAILABLE;
      res.topics.push(withOperations(t));
    }
    return res;
  },
});
