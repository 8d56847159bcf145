/**
 * The "consumer" embedded protocol of classic groups (Kafka's ConsumerProtocol), client side: member
 * metadata (ConsumerProtocolSubscription) and assignments (ConsumerProtocolAssignment), read and written by
 * protocol/consumer-protocol.ts (written at version 3, read at min(written, 3) so newer members still parse;
 * a negative version or truncated bytes throw). And the two client-side assignors Java ships as "range"
 * (RangeAssignor) and "roundrobin" (RoundRobinAssignor), which the group leader runs.
 */
import { decodeConsumerAssignment, type ConsumerProtocolAssignment } from '../protocol/consumer-protocol.js';

export {
  encodeConsumerSubscription as encodeSubscription,
  decodeConsumerSubscription as decodeSubscription,
  encodeConsumerAssignment as encodeAssignment,
} from '../protocol/consumer-protocol.js';

/** A member's assignment from SyncGroup; empty bytes (a member the leader left out) are an empty assignment. */
export function decodeAssignment(b: Buffer): ConsumerProtocolAssignment {
  if (b.length === 0) return { assignedPartitions: [], userData: null };
  return decodeConsumerAssignment(b);
}

export interface AssignorMember {
  memberId: string;
  groupInstanceId: string | null;
  topics: string[];
}
export type Assignment = Map<string, Map<string, number[]>>; // memberId → topic → partitions
export type Assignor = (members: AssignorMember[], partitionsPerTopic: Map<string, number>) => Assignment;

/** Java's member ordering: by group instance id when both have one, else by member id. */
function compareMembers(a: AssignorMember, b: AssignorMember): number {
  const ka = a.groupInstanceId ?? a.memberId;
  const kb = b.groupInstanceId ?? b.memberId;
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return ka < kb ? -1 : ka > kb ? 1 : 0;
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

function emptyAssignment(members: AssignorMember[]): Assignment {
  return new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]));
}

function add(a: Assignment, member: string, topic: string, p: number): void {
  const t = a.get(member)!;
  const list = t.get(topic);
  if (list) list.push(p);
  else t.set(topic, [p]);
}

/**
 * RangeAssignor: per topic, consecutive ranges of partitions to the sorted subscribers; the first ones get one
 * extra.
 */
export const rangeAssignor: Assignor = (members, partitionsPerTopic) => {
  const out = emptyAssignment(members);
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const n = partitionsPerTopic.get(topic);
    if (n === undefined) continue;
    const subs = members.filter((m) => m.topics.includes(topic)).sort(compareMembers);
    const per = Math.floor(n / subs.length);
    const extra = n % subs.length;
    subs.forEach((m, i) => {
      const start = per * i + Math.min(i, extra);
      const len = per + (i + 1 > extra ? 0 : 1);
      for (let p = start; p < start + len; p++) add(out, m.memberId, topic, p);
    });
  }
  return out;
};

/**
 * RoundRobinAssignor: every partition of every subscribed topic (sorted) dealt in turn to the sorted members
 * subscribed to it.
 */
export const roundRobinAssignor: Assignor = (members, partitionsPerTopic) => {
  const out = emptyAssignment(members);
  const sorted = [...members].sort(compareMembers);
  const topics = [...new Set(members.flatMap((m) => m.topics))].filter((t) => partitionsPerTopic.has(t)).sort();
  let i = 0;
  for (const topic of topics) {
    for (let p = 0; p < partitionsPerTopic.get(topic)!; p++) {
      for (let tries = 0; tries < sorted.length; tries++) {
        const m = sorted[i % sorted.length];
        i++;
        if (m.topics.includes(topic)) {
          add(out, m.memberId, topic, p);
          break;
        }
      }
    }
  }
  return out;
};

export const ASSIGNORS: Record<string, Assignor> = { range: rangeAssignor, roundrobin: roundRobinAssignor };
