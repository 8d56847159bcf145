/**
 * Metadata (key 3), versions 0-12 (13 is Kafka 4.1's; not advertised until topic-id-only requests land).
 *
 * One broker (this node) leads every partition with leader epoch 0; it is also the controller. Topic
 * selection: v0 with an empty list = all topics; v1+ null = all, empty = none. A missing topic is created
 * when `auto.create.topics.enable` is on and the request allows it (always below v4, the flag from v4),
 * with `num.partitions` partitions. As in Kafka, the request that triggers the creation answers
 * LEADER_NOT_AVAILABLE for that topic (name only, no partitions; clients retry), and the next Metadata
 * request sees the topic with its leaders (here the logs exist by then, so it is ready at once; a request
 * racing the creation may also see LEADER_NOT_AVAILABLE). Invalid names get INVALID_TOPIC_EXCEPTION, missing
 * ones UNKNOWN_TOPIC_OR_PARTITION
 * (UNKNOWN_TOPIC_ID when asked by id, v10+). Authorized operations are not computed (-2147483648).
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
import type { Broker } from '../broker.js';
import { registerHandler } from './registry.js';
import { autoCreateTopic, isInternalTopic } from '../topics.js';
import type { TopicMetadata } from '../../storage/topic-store.js';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const NO_OPERATIONS = -2147483648;

export function topicMetadata(broker: Broker, t: TopicMetadata): MetadataResponseTopic {
  const nodeId = broker.started.nodeId;
  const out = defaultMetadataResponseTopic();
  out.name = t.name;
  out.topicId = t.topicId;
  out.isInternal = isInternalTopic(t.name);
  out.topicAuthorizedOperations = NO_OPERATIONS;
  for (let p = 0; p < t.partitions; p++) {
    const part = defaultMetadataResponsePartition();
    part.partitionIndex = p;
    part.leaderId = nodeId;
    part.leaderEpoch = 0;
    part.replicaNodes = [nodeId];
    part.isrNodes = [nodeId];
    out.partitions.push(part);
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
    const broker = ctx.broker as Broker;
    const info = broker.started;
    const res = defaultMetadataResponse();
    res.brokers = [{ nodeId: info.nodeId, host: info.advertisedHost, port: info.advertisedPort, rack: null }];
    res.clusterId = info.clusterId;
    res.controllerId = info.nodeId;
    res.clusterAuthorizedOperations = NO_OPERATIONS;
    const v = ctx.apiVersion;
    const all = req.topics === null || (v === 0 && req.topics.length === 0);
    if (all) {
      for (const t of broker.logs.topics()) res.topics.push(topicMetadata(broker, t));
      return res;
    }
    const allowCreate = v < 4 || req.allowAutoTopicCreation;
    for (const wanted of req.topics!) {
      if (wanted.name === null || wanted.name === '') {
        const byId = wanted.topicId !== ZERO_UUID ? broker.logs.topicById(wanted.topicId) : undefined;
        if (byId) {
          res.topics.push(topicMetadata(broker, byId));
        } else {
          const t = defaultMetadataResponseTopic();
          t.name = null;
          t.topicId = wanted.topicId;
          t.errorCode = wanted.topicId === ZERO_UUID ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_ID;
          res.topics.push(t);
        }
        continue;
      }
      const existing = broker.logs.topic(wanted.name);
      if (existing) {
        res.topics.push(topicMetadata(broker, existing));
        continue;
      }
      const created = await autoCreateTopic(broker, wanted.name, allowCreate);
      const t = defaultMetadataResponseTopic();
      t.name = wanted.name;
      t.errorCode = typeof created === 'number' ? created : ErrorCode.LEADER_NOT_AVAILABLE;
      t.isInternal = isInternalTopic(wanted.name);
      t.topicAuthorizedOperations = NO_OPERATIONS;
      res.topics.push(t);
    }
    return res;
  },
});
