/**
 * ElectLeaders (key 43), versions 0-2 (v2+ flexible; v0 has no election type (preferred) and no top-level
 * error code).
 *
 * In a replicated cluster (`etcd.endpoints`) each named partition is elected as Kafka's controller does
 * (replication/leader-election.ts): PREFERRED (0) moves leadership to the first replica when it is active and in
 * the ISR (ELECTION_NOT_NEEDED when it leads, PREFERRED_LEADER_NOT_AVAILABLE when it cannot); UNCLEAN (1) elects
 * a leader for a partition without a live one, cleanly from the ISR if possible, else the first active replica
 * (ELECTION_NOT_NEEDED when a leader is live, ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is). The broker
 * that receives the request writes the changes itself, all of the request's partitions as one batch
 * (store.alterPartitions: one etcd transaction, one delta on every node), each a compare-and-swap on its
 * partition epoch (the etcd store compares the partition key's mod revision): the controller's own writes are
 * CAS too, so whichever writes second re-reads; a partition that lost a race is re-decided on the newer state
 * (a few times, then INVALID_UPDATE_VERSION). The answer is sent once this broker's image shows the new leaders.
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
import type { MetadataImage } from '../../replication/metadata/image.js';
import type { PartitionWrite } from '../../replication/metadata/partition-change.js';
import type { BrokerServices } from '../services.js';
import { errorOf } from '../topic-configs.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

const NOT_NEEDED = 'Leader election not needed for topic partition.';
const ATTEMPTS = 5;

type Services = Pick<BrokerServices, 'metadata' | 'config' | 'log'>;
type Result = ElectLeadersResponsePartitionResult;
interface Target {
  topic: string;
  partition: number;
}

const result = (t: Target, errorCode: number, errorMessage: string | null): Result => ({
  partitionId: t.partition,
  errorCode,
  errorMessage,
});

/** One partition decided on `image`: its answer, or the write that elects its leader. */
function decide(
  { config }: Services,
  image: MetadataImage,
  type: number,
  t: Target,
): { result: Result } | { write: PartitionWrite } {
  const meta = image.topic(t.topic);
  if (!meta) return { result: result(t, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No such topic as ${t.topic}`) };
  const p = meta.partitionStates[t.partition];
  if (!p) {
    const message = `No such partition as ${t.topic}-${t.partition}`;
    return { result: result(t, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message) };
  }
  // One node: the only replica leads; it is the preferred replica, and a leader exists.
  if (config.etcdEndpoints.length === 0) return { result: result(t, ErrorCode.ELECTION_NOT_NEEDED, NOT_NEEDED) };
  const live = new Set(image.liveBrokers().map((b) => b.nodeId));
  const e = electLeader(p, type, image.activeBrokerIds(), live);
  if ('error' in e) return { result: result(t, e.error, e.message) };
  return { write: { topic: t.topic, partition: t.partition, partitionEpoch: p.partitionEpoch, change: e.change } };
}

/**
 * Elects every target, the writes as one batch (store.alterPartitions: one atomic change); those that lost a
 * race (INVALID_UPDATE_VERSION) are decided again on the newer image, a few times. A partition named twice is
 * elected once and both get its answer. Results in the order of `targets`.
 */
async function electAll(services: Services, type: number, targets: readonly Target[]): Promise<Result[]> {
  const { metadata, log } = services;
  const results: Result[] = new Array(targets.length);
  const first = new Map<string, number>();
  const dups: Array<[number, number]> = [];
  let pending: number[] = [];
  targets.forEach((t, i) => {
    const id = `${t.topic}\0${t.partition}`;
    const j = first.get(id);
    if (j === undefined) {
      first.set(id, i);
      pending.push(i);
    } else dups.push([i, j]);
  });
  for (let attempt = 0; pending.length > 0; attempt++) {
    const image = metadata.image;
    const writes: PartitionWrite[] = [];
    const writers: number[] = [];
    for (const i of pending) {
      const d = decide(services, image, type, targets[i]);
      if ('result' in d) results[i] = d.result;
      else {
        writes.push(d.write);
        writers.push(i);
      }
    }
    pending = [];
    if (writes.length === 0) break;
    // A batch that fails as a whole (the store closed, a write not delivered in time) fails each of its writes.
    const settled = await metadata
      .alterPartitions(writes)
      .catch((reason: unknown) => writes.map((): PromiseSettledResult<never> => ({ status: 'rejected', reason })));
    settled.forEach((s, k) => {
      const i = writers[k];
      const t = targets[i];
      if (s.status === 'fulfilled') {
        const { leader, leaderEpoch } = s.value;
        log.info({ topic: t.topic, partition: t.partition, leader, leaderEpoch, type }, 'leader elected');
        results[i] = result(t, ErrorCode.NONE, null);
        return;
      }
      const a = errorOf(s.reason);
      if (a.code === ErrorCode.INVALID_UPDATE_VERSION && attempt + 1 < ATTEMPTS) pending.push(i);
      else results[i] = result(t, a.code, a.message);
    });
  }
  for (const [i, j] of dups) results[i] = { ...results[j], partitionId: targets[i].partition };
  return results;
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
    const metadata = services.metadata;
    const named = req.topicPartitions;
    const topics =
      named ??
      metadata.image
        .topics()
        .map((t) => ({ topic: t.name, partitions: Array.from({ length: t.partitions }, (_, p) => p) }));
    const targets = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
    const results = await electAll(services, type, targets);
    let k = 0;
    for (const t of topics) {
      const partitionResult = results.slice(k, k + t.partitions.length);
      k += t.partitions.length;
      res.replicaElectionResults.push({
        topic: t.topic,
        // Every partition (null): only those whose election was attempted are reported, as Kafka does.
        partitionResult: named
          ? partitionResult
          : partitionResult.filter((r) => r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED),
      });
    }
    return res;
  },
});
