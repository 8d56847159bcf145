/**
 * Server-side partition assignors of KIP-848 consumer groups ("uniform" and "range"). An assignor maps the
 * group's members (with their subscribed topic ids) and the subscribed topics' partition counts to a
 * target assignment. Both are deterministic (members ordered by id) so every run over the same input
 * gives the same answer.
 *
 * - uniform: spreads all subscribed partitions evenly (counts differ by at most one when subscriptions are
 *   the same), sticky: a member keeps as many of its current target partitions as its quota allows.
 * - range: per topic, the members subscribed to it (ordered by member id) receive consecutive ranges of
 *   partitions, the first `partitions % members` one extra — co-partitioned topics line up.
 */

/** topicId → partitions. */
export type Assignment = Map<string, Set<number>>;

export interface AssignorMember {
  memberId: string;
  /** Subscribed topic ids (topics that exist). */
  topics: Set<string>;
  /** The member's current target assignment (stickiness). */
  current: Assignment;
}

export interface Assignor {
  readonly name: string;
  assign(members: AssignorMember[], partitionsByTopic: Map<string, number>): Map<string, Assignment>;
}

function add(a: Assignment, topicId: string, p: number): void {
  let s = a.get(topicId);
  if (!s) {
    s = new Set();
    a.set(topicId, s);
  }
  s.add(p);
}

export function countPartitions(a: Assignment): number {
  let n = 0;
  for (const s of a.values()) n += s.size;
  return n;
}

function emptyResult(members: AssignorMember[]): Map<string, Assignment> {
  return new Map(members.map((m) => [m.memberId, new Map()]));
}

export const uniformAssignor: Assignor = {
  name: 'uniform',
  assign(members, partitionsByTopic) {
    const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const out = emptyResult(sorted);
    const all: [string, number][] = [];
    for (const [t, n] of [...partitionsByTopic].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (!sorted.some((m) => m.topics.has(t))) continue;
      for (let p = 0; p < n; p++) all.push([t, p]);
    }
    if (sorted.length === 0) return out;
    const floor = Math.floor(all.length / sorted.length);
    let extra = all.length % sorted.length;
    const taken = new Set<string>();
    const count = new Map(sorted.map((m) => [m.memberId, 0]));
    const keep = (m: AssignorMember, cap: number): void => {
      for (const [t, ps] of m.current) {
        if (!m.topics.has(t)) continue;
        const n = partitionsByTopic.get(t) ?? 0;
        for (const p of [...ps].sort((a, b) => a - b)) {
          if (count.get(m.memberId)! >= cap) return;
          const k = `${t}:${p}`;
          if (p >= n || taken.has(k)) continue;
          taken.add(k);
          add(out.get(m.memberId)!, t, p);
          count.set(m.memberId, count.get(m.memberId)! + 1);
        }
      }
    };
    // Sticky: everyone keeps up to `floor` of its current partitions, then up to one more while the
    // remainder lasts; what is left goes to the least-loaded subscribed member.
    for (const m of sorted) keep(m, floor);
    for (const m of sorted) {
      if (extra === 0) break;
      const before = count.get(m.memberId)!;
      keep(m, floor + 1);
      if (count.get(m.memberId)! > before) extra--;
    }
    for (const [t, p] of all) {
      const k = `${t}:${p}`;
      if (taken.has(k)) continue;
      let best: AssignorMember | undefined;
      for (const m of sorted) {
        if (!m.topics.has(t)) continue;
        if (!best || count.get(m.memberId)! < count.get(best.memberId)!) best = m;
      }
      if (!best) continue;
      taken.add(k);
      add(out.get(best.memberId)!, t, p);
      count.set(best.memberId, count.get(best.memberId)! + 1);
    }
    return out;
  },
};

export const rangeAssignor: Assignor = {
  name: 'range',
  assign(members, partitionsByTopic) {
    const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const out = emptyResult(sorted);
    for (const [t, n] of partitionsByTopic) {
      const subs = sorted.filter((m) => m.topics.has(t));
      if (subs.length === 0) continue;
      const base = Math.floor(n / subs.length);
      const extra = n % subs.length;
      let next = 0;
      subs.forEach((m, i) => {
        const size = base + (i < extra ? 1 : 0);
        for (let p = next; p < next + size; p++) add(out.get(m.memberId)!, t, p);
        next += size;
      });
    }
    return out;
  },
};

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([
  [uniformAssignor.name, uniformAssignor],
  [rangeAssignor.name, rangeAssignor],
]);

// ---------------------------------------------------------------------------------- assignment helpers

export function toAssignment(list: { topicId: string; partitions: number[] }[]): Assignment {
  const a: Assignment = new Map();
  for (const t of list) {
    if (t.partitions.length === 0) continue;
    const s = a.get(t.topicId) ?? new Set<number>();
    for (const p of t.partitions) s.add(p);
    a.set(t.topicId, s);
  }
  return a;
}

export function assignmentList(a: Assignment): { topicId: string; partitions: number[] }[] {
  return [...a]
    .filter(([, s]) => s.size > 0)
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([topicId, s]) => ({ topicId, partitions: [...s].sort((x, y) => x - y) }));
}

export function has(a: Assignment, t: string, p: number): boolean {
  return a.get(t)?.has(p) ?? false;
}

export function isSubset(a: Assignment, b: Assignment): boolean {
  for (const [t, s] of a) for (const p of s) if (!has(b, t, p)) return false;
  return true;
}

export function sameAssignment(a: Assignment, b: Assignment): boolean {
  return isSubset(a, b) && isSubset(b, a);
}

export function addTo(a: Assignment, t: string, p: number): void {
  let s = a.get(t);
  if (!s) {
    s = new Set();
    a.set(t, s);
  }
  s.add(p);
}
