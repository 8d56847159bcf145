/**
 * Committed offsets and group administration on the GroupCoordinator's state: OffsetCommit, OffsetFetch,
 * OffsetDelete, DeleteGroups, DescribeGroups, ListGroups and the periodic expiry of offsets.
 *
 * Invariants:
 * - In-memory offsets change only after their records were appended to the group log (so an answered
 *   commit is durable); a failed write answers the error and changes nothing.
 * - Commit acceptance follows Kafka's classic rules: a simple consumer (generation < 0, empty member id)
 *   may commit into a group that is Empty (created on demand); otherwise the member must be known
 *   (UNKNOWN_MEMBER_ID), not a fenced static instance (FENCED_INSTANCE_ID), of the current generation
 *   (ILLEGAL_GENERATION), and the group not CompletingRebalance (REBALANCE_IN_PROGRESS).
 * - Offsets of a group expire when it has been Empty for offsets.retention.minutes (for groups that never
 *   used group management, and KIP-848 groups: when each commit is that old); a then-empty Empty group is
 *   deleted (a KIP-848 group with its consumer-group records).
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { decodeConsumerSubscription } from '../../protocol/consumer-protocol.js';
import type { GroupCoordinator } from './coordinator.js';
import { Group, type GroupState } from './group.js';
import type { GroupLogRecord } from './offsets-log.js';
import { groupKey, offsetKey, offsetValue, type OffsetValue } from './records.js';
import { coordinatorErrorFor } from '../internal-topic.js';

export const MAX_METADATA_BYTES = 4096;

export interface CommitPartition {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

export interface CommitParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  partitions: CommitPartition[];
  /**
   * OffsetCommit request version (unset: below 9): v9+ answers GROUP_ID_NOT_FOUND for a member commit to an
   * unknown group.
   */
  apiVersion?: number;
}

/** Number of partitions of a topic, or undefined if it does not exist. */
export type PartitionsOf = (topic: string) => number | undefined;

/** Returns one error code per input partition, in order. */
export async function commitOffsets(
  c: GroupCoordinator,
  p: CommitParams,
  partitionsOf: PartitionsOf,
): Promise<number[]> {
  const all = (code: number): number[] => p.partitions.map(() => code);
  if (!p.groupId) return all(ErrorCode.INVALID_GROUP_ID);
  const unavailable = c.status(p.groupId);
  if (unavailable) return all(unavailable);
  let group = c.groups.get(p.groupId);
  const simple = p.generationId < 0 && p.memberId === '' && p.groupInstanceId === null;
  // KIP-848 consumer group: the generation is the member epoch (STALE_MEMBER_EPOCH / UNKNOWN_MEMBER_ID);
  // offsets are kept in a member-less classic holder of the same id.
  const consumerGroup = c.consumer?.groups.get(p.groupId);
  if (consumerGroup) {
    const code = c.consumer!.validateOffsetCommit(p.groupId, p.memberId, p.generationId, { apiVersion: p.apiVersion });
    if (code !== ErrorCode.NONE) return all(code);
    if (!group) {
      group = new Group(p.groupId, c.clock.now());
      c.groups.set(p.groupId, group);
    }
  }
  if (!group) {
    if (p.generationId >= 0)
      return all((p.apiVersion ?? 0) >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
    group = new Group(p.groupId, c.clock.now());
    c.groups.set(p.groupId, group);
  }
  if (group.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  if (!consumerGroup && !(simple && group.is('Empty'))) {
    const instanceHolder = p.groupInstanceId !== null ? group.staticMembers.get(p.groupInstanceId) : undefined;
    if (instanceHolder !== undefined && instanceHolder !== p.memberId) return all(ErrorCode.FENCED_INSTANCE_ID);
    const member = group.members.get(p.memberId);
    if (!member || group.is('Empty')) return all(ErrorCode.UNKNOWN_MEMBER_ID);
    if (p.generationId !== group.generation) return all(ErrorCode.ILLEGAL_GENERATION);
    if (group.is('CompletingRebalance')) return all(ErrorCode.REBALANCE_IN_PROGRESS);
    c.scheduleSession(group, member);
  }
  const now = c.clock.now();
  const n = p.partitions.length;
  const codes = new Array<number>(n);
  const records: GroupLogRecord[] = [];
  // The value stored in memory per accepted partition (undefined: refused), applied once the write is durable.
  const values = new Array<OffsetValue | undefined>(n);
  for (let i = 0; i < n; i++) {
    const part = p.partitions[i]!;
    const metadata = part.metadata ?? '';
    const count = partitionsOf(part.topic);
    if (metadata.length > 0 && Buffer.byteLength(metadata, 'utf8') > MAX_METADATA_BYTES)
      codes[i] = ErrorCode.OFFSET_METADATA_TOO_LARGE;
    else if (count === undefined || part.partition < 0 || part.partition >= count)
      codes[i] = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    else {
      const value: OffsetValue = { offset: part.offset, leaderEpoch: part.leaderEpoch, metadata, commitTimestamp: now };
      records.push({ key: offsetKey(p.groupId, part.topic, part.partition), value: offsetValue(value) });
      values[i] = value;
      codes[i] = ErrorCode.NONE;
    }
  }
  if (records.length === 0) return codes;
  try {
    await c.store.write(p.groupId, records, now);
  } catch (err) {
    c.log?.warn({ group: p.groupId, err: (err as Error).message }, 'writing offset commit failed');
    const mapped = coordinatorErrorFor(err, ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
    return codes.map((code) => (code === ErrorCode.NONE ? mapped : code));
  }
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value !== undefined) group.setOffset(p.partitions[i]!.topic, p.partitions[i]!.partition, value);
  }
  return codes;
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

/**
 * Committed offsets of `topics` (null = every partition with a committed offset). Unknown partitions
 * answer offset -1 with no error. Returns a group-level error code instead when the coordinator is loading.
 */
export function fetchOffsets(
  c: GroupCoordinator,
  groupId: string,
  topics: { name: string; partitions: number[] }[] | null,
  member?: { memberId: string | null; memberEpoch: number },
): { errorCode: number; offsets: FetchedOffset[] } {
  const unavailable = c.status(groupId);
  if (unavailable) return { errorCode: unavailable, offsets: [] };
  // OffsetFetch v9 from a KIP-848 member: UNKNOWN_MEMBER_ID / STALE_MEMBER_EPOCH as Kafka.
  if (member && c.consumer?.groups.has(groupId)) {
    const code = c.consumer.validateOffsetCommit(groupId, member.memberId, member.memberEpoch, { fetch: true });
    if (code !== ErrorCode.NONE) return { errorCode: code, offsets: [] };
  }
  const group = c.groups.get(groupId);
  const out: FetchedOffset[] = [];
  if (topics === null) {
    if (group)
      for (const { topic, partition, value } of group.allOffsets())
        out.push({
          topic,
          partition,
          offset: value.offset,
          leaderEpoch: value.leaderEpoch,
          metadata: value.metadata,
          errorCode: 0,
        });
    return { errorCode: ErrorCode.NONE, offsets: out };
  }
  for (const t of topics) {
    for (const partition of t.partitions) {
      const v = group?.offsets.get(t.name)?.get(partition);
      out.push({
        topic: t.name,
        partition,
        offset: v?.offset ?? -1,
        leaderEpoch: v?.leaderEpoch ?? -1,
        metadata: v?.metadata ?? '',
        errorCode: 0,
      });
    }
  }
  return { errorCode: ErrorCode.NONE, offsets: out };
}

/** Topics a group's members are subscribed to (consumer protocol), for OffsetDelete. */
export function subscribedTopics(group: Group): Set<string> {
  const topics = new Set<string>();
  if (group.protocolType !== 'consumer') return topics;
  for (const m of group.members.values()) {
    try {
      for (const t of decodeConsumerSubscription(group.metadataFor(m, group.protocol)).topics) topics.add(t);
    } catch {
      // Unparseable subscription (truncated, negative version): treat as subscribed to nothing.
    }
  }
  return topics;
}

export async function deleteOffsets(
  c: GroupCoordinator,
  groupId: string,
  partitions: { topic: string; partition: number }[],
): Promise<{ errorCode: number; codes: number[] }> {
  const none = { codes: [] as number[] };
  if (!groupId) return { errorCode: ErrorCode.INVALID_GROUP_ID, ...none };
  const unavailable = c.status(groupId);
  if (unavailable) return { errorCode: unavailable, ...none };
  const group = c.groups.get(groupId);
  if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, ...none };
  if (!group.is('Empty') && group.protocolType !== 'consumer') return { errorCode: ErrorCode.NON_EMPTY_GROUP, ...none };
  const subscribed = group.is('Empty') ? new Set<string>() : subscribedTopics(group);
  // A KIP-848 group's offsets (kept in an Empty holder): topics its members subscribe to are refused.
  for (const m of c.consumer?.groups.get(groupId)?.members.values() ?? []) {
    for (const t of m.subscribedTopicNames) subscribed.add(t);
    if (m.subscribedTopicRegex !== null) {
      const re = new RegExp(`^(?:${m.subscribedTopicRegex})$`);
      for (const p of partitions) if (re.test(p.topic)) subscribed.add(p.topic);
    }
  }
  const codes = partitions.map((p) => (subscribed.has(p.topic) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE));
  const doomed = partitions.filter(
    (p, i) => codes[i] === ErrorCode.NONE && group.offsets.get(p.topic)?.has(p.partition),
  );
  if (doomed.length > 0) {
    try {
      await c.store.write(
        groupId,
        doomed.map((p) => ({ key: offsetKey(groupId, p.topic, p.partition), value: null })),
        c.clock.now(),
      );
    } catch (err) {
      c.log?.warn({ group: groupId, err: (err as Error).message }, 'writing offset deletion failed');
      return { errorCode: coordinatorErrorFor(err), codes: [] };
    }
    for (const p of doomed) group.deleteOffset(p.topic, p.partition);
  }
  return { errorCode: ErrorCode.NONE, codes };
}

/** Tombstones for every offset and the metadata of a group. */
function groupTombstones(group: Group): GroupLogRecord[] {
  const records: GroupLogRecord[] = [];
  for (const { topic, partition } of group.allOffsets())
    records.push({ key: offsetKey(group.groupId, topic, partition), value: null });
  records.push({ key: groupKey(group.groupId), value: null });
  return records;
}

/** DeleteGroups of a KIP-848 group: NON_EMPTY_GROUP with members; else tombstones for its offsets and records. */
async function deleteConsumerGroup(c: GroupCoordinator, groupId: string): Promise<number> {
  const code = c.consumer!.deleteGroup(groupId);
  if (code !== ErrorCode.NONE) return code;
  const holder = c.groups.get(groupId);
  try {
    const offsets = holder
      ? [...holder.allOffsets()].map(({ topic, partition }) => ({
          key: offsetKey(groupId, topic, partition),
          value: null,
        }))
      : [];
    await c.store.write(groupId, offsets, c.clock.now());
    await c.consumer!.flush(groupId);
  } catch (err) {
    c.log?.warn({ group: groupId, err: (err as Error).message }, 'writing group deletion failed');
    return coordinatorErrorFor(err);
  }
  if (holder && holder.members.size === 0) c.groups.delete(groupId);
  return ErrorCode.NONE;
}

export async function deleteGroups(
  c: GroupCoordinator,
  groupIds: string[],
): Promise<{ groupId: string; errorCode: number }[]> {
  const out: { groupId: string; errorCode: number }[] = [];
  for (const groupId of groupIds) {
    if (!groupId) out.push({ groupId, errorCode: ErrorCode.INVALID_GROUP_ID });
    else if (c.status(groupId)) out.push({ groupId, errorCode: c.status(groupId) });
    else if (c.consumer?.groups.has(groupId)) out.push({ groupId, errorCode: await deleteConsumerGroup(c, groupId) });
    else {
      const group = c.groups.get(groupId);
      if (!group || group.is('Dead')) out.push({ groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND });
      else if (!group.is('Empty')) out.push({ groupId, errorCode: ErrorCode.NON_EMPTY_GROUP });
      else {
        try {
          await c.store.write(groupId, groupTombstones(group), c.clock.now());
          group.transition('Dead', c.clock.now());
          c.groups.delete(groupId);
          out.push({ groupId, errorCode: ErrorCode.NONE });
        } catch (err) {
          c.log?.warn({ group: groupId, err: (err as Error).message }, 'writing group deletion failed');
          out.push({ groupId, errorCode: coordinatorErrorFor(err) });
        }
      }
    }
  }
  return out;
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[];
  /** Why the group is not described here: absent, or a KIP-848 consumer group (DescribeGroups v6 reports it). */
  notFound?: string;
}

/** DescribeGroups for one group: unknown groups are reported Dead (no error), as Kafka's classic coordinator does. */
export function describeGroup(c: GroupCoordinator, groupId: string): GroupDescription {
  const base = { groupId, state: 'Dead', protocolType: '', protocol: '', members: [] };
  const unavailable = c.status(groupId);
  if (unavailable) return { ...base, errorCode: unavailable };
  const group = c.groups.get(groupId);
  // A KIP-848 consumer group is not a classic group: Dead here, as Kafka (ConsumerGroupDescribe describes it).
  if (!group || group.is('Dead'))
    return { ...base, errorCode: ErrorCode.NONE, notFound: `Group ${groupId} not found.` };
  if (c.consumer?.groups.has(groupId))
    return { ...base, errorCode: ErrorCode.NONE, notFound: `Group ${groupId} is not a classic group.` };
  const stable = group.is('Stable');
  return {
    errorCode: ErrorCode.NONE,
    groupId,
    state: group.state,
    protocolType: group.protocolType ?? '',
    protocol: stable ? (group.protocol ?? '') : '',
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      metadata: stable ? group.metadataFor(m, group.protocol) : Buffer.alloc(0),
      assignment: stable ? m.assignment : Buffer.alloc(0),
    })),
  };
}

/**
 * ListGroups: the groups coordinated here (COORDINATOR_LOAD_IN_PROGRESS while a partition loads, as Kafka);
 * states filter (v4, case-insensitive) and types filter (v5: "classic", or "consumer" for KIP-848 groups).
 */
export function listGroups(
  c: GroupCoordinator,
  states: string[],
  types: string[],
): { errorCode: number; groups: { groupId: string; protocolType: string; state: GroupState; type: string }[] } {
  if (c.loading || c.ownership?.anyLoading) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
  const owned = (groupId: string): boolean => c.ownership?.owns(groupId) ?? true;
  const wantStates = new Set(states.map((s) => s.toLowerCase()));
  const wantTypes = new Set(types.map((s) => s.toLowerCase()));
  const groups = [];
  for (const g of c.groups.values()) {
    if (g.is('Dead') || c.consumer?.groups.has(g.groupId) || !owned(g.groupId)) continue;
    if (wantStates.size > 0 && !wantStates.has(g.state.toLowerCase())) continue;
    if (wantTypes.size > 0 && !wantTypes.has('classic')) continue;
    groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state, type: 'classic' });
  }
  for (const g of c.consumer?.groups.values() ?? []) {
    if (!owned(g.groupId)) continue;
    const state = g.state;
    if (wantStates.size > 0 && !wantStates.has(state.toLowerCase())) continue;
    if (wantTypes.size > 0 && !wantTypes.has('consumer')) continue;
    groups.push({ groupId: g.groupId, protocolType: 'consumer', state: state as GroupState, type: 'consumer' });
  }
  return { errorCode: ErrorCode.NONE, groups };
}

/** Delete expired offsets (and groups left with nothing); returns how many offsets were removed. */
export async function expireOffsets(c: GroupCoordinator, now = c.clock.now()): Promise<number> {
  if (c.loading || c.isStopped) return 0;
  const retention = c.config.offsetsRetentionMs;
  let removed = 0;
  for (const group of [...c.groups.values()]) {
    if (!group.is('Empty') || (c.consumer?.groups.get(group.groupId)?.members.size ?? 0) > 0) continue;
    const usesGroupManagement = group.protocolType !== null && group.protocolType !== '';
    const expired = [...group.allOffsets()].filter(({ value }) =>
      usesGroupManagement ? group.currentStateTimestamp + retention <= now : value.commitTimestamp + retention <= now,
    );
    const total = [...group.allOffsets()].length;
    const records: GroupLogRecord[] = expired.map(({ topic, partition }) => ({
      key: offsetKey(group.groupId, topic, partition),
      value: null,
    }));
    const deleteWhole = expired.length > 0 && expired.length === total;
    if (deleteWhole) records.push({ key: groupKey(group.groupId), value: null });
    if (records.length === 0) continue;
    try {
      await c.store.write(group.groupId, records, now);
    } catch (err) {
      c.log?.warn({ group: group.groupId, err: (err as Error).message }, 'writing offset expiry failed');
      continue;
    }
    for (const e of expired) group.deleteOffset(e.topic, e.partition);
    removed += expired.length;
    if (deleteWhole && group.is('Empty') && !group.hasOffsets) {
      group.transition('Dead', now);
      c.groups.delete(group.groupId);
    }
  }
  // Empty KIP-848 groups left without committed offsets are deleted with tombstones, as Kafka's cleanup.
  for (const g of [...(c.consumer?.groups.values() ?? [])]) {
    if (g.members.size > 0 || c.groups.get(g.groupId)?.hasOffsets) continue;
    c.consumer!.deleteGroup(g.groupId);
    c.groups.delete(g.groupId);
    await c.consumer!.flush(g.groupId).catch(() => undefined);
  }
  if (removed > 0) c.log?.info({ removed }, 'expired committed offsets');
  return removed;
}

/**
 * A deleted topic's committed offsets go from every group, with tombstones, as Kafka's onPartitionsDeleted:
 * an Empty group left without offsets is deleted too (group tombstone). Failures are logged (the topic is
 * gone either way; the next start still holds the offsets, as Kafka would until its next cleanup).
 */
export async function deleteTopicOffsets(c: GroupCoordinator, topic: string): Promise<number> {
  if (c.isStopped) return 0;
  let removed = 0;
  for (const group of [...c.groups.values()]) {
    const parts = group.offsets.get(topic);
    if (!parts || parts.size === 0) continue;
    const records: GroupLogRecord[] = [...parts.keys()].map((p) => ({
      key: offsetKey(group.groupId, topic, p),
      value: null,
    }));
    const emptied = group.is('Empty') && group.members.size === 0 && group.offsets.size === 1;
    const holderOnly = c.consumer?.groups.has(group.groupId) ?? false;
    if (emptied && !holderOnly && group.protocolType !== null)
      records.push({ key: groupKey(group.groupId), value: null });
    try {
      await c.store.write(group.groupId, records, c.clock.now());
    } catch (err) {
      c.log?.warn(
        { group: group.groupId, topic, err: (err as Error).message },
        'writing offset tombstones for a deleted topic failed',
      );
      continue;
    }
    removed += parts.size;
    group.offsets.delete(topic);
    if (emptied && !group.hasOffsets && group.is('Empty')) {
      group.transition('Dead', c.clock.now());
      c.groups.delete(group.groupId);
    }
  }
  if (removed > 0) c.log?.info({ topic, removed }, 'removed committed offsets of a deleted topic');
  return removed;
}
