/**
 * KIP-392 fetch from the closest replica: which replica a consumer should read a partition from, chosen by
 * the partition's leader (Kafka's ReplicaManager.findPreferredReadReplica with a ReplicaSelector).
 *
 * `replica.selector.class` null (the default): none, consumers read from the leader. Kafka's
 * `org.apache.kafka.common.replica.RackAwareReplicaSelector`: among the leader and the live in-sync followers
 * whose log end (as the leader last saw it) reaches the fetch offset, those in the client's rack
 * (`client.rack`, Fetch v11+ rackId); none, or the leader among them, or no client rack → the leader;
 * else the one with the largest log end, then the most recently caught up. The answer is a node id other
 * than the leader's, or -1 (read here, at the leader).
 */
import type { MetadataImage } from './metadata/image.js';
import type { Partition } from './partition.js';

export const RACK_AWARE_REPLICA_SELECTOR = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';

/** The selectors `replica.selector.class` may name (null: none). */
export const REPLICA_SELECTORS: readonly string[] = [RACK_AWARE_REPLICA_SELECTOR];

interface ReplicaView {
  nodeId: number;
  logEndOffset: number;
  timeSinceCaughtUpMs: number;
}

/**
 * The replica a consumer in `clientRack` fetching from `fetchOffset` should read `p` from, when this node
 * leads it: a follower's node id, or -1 for the leader itself (also when `selector` is null or unknown).
 */
export function preferredReadReplica(
  selector: string | null,
  p: Partition,
  image: MetadataImage,
  clientRack: string,
  fetchOffset: number,
  now: number,
): number {
  if (selector !== RACK_AWARE_REPLICA_SELECTOR || !p.isLeader || clientRack === '') return -1;
  if ((image.broker(p.localId)?.rack ?? null) === clientRack) return -1;
  let best: ReplicaView | undefined;
  for (const id of p.isr) {
    if (id === p.localId) continue;
    const broker = image.broker(id);
    const f = p.followerState(id);
    if (!broker || broker.fenced || !image.endpoint(id) || !f || broker.rack !== clientRack) continue;
    if (f.logEndOffset < fetchOffset || f.logEndOffset < 0) continue;
    const view = { nodeId: id, logEndOffset: f.logEndOffset, timeSinceCaughtUpMs: now - f.lastCaughtUpTime };
    if (
      !best ||
      view.logEndOffset > best.logEndOffset ||
      (view.logEndOffset === best.logEndOffset && view.timeSinceCaughtUpMs < best.timeSinceCaughtUpMs)
    )
      best = view;
  }
  return best ? best.nodeId : -1;
}
