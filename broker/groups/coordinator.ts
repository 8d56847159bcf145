/**
 * GroupCoordinator: the single owner of all classic consumer-group state on this node. Handlers call it;
 * nothing else mutates a Group. Membership (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, session expiry)
 * lives here; the groups, ownership status, persistence, replay, unload and shutdown are in
 * coordinator-state.ts (its base class); offsets and group administration are in offsets.ts, on the same state.
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
import { GroupCoordinatorState } from './coordinator-state.js';
import { coordinatorErrorFor } from '../internal-topic.js';

export type { GroupCoordinatorConfig, JoinParams, LeaveMember, SyncParams } from './group.js';

export class GroupCoordinator extends GroupCoordinatorState {
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

  /** Answer for a member of the current generation (no rebalance needed). */
  private currentJoinResult(group: Group, member: Member, skipAssignment: boolean): JoinResult {
    const isLeader = group.leader === member.memberId;
    this.scheduleSession(group, member);
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generation,
      protocolType: group.protocolType,
      protocolName: group.protocol,
      leader: group.leader ?? '',
      memberId: member.memberId,
      members: isLeader ? this.memberList(group) : [],
      skipAssignment: isLeader && skipAssignment,
    };
  }

  private memberList(group: Group): JoinResult['members'] {
    return [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: group.metadataFor(m, group.protocol),
    }));
  }

  private awaitJoin(group: Group, member: Member, tryComplete = true): Promise<JoinResult> {
    const previous = member.joinWaiter;
    const promise = new Promise<JoinResult>((resolve) => (member.joinWaiter = resolve));
    previous?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    if (tryComplete) this.maybeCompleteJoin(group);
    return promise;
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.is('CompletingRebalance')) {
      for (const m of group.members.values()) {
        m.assignment = EMPTY;
        m.syncWaiter?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        m.syncWaiter = undefined;
      }
    }
    const wasEmpty = group.is('Empty');
    this.clock.clearTimeout(group.joinTimer);
    group.clearPendingSync(this.clock);
    group.transition('PreparingRebalance', this.clock.now());
    this.log?.debug({ group: group.groupId, reason, generation: group.generation }, 'preparing rebalance');
    const timeout = group.maxRebalanceTimeoutMs();
    if (wasEmpty && this.config.initialRebalanceDelayMs > 0) {
      const delay = Math.min(this.config.initialRebalanceDelayMs, timeout);
      group.initialDelayActive = true;
      group.joinedDuringDelay = false;
      group.initialDelayRemainingMs = Math.max(timeout - delay, 0);
      group.joinTimer = this.clock.setTimeout(() => this.onInitialDelay(group), delay);
    } else {
      group.initialDelayActive = false;
      group.joinTimer = this.clock.setTimeout(() => this.completeJoin(group), timeout);
      this.maybeCompleteJoin(group);
    }
  }

  private onInitialDelay(group: Group): void {
    if (group.joinedDuringDelay && group.initialDelayRemainingMs > 0) {
      const delay = Math.min(this.config.initialRebalanceDelayMs, group.initialDelayRemainingMs);
      group.initialDelayRemainingMs = Math.max(group.initialDelayRemainingMs - this.config.initialRebalanceDelayMs, 0);
      group.joinedDuringDelay = false;
      group.joinTimer = this.clock.setTimeout(() => this.onInitialDelay(group), delay);
      return;
    }
    group.initialDelayActive = false;
    this.completeJoin(group);
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.is('PreparingRebalance') && !group.initialDelayActive && group.allMembersJoined())
      this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (!group.is('PreparingRebalance')) return;
    this.clock.clearTimeout(group.joinTimer);
    group.joinTimer = undefined;
    group.initialDelayActive = false;
    for (const m of [...group.members.values()]) {
      if (!m.joinWaiter) this.removeMember(group, m, 'did not rejoin in time', false);
    }
    group.generation++;
    const now = this.clock.now();
    if (group.members.size === 0) {
      group.protocol = null;
      group.leader = null;
      group.transition('Empty', now);
      this.log?.debug({ group: group.groupId, generation: group.generation }, 'group is empty');
      void this.persistGroup(group).catch(() => undefined);
      return;
    }
    group.protocol = group.selectProtocol();
    if (group.leader === null || !group.members.has(group.leader)) group.leader = group.members.keys().next().value!;
    group.transition('CompletingRebalance', now);
    this.log?.debug(
      { group: group.groupId, generation: group.generation, protocol: group.protocol, members: group.members.size },
      'join phase complete',
    );
    this.schedulePendingSync(group);
    for (const m of group.members.values()) {
      const waiter = m.joinWaiter!;
      m.joinWaiter = undefined;
      m.isNew = false;
      waiter(this.currentJoinResult(group, m, false));
    }
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

  /**
   * Kafka's pending-sync timeout: members that do not send SyncGroup within the rebalance timeout after the
   * join phase completed are removed, and a new rebalance starts.
   */
  private schedulePendingSync(group: Group): void {
    group.armPendingSync(this.clock, (late) => {
      for (const id of late) {
        const m = group.members.get(id);
        if (m) this.removeMember(group, m, 'did not send SyncGroup within the rebalance timeout', false);
      }
      this.prepareRebalance(group, `members ${late.join(', ')} did not sync in time`);
    });
  }

  private syncOk(group: Group, m: Member): SyncResult {
    return {
      errorCode: ErrorCode.NONE,
      protocolType: group.protocolType,
      protocolName: group.protocol,
      assignment: m.assignment,
    };
  }

  private async completeSync(group: Group, assignments: { memberId: string; assignment: Buffer }[]): Promise<void> {
    const generation = group.generation;
    const byId = new Map(assignments.map((a) => [a.memberId, a.assignment]));
    const planned = new Map([...group.members.keys()].map((id) => [id, byId.get(id) ?? EMPTY]));
    let failed: number = ErrorCode.NONE;
    try {
      await this.persistGroup(group, planned);
    } catch (err) {
      failed = coordinatorErrorFor(err);
      this.log?.warn({ group: group.groupId, err: (err as Error).message }, 'storing group assignment failed');
    }
    if (!group.is('CompletingRebalance') || group.generation !== generation) return;
    if (failed) {
      for (const m of group.members.values()) {
        m.syncWaiter?.(syncError(failed));
        m.syncWaiter = undefined;
      }
      this.prepareRebalance(group, 'storing assignment failed');
      return;
    }
    for (const [id, a] of planned) {
      const m = group.members.get(id);
      if (m) m.assignment = a;
    }
    group.transition('Stable', this.clock.now());
    for (const m of group.members.values()) {
      m.syncWaiter?.(this.syncOk(group, m));
      m.syncWaiter = undefined;
    }
  }

  // ------------------------------------------------------------------------------ Heartbeat, LeaveGroup, sessions

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

  private isFenced(group: Group, memberId: string, instanceId: string | null): boolean {
    if (instanceId === null) return false;
    const id = group.staticMembers.get(instanceId);
    return id !== undefined && id !== memberId;
  }

  private expirePending(group: Group, memberId: string): void {
    if (!group.pendingMembers.delete(memberId)) return;
    this.maybeCompleteJoin(group);
  }

  /**
   * (Re)start a member's session: its deadline moves to now + session timeout. The hot path (every heartbeat
   * and commit) only moves the deadline; the one timer is re-armed only when the deadline comes before it is
   * due (a shorter session timeout), and when it fires early it re-arms for the rest.
   */
  scheduleSession(group: Group, member: Member): void {
    if (this.stopped) {
      this.clock.clearTimeout(member.sessionTimer);
      member.sessionTimer = undefined;
      return;
    }
    const deadline = this.clock.now() + member.sessionTimeoutMs;
    member.sessionDeadline = deadline;
    if (member.sessionTimer !== undefined && member.sessionDue! <= deadline) return;
    this.clock.clearTimeout(member.sessionTimer);
    this.armSession(group, member, member.sessionTimeoutMs, deadline);
  }

  private armSession(group: Group, member: Member, delay: number, due: number): void {
    member.sessionDue = due;
    member.sessionTimer = this.clock.setTimeout(() => {
      member.sessionTimer = undefined;
      if (group.members.get(member.memberId) !== member || this.stopped) return;
      const now = this.clock.now();
      const left = member.sessionDeadline! - now;
      if (left > 0) {
        this.armSession(group, member, left, member.sessionDeadline!);
        return;
      }
      if (member.joinWaiter || member.syncWaiter) {
        this.scheduleSession(group, member);
        return;
      }
      this.removeMember(group, member, 'session timeout', true);
    }, delay);
  }

  private removeMember(group: Group, m: Member, reason: string, rebalance: boolean): void {
    this.clock.clearTimeout(m.sessionTimer);
    m.sessionTimer = undefined;
    m.joinWaiter?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, m.memberId));
    m.syncWaiter?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    m.joinWaiter = undefined;
    m.syncWaiter = undefined;
    group.members.delete(m.memberId);
    group.markSynced(m.memberId, this.clock);
    if (m.groupInstanceId !== null && group.staticMembers.get(m.groupInstanceId) === m.memberId)
      group.staticMembers.delete(m.groupInstanceId);
    if (group.leader === m.memberId) group.leader = group.members.size > 0 ? group.members.keys().next().value! : null;
    this.log?.info({ group: group.groupId, member: m.memberId, reason }, 'member removed');
    if (!rebalance) return;
    if (group.is('Stable', 'CompletingRebalance'))
      this.prepareRebalance(group, `member ${m.memberId} removed: ${reason}`);
    else this.maybeCompleteJoin(group);
  }
}
