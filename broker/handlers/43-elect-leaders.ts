/**
 * ElectLeaders (key 43), versions 0-2 (v2+ flexible; v0 has no election type (preferred) and no top-level
 * error code).
 *
 * On one node every partition's leader is this node, its preferred (first) replica, so no election is ever
 * needed (Kafka's ReplicationControlManager.electLeaders): a named partition gets ELECTION_NOT_NEEDED for a
 * preferred election and for an unclean one (it has a leader); an unknown topic or partition gets
 * UNKNOWN_TOPIC_OR_PARTITION. A null topic list means every partition, and then, as Kafka does, only the
 * partitions whose election was attempted are reported: every topic appears with no partition results. An
 * election type other than 0 (preferred) or 1 (unclean) fails the request with INVALID_REQUEST, top level
 * and every named partition.
 */
import { decodeElectLeadersRequest, type ElectLeadersRequest } from '../../protocol/generated/elect-leaders-request.js';
import {
  defaultElectLeadersResponse,
  type ElectLeadersResponse,
  type ElectLeadersResponsePartitionResult,
  encodeElectLeadersResponse,
} from '../../protocol/generated/elect-leaders-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { MetadataImage } from '../../replication/metadata/image.js';
import { registerHandler } from './registry.js';

const PREFERRED = 0;
const UNCLEAN = 1;
const NOT_NEEDED = 'Leader election not needed for topic partition.';

function electOne(image: MetadataImage, topic: string, partition: number): ElectLeadersResponsePartitionResult {
  const meta = image.topic(topic);
  if (!meta) {
    return {
      partitionId: partition,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `No such topic as ${topic}`,
    };
  }
  if (partition < 0 || partition >= meta.partitions) {
    return {
      partitionId: partition,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `No such partition as ${topic}-${partition}`,
    };
  }
  // The only replica leads: it is the preferred replica, and a leader exists (nothing for unclean to do).
  return { partitionId: partition, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: NOT_NEEDED };
}

export const electLeadersHandler = registerHandler<ElectLeadersRequest, ElectLeadersResponse>({
  apiKey: 43,
  name: 'ElectLeaders',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeElectLeadersRequest,
  encode: encodeElectLeadersResponse,
  handle(req, ctx) {
    const { metadata } = ctx.services;
    const res = defaultElectLeadersResponse();
    if (req.electionType !== PREFERRED && req.electionType !== UNCLEAN) {
      const message = `Unknown election type ${req.electionType}`;
      res.errorCode = ErrorCode.INVALID_REQUEST;
      res.replicaElectionResults = (req.topicPartitions ?? []).map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((p) => ({
          partitionId: p,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: message,
        })),
      }));
      return res;
    }
    if (req.topicPartitions === null) {
      res.replicaElectionResults = metadata.image.topics().map((t) => ({
        topic: t.name,
        partitionResult: Array.from({ length: t.partitions }, (_, p) => electOne(metadata.image, t.name, p)).filter(
          (r) => r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED,
        ),
      }));
      return res;
    }
    res.replicaElectionResults = req.topicPartitions.map((t) => ({
      topic: t.topic,
      partitionResult: t.partitions.map((p) => electOne(metadata.image, t.topic, p)),
    }));
    return res;
  },
});
