/**
 * The "consumer" embedded protocol of classic groups (Kafka's ConsumerProtocol): member metadata
 * (ConsumerProtocolSubscription) and assignments (ConsumerProtocolAssignment), each an int16 version followed
 * by the struct at that version; written at the highest version (3), read at min(written, 3) so newer members
 * still parse. And the two client-side assignors Java ships as "range" (RangeAssignor) and "roundrobin"
 * (RoundRobinAssignor), which the group leader runs.
 */
import {
  decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment, type ConsumerProtocolAssignment,
} from '../protocol/generated/consumer-protocol-assignment.js';
import {
  decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription, type ConsumerProtocolSubscription,
} from '../protocol/generated/consumer-protocol-subscription.js';
import { Reader } from '../protocol/wire/reader.js';
import { Writer } from '../protocol/wire/writer.js';

const SUBSCRIPTION_VERSION = 3;
const ASSIGNMENT_VERSION = 3;

function framed(version: number, f: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.writeInt16(version);
  f(w);
  return Buffer.concat(w.chunks());
}

export function encodeSubscription(s: ConsumerProtocolSubscription): Buffer {
  return framed(SUBSCRIPTION_VERSION, (w) => encodeConsumerProtocolSubscription(w, SUBSCRIPTION_VERSION, s));
}

export function decodeSubscription(b: Buffer): ConsumerProtocolSubscription {
  const r = new Reader(b);
  const v = r.readInt16();
  return decodeConsumerProtocolSubscription(r, Math.min(Math.max(v, 0), SUBSCRIPTION_VERSION));
}

export function encodeAssignment(a: ConsumerProtocolAssignment): Buffer {
  return framed(ASSIGNMENT_VERSION, (w) => encodeConsumerProtocolAssignment(w, ASSIGNMENT_VERSION, a));
}

export function decodeAssignment(b: Buffer): ConsumerProtocolAssignment {
  if (b.length === 0) return { assignedPartitions: [], userData: null };
  const r = new Reader(b);
  const v = r.readInt16();
  return decodeConsumerProtocolAssignment(r, Math.min(Math.max(v, 0), ASSIGNMENT_VERSION));
}

export interface AssignorMember { memberId: string; groupInstanceId: string | null; topics: string[] }
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

/** RangeAssignor: per topic, consecutive ranges of partitions to the sorted subscribers; the first ones get one extra. */
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

/** RoundRobinAssignor: every partition of every subscribed topic (sorted) dealt in turn to the sorted members subscribed to it. */
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
