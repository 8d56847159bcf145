/**
 * Applying a PartitionChange (store.ts) to a partition registration: the checks and epoch bumps every store's
 * alterPartition shares, and the batched form's request type.
 *
 * - `changedPartition` returns the registration after `change`, or undefined when it changes nothing; it throws
 *   INVALID_UPDATE_VERSION when the partition is not at the expected partition epoch and INVALID_REQUEST for a
 *   change that breaks the invariants (replicas non-empty and distinct, new replicas registered brokers, ISR a
 *   subset of the replicas, the leader in the ISR or none, adding/removing subsets of the replicas, disjoint).
 * - A new leader bumps the leader epoch; every change bumps the partition epoch.
 * - `planBatch` checks a batch against an image: each write's outcome so far (refused: rejected; no change:
 *   fulfilled with the partition as it is) and the registrations to write (a partition twice: INVALID_REQUEST).
 */
import { StorageError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { type MetadataImage, NO_LEADER, type PartitionRegistration } from './image.js';
import type { PartitionChange } from './store.js';

/** One partition's change in a batched write (`alterPartitionsGuarded`). */
export interface PartitionWrite {
  topic: string;
  partition: number;
  /** The partition epoch the change was computed from (compare-and-swap). */
  partitionEpoch: number;
  change: PartitionChange;
}

const sameIds = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export function changedPartition(
  topic: string,
  cur: PartitionRegistration,
  expectedPartitionEpoch: number,
  change: PartitionChange,
  isBroker: (id: number) => boolean,
): PartitionRegistration | undefined {
  const partition = cur.partition;
  if (cur.partitionEpoch !== expectedPartitionEpoch)
    throw new StorageError(
      `${topic}-${partition} is at partition epoch ${cur.partitionEpoch}, not ${expectedPartitionEpoch}`,
      ErrorCode.INVALID_UPDATE_VERSION,
    );
  const replicas = change.replicas ?? cur.replicas;
  const isr = change.isr ?? cur.isr;
  const leader = change.leader ?? cur.leader;
  const adding = change.addingReplicas ?? cur.addingReplicas ?? [];
  const removing = change.removingReplicas ?? cur.removingReplicas ?? [];
  const newReplicas = replicas.filter((id) => !cur.replicas.includes(id));
  if (
    replicas.length === 0 ||
    new Set(replicas).size !== replicas.length ||
    newReplicas.some((id) => !isBroker(id)) ||
    isr.some((id) => !replicas.includes(id)) ||
    (leader !== NO_LEADER && !isr.includes(leader)) ||
    [...adding, ...removing].some((id) => !replicas.includes(id)) ||
    adding.some((id) => removing.includes(id))
  )
    throw new StorageError(`invalid change of ${topic}-${partition}`, ErrorCode.INVALID_REQUEST);
  if (
    sameIds(replicas, cur.replicas) &&
    sameIds(isr, cur.isr) &&
    leader === cur.leader &&
    sameIds(adding, cur.addingReplicas ?? []) &&
    sameIds(removing, cur.removingReplicas ?? [])
  )
    return undefined;
  return {
    partition,
    replicas: [...replicas],
    isr: [...isr],
    leader,
    leaderEpoch: leader !== cur.leader ? cur.leaderEpoch + 1 : cur.leaderEpoch,
    partitionEpoch: cur.partitionEpoch + 1,
    ...(adding.length ? { addingReplicas: [...adding] } : {}),
    ...(removing.length ? { removingReplicas: [...removing] } : {}),
  };
}

/** See the header: the checked batch against `image`. */
export function planBatch(writes: readonly PartitionWrite[], image: MetadataImage) {
  const out: PromiseSettledResult<PartitionRegistration>[] = [];
  const changed: Array<{ i: number; updated: PartitionRegistration }> = [];
  const seen = new Set<string>();
  writes.forEach((w, i) => {
    try {
      const id = `${w.topic}\0${w.partition}`;
      if (seen.has(id))
        throw new StorageError(`${w.topic}-${w.partition} twice in one batch`, ErrorCode.INVALID_REQUEST);
      seen.add(id);
      const cur = image.partition(w.topic, w.partition);
      if (!cur)
        throw new StorageError(`unknown partition ${w.topic}-${w.partition}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const updated = changedPartition(w.topic, cur, w.partitionEpoch, w.change, (b) => !!image.broker(b));
      out[i] = { status: 'fulfilled', value: cur };
      if (updated) changed.push({ i, updated });
    } catch (reason) {
      out[i] = { status: 'rejected', reason };
    }
  });
  return { out, changed };
}
