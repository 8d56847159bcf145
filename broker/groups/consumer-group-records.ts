/**
 * Durability of KIP-848 consumer groups: their state as records in `__consumer_offsets`, with Kafka's
 * record schemas (keys non-flexible, `version int16` = the record type, then the key strings; values
 * flexible version 0: compact strings/arrays, UUIDs as 16 bytes, tagged fields at the end):
 *
 *   3 ConsumerGroupMetadata           key: group                value: Epoch int32; tag 0 MetadataHash int64
 *   4 ConsumerGroupPartitionMetadata  key: group                (Kafka 4.1+ no longer writes it: the hash
 *                                                               above replaced it; replay accepts and ignores it)
 *   5 ConsumerGroupMemberMetadata     key: group, member id     value: InstanceId?, RackId?, ClientId, ClientHost,
 *                                                               SubscribedTopicNames [], SubscribedTopicRegex?,
 *                                                               RebalanceTimeoutMs int32, ServerAssignor?
 *   6 ConsumerGroupTargetAssignmentMetadata key: group          value: AssignmentEpoch int32
 *   7 ConsumerGroupTargetAssignmentMember   key: group, member  value: TopicPartitions
 *                                                                  [TopicId uuid, Partitions []int32]
 *   8 ConsumerGroupCurrentMemberAssignment  key: group, member  value: MemberEpoch int32, PreviousMemberEpoch int32,
 *                                                               State int8 (0 STABLE, 1 UNREVOKED, 2 UNRELEASED),
 *                                                               AssignedPartitions [], PartitionsPendingRevocation []
 *
 * A null value is a tombstone. A static member that left temporarily (epoch -2) is stored, as Kafka
 * does, with MemberEpoch -2 (its epoch then in PreviousMemberEpoch).
 *
 * ConsumerGroupStore writes a group's changes after each state change: it keeps the last written value
 * of every record of every group and appends only the records whose value changed, plus tombstones for
 * records that no longer exist (a member gone: its three member records; the group deleted: all of them,
 * metadata last). Writes are chained so they reach the log in the order the changes happened; after a
 * failed write the group's records are all written again with the next change. Replay (applyRecord, in
 * log order, later records win) rebuilds the groups; finishLoading restarts members' session and
 * revocation timers, so members continue with their ids and epochs after a restart.
 */
import { Reader } from '../../protocol/wire/reader.js';
import { Writer } from '../../protocol/wire/writer.js';
import type { Clock } from '../../storage/clock.js';
import type { Logger } from '../logger.js';
import type { Assignment } from './assignors.js';
import { assignmentList, type ConsumerGroupManager } from './consumer-group.js';
import { ConsumerGroup, newMember, type ConsumerMember, type MemberState } from './consumer-group-state.js';
import type { GroupLog, GroupLogRecord } from './offsets-log.js';

export const CG_METADATA = 3;
export const CG_PARTITION_METADATA = 4;
export const CG_MEMBER = 5;
export const CG_TARGET_METADATA = 6;
export const CG_TARGET_MEMBER = 7;
export const CG_CURRENT_ASSIGNMENT = 8;

const STATES: MemberState[] = ['STABLE', 'UNREVOKED_PARTITIONS', 'UNRELEASED_PARTITIONS'];

export interface CgKey {
  type: number;
  groupId: string;
  memberId: string | null;
}

export function cgKey(type: number, groupId: string, memberId: string | null = null): Buffer {
  const w = new Writer(64);
  w.writeInt16(type);
  w.writeString(groupId);
  if (memberId !== null) w.writeString(memberId);
  return w.toBuffer();
}

/** A consumer-group key, or undefined for other record types. */
export function decodeCgKey(buf: Buffer): CgKey | undefined {
  if (buf.length < 2) return undefined;
  const r = new Reader(buf);
  const type = r.readInt16();
  if (type < CG_METADATA || type > CG_CURRENT_ASSIGNMENT) return undefined;
  const groupId = r.readStringNotNull();
  const withMember = type === CG_MEMBER || type === CG_TARGET_MEMBER || type === CG_CURRENT_ASSIGNMENT;
  return { type, groupId, memberId: withMember ? r.readStringNotNull() : null };
}

function value(body: (w: Writer) => void, tags: [number, Buffer][] = []): Buffer {
  const w = new Writer(128);
  w.writeInt16(0);
  body(w);
  w.writeUVarint(tags.length);
  for (const [tag, data] of tags) {
    w.writeUVarint(tag);
    w.writeUVarint(data.length);
    w.writeRaw(data);
  }
  return w.toBuffer();
}

function writePartitions(w: Writer, a: Assignment): void {
  const list = assignmentList(a);
  w.writeCompactArrayLength(list.length);
  for (const t of list) {
    w.writeUuid(t.topicId);
    w.writeCompactArrayLength(t.partitions.length);
    for (const p of t.partitions) w.writeInt32(p);
    w.writeUVarint(0);
  }
}

function readPartitions(r: Reader): Assignment {
  const a: Assignment = new Map();
  const n = r.readCompactArrayLength();
  for (let i = 0; i < n; i++) {
    const topicId = r.readUuid();
    const m = r.readCompactArrayLength();
    const s = new Set<number>();
    for (let j = 0; j < m; j++) s.add(r.readInt32());
    r.skipTaggedFields();
    if (s.size > 0) a.set(topicId, s);
  }
  return a;
}

export function metadataValue(epoch: number, metadataHash: bigint): Buffer {
  const hash = Buffer.alloc(8);
  hash.writeBigInt64BE(metadataHash);
  return value((w) => w.writeInt32(epoch), metadataHash !== 0n ? [[0, hash]] : []);
}

export function decodeMetadataValue(buf: Buffer): { epoch: number; metadataHash: bigint } {
  const r = new Reader(buf);
  r.readInt16();
  const epoch = r.readInt32();
  let metadataHash = 0n;
  if (r.remaining() > 0) {
    const n = r.readUVarint();
    for (let i = 0; i < n; i++) {
      const tag = r.readUVarint();
      const end = r.taggedFieldEnd();
      if (tag === 0 && end - r.pos === 8) metadataHash = r.readInt64();
      else r.skip(end - r.pos);
    }
  }
  return { epoch, metadataHash };
}

export function memberValue(m: ConsumerMember): Buffer {
  return value((w) => {
    w.writeCompactString(m.instanceId);
    w.writeCompactString(m.rackId);
    w.writeCompactString(m.clientId);
    w.writeCompactString(m.clientHost);
    w.writeCompactArrayLength(m.subscribedTopicNames.length);
    for (const t of m.subscribedTopicNames) w.writeCompactString(t);
    w.writeCompactString(m.subscribedTopicRegex);
    w.writeInt32(m.rebalanceTimeoutMs);
    w.writeCompactString(m.serverAssignor);
  });
}

export function targetMetadataValue(assignmentEpoch: number): Buffer {
  return value((w) => w.writeInt32(assignmentEpoch));
}

export function targetMemberValue(a: Assignment): Buffer {
  return value((w) => writePartitions(w, a));
}

export function currentAssignmentValue(m: ConsumerMember): Buffer {
  return value((w) => {
    w.writeInt32(m.leftTemporarily ? -2 : m.memberEpoch);
    w.writeInt32(m.leftTemporarily ? m.memberEpoch : m.previousMemberEpoch);
    w.writeInt8(STATES.indexOf(m.state));
    writePartitions(w, m.assigned);
    writePartitions(w, m.pendingRevocation);
  });
}

/** Every record of a group's current state, by hex key. */
export function groupRecords(g: ConsumerGroup): Map<string, GroupLogRecord> {
  const out = new Map<string, GroupLogRecord>();
  const put = (key: Buffer, v: Buffer): void => void out.set(key.toString('hex'), { key, value: v });
  put(cgKey(CG_METADATA, g.groupId), metadataValue(g.groupEpoch, metadataHashOf(g.metadataFingerprint)));
  for (const m of g.members.values()) put(cgKey(CG_MEMBER, g.groupId, m.memberId), memberValue(m));
  put(cgKey(CG_TARGET_METADATA, g.groupId), targetMetadataValue(g.assignmentEpoch));
  for (const [id, a] of g.targetAssignment) put(cgKey(CG_TARGET_MEMBER, g.groupId, id), targetMemberValue(a));
  for (const m of g.members.values())
    put(cgKey(CG_CURRENT_ASSIGNMENT, g.groupId, m.memberId), currentAssignmentValue(m));
  return out;
}

/** The group's metadata fingerprint (the decimal text of a signed int64 hash) as Kafka's MetadataHash (0 = none). */
export function metadataHashOf(fingerprint: string): bigint {
  return /^-?\d+$/.test(fingerprint) ? BigInt(fingerprint) : 0n;
}

/** Decode a consumer-group record value into the change it makes to its group. */
function decodeValue(k: CgKey, v: Buffer): (g: ConsumerGroup) => void {
  const member = (g: ConsumerGroup): ConsumerMember => {
    let m = g.members.get(k.memberId!);
    if (!m) {
      m = newMember(k.memberId!);
      g.members.set(k.memberId!, m);
    }
    return m;
  };
  const r = new Reader(v);
  r.readInt16();
  switch (k.type) {
    case CG_METADATA: {
      const d = decodeMetadataValue(v);
      return (g) => {
        g.groupEpoch = d.epoch;
        g.metadataFingerprint = d.metadataHash === 0n ? '' : d.metadataHash.toString();
      };
    }
    case CG_MEMBER: {
      const instanceId = r.readCompactString();
      const rackId = r.readCompactString();
      const clientId = r.readCompactStringNotNull();
      const clientHost = r.readCompactStringNotNull();
      const n = r.readCompactArrayLength();
      const subscribedTopicNames: string[] = [];
      for (let i = 0; i < n; i++) subscribedTopicNames.push(r.readCompactStringNotNull());
      const subscribedTopicRegex = r.readCompactString();
      const rebalanceTimeoutMs = r.readInt32();
      const serverAssignor = r.readCompactString();
      return (g) =>
        void Object.assign(member(g), {
          instanceId,
          rackId,
          clientId,
          clientHost,
          subscribedTopicNames,
          subscribedTopicRegex,
          rebalanceTimeoutMs,
          serverAssignor,
        });
    }
    case CG_TARGET_METADATA: {
      const epoch = r.readInt32();
      return (g) => {
        g.assignmentEpoch = epoch;
      };
    }
    case CG_TARGET_MEMBER: {
      const a = readPartitions(r);
      return (g) => void g.targetAssignment.set(k.memberId!, a);
    }
    default: {
      // CG_CURRENT_ASSIGNMENT
      const epoch = r.readInt32();
      const previous = r.readInt32();
      const state = STATES[r.readInt8()] ?? 'STABLE';
      const assigned = readPartitions(r);
      const pendingRevocation = readPartitions(r);
      return (g) =>
        void Object.assign(member(g), {
          leftTemporarily: epoch === -2,
          memberEpoch: epoch === -2 ? previous : epoch,
          previousMemberEpoch: previous,
          state,
          assigned,
          pendingRevocation,
        });
    }
  }
}

export class ConsumerGroupStore {
  /** groupId → hex key → last value written (an empty Buffer: must be written again). */
  private readonly written = new Map<string, Map<string, Buffer>>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly manager: ConsumerGroupManager,
    private readonly log: GroupLog,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  /** Write what changed in `groupId` since the last write (nothing when unchanged). */
  flush(groupId: string): Promise<void> {
    const g = this.manager.groups.get(groupId);
    const now = g ? groupRecords(g) : new Map<string, GroupLogRecord>();
    const before = this.written.get(groupId) ?? new Map<string, Buffer>();
    const records: GroupLogRecord[] = [];
    const tombstones: GroupLogRecord[] = [];
    for (const [hex, r] of now) {
      const prev = before.get(hex);
      if (!prev || prev.length === 0 || !prev.equals(r.value!)) records.push(r);
    }
    for (const hex of before.keys()) if (!now.has(hex)) tombstones.push({ key: Buffer.from(hex, 'hex'), value: null });
    // Tombstones of a deleted group: member records first, the group metadata record last.
    tombstones.sort((a, b) => b.key.readInt16BE(0) - a.key.readInt16BE(0));
    const all = [...records, ...tombstones];
    if (all.length === 0) return this.chain;
    if (g) this.written.set(groupId, new Map([...now].map(([hex, r]) => [hex, r.value!])));
    else this.written.delete(groupId);
    const write = this.chain.then(() => this.log.write(groupId, all, this.clock.now()));
    this.chain = write.catch((err: unknown) => {
      this.logger?.warn({ group: groupId, err: (err as Error).message }, 'writing consumer group records failed');
      // Everything of the group is written again with its next change (tombstones included).
      const marks = new Map<string, Buffer>();
      for (const hex of [...now.keys(), ...before.keys()]) marks.set(hex, Buffer.alloc(0));
      this.written.set(groupId, marks);
    });
    return write;
  }

  /** Apply one replayed record (a consumer-group key; later records win, null = tombstone). */
  applyRecord(k: CgKey, key: Buffer, v: Buffer | null): void {
    const groups = this.manager.groups;
    // Decode first: an unreadable value throws before anything changes.
    const patch = v === null || k.type === CG_PARTITION_METADATA ? undefined : decodeValue(k, v);
    let written = this.written.get(k.groupId);
    if (!written) {
      written = new Map();
      this.written.set(k.groupId, written);
    }
    const hex = key.toString('hex');
    if (v === null) written.delete(hex);
    else if (patch) written.set(hex, v);
    let g = groups.get(k.groupId);
    if (v === null) {
      if (!g) return;
      if (k.type === CG_METADATA) {
        groups.delete(k.groupId);
        this.written.delete(k.groupId);
      } else if (k.type === CG_MEMBER || k.type === CG_CURRENT_ASSIGNMENT) g.members.delete(k.memberId!);
      else if (k.type === CG_TARGET_MEMBER) g.targetAssignment.delete(k.memberId!);
      return;
    }
    if (!patch) return;
    if (!g) {
      g = new ConsumerGroup(k.groupId, this.manager.config.assignors[0] ?? 'uniform');
      groups.set(k.groupId, g);
    }
    patch(g);
  }

  /** After replay: restart timers of the groups `which` selects (members heartbeat within a fresh session). */
  finishLoading(which: (groupId: string) => boolean = () => true): void {
    for (const g of this.manager.groups.values()) if (which(g.groupId)) this.manager.restartTimers(g);
  }

  /** The group was unloaded: what was written of it is re-read on its next load. */
  forget(groupId: string): void {
    this.written.delete(groupId);
  }
}
