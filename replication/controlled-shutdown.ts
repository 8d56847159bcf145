/**
 * Controlled shutdown (Kafka's): a stopping broker asks the controller to move its leaderships away before it
 * closes its logs, so clients switch leaders on a NOT_LEADER_OR_FOLLOWER retry instead of waiting for its
 * session to expire.
 *
 * The request is a mark in the broker's own registration (`brokers/<id>` gets `inControlledShutdown: true`, as a
 * KRaft broker's heartbeat sets `wantShutDown`), written by the broker itself; the controller, which already
 * follows every registration, is the only one that acts on it (single writer of partition state, each write a
 * CAS plus its leadership guard). Per partition (`controlledShutdownChange`):
 * - led by a broker in controlled shutdown: the first other replica, in replica order, that is in the ISR and
 *   active (live, not shutting down) becomes leader (leader epoch bumped); the ISR keeps its active members.
 *   With no such replica the leader keeps leading (the partition would otherwise go offline);
 * - followers in controlled shutdown (or gone) leave the ISR; the leader always stays in it.
 * The broker waits until `shutdownPending` finds nothing left for it in its image (bounded by
 * controlled.shutdown.max.retries x controlled.shutdown.retry.backoff.ms, re-writing the mark each attempt),
 * then stops. While the mark is set, leaders do not take it back into an ISR (KIP-841) and no election
 * picks it.
 */
import { NO_LEADER, type MetadataImage, type PartitionRegistration } from './metadata/image.js';
import type { PartitionChange } from './metadata/store.js';

/**
 * The change moving `p` off the brokers in `shuttingDown`, or undefined (nothing to do, or leaderless / led by a
 * lost broker: the controller's liveness rules apply then). `live`: registered, unfenced brokers.
 */
export function controlledShutdownChange(
  p: PartitionRegistration,
  live: ReadonlySet<number>,
  shuttingDown: ReadonlySet<number>,
): PartitionChange | undefined {
  if (shuttingDown.size === 0 || p.leader === NO_LEADER || !live.has(p.leader)) return undefined;
  const active = (id: number): boolean => live.has(id) && !shuttingDown.has(id);
  if (shuttingDown.has(p.leader)) {
    const next = p.replicas.find((id) => id !== p.leader && p.isr.includes(id) && active(id));
    if (next !== undefined) return { leader: next, isr: p.isr.filter(active) };
  }
  const isr = p.isr.filter((id) => id === p.leader || active(id));
  return isr.length === p.isr.length ? undefined : { isr };
}

/** The brokers of `image` marked in controlled shutdown (live ones). */
export function shuttingDownBrokers(image: MetadataImage): Set<number> {
  return new Set(
    image
      .liveBrokers()
      .filter((b) => b.inControlledShutdown)
      .map((b) => b.nodeId),
  );
}

/**
 * The partitions (`topic-p`) where the controller still has to act for `nodeId`'s controlled shutdown, judged
 * on `image` as if `nodeId` were marked: empty once it leads only partitions no one else can lead and sits in
 * no ISR but those.
 */
export function shutdownPending(image: MetadataImage, nodeId: number): string[] {
  const live = new Set(image.liveBrokers().map((b) => b.nodeId));
  live.add(nodeId);
  const shutting = shuttingDownBrokers(image);
  shutting.add(nodeId);
  const out: string[] = [];
  for (const { topic, partition } of image.replicasOf(nodeId)) {
    if (partition.leader !== nodeId && !partition.isr.includes(nodeId)) continue;
    if (controlledShutdownChange(partition, live, shutting)) out.push(`${topic.name}-${partition.partition}`);
  }
  return out;
}
