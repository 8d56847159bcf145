/**
 * Group state ↔ `__consumer_offsets` records (formats in records.ts): the group-metadata value written
 * after a generation's assignment is stored (and when a group becomes Empty), and replay of every record
 * type into the coordinator's group map. Replay invariants: records are applied in log order, later ones
 * win; an offset tombstone removes one offset; a group tombstone removes the members and, when no
 * offsets remain, the group; a loaded group with members is Stable (its members must heartbeat within
 * their session timeout once loading finishes), without members Empty.
 */
import { Group, type Member } from './group.js';
import { decodeGroupValue, decodeKey, decodeOffsetValue, groupValue } from './records.js';

/** The group's metadata record value (with `assignments` in place of the current ones, if given). */
export function groupRecordValue(group: Group, assignments?: Map<string, Buffer>): Buffer {
  return groupValue({
    protocolType: group.protocolType ?? '',
    generation: group.generation,
    protocol: group.protocol,
    leader: group.leader,
    currentStateTimestamp: group.currentStateTimestamp,
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      sessionTimeoutMs: m.sessionTimeoutMs,
      subscription: group.metadataFor(m, group.protocol),
      assignment: assignments?.get(m.memberId) ?? m.assignment,
    })),
  });
}

/** Apply one replayed record to `groups`. */
export function applyGroupRecord(groups: Map<string, Group>, key: Buffer, value: Buffer | null, now: number): void {
  const k = decodeKey(key);
  if (!k) return;
  let group = groups.get(k.group);
  if (k.kind === 'offset') {
    if (value === null) {
      group?.deleteOffset(k.topic, k.partition);
      // A group that only held offsets (simple consumers, KIP-848 groups' offsets) goes with its last one.
      if (
        group &&
        !group.hasOffsets &&
        group.members.size === 0 &&
        group.protocolType === null &&
        group.generation === 0
      )
        groups.delete(k.group);
      return;
    }
    if (!group) {
      group = new Group(k.group, now);
      groups.set(k.group, group);
    }
    group.setOffset(k.topic, k.partition, decodeOffsetValue(value));
    return;
  }
  if (value === null) {
    if (group) {
      group.members.clear();
      group.staticMembers.clear();
      if (!group.hasOffsets) groups.delete(k.group);
      else group.generation = 0;
    }
    return;
  }
  const v = decodeGroupValue(value);
  if (!group) {
    group = new Group(k.group, now);
    groups.set(k.group, group);
  }
  group.members.clear();
  group.staticMembers.clear();
  group.generation = v.generation;
  group.protocolType = v.protocolType || null;
  group.protocol = v.protocol;
  group.leader = v.leader;
  group.currentStateTimestamp = v.currentStateTimestamp >= 0 ? v.currentStateTimestamp : now;
  for (const s of v.members) {
    const m: Member = {
      memberId: s.memberId,
      groupInstanceId: s.groupInstanceId,
      clientId: s.clientId,
      clientHost: s.clientHost,
      sessionTimeoutMs: s.sessionTimeoutMs,
      rebalanceTimeoutMs: s.rebalanceTimeoutMs,
      protocolType: v.protocolType,
      protocols: [{ name: v.protocol ?? '', metadata: s.subscription }],
      assignment: s.assignment,
      isNew: false,
    };
    group.members.set(s.memberId, m);
    if (s.groupInstanceId !== null) group.staticMembers.set(s.groupInstanceId, s.memberId);
  }
  group.state = group.members.size > 0 ? 'Stable' : 'Empty';
}
