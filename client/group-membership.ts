/**
 * Classic consumer-group membership (Kafka's ConsumerCoordinator, eager protocol): JoinGroup (v0-9; answers
 * MEMBER_ID_REQUIRED by rejoining with the id given), the leader runs the chosen assignor ("range" or
 * "roundrobin", group-protocol.ts) over every member's subscription, SyncGroup (v0-5) hands out the
 * assignments, Heartbeat (v0-4) every heartbeatIntervalMs on the coordinator connection, LeaveGroup (v0-5)
 * on close. A heartbeat answered REBALANCE_IN_PROGRESS / ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID marks the
 * member for rejoining, which the consumer does on its next poll after committing (revocation).
 */
import { type JoinGroupResponse, decodeJoinGroupResponse } from '../protocol/generated/join-group-response.js';
import { encodeJoinGroupRequest } from '../protocol/generated/join-group-request.js';
import { type SyncGroupResponse, decodeSyncGroupResponse } from '../protocol/generated/sync-group-response.js';
import { encodeSyncGroupRequest } from '../protocol/generated/sync-group-request.js';
import { decodeHeartbeatResponse } from '../protocol/generated/heartbeat-response.js';
import { encodeHeartbeatRequest } from '../protocol/generated/heartbeat-request.js';
import { decodeLeaveGroupResponse } from '../protocol/generated/leave-group-response.js';
import { encodeLeaveGroupRequest } from '../protocol/generated/leave-group-request.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { Logger } from 'pino';
import type { Connection } from './connection.js';
import { CoordinatorCache } from './coordinator.js';
import { KafkaError, isCoordinatorError } from './errors.js';
import {
  ASSIGNORS,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from './group-protocol.js';
import { sleep, type Metadata } from './metadata.js';
import type { Generation } from './offsets.js';
import type { TopicPartition } from './types.js';

export interface MembershipOptions {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Assignor names in order of preference. */
  assignors: string[];
  logger?: Logger;
}

const MAX_JOIN_ATTEMPTS = 50;

export class GroupMembership {
  memberId = '';
  generationId = -1;
  protocol: string | null = null;
  leader = false;
  needsRejoin = true;
  assignment: TopicPartition[] = [];
  /** As leader: the partition count of each subscribed topic the last assignment was computed from. */
  assignedCounts: Map<string, number> | null = null;
  readonly coordinators: CoordinatorCache;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeating = false;
  private topics: string[] = [];

  constructor(
    private readonly md: Metadata,
    private readonly opts: MembershipOptions,
  ) {
    this.coordinators = new CoordinatorCache(md, 'coordinator');
  }

  get groupId(): string {
    return this.opts.groupId;
  }

  generation(): Generation {
    return { generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.opts.groupInstanceId };
  }

  setTopics(topics: string[]): void {
    this.topics = [...new Set(topics)].sort();
    this.needsRejoin = true;
  }

  /** Join and sync (repeating until the group is stable); returns the new assignment. */
  async join(): Promise<TopicPartition[]> {
    this.stopHeartbeat();
    const { groupId } = this.opts;
    for (let attempt = 0; attempt < MAX_JOIN_ATTEMPTS; attempt++) {
      let conn: Connection;
      try {
        conn = await this.coordinators.connection(groupId);
      } catch (e) {
        if (attempt < MAX_JOIN_ATTEMPTS - 1 && e instanceof KafkaError && e.retriable) {
          await sleep(200);
          continue;
        }
        throw e;
      }
      const metadata = encodeSubscription({
        topics: this.topics,
        userData: null,
        ownedPartitions: [],
        generationId: -1,
        rackId: null,
      });
      let jv: number;
      let join: JoinGroupResponse;
      try {
        jv = conn.versionFor(11, 0, 9);
        const v = jv;
        join = await conn.send(
          11,
          v,
          (w) =>
            encodeJoinGroupRequest(w, v, {
              groupId,
              sessionTimeoutMs: this.opts.sessionTimeoutMs,
              rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs,
              memberId: this.memberId,
              groupInstanceId: this.opts.groupInstanceId,
              protocolType: 'consumer',
              protocols: this.opts.assignors.map((name) => ({ name, metadata })),
              reason: null,
            }),
          decodeJoinGroupResponse,
          { timeoutMs: this.opts.rebalanceTimeoutMs + 5_000 },
        );
      } catch (e) {
        if (e instanceof KafkaError && e.code === ErrorCode.NETWORK_EXCEPTION) {
          this.coordinators.invalidate(groupId);
          continue;
        }
        throw e;
      }
      const code = join.errorCode;
      if (code === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = join.memberId;
        continue;
      }
      if (code === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (isCoordinatorError(code)) {
        this.coordinators.invalidate(groupId);
        await sleep(100);
        continue;
      }
      if (code === ErrorCode.REBALANCE_IN_PROGRESS || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
        await sleep(100);
        continue;
      }
      if (code !== ErrorCode.NONE) throw new KafkaError(code, `JoinGroup ${groupId}`);
      this.memberId = join.memberId;
      this.generationId = join.generationId;
      this.protocol = join.protocolName;
      this.leader = join.leader === join.memberId;
      this.assignedCounts = null;
      this.opts.logger?.debug(
        { groupId, memberId: this.memberId, generation: this.generationId, leader: this.leader },
        'joined group',
      );
      const assignments =
        this.leader && !join.skipAssignment ? await this.assign(join.protocolName ?? '', join.members) : [];
      const sv = conn.versionFor(14, 0, 5);
      let sync: SyncGroupResponse;
      try {
        sync = await conn.send(
          14,
          sv,
          (w) =>
            encodeSyncGroupRequest(w, sv, {
              groupId,
              generationId: this.generationId,
              memberId: this.memberId,
              groupInstanceId: this.opts.groupInstanceId,
              protocolType: 'consumer',
              protocolName: this.protocol,
              assignments,
            }),
          decodeSyncGroupResponse,
          { timeoutMs: this.opts.rebalanceTimeoutMs + 5_000 },
        );
      } catch (e) {
        if (e instanceof KafkaError && e.code === ErrorCode.NETWORK_EXCEPTION) {
          this.coordinators.invalidate(groupId);
          continue;
        }
        throw e;
      }
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        this.generationId = -1;
        continue;
      }
      if (sync.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        this.generationId = -1;
        continue;
      }
      if (isCoordinatorError(sync.errorCode)) {
        this.coordinators.invalidate(groupId);
        continue;
      }
      if (sync.errorCode !== ErrorCode.NONE) throw new KafkaError(sync.errorCode, `SyncGroup ${groupId}`);
      const a = decodeAssignment(sync.assignment);
      this.assignment = a.assignedPartitions.flatMap((t) =>
        t.partitions.map((partition) => ({ topic: t.topic, partition })),
      );
      this.needsRejoin = false;
      this.startHeartbeat();
      return this.assignment;
    }
    throw new KafkaError(ErrorCode.REBALANCE_IN_PROGRESS, `could not join group ${groupId}`);
  }

  /** The leader's job: run the chosen assignor over every member's subscription. */
  private async assign(
    protocol: string,
    members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>,
  ): Promise<Array<{ memberId: string; assignment: Buffer }>> {
    const assignor = ASSIGNORS[protocol];
    if (!assignor) throw new KafkaError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `unknown assignor ${protocol}`);
    const subs = members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      topics: decodeSubscription(m.metadata).topics,
    }));
    const topics = [...new Set(subs.flatMap((s) => s.topics))].sort();
    const counts = new Map<string, number>();
    if (topics.length > 0) {
      const res = await this.md.fetch(topics, false);
      for (const t of res.topics) if (t.errorCode === ErrorCode.NONE && t.name) counts.set(t.name, t.partitions.length);
    }
    this.assignedCounts = counts;
    const result = assignor(subs, counts);
    return subs.map((s) => ({
      memberId: s.memberId,
      assignment: encodeAssignment({
        assignedPartitions: [...(result.get(s.memberId) ?? new Map<string, number[]>())].map(([topic, partitions]) => ({
          topic,
          partitions,
        })),
        userData: null,
      }),
    }));
  }

  /**
   * As leader, whether a subscribed topic's partition count differs from the one the assignment used
   * (Java's leader rejoins then, so new partitions get consumers).
   */
  async metadataChanged(): Promise<boolean> {
    if (!this.leader || !this.assignedCounts || this.topics.length === 0) return false;
    const res = await this.md.fetch(this.topics, false);
    for (const t of res.topics) {
      if (!t.name) continue;
      const n = t.errorCode === ErrorCode.NONE ? t.partitions.length : undefined;
      if (n !== this.assignedCounts.get(t.name)) return true;
    }
    return false;
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.opts.heartbeatIntervalMs);
    this.heartbeatTimer.unref?.();
  }

  stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** One heartbeat; exposed so the consumer can heartbeat before a long operation. */
  async heartbeat(): Promise<void> {
    if (this.heartbeating || this.needsRejoin) return;
    this.heartbeating = true;
    const { groupId } = this.opts;
    try {
      const conn = await this.coordinators.connection(groupId);
      const v = conn.versionFor(12, 0, 4);
      const res = await conn.send(
        12,
        v,
        (w) =>
          encodeHeartbeatRequest(w, v, {
            groupId,
            generationId: this.generationId,
            memberId: this.memberId,
            groupInstanceId: this.opts.groupInstanceId,
          }),
        decodeHeartbeatResponse,
      );
      const code = res.errorCode;
      if (code === ErrorCode.REBALANCE_IN_PROGRESS || code === ErrorCode.ILLEGAL_GENERATION) this.needsRejoin = true;
      else if (code === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        this.generationId = -1;
        this.needsRejoin = true;
      } else if (isCoordinatorError(code)) this.coordinators.invalidate(groupId);
      else if (code !== ErrorCode.NONE) this.opts.logger?.warn({ groupId, error: code }, 'heartbeat failed');
      if (this.needsRejoin) this.stopHeartbeat();
    } catch (e) {
      this.coordinators.invalidate(groupId);
      this.opts.logger?.debug({ groupId, err: e }, 'heartbeat failed');
    } finally {
      this.heartbeating = false;
    }
  }

  /**
   * Leave the group (LeaveGroup; v3+ names the member in a list). A static member (groupInstanceId) does not
   * send it, as in Kafka: its partitions wait for it until the session times out, with no rebalance.
   */
  async leave(): Promise<void> {
    this.stopHeartbeat();
    if (!this.memberId || this.opts.groupInstanceId !== null) return;
    const { groupId } = this.opts;
    try {
      const conn = await this.coordinators.connection(groupId);
      const v = conn.versionFor(13, 0, 5);
      await conn.send(
        13,
        v,
        (w) =>
          encodeLeaveGroupRequest(w, v, {
            groupId,
            memberId: this.memberId,
            members: [
              {
                memberId: this.memberId,
                groupInstanceId: this.opts.groupInstanceId,
                reason: 'the consumer is being closed',
              },
            ],
          }),
        decodeLeaveGroupResponse,
      );
    } catch (e) {
      this.opts.logger?.debug({ groupId, err: e }, 'LeaveGroup failed');
    }
    this.memberId = '';
    this.generationId = -1;
    this.assignment = [];
    this.needsRejoin = true;
  }
}
