/**
 * One classic consumer group's in-memory state (owned and mutated only by the GroupCoordinator), plus the
 * coordinator's parameter/result types.
 *
 * States (Kafka's classic protocol): Empty → PreparingRebalance → CompletingRebalance → Stable, and Dead
 * (deleted / removed). Invariants:
 * - `members` keeps join order; the leader is a current member (the first to join, or the next one when
 *   the leader leaves) or null when there are none.
 * - `generation` only grows; it is bumped once per completed join phase.
 * - `protocol` is the protocol chosen for the current generation (null while Empty).
 * - `staticMembers` maps group.instance.id → the member id currently holding it.
 * - A member has at most one pending JoinGroup and one pending SyncGroup answer (`joinWaiter`, `syncWaiter`).
 * - `offsets` holds the committed offsets: topic → partition → value.
 * - `pendingSync` holds the members of the current generation that have not sent SyncGroup since the join
 *   phase completed; its timer (the rebalance timeout) removes them and starts a new rebalance.
 */
import type { Clock, TimerHandle } from '../../storage/clock.js';
import type { OffsetValue } from './records.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
  skipAssignment: boolean;
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface GroupCoordinatorConfig {
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxSize: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
}

export interface JoinParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  /** MEMBER_ID_REQUIRED applies from v4. */
  requireKnownMemberId: boolean;
}

export interface SyncParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface LeaveMember {
  memberId: string;
  groupInstanceId: string | null;
}

export interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  /** The member's protocols in its order of preference. */
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  joinWaiter?: (r: JoinResult) => void;
  syncWaiter?: (r: SyncResult) => void;
  sessionTimer?: TimerHandle;
  /**
   * Session expiry time (clock ms), moved on by every heartbeat/commit without touching the timer; the timer
   * (armed to fire at `sessionDue`) re-arms itself for what is left when it fires before the deadline.
   */
  sessionDeadline?: number;
  sessionDue?: number;
  /** Set while the member is new and has not yet received a JoinGroup answer. */
  isNew: boolean;
}

export class Group {
  state: GroupState = 'Empty';
  generation = 0;
  protocolType: string | null = null;
  protocol: string | null = null;
  leader: string | null = null;
  readonly members = new Map<string, Member>();
  /** v4+ members given an id by MEMBER_ID_REQUIRED, not yet rejoined with it; value: expiry timer. */
  readonly pendingMembers = new Map<string, TimerHandle>();
  readonly staticMembers = new Map<string, string>();
  readonly offsets = new Map<string, Map<number, OffsetValue>>();
  /** When the group last changed state (ms), for offset expiry of empty groups. */
  currentStateTimestamp: number;
  joinTimer?: TimerHandle;
  /** Members of the current generation that have not sent SyncGroup yet, and the pending-sync timer. */
  readonly pendingSync = new Set<string>();
  syncTimer?: TimerHandle;
  /** In the initial-delay phase of a new group's first rebalance. */
  initialDelayActive = false;
  /** Members that joined since the initial delay (re)started. */
  joinedDuringDelay = false;
  initialDelayRemainingMs = 0;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.currentStateTimestamp = now;
  }

  transition(state: GroupState, now: number): void {
    this.state = state;
    this.currentStateTimestamp = now;
  }

  is(...states: GroupState[]): boolean {
    return states.includes(this.state);
  }

  get hasOffsets(): boolean {
    for (const parts of this.offsets.values()) if (parts.size > 0) return true;
    return false;
  }

  /** Protocols every member supports; null if none are common. */
  candidateProtocols(): Set<string> | null {
    let common: Set<string> | null = null;
    for (const m of this.members.values()) {
      const names = new Set<string>(m.protocols.map((p) => p.name));
      const prev: Set<string> | null = common;
      common = prev === null ? names : new Set<string>([...prev].filter((n: string) => names.has(n)));
    }
    return common;
  }

  /** Whether a joining member's protocols are compatible with the group (type matches, a common protocol). */
  supportsProtocols(protocolType: string, protocols: string[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const common = this.candidateProtocols();
    return common !== null && protocols.some((p) => common.has(p));
  }

  /** Kafka's selection: each member votes for its most preferred candidate; the most votes wins (ties: first seen). */
  selectProtocol(): string | null {
    const candidates = this.candidateProtocols();
    if (!candidates || candidates.size === 0) return null;
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const pick = m.protocols.find((p) => candidates.has(p.name));
      if (pick) votes.set(pick.name, (votes.get(pick.name) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  metadataFor(m: Member, protocol: string | null): Buffer {
    return m.protocols.find((p) => p.name === protocol)?.metadata ?? Buffer.alloc(0);
  }

  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const m of this.members.values()) if (!m.joinWaiter) return false;
    return true;
  }

  maxRebalanceTimeoutMs(): number {
    let t = 0;
    for (const m of this.members.values()) t = Math.max(t, m.rebalanceTimeoutMs);
    return t;
  }

  /** Start the pending-sync timer for every current member; `expire` gets those that did not sync in time. */
  armPendingSync(clock: Clock, expire: (late: string[]) => void): void {
    this.clearPendingSync(clock);
    for (const id of this.members.keys()) this.pendingSync.add(id);
    const generation = this.generation;
    this.syncTimer = clock.setTimeout(() => {
      this.syncTimer = undefined;
      if (this.generation !== generation || !this.is('CompletingRebalance', 'Stable') || this.pendingSync.size === 0)
        return;
      const late = [...this.pendingSync];
      this.pendingSync.clear();
      expire(late);
    }, this.maxRebalanceTimeoutMs());
  }

  clearPendingSync(clock: Clock): void {
    clock.clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.pendingSync.clear();
  }

  markSynced(memberId: string, clock: Clock): void {
    this.pendingSync.delete(memberId);
    if (this.pendingSync.size === 0) this.clearPendingSync(clock);
  }

  /** Offsets of one group as a flat list. */
  *allOffsets(): Generator<{ topic: string; partition: number; value: OffsetValue }> {
    for (const [topic, parts] of this.offsets)
      for (const [partition, value] of parts) yield { topic, partition, value };
  }

  setOffset(topic: string, partition: number, value: OffsetValue): void {
    let parts = this.offsets.get(topic);
    if (!parts) {
      parts = new Map();
      this.offsets.set(topic, parts);
    }
    parts.set(partition, value);
  }

  deleteOffset(topic: string, partition: number): void {
    const parts = this.offsets.get(topic);
    if (!parts) return;
    parts.delete(partition);
    if (parts.size === 0) this.offsets.delete(topic);
  }
}

// ------------------------------------------------------------------------------------------ results

export const EMPTY = Buffer.alloc(0);

export function joinError(errorCode: number, memberId = ''): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    members: [],
    skipAssignment: false,
  };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

export function sameProtocols(
  a: { name: string; metadata: Buffer }[],
  b: { name: string; metadata: Buffer }[],
): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}
