/**
 * ElectLeaders (key 43), versions 0-2 (v2+ flexible; v0 has no election type (preferred) and no top-level
 * error code).
 *
 * In a replicated cluster (`etcd.endpoints`) each named partition is elected as Kafka's controller does
 * (replication/leader-election.ts): PREFERRED (0) moves leadership to the first replica when it is active and in
 * the ISR (ELECTION_NOT_NEEDED when it leads, PREFERRED_LEADER_NOT_AVAILABLE when it cannot); UNCLEAN (1) elects
 * a leader for a partition without a live one, cleanly from the ISR if possible, else the first active replica
 * (ELECTION_NOT_NEEDED when a leader is live, ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is). The broker
 * that receives the request writes the change itself, as a compare-and-swap on the partition epoch (the etcd
 * store compares the partition key's mod revision): the controller's own writes are CAS too, so whichever
 * writes second re-reads; a lost race is re-decided on the newer state (a few times, then
 * INVALID_UPDATE_VERSION). The answer is sent once this broker's image shows the new leader.
 *
 * On one node every partition's leader is this node, its preferred (first) replica, so no election is ever
 * needed: a named partition gets ELECTION_NOT_NEEDED for a preferred election and for an unclean one (it has
 * a leader). In both modes an unknown topic or partition gets UNKNOWN_TOPIC_OR_PARTITION; a null topic list
 * means every partition, and then, as Kafka does, only the partitions whose election was attempted are
 * reported (every topic appears, possibly with no partition results). An election type other than 0 or 1 fails
 * the request with INVALID_REQUEST, top level and every named partition.
 * Authorization (Kafka's ControllerApis): ALTER on the CLUSTER, checked first; denied → the whole request fails
 * with CLUSTER_AUTHORIZATION_FAILED, top level and every named partition, and nothing is elected.
 */
import { decodeElectLeadersRequest, type ElectLeadersRequest } from '../../protocol/generated/elect-leaders-request.js';
import {
  defaultElectLeadersResponse,
  type ElectLeadersResponse,
  type ElectLeadersResponsePartitionResult,
  encodeElectLeadersResponse,
} from '../../protocol/generated/elect-leaders-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { electLeader, PREFERRED_ELECTION, UNCLEAN_ELECTION } from '../../replication/leader-election.js';
import type { BrokerServices } from '../services.js';
import { errorOf } from '../topic-configs.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

const NOT_NEEDED = 'Leader election not needed for topic partition.';
const ATTEMPTS = 5;

type Services = Pick<BrokerServices, 'metadata' | 'config' | 'log'>;

async function electOne(
  { metadata, config, log }: Services,
  type: number,
  topic: string,
  partition: number,
): Promise<ElectLeadersResponsePartitionResult> {
  const result = (errorCode: number, errorMessage: string | null): ElectLeadersResponsePartitionResult => ({
    partitionId: partition,
    errorCode,
    errorMessage,
  });
  for (let attempt = 0; ; attempt++) {
    const image = metadata.image;
    const meta = image.topic(topic);
    if (!meta) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No such topic as ${topic}`);
    const p = meta.partitionStates[partition];
    if (!p) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No such partition as ${topic}-${partition}`);
    // One node: the only replica leads; it is the preferred replica, and a leader exists.
    if (config.etcdEndpoints.length === 0) return result(ErrorCode.ELECTION_NOT_NEEDED, NOT_NEEDED);
    const live = new Set(image.liveBrokers().map((b) => b.nodeId));
    const e = electLeader(p, type, image.activeBrokerIds(), live);
    if ('error' in e) return result(e.error, e.message);
    try {
      const after = await metadata.alterPartition(topic, partition, p.partitionEpoch, e.change);
      log.info({ topic, partition, leader: after.leader, leaderEpoch: after.leaderEpoch, type }, 'leader elected');
      return result(ErrorCode.NONE, null);
    } catch (err) {
      const a = errorOf(err);
      if (a.code !== ErrorCode.INVALID_UPDATE_VERSION || attempt + 1 >= ATTEMPTS) return result(a.code, a.message);
    }
  }
}

export const electLeadersHandler = registerHandler<ElectLeadersRequest, ElectLeadersResponse>({
  apiKey: 43,
  name: 'ElectLeaders',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeElectLeadersRequest,
  encode: encodeElectLeadersResponse,
  async handle(req, ctx) {
    const services = ctx.services;
    const res = defaultElectLeadersResponse();
    const type = req.electionType;
    const fail = (errorCode: number, message: string | null): ElectLeadersResponse => {
      res.errorCode = errorCode;
      res.replicaElectionResults = (req.topicPartitions ?? []).map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((p) => ({ partitionId: p, errorCode, errorMessage: message })),
      }));
      return res;
    };
    if (!authorizedCluster(ctx, AclOperation.ALTER))
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, deniedMessage(ErrorCode.CLUSTER_AUTHORIZATION_FAILED));
    if (type !== PREFERRED_ELECTION && type !== UNCLEAN_ELECTION)
      return fail(ErrorCode.INVALID_REQUEST, `Unknown election type ${req.electionType}`);
    if (req.topicPartitions === null) {
      for (const t of services.metadata.image.topics()) {
        const partitionResult: ElectLeadersResponsePartitionResult[] = [];
        for (let p = 0; p < t.partitions; p++) {
          const r = await electOne(services, type, t.name, p);
          if (r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED) partitionResult.push(r);
        }
        res.replicaElectionResults.push({ topic: t.name, partitionResult });
      }
      return res;
    }
    for (const t of req.topicPartitions) {
      const partitionResult: ElectLeadersResponsePartitionResult[] = [];
      for (const p of t.partitions) partitionResult.push(await electOne(services, type, t.topic, p));
      res.replicaElectionResults.push({ topic: t.topic, partitionResult });
    }
    return res;
  },
});
