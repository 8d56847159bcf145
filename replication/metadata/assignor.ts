/**
 * Replica assignment for new topics and partitions, as Kafka's assignor (AdminUtils.assignReplicasToBrokers)
 * does it:
 *
 * - Leaders are spread round robin over the brokers from a start index (random for a new topic; for new
 *   partitions of an existing topic, the index of partition 0's leader), continuing at the first new partition.
 * - Each follower is placed at a shift from the leader that grows by one every time the partitions have gone
 *   once round the brokers, so followers spread too; a partition's replicas are always distinct brokers.
 * - When every broker has a rack, the brokers are first arranged alternating racks (one per rack in turn) and a
 *   follower is skipped while its rack (or the broker itself) already holds a replica of the partition, until
 *   every rack (every broker) does: replicas land on distinct racks as far as there are racks.
 *   When only some brokers have a rack the racks are ignored (Kafka's "safe" rack-aware mode).
 * - A replication factor below 1 or above the live broker count is INVALID_REPLICATION_FACTOR.
 */
import { StorageError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';

export interface AssignableBroker {
  readonly nodeId: number;
  readonly rack: string | null;
}

export interface AssignOptions {
  partitions: number;
  replicationFactor: number;
  /** The first partition id to assign (the existing partition count when adding partitions). Default 0. */
  startPartition?: number;
  /** Index of the first leader in the (arranged) broker list; default random. */
  startIndex?: number;
  /** Start at this broker's index instead (partition 0's leader when adding partitions), if it is listed. */
  startBroker?: number;
  /** Source of randomness in [0, 1) for the start indexes. Default Math.random. */
  random?: () => number;
}

const replicaIndex = (first: number, shift: number, j: number, n: number): number =>
  (first + 1 + ((shift + j) % (n - 1))) % n;

/** Brokers ordered so consecutive ones are on different racks: racks sorted, one broker of each in turn. */
export function rackAlternated(brokers: readonly AssignableBroker[]): AssignableBroker[] {
  const byRack = new Map<string, AssignableBroker[]>();
  for (const b of [...brokers].sort((x, y) => x.nodeId - y.nodeId)) {
    const rack = b.rack ?? '';
    byRack.set(rack, [...(byRack.get(rack) ?? []), b]);
  }
  const racks = [...byRack.keys()].sort();
  const out: AssignableBroker[] = [];
  for (let round = 0; out.length < brokers.length; round++) {
    for (const r of racks) {
      const b = byRack.get(r)![round];
      if (b) out.push(b);
    }
  }
  return out;
}

/** Replica lists for `partitions` partitions (index 0 = partition `startPartition`). */
export function assignReplicas(brokers: readonly AssignableBroker[], o: AssignOptions): number[][] {
  const n = brokers.length;
  const rf = o.replicationFactor;
  if (!Number.isInteger(rf) || rf < 1)
    throw new StorageError(`replication factor must be at least 1, got ${rf}`, ErrorCode.INVALID_REPLICATION_FACTOR);
  if (rf > n)
    throw new StorageError(
      `replication factor ${rf} is larger than the ${n} available broker${n === 1 ? '' : 's'}`,
      ErrorCode.INVALID_REPLICATION_FACTOR,
    );
  const rackAware = brokers.every((b) => b.rack !== null);
  const arranged = rackAware ? rackAlternated(brokers) : [...brokers].sort((x, y) => x.nodeId - y.nodeId);
  const random = o.random ?? Math.random;
  const fixed = o.startBroker !== undefined ? arranged.findIndex((b) => b.nodeId === o.startBroker) : o.startIndex;
  const startIndex = fixed !== undefined && fixed >= 0 ? fixed % n : Math.floor(random() * n);
  let shift = fixed !== undefined && fixed >= 0 ? fixed % n : Math.floor(random() * n);
  let current = Math.max(0, o.startPartition ?? 0);
  const numRacks = new Set(arranged.map((b) => b.rack)).size;
  const out: number[][] = [];
  for (let i = 0; i < o.partitions; i++, current++) {
    if (current > 0 && current % n === 0) shift++;
    const first = (current + startIndex) % n;
    const leader = arranged[first];
    const replicas = [leader];
    if (!rackAware) {
      for (let j = 0; j < rf - 1; j++) replicas.push(arranged[replicaIndex(first, shift, j, n)]);
    } else {
      const racks = new Set([leader.rack]);
      const used = new Set([leader.nodeId]);
      let k = 0;
      while (replicas.length < rf) {
        // Bounded: once every rack holds a replica any unused broker qualifies, and within n steps one comes.
        const b = arranged[replicaIndex(first, shift * numRacks, k++, n)];
        if ((!racks.has(b.rack) || racks.size === numRacks) && (!used.has(b.nodeId) || used.size === n)) {
          replicas.push(b);
          racks.add(b.rack);
          used.add(b.nodeId);
        }
      }
    }
    out.push(replicas.map((b) => b.nodeId));
  }
  return out;
}
