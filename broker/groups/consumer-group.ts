/**
 * KIP-848 consumer groups (ConsumerGroupHeartbeat / ConsumerGroupDescribe): the server computes the
 * assignment; members reconcile towards it through heartbeats. One ConsumerGroupManager owns all state of
 * the consumer-type groups of a node; the classic coordinator keeps its own groups (a group id is of one
 * type at a time).
 *
 * Epochs, as in the KIP: the group epoch goes up when membership, a subscription or the subscribed topics'
 * partition counts change; the target assignment is then recomputed (assignment epoch = group epoch). A
 * member's epoch moves to the assignment epoch once it holds no partition the target took from it:
 * - partitions the target removed are sent as revoked (left out of the returned assignment) and the member
 *   stays at its epoch until a heartbeat's owned partitions show them released (UNREVOKED_PARTITIONS);
 *   if it does not within its rebalance timeout it is fenced (removed);
 * - partitions the target adds are given only once no other member still holds them (assigned or pending
 *   revocation); until then the member is at the new epoch with them outstanding (UNRELEASED_PARTITIONS).
 * Heartbeat epochs: 0 joins (v1+: client-chosen member id; v0: generated when empty), -1 leaves, -2 is a
 * static member's temporary leave (it keeps its assignment until its session times out or its instance id
 * rejoins). An epoch above the member's, or below it other than its previous epoch with owned partitions
 * within its assignment, is FENCED_MEMBER_EPOCH; an unknown member id UNKNOWN_MEMBER_ID.
 * Sessions run on the injected Clock (a member silent for the session timeout is removed).
 *
 * The group and member state (ConsumerGroup, ConsumerMember) is in consumer-group-state.ts.
 *
 * Durability: every change is written to __consumer_offsets with Kafka's consumer-group records by the
 * ConsumerGroupStore (consumer-group-records.ts; the heartbeat handler awaits `flush` before answering,
 * timer-driven removals flush on their own) and replayed on start-up, so after a restart members go on
 * with their ids, epochs and assignments (restartTimers gives each a fresh session).
 */
import { createHash, randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { Clock } from '../../storage/clock.js';
import type { Logger } from '../logger.js';
import type { ConsumerGroupStore } from './consumer-group-records.js';
import {
  addTo,
  ASSIGNORS,
  assignmentList,
  has,
  isSubset,
  sameAssignment,
  toAssignment,
  type Assignment,
} from './assignors.js';

import {
  ConsumerGroup,
  newMember,
  type ConsumerGroupConfig,
  type ConsumerMember,
  type HeartbeatParams,
  type HeartbeatResult,
  type TopicResolver,
} from './consumer-group-state.js';

export { assignmentList } from './assignors.js';
export type { ConsumerGroupConfig, HeartbeatParams, HeartbeatResult, TopicResolver } from './consumer-group-state.js';

function err(errorCode: number, errorMessage: string | null = null): HeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

export class ConsumerGroupManager {
  readonly groups = new Map<string, ConsumerGroup>();
  private stopped = false;
  /** Where changes are made durable (set by the broker wiring; none in unit tests). */
  store: ConsumerGroupStore | undefined;

  constructor(
    readonly config: ConsumerGroupConfig,
    readonly clock: Clock,
    readonly topics: TopicResolver,
    readonly log?: Logger,
    /** True when a group id is taken by a non-empty classic group. */
    readonly classicGroupInUse: (groupId: string) => boolean = () => false,
  ) {}

  heartbeat(p: HeartbeatParams): HeartbeatResult {
    if (this.stopped) return err(ErrorCode.NOT_COORDINATOR);
    // Request validation, as Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid.
    if (!p.groupId) return err(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.");
    if (p.version >= 1 && !p.memberId) return err(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.");
    if (p.instanceId !== null && p.instanceId === '')
      return err(ErrorCode.INVALID_REQUEST, "InstanceId can't be empty.");
    if (p.rackId !== null && p.rackId === '') return err(ErrorCode.INVALID_REQUEST, "RackId can't be empty.");
    if (p.memberEpoch === 0) {
      if (p.rebalanceTimeoutMs === -1)
        return err(ErrorCode.INVALID_REQUEST, 'RebalanceTimeoutMs must be provided in first request.');
      if (p.ownedTopicPartitions === null || p.ownedTopicPartitions.some((t) => t.partitions.length > 0)) {
        return err(ErrorCode.INVALID_REQUEST, 'TopicPartitions must be empty when (re-)joining.');
      }
      if (p.subscribedTopicNames === null && p.subscribedTopicRegex === null) {
        return err(
          ErrorCode.INVALID_REQUEST,
          'SubscribedTopicNames or SubscribedTopicRegex must be set in first request.',
        );
      }
    } else if (p.memberEpoch < -2) {
      return err(ErrorCode.INVALID_REQUEST, `MemberEpoch is invalid.`);
    } else if (!p.memberId) {
      return err(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.");
    }
    if (p.memberEpoch === -2 && p.instanceId === null)
      return err(ErrorCode.INVALID_REQUEST, "InstanceId can't be null.");
    if (p.serverAssignor !== null && !this.config.assignors.includes(p.serverAssignor)) {
      return err(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${p.serverAssignor} is not supported. ` +
          `Supported assignors: ${this.config.assignors.join(', ')}.`,
      );
    }
    if (p.subscribedTopicRegex !== null) {
      try {
        new RegExp(p.subscribedTopicRegex);
      } catch {
        return err(
          ErrorCode.INVALID_REGULAR_EXPRESSION,
          `SubscribedTopicRegex ${p.subscribedTopicRegex} is not a valid regular expression.`,
        );
      }
    }

    let group = this.groups.get(p.groupId);
    if (!group) {
      if (p.memberEpoch !== 0) return err(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} not found.`);
      if (this.classicGroupInUse(p.groupId))
        return err(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a consumer group.`);
      group = new ConsumerGroup(p.groupId, this.config.assignors[0] ?? 'uniform');
      this.groups.set(p.groupId, group);
    }
    if (p.memberEpoch === -1 || p.memberEpoch === -2) return this.leave(group, p);

    let member: ConsumerMember | undefined;
    let memberId = p.memberId;
    /** The group epoch moves at most once per heartbeat. */
    let changed = false;
    let replaced = false;
    if (p.memberEpoch === 0 && p.instanceId !== null) {
      // Static member (re)joining: take over the previous incarnation when it left temporarily.
      const prev = [...group.members.values()].find((m) => m.instanceId === p.instanceId);
      if (prev) {
        if (!prev.leftTemporarily)
          return err(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${p.instanceId} has not released its instance id.`,
          );
        if (!memberId) memberId = randomUUID();
        group.members.delete(prev.memberId);
        const old = group.targetAssignment.get(prev.memberId);
        group.targetAssignment.delete(prev.memberId);
        prev.memberId = memberId;
        prev.leftTemporarily = false;
        group.members.set(memberId, prev);
        if (old) group.targetAssignment.set(memberId, old);
        member = prev;
        replaced = true;
      }
    }
    if (!member) {
      if (p.memberEpoch === 0 && !memberId) memberId = randomUUID();
      member = group.members.get(memberId);
      if (!member) {
        if (p.memberEpoch !== 0)
          return err(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${p.groupId}.`);
        if (group.members.size >= this.config.maxSize)
          return err(
            ErrorCode.GROUP_MAX_SIZE_REACHED,
            `The consumer group has reached its maximum capacity of ${this.config.maxSize} members.`,
          );
        member = newMember(memberId, {
          instanceId: p.instanceId,
          rackId: p.rackId,
          clientId: p.clientId,
          clientHost: p.clientHost,
          rebalanceTimeoutMs: p.rebalanceTimeoutMs,
        });
        group.members.set(memberId, member);
        changed = true;
        this.log?.info({ group: group.groupId, member: memberId }, 'consumer group member joined');
      } else if (member.leftTemporarily && p.memberEpoch !== 0) {
        return err(ErrorCode.UNKNOWN_MEMBER_ID);
      }
    }
    const owned = p.ownedTopicPartitions === null ? null : toAssignment(p.ownedTopicPartitions);
    if (!replaced && (p.memberEpoch !== 0 || member.memberEpoch !== 0)) {
      // Kafka's throwIfMemberEpochIsInvalid.
      if (p.memberEpoch > member.memberEpoch)
        return err(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has a greater member epoch (${p.memberEpoch}) ` +
            `than the one known by the group coordinator (${member.memberEpoch}).`,
        );
      if (
        p.memberEpoch < member.memberEpoch &&
        (p.memberEpoch !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assigned))
      ) {
        return err(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has a smaller member epoch (${p.memberEpoch}) ` +
            `than the one known by the group coordinator (${member.memberEpoch}).`,
        );
      }
    }
    this.scheduleSession(group, member);

    // Subscription and metadata changes bump the group epoch.
    if (p.subscribedTopicNames !== null) {
      const names = [...new Set(p.subscribedTopicNames)].sort();
      if (names.join('\0') !== member.subscribedTopicNames.join('\0')) changed = true;
      member.subscribedTopicNames = names;
    }
    if (p.subscribedTopicRegex !== null && p.subscribedTopicRegex !== member.subscribedTopicRegex) {
      member.subscribedTopicRegex = p.subscribedTopicRegex === '' ? null : p.subscribedTopicRegex;
      changed = true;
    }
    if (p.serverAssignor !== null && p.serverAssignor !== member.serverAssignor) {
      member.serverAssignor = p.serverAssignor;
      changed = true;
    }
    if (p.rackId !== null) member.rackId = p.rackId;
    if (p.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    member.topicFilter = p.topicFilter;
    const fp = this.fingerprint(group);
    if (fp !== group.metadataFingerprint) {
      if (group.metadataFingerprint !== '') changed = true;
      group.metadataFingerprint = fp;
    }
    if (changed) group.groupEpoch++;
    if (group.assignmentEpoch < group.groupEpoch) this.computeTargetAssignment(group);

    const before = {
      epoch: member.memberEpoch,
      assigned: new Map([...member.assigned].map(([t, s]) => [t, new Set(s)])),
    };
    this.reconcile(group, member, owned);
    const sendAssignment =
      p.memberEpoch === 0 ||
      owned !== null ||
      before.epoch !== member.memberEpoch ||
      !sameAssignment(before.assigned, member.assigned);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      assignment: sendAssignment ? assignmentList(member.assigned) : null,
    };
  }

  private leave(group: ConsumerGroup, p: HeartbeatParams): HeartbeatResult {
    let member = group.members.get(p.memberId);
    if (!member && p.instanceId !== null)
      member = [...group.members.values()].find((m) => m.instanceId === p.instanceId);
    if (!member) return err(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
    if (p.instanceId !== null && member.instanceId !== p.instanceId) return err(ErrorCode.FENCED_INSTANCE_ID);
    if (p.memberEpoch === -2) {
      member.leftTemporarily = true;
      this.clock.clearTimeout(member.revocationTimer);
      this.scheduleSession(group, member);
    } else {
      this.removeMember(group, member, 'left the group');
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: p.memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
  }

  /** Topic ids a member subscribes to (existing topics only). */
  private subscribedTopicIds(m: ConsumerMember): Set<string> {
    const out = new Set<string>();
    for (const n of m.subscribedTopicNames) {
      const t = this.topics.byName(n);
      if (t) out.add(t.topicId);
    }
    if (m.subscribedTopicRegex !== null) {
      const re = new RegExp(`^(?:${m.subscribedTopicRegex})$`);
      const matched = this.allTopicNames().filter((t) => re.test(t));
      // As Kafka, a regex resolves only to topics the member's principal may DESCRIBE.
      for (const t of m.topicFilter ? m.topicFilter(matched) : matched) {
        const md = this.topics.byName(t);
        if (md) out.add(md.topicId);
      }
    }
    return out;
  }

  /** All topic names (for regex subscriptions); set by the broker wiring. */
  allTopicNames: () => string[] = () => [];

  /** The subscribed topics' ids and partition counts, hashed to a signed int64 (Kafka's MetadataHash), as text. */
  private fingerprint(group: ConsumerGroup): string {
    const ids = new Set<string>();
    for (const m of group.members.values()) for (const t of this.subscribedTopicIds(m)) ids.add(t);
    const text =
      [...ids]
        .sort()
        .map((t) => `${t}:${this.topics.byId(t)?.partitions ?? 0}`)
        .join(',') || '-';
    const h = createHash('sha256').update(text).digest().readBigInt64BE(0);
    return (h === 0n ? 1n : h).toString();
  }

  private computeTargetAssignment(group: ConsumerGroup): void {
    // The most used serverAssignor among members, else the default (Kafka's preferred assignor).
    const votes = new Map<string, number>();
    for (const m of group.members.values())
      if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    let name = this.config.assignors[0] ?? 'uniform';
    let best = 0;
    for (const [n, c] of votes) if (c > best) [name, best] = [n, c];
    group.assignorName = name;
    const assignor = ASSIGNORS.get(name)!;
    const partitions = new Map<string, number>();
    const members = [...group.members.values()].map((m) => {
      const topics = this.subscribedTopicIds(m);
      for (const t of topics) partitions.set(t, this.topics.byId(t)?.partitions ?? 0);
      return { memberId: m.memberId, topics, current: group.targetAssignment.get(m.memberId) ?? new Map() };
    });
    group.targetAssignment = assignor.assign(members, partitions);
    group.assignmentEpoch = group.groupEpoch;
    this.log?.debug({ group: group.groupId, epoch: group.groupEpoch, assignor: name }, 'target assignment computed');
  }

  /** Whether another member still holds (assigned or pending revocation) topic-partition t:p. */
  private heldByOther(group: ConsumerGroup, member: ConsumerMember, t: string, p: number): boolean {
    for (const m of group.members.values()) {
      if (m === member) continue;
      if (has(m.assigned, t, p) || has(m.pendingRevocation, t, p)) return true;
    }
    return false;
  }

  /** Kafka's CurrentAssignmentBuilder, simplified to the three member states. */
  private reconcile(group: ConsumerGroup, member: ConsumerMember, owned: Assignment | null): void {
    const target = group.targetAssignment.get(member.memberId) ?? new Map<string, Set<number>>();
    if (member.state === 'UNREVOKED_PARTITIONS') {
      // Revocation is acknowledged by owned partitions that no longer include the revoked ones.
      if (owned === null) return;
      for (const [t, s] of member.pendingRevocation) for (const p of s) if (has(owned, t, p)) return;
      member.pendingRevocation = new Map();
      this.clock.clearTimeout(member.revocationTimer);
      member.revocationTimer = undefined;
      member.state = 'STABLE';
    }
    if (member.memberEpoch === group.assignmentEpoch && member.state === 'STABLE') return;
    // Partitions to revoke: currently assigned but not in the target.
    const keep: Assignment = new Map();
    const revoke: Assignment = new Map();
    for (const [t, s] of member.assigned)
      for (const p of s) has(target, t, p) ? addTo(keep, t, p) : addTo(revoke, t, p);
    if (revoke.size > 0) {
      member.assigned = keep;
      member.pendingRevocation = revoke;
      member.state = 'UNREVOKED_PARTITIONS';
      this.armRevocation(group, member);
      return;
    }
    // Assign what no other member still holds.
    let unreleased = false;
    for (const [t, s] of target) {
      for (const p of s) {
        if (has(member.assigned, t, p)) continue;
        if (this.heldByOther(group, member, t, p)) unreleased = true;
        else addTo(member.assigned, t, p);
      }
    }
    if (member.memberEpoch !== group.assignmentEpoch) {
      member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = group.assignmentEpoch;
    }
    member.state = unreleased ? 'UNRELEASED_PARTITIONS' : 'STABLE';
  }

  /** A member that does not acknowledge its revocation within its rebalance timeout is removed. */
  private armRevocation(group: ConsumerGroup, member: ConsumerMember): void {
    this.clock.clearTimeout(member.revocationTimer);
    if (this.stopped) return;
    member.revocationTimer = this.clock.setTimeout(() => {
      member.revocationTimer = undefined;
      if (group.members.get(member.memberId) !== member || member.state !== 'UNREVOKED_PARTITIONS') return;
      this.removeMember(group, member, 'did not revoke partitions within the rebalance timeout');
      this.flushQuietly(group.groupId);
    }, member.rebalanceTimeoutMs);
  }

  private scheduleSession(group: ConsumerGroup, member: ConsumerMember): void {
    this.clock.clearTimeout(member.sessionTimer);
    if (this.stopped) return;
    member.sessionTimer = this.clock.setTimeout(() => {
      member.sessionTimer = undefined;
      if (group.members.get(member.memberId) !== member) return;
      this.removeMember(group, member, 'session timeout');
      this.flushQuietly(group.groupId);
    }, this.config.sessionTimeoutMs);
  }

  private removeMember(group: ConsumerGroup, m: ConsumerMember, reason: string): void {
    this.clock.clearTimeout(m.sessionTimer);
    this.clock.clearTimeout(m.revocationTimer);
    m.sessionTimer = undefined;
    m.revocationTimer = undefined;
    group.members.delete(m.memberId);
    group.targetAssignment.delete(m.memberId);
    group.groupEpoch++;
    this.log?.info({ group: group.groupId, member: m.memberId, reason }, 'consumer group member removed');
  }

  /** Make the group's changes durable (resolves at once without a store). */
  flush(groupId: string): Promise<void> {
    return this.store ? this.store.flush(groupId) : Promise.resolve();
  }

  private flushQuietly(groupId: string): void {
    this.flush(groupId).catch(() => undefined);
  }

  /** After loading: every member gets a fresh session (and revocation deadline); the assignor is re-chosen. */
  restartTimers(group: ConsumerGroup): void {
    for (const m of group.members.values()) {
      this.scheduleSession(group, m);
      if (m.state === 'UNREVOKED_PARTITIONS') this.armRevocation(group, m);
    }
    const votes = new Map<string, number>();
    for (const m of group.members.values())
      if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    let best = 0;
    for (const [n, c] of votes) if (c > best) [group.assignorName, best] = [n, c];
  }

  /**
   * OffsetCommit / OffsetFetch by memberId at memberEpoch, as Kafka's ConsumerGroup.validateOffsetCommit /
   * validateOffsetFetch: an epoch < 0 is accepted while the group is empty (commit) or with no member id
   * (fetch); otherwise UNKNOWN_MEMBER_ID for an unknown member, UNSUPPORTED_VERSION for a non-transactional
   * commit below OffsetCommit v9, STALE_MEMBER_EPOCH when the epoch is not the member's.
   */
  validateOffsetCommit(
    groupId: string,
    memberId: string | null,
    memberEpoch: number,
    opts: { fetch?: boolean; apiVersion?: number; transactional?: boolean } = {},
  ): number {
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (
      opts.fetch
        ? (memberId === null || memberId === '') && memberEpoch < 0
        : memberEpoch < 0 && group.members.size === 0
    )
      return ErrorCode.NONE;
    const m = memberId === null ? undefined : group.members.get(memberId);
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (!opts.fetch && !opts.transactional && (opts.apiVersion ?? 9) < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (memberEpoch !== m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /** DeleteGroups: only an empty group can go (NON_EMPTY_GROUP); the caller flushes the tombstones. */
  deleteGroup(groupId: string): number {
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  /** The groups `which` selects leave memory (their partition is no longer coordinated here); timers cleared. */
  unload(which: (groupId: string) => boolean): void {
    for (const g of [...this.groups.values()]) {
      if (!which(g.groupId)) continue;
      for (const m of g.members.values()) {
        this.clock.clearTimeout(m.sessionTimer);
        this.clock.clearTimeout(m.revocationTimer);
      }
      this.groups.delete(g.groupId);
      this.store?.forget(g.groupId);
    }
  }

  /** Clear every timer (broker stopping). */
  shutdown(): void {
    this.stopped = true;
    for (const g of this.groups.values()) {
      for (const m of g.members.values()) {
        this.clock.clearTimeout(m.sessionTimer);
        this.clock.clearTimeout(m.revocationTimer);
      }
    }
  }
}
