/**
 * A client request's partition lookup that first catches up with the cluster metadata when this node may not
 * know the partition yet. Right after CreateTopics through one node, a client that read the new leaders from
 * that node's metadata can reach a leader before that leader's etcd watch delivered the topic (the topic is
 * not in its image: UNKNOWN_TOPIC_OR_PARTITION) or while it still creates the log (in its image, no log yet:
 * NOT_LEADER_OR_FOLLOWER). Kafka avoids this window by ordering (its controller makes the leaders lead before
 * any broker's metadata names them); here the leader waits, at most CATCH_UP_TIMEOUT_MS, until it has applied
 * the topic as etcd has it now (`MetadataStore.catchUpTopic`), then looks again. Nothing waits on a single node
 * (its store has no catchUpTopic), for a partition that has a Partition here (its errors are the epoch checks'),
 * or for one the image places on other nodes only (NOT_LEADER_OR_FOLLOWER at once).
 */
import type { Partition } from '../replication/partition.js';
import { NO_LEADER_EPOCH } from '../replication/partition.js';
import type { TimerHandle } from '../storage/clock.js';
import type { BrokerServices } from './services.js';

/** The longest one lookup waits for this node to catch up with a topic. */
export const CATCH_UP_TIMEOUT_MS = 2000;

/** ReplicaManager.getPartitionOrError, after catching up with the store when this node may lag (see header). */
export async function partitionCaughtUp(
  services: Pick<BrokerServices, 'partitions' | 'metadata' | 'clock' | 'nodeId'>,
  topic: string,
  partition: number,
  currentLeaderEpoch = NO_LEADER_EPOCH,
  requireLeader = true,
): Promise<Partition | number> {
  const { partitions, metadata, clock } = services;
  const first = partitions.getPartitionOrError(topic, partition, currentLeaderEpoch, requireLeader);
  if (typeof first !== 'number' || !metadata.catchUpTopic) return first;
  if (typeof partitions.getPartition(topic, partition) !== 'number') return first;
  const reg = metadata.image.partition(topic, partition);
  if (reg && !reg.replicas.includes(services.nodeId)) return first;
  let timer: TimerHandle | undefined;
  try {
    await Promise.race([
      metadata.catchUpTopic(topic),
      new Promise<void>((resolve) => {
        timer = clock.setTimeout(resolve, CATCH_UP_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return first;
  } finally {
    clock.clearTimeout(timer);
  }
  return partitions.getPartitionOrError(topic, partition, currentLeaderEpoch, requireLeader);
}
