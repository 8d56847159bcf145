/**
 * GroupCoordinator: the single owner of all classic consumer-group state on this node. Handlers call it;
 * nothing else mutates a Group. The membership entry points (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) live
 * here; the rebalance machinery and member sessions in rebalance.ts (its base class); the groups, ownership
 * status, persistence, replay, unload and shutdown in coordinator-state.ts (that one's base class); offsets and
 * group administration in offsets.ts, on the same state.
 *
 * Behaviour follows Kafka's classic GroupCoordinator:
 * - Empty → PreparingRebalance (a member joins, or one leaves/changes) → CompletingRebalance (every known
 *   member rejoined, or the rebalance timeout — the largest of the members' — passed; members that did not
 *   rejoin are removed; generation + 1; protocol chosen by vote; leader = first member) → Stable (leader's
 *   SyncGroup stored durably) ; the last member leaving makes it Empty (generation + 1). Dead = deleted.
 * - A new group's first rebalance waits group.initial.rebalance.delay.ms, extended by that much while
 *   members keep joining, capped by the rebalance timeout.
 * - JoinGroup v4+ without a member id → MEMBER_ID_REQUIRED with `${clientId}-${uuid}` (pending member,
 *   expires after its session timeout unless it rejoins with that id).
 * - Static members (group.instance.id): a known instance rejoining without member id gets a new member id
 *   replacing the old (whose pending requests and later calls get FENCED_INSTANCE_ID); in a Stable group
 *   with unchanged protocols it keeps its assignment with no rebalance.
 * - Pending sync: members that send no SyncGroup within the rebalance timeout after the join phase are
 *   removed and a new rebalance starts (Kafka's pending-sync timeout).
 * - Sessions run on the injected Clock; members awaiting a Join/Sync answer are never expired.
 * - In a cluster (`ownership`, coordinator-partitions.ts) this node coordinates only the groups of the
 *   `__consumer_offsets` partitions it leads: others get NOT_COORDINATOR, those of a loading partition
 *   COORDINATOR_LOAD_IN_PROGRESS (`status`); a partition lost is unloaded (`unloadPartition`).
 * Invariants: every pending Join/Sync promise is answered exactly once (completion, removal, fencing,
 * rebalance, unload or shutdown); timers are cleared when their group/member goes away.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import {
  EMPTY,
  Group,
  joinError,
  sameProtocols,
  syncError,
  type JoinParams,
  type JoinResult,
  type LeaveMember,
  type Member,
  type SyncParams,
  type SyncResult,
} from './group.js';
import { GroupRebalancer } from './rebalance.js';

export type { GroupCoordinatorConfig, JoinParams, LeaveMember, SyncParams } from './group.js';

export class GroupCoordinator extends GroupRebalancer {
  // ------------------------------------------------------------------------------------------ JoinGroup

  async join(p: JoinParams): Promise<JoinResult> {
    if (!p.groupId) return joinError(ErrorCode.INVALID_GROUP_ID, p.memberId);
    const unavailable = this.status(p.groupId);
    if (unavailable) return joinError(unavailable, p.memberId);
    if (p.sessionTimeoutMs < this.config.minSessionTimeoutMs || p.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return joinError(ErrorCode.INVALID_SESSION_TIMEOUT, p.memberId);
    }
    // A classic join to a non-empty KIP-848 consumer group is refused, as Kafka does.
    if ((this.consumer?.groups.get(p.groupId)?.members.size ?? 0) > 0)
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, p.memberId);
    let group = this.groups.get(p.groupId);
    if (!group) {
      if (p.memberId !== '') return joinError(ErrorCode.UNKNOWN_MEMBER_ID, p.memberId);
      group = new Group(p.groupId, this.clock.now());
      this.groups.set(p.groupId, group);
    }
    if (group.is('Dead')) return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, p.memberId);
    if (
      !group.supportsProtocols(
        p.protocolType,
        p.protocols.map((x) => x.name),
      )
    ) {
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, p.memberId);
    }
    return p.memberId === '' ? this.joinUnknownMember(group, p) : this.joinKnownMember(group, p);
  }

  private joinUnknownMember(group: Group, p: JoinParams): Promise<JoinResult> | JoinResult {
    const newId = `${p.clientId}-${randomUUID()}`;
    if (p.groupInstanceId !== null) {
      const oldId = group.staticMembers.get(p.groupInstanceId);
      if (oldId !== undefined && group.members.has(oldId)) return this.replaceStaticMember(group, oldId, newId, p);
    }
    if (group.members.size + group.pendingMembers.size >= this.config.maxSize)
      return joinError(ErrorCode.GROUP_MAX_SIZE_REACHED);
    if (p.groupInstanceId === null && p.requireKnownMemberId) {
      const t = this.clock.setTimeout(() => this.expirePending(group, newId), p.sessionTimeoutMs);
      group.pendingMembers.set(newId, t);
      return joinError(ErrorCode.MEMBER_ID_REQUIRED, newId);
    }
    return this.addMemberAndRebalance(group, newId, p);
  }

  private joinKnownMember(group: Group, p: JoinParams): Promise<JoinResult> | JoinResult {
    const pending = group.pendingMembers.get(p.memberId);
    if (pending !== undefined) {
      this.clock.clearTimeout(pending);
      group.pendingMembers.delete(p.memberId);
      return this.addMemberAndRebalance(group, p.memberId, p);
    }
    if (this.isFenced(group, p.memberId, p.groupInstanceId)) return joinError(ErrorCode.FENCED_INSTANCE_ID, p.memberId);
    const member = group.members.get(p.memberId);
    if (!member || group.is('Empty', 'Dead')) return joinError(ErrorCode.UNKNOWN_MEMBER_ID, p.memberId);
    const changed = !sameProtocols(member.protocols, p.protocols);
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMember(member, p);
        return this.awaitJoin(group, member);
      case 'CompletingRebalance':
        if (!changed) return this.currentJoinResult(group, member, false);
        this.updateMember(member, p);
        this.prepareRebalance(group, 'member metadata changed');
        return this.awaitJoin(group, member);
      default: // Stable
        if (!changed && group.leader !== member.memberId) return this.currentJoinResult(group, member, false);
        this.updateMember(member, p);
        this.prepareRebalance(group, changed ? 'member metadata changed' : 'leader rejoined');
        return this.awaitJoin(group, member);
    }
  }

  private updateMember(member: Member, p: JoinParams): void {
    member.protocols = p.protocols;
    member.protocolType = p.protocolType;
    member.sessionTimeoutMs = p.sessionTimeoutMs;
    member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
  }

  private addMemberAndRebalance(group: Group, memberId: string, p: JoinParams): Promise<JoinResult> {
    const member: Member = {
      memberId,
      groupInstanceId: p.groupInstanceId,
      clientId: p.clientId,
      clientHost: p.clientHost,
      sessionTimeoutMs: p.sessionTimeoutMs,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs,
      protocolType: p.protocolType,
      protocols: p.protocols,
      assignment: EMPTY,
      isNew: true,
    };
    if (group.members.size === 0) group.protocolType = p.protocolType;
    group.members.set(memberId, member);
    if (p.groupInstanceId !== null) group.staticMembers.set(p.groupInstanceId, memberId);
    if (group.leader === null) group.leader = memberId;
    if (group.initialDelayActive) group.joinedDuringDelay = true;
    const result = this.awaitJoin(group, member, false);
    if (group.is('Stable', 'CompletingRebalance', 'Empty')) this.prepareRebalance(group, `member ${memberId} joined`);
    else this.maybeCompleteJoin(group);
    return result;
  }

  private replaceStaticMember(
    group: Group,
    oldId: string,
    newId: string,
    p: JoinParams,
  ): Promise<JoinResult> | JoinResult {
    const member = group.members.get(oldId)!;
    member.joinWaiter?.(joinError(ErrorCode.FENCED_INSTANCE_ID, oldId));
    member.syncWaiter?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    member.joinWaiter = undefined;
    member.syncWaiter = undefined;
    const entries = [...group.members.entries()];
    group.members.clear();
    for (const [id, m] of entries) group.members.set(id === oldId ? newId : id, m);
    member.memberId = newId;
    if (group.pendingSync.delete(oldId)) group.pendingSync.add(newId);
    group.staticMembers.set(p.groupInstanceId!, newId);
    if (group.leader === oldId) group.leader = newId;
    const changed = !sameProtocols(member.protocols, p.protocols);
    this.log?.info({ group: group.groupId, instance: p.groupInstanceId, oldId, newId }, 'static member replaced');
    if (group.is('Stable') && !changed) {
      this.updateMember(member, p);
      this.scheduleSession(group, member);
      void this.persistGroup(group).catch(() => undefined);
      return this.currentJoinResult(group, member, true);
    }
    this.updateMember(member, p);
    if (group.is('PreparingRebalance')) return this.awaitJoin(group, member);
    this.prepareRebalance(group, 'static member rejoined with changed metadata');
    return this.awaitJoin(group, member);
  }

  // ------------------------------------------------------------------------------------------ SyncGroup

  async sync(p: SyncParams): Promise<SyncResult> {
    const unavailable = this.status(p.groupId);
    if (unavailable) return syncError(unavailable);
    const group = this.groups.get(p.groupId);
    if (!group || group.is('Dead'))
      return syncError(group ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.UNKNOWN_MEMBER_ID);
    if (this.isFenced(group, p.memberId, p.groupInstanceId)) return syncError(ErrorCode.FENCED_INSTANCE_ID);
    const member = group.members.get(p.memberId);
    if (!member) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (p.generationId !== group.generation) return syncError(ErrorCode.ILLEGAL_GENERATION);
    if (
      (p.protocolType !== null && p.protocolType !== group.protocolType) ||
      (p.protocolName !== null && p.protocolName !== group.protocol)
    ) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    switch (group.state) {
      case 'Empty':
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        group.markSynced(member.memberId, this.clock);
        this.scheduleSession(group, member);
        return this.syncOk(group, member);
      default: {
        group.markSynced(member.memberId, this.clock);
        const promise = new Promise<SyncResult>((resolve) => (member.syncWaiter = resolve));
        this.scheduleSession(group, member);
        if (group.leader === member.memberId) void this.completeSync(group, p.assignments);
        return promise;
      }
    }
  }

  // ------------------------------------------------------------------------------------- Heartbeat, LeaveGroup

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const unavailable = this.status(groupId);
    if (unavailable) return unavailable;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.isFenced(group, memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (!member || group.is('Empty')) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generation) return ErrorCode.ILLEGAL_GENERATION;
    this.scheduleSession(group, member);
    return group.is('PreparingRebalance') ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** LeaveGroup; per-member error codes (top-level error only for group-wide failures). */
  leave(
    groupId: string,
    members: LeaveMember[],
  ): { errorCode: number; members: (LeaveMember & { errorCode: number })[] } {
    const unavailable = this.status(groupId);
    if (unavailable) return { errorCode: unavailable, members: [] };
    const group = this.groups.get(groupId);
    if (group?.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const out = members.map((l) => {
      if (!group) return { ...l, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
      if (l.groupInstanceId !== null) {
        const id = group.staticMembers.get(l.groupInstanceId);
        if (id === undefined) return { ...l, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
        if (l.memberId !== '' && l.memberId !== id) return { ...l, errorCode: ErrorCode.FENCED_INSTANCE_ID };
        const m = group.members.get(id);
        if (m) this.removeMember(group, m, 'left the group (static)', true);
        return { ...l, errorCode: ErrorCode.NONE };
      }
      const pending = group.pendingMembers.get(l.memberId);
      if (pending !== undefined) {
        this.clock.clearTimeout(pending);
        group.pendingMembers.delete(l.memberId);
        this.maybeCompleteJoin(group);
        return { ...l, errorCode: ErrorCode.NONE };
      }
      const m = group.members.get(l.memberId);
      if (!m) return { ...l, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
      this.removeMember(group, m, 'left the group', true);
      return { ...l, errorCode: ErrorCode.NONE };
    });
    return { errorCode: ErrorCode.NONE, members: out };
  }
}
