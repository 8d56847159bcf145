/**
 * Partition reassignment (KIP-455), as Kafka's controller runs it: the pure state transitions, the write that
 * starts / replaces / cancels one (AlterPartitionReassignments), the listing (ListPartitionReassignments) and
 * the completion the controller (controller.ts) applies on its passes.
 *
 * - Start, from replicas R (the original ones: the current replicas less any a running reassignment adds) to
 *   a target T: replicas = T followed by the members of R not in T, addingReplicas = T − R, removingReplicas =
 *   R − T; the ISR keeps its members still in the replicas. A target equal to R with none in progress changes
 *   nothing. A reassignment of a partition with one in progress replaces it: the original replicas stay R,
 *   replicas the old one was adding and the new one does not want leave (and leave the ISR).
 * - The write is a compare-and-swap on the partition epoch (store.alterPartition), recomputed from the newer
 *   registration when a leader's ISR change or the controller won the race; any node may make it. The new
 *   replicas' nodes create the log and follow the leader (log-applier.ts, replica-manager.ts) and join the
 *   ISR once caught up (the leader's AlterPartition).
 * - Completion (the controller's, with its leadership guard): once every adding replica is in the ISR and the
 *   ISR keeps a member outside the removing ones, replicas = T (= replicas − removing), ISR = ISR − removing,
 *   adding/removing cleared; a leader that is being removed hands over to the first target replica in the new
 *   ISR (live), bumping the leader epoch. Removed nodes then stop fetching and delete their log.
 * - Cancel (null target): replicas and ISR lose the adding replicas (back to R's members, in the current order,
 *   as Kafka's revert: a move [1,2] -> [2,3] cancelled leaves [2,1]); a leader being added hands
 *   over to the first original replica in the ISR. An ISR left empty would need an unclean election: refused
 *   (INVALID_REPLICA_ASSIGNMENT) as Kafka does without unclean.leader.election.enable. Cancel of none:
 *   NO_REASSIGNMENT_IN_PROGRESS.
 * - Errors per partition, as Kafka: unknown topic or partition → UNKNOWN_TOPIC_OR_PARTITION; an empty target,
 *   a broker named twice or one not registered → INVALID_REPLICA_ASSIGNMENT; with allowReplicationFactorChange
 *   false (KIP-860), a target whose size differs from the partition's replication factor (the running
 *   reassignment's target size while one runs) → INVALID_REPLICATION_FACTOR; a write not done in time →
 *   REQUEST_TIMED_OUT.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { RunnelError } from '../protocol/errors.js';
import { type MetadataImage, NO_LEADER, type PartitionRegistration } from './metadata/image.js';
import type { MetadataStore, PartitionChange } from './metadata/store.js';

export interface ReassignmentError {
  code: number;
  message: string;
}

/** One ongoing reassignment, as ListPartitionReassignments lists it. */
export interface OngoingReassignment {
  partition: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

const adding = (p: PartitionRegistration): readonly number[] => p.addingReplicas ?? [];
const removing = (p: PartitionRegistration): readonly number[] => p.removingReplicas ?? [];

const sameIds = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export function isReassigning(p: PartitionRegistration): boolean {
  return adding(p).length > 0 || removing(p).length > 0;
}

/** The replicas before the running reassignment (the current ones without those it adds). */
export function originalReplicas(p: PartitionRegistration): number[] {
  return p.replicas.filter((id) => !adding(p).includes(id));
}

/** The replica set the running reassignment moves to (the current one without those it removes). */
export function targetReplicas(p: PartitionRegistration): number[] {
  return p.replicas.filter((id) => !removing(p).includes(id));
}

/** The leader after the ISR became `isr`: the current one if still in it, else the first of `order` in it. */
function keepOrElect(p: PartitionRegistration, isr: readonly number[], order: readonly number[]): number {
  if (p.leader !== NO_LEADER && isr.includes(p.leader)) return p.leader;
  return order.find((id) => isr.includes(id)) ?? NO_LEADER;
}

/**
 * The change that starts (or replaces the running one with) a reassignment to `target`; undefined: nothing to
 * change; an error when replacing would leave no ISR member (all of it was being added by the old one).
 */
export function startChange(
  p: PartitionRegistration,
  target: readonly number[],
): PartitionChange | ReassignmentError | undefined {
  const origin = originalReplicas(p);
  const replicas = [...target, ...origin.filter((id) => !target.includes(id))];
  const add = target.filter((id) => !origin.includes(id));
  const remove = origin.filter((id) => !target.includes(id));
  const isr = p.isr.filter((id) => replicas.includes(id));
  if (isr.length === 0)
    return {
      code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      message: `Unable to reassign partition ${p.partition}: no in-sync replica would remain.`,
    };
  const change: PartitionChange = { replicas, isr, addingReplicas: add, removingReplicas: remove };
  const leader = keepOrElect(p, isr, replicas);
  if (leader !== p.leader) change.leader = leader;
  const same =
    sameIds(replicas, p.replicas) &&
    sameIds(isr, p.isr) &&
    sameIds(add, adding(p)) &&
    sameIds(remove, removing(p)) &&
    leader === p.leader;
  return same ? undefined : change;
}

/** The change that cancels the running reassignment, or the error (none running, unclean revert). */
export function cancelChange(p: PartitionRegistration): PartitionChange | ReassignmentError {
  if (!isReassigning(p))
    return { code: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, message: 'No partition reassignment is in progress.' };
  const replicas = originalReplicas(p);
  const isr = p.isr.filter((id) => replicas.includes(id));
  if (isr.length === 0)
    return {
      code: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      message:
        `Unable to revert partition assignment for partition ${p.partition} because it would require ` +
        'an unclean leader election.',
    };
  const change: PartitionChange = { replicas, isr, addingReplicas: [], removingReplicas: [] };
  const leader = keepOrElect(p, isr, replicas);
  if (leader !== p.leader) change.leader = leader;
  return change;
}

/**
 * The controller's completion of a running reassignment once every adding replica is in the ISR (undefined:
 * not yet, or none running). A new leader, when the current one is being removed, must be live.
 */
export function completionChange(p: PartitionRegistration, live: ReadonlySet<number>): PartitionChange | undefined {
  if (!isReassigning(p)) return undefined;
  const isr = p.isr.filter((id) => !removing(p).includes(id));
  if (isr.length === 0 || adding(p).some((id) => !isr.includes(id))) return undefined;
  const replicas = targetReplicas(p);
  const change: PartitionChange = { replicas, isr, addingReplicas: [], removingReplicas: [] };
  if (p.leader === NO_LEADER || !isr.includes(p.leader)) {
    const leader = replicas.find((id) => isr.includes(id) && live.has(id));
    if (leader === undefined) return undefined;
    change.leader = leader;
  }
  return change;
}

/** Kafka's checks of a requested target (registered brokers, no duplicates, not empty, KIP-860). */
export function validateTarget(
  image: MetadataImage,
  p: PartitionRegistration,
  target: readonly number[],
  allowReplicationFactorChange: boolean,
): ReassignmentError | undefined {
  const bad = (message: string): ReassignmentError => ({ code: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message });
  if (target.length === 0) return bad('The manual partition assignment includes an empty replica list.');
  const seen = new Set<number>();
  for (const id of target) {
    if (seen.has(id)) return bad(`The manual partition assignment includes the broker ${id} more than once.`);
    seen.add(id);
    if (!image.broker(id))
      return bad(`The manual partition assignment includes broker ${id}, but no such broker is registered.`);
  }
  const current = targetReplicas(p).length;
  if (!allowReplicationFactorChange && target.length !== current)
    return {
      code: ErrorCode.INVALID_REPLICATION_FACTOR,
      message: `The replication factor is changed from ${current} to ${target.length}`,
    };
  return undefined;
}

/** How often a start or cancel is recomputed after losing its compare-and-swap. */
const MAX_ATTEMPTS = 10;

/**
 * Starts, replaces (`target`) or cancels (`null`) the reassignment of `topic-partition` through `store`;
 * undefined when done (or nothing to do), else the error for this partition.
 */
export async function alterReassignment(
  store: Pick<MetadataStore, 'image' | 'alterPartition'>,
  topic: string,
  partition: number,
  target: readonly number[] | null,
  allowReplicationFactorChange: boolean,
): Promise<ReassignmentError | undefined> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const image = store.image;
    const t = image.topic(topic);
    if (!t) return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `Unable to find a topic named ${topic}.` };
    const p = t.partitionStates[partition];
    if (!p)
      return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `Unable to find partition ${topic}:${partition}.` };
    let change: PartitionChange | ReassignmentError | undefined;
    if (target === null) change = cancelChange(p);
    else change = validateTarget(image, p, target, allowReplicationFactorChange) ?? startChange(p, target);
    if (!change) return undefined;
    if ('code' in change) return change;
    try {
      await store.alterPartition(topic, partition, p.partitionEpoch, change);
      return undefined;
    } catch (err) {
      const e = err as RunnelError;
      if (e.kafkaCode === ErrorCode.INVALID_UPDATE_VERSION) continue; // moved meanwhile: recompute
      return {
        code: e.kafkaCode !== undefined && e.kafkaCode > 0 ? e.kafkaCode : ErrorCode.UNKNOWN_SERVER_ERROR,
        message: e.message,
      };
    }
  }
  return { code: ErrorCode.REQUEST_TIMED_OUT, message: `${topic}-${partition} kept changing.` };
}

/** The ongoing reassignments by topic: every one (`topics` null), or those of the named partitions. */
export function listReassignments(
  image: MetadataImage,
  topics: ReadonlyArray<{ name: string; partitionIndexes: readonly number[] }> | null,
): Array<{ name: string; partitions: OngoingReassignment[] }> {
  const wanted = topics ?? image.topics().map((t) => ({ name: t.name, partitionIndexes: null }));
  const out: Array<{ name: string; partitions: OngoingReassignment[] }> = [];
  for (const w of wanted) {
    const t = image.topic(w.name);
    if (!t) continue; // Kafka skips unknown topics
    const parts = w.partitionIndexes === null ? t.partitionStates : w.partitionIndexes.map((i) => t.partitionStates[i]);
    const partitions: OngoingReassignment[] = [];
    for (const p of parts) {
      if (!p || !isReassigning(p)) continue;
      partitions.push({
        partition: p.partition,
        replicas: [...p.replicas],
        addingReplicas: [...adding(p)],
        removingReplicas: [...removing(p)],
      });
    }
    if (partitions.length) out.push({ name: t.name, partitions });
  }
  return out;
}
