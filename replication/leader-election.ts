/**
 * The elections of ElectLeaders (KIP-460), as Kafka's controller decides them (ReplicationControlManager
 * .electLeader), over one partition's registration and the active brokers (live, not in controlled shutdown):
 *
 * - PREFERRED (0): the preferred (first) replica already leads → ELECTION_NOT_NEEDED; it is active and in the
 *   ISR → it leads (leader epoch bumped, ISR unchanged); else PREFERRED_LEADER_NOT_AVAILABLE.
 * - UNCLEAN (1): a live leader exists → ELECTION_NOT_NEEDED; else the first replica that is an active ISR
 *   member leads (a clean election, ISR = its active members); else the first active replica leads with
 *   ISR = [it] (records may be lost, as in Kafka); else ELIGIBLE_LEADERS_NOT_AVAILABLE.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { NO_LEADER, type PartitionRegistration } from './metadata/image.js';
import type { PartitionChange } from './metadata/store.js';
import { preferredLeaderChange } from './preferred-leader.js';

export const PREFERRED_ELECTION = 0;
export const UNCLEAN_ELECTION = 1;

export type Election = { change: PartitionChange } | { error: number; message: string };

export function electLeader(
  p: PartitionRegistration,
  electionType: number,
  active: ReadonlySet<number>,
  live: ReadonlySet<number>,
): Election {
  if (electionType === PREFERRED_ELECTION) {
    if (p.leader !== NO_LEADER && p.leader === p.replicas[0])
      return { error: ErrorCode.ELECTION_NOT_NEEDED, message: 'Leader election not needed for topic partition.' };
    const change = preferredLeaderChange(p, active);
    if (change) return { change };
    return {
      error: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
      message: `Failed to elect leader for partition: preferred replica ${p.replicas[0]} is not live or not in sync.`,
    };
  }
  if (p.leader !== NO_LEADER && live.has(p.leader))
    return { error: ErrorCode.ELECTION_NOT_NEEDED, message: 'Leader election not needed for topic partition.' };
  const clean = p.replicas.find((id) => p.isr.includes(id) && active.has(id));
  if (clean !== undefined) return { change: { leader: clean, isr: p.isr.filter((id) => active.has(id)) } };
  const any = p.replicas.find((id) => active.has(id));
  if (any !== undefined) return { change: { leader: any, isr: [any] } };
  return {
    error: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
    message: 'Failed to elect leader for partition: no replica is live.',
  };
}
