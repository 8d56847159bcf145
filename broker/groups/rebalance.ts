/**
 * GroupRebalancer: the rebalance machinery of the classic group coordinator (coordinator.ts extends it with the
 * JoinGroup / SyncGroup / Heartbeat / LeaveGroup entry points): preparing a rebalance (with the initial delay),
 * completing the join phase (members that did not rejoin removed, generation + 1, protocol vote, leader), the
 * pending-sync timeout, storing the leader's assignment, member sessions and member removal.
 *
 * Invariants: every pending Join/Sync promise is answered exactly once (completion, removal, fencing, rebalance,
 * unload or shutdown); a member's session timer is cleared when it leaves; a session is only moved on the hot path
 * (heartbeats, commits): its one timer is re-armed only when the new deadline comes before the timer is due.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { EMPTY, joinError, syncError, type Group, type JoinResult, type Member, type SyncResult } from './group.js';
import { GroupCoordinatorState } from './coordinator-state.js';
import { coordinatorErrorFor } from '../internal-topic.js';

export abstract class GroupRebalancer extends GroupCoordinatorState {
  /** Answer for a member of the current generation (no rebalance needed). */
  protected currentJoinResult(group: Group, member: Member, skipAssignment: boolean): JoinResult {
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

  protected awaitJoin(group: Group, member: Member, tryComplete = true): Promise<JoinResult> {
    const previous = member.joinWaiter;
    const promise = new Promise<JoinResult>((resolve) => (member.joinWaiter = resolve));
    previous?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    if (tryComplete) this.maybeCompleteJoin(group);
    return promise;
  }

  protected prepareRebalance(group: Group, reason: string): void {
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

  protected maybeCompleteJoin(group: Group): void {
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

  protected syncOk(group: Group, m: Member): SyncResult {
    return {
      errorCode: ErrorCode.NONE,
      protocolType: group.protocolType,
      protocolName: group.protocol,
      assignment: m.assignment,
    };
  }

  protected async completeSync(group: Group, assignments: { memberId: string; assignment: Buffer }[]): Promise<void> {
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

  protected isFenced(group: Group, memberId: string, instanceId: string | null): boolean {
    if (instanceId === null) return false;
    const id = group.staticMembers.get(instanceId);
    return id !== undefined && id !== memberId;
  }

  protected expirePending(group: Group, memberId: string): void {
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

  protected removeMember(group: Group, m: Member, reason: string, rebalance: boolean): void {
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
