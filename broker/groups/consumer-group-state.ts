/**
 * The state of KIP-848 consumer groups (consumer-group.ts's ConsumerGroupManager owns and changes it): a group
 * with its group epoch, assignment epoch and target assignment; its members with their epochs, subscriptions,
 * assigned partitions and partitions pending revocation; and the ConsumerGroupHeartbeat parameters and result.
 *
 * Invariants (kept by the manager): assignmentEpoch <= groupEpoch; a member's memberEpoch is at most the
 * assignment epoch; a member's `assigned` and `pendingRevocation` are disjoint, and a partition is in at most
 * one member's `assigned`; `pendingRevocation` is non-empty exactly in state UNREVOKED_PARTITIONS.
 */
import type { TimerHandle } from '../../storage/clock.js';
import type { Assignment } from './assignors.js';

export interface ConsumerGroupConfig {
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  /** Enabled server assignors, the first being the default. */
  assignors: string[];
  maxSize: number;
}

/** What the manager needs of topic metadata. */
export interface TopicResolver {
  byName(name: string): { topicId: string; partitions: number } | undefined;
  byId(topicId: string): { name: string; partitions: number } | undefined;
}

export type MemberState = 'STABLE' | 'UNREVOKED_PARTITIONS' | 'UNRELEASED_PARTITIONS';

export interface ConsumerMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  memberEpoch: number;
  previousMemberEpoch: number;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  state: MemberState;
  /** Partitions the member may use. */
  assigned: Assignment;
  /** Partitions the member must give up before getting new ones. */
  pendingRevocation: Assignment;
  /** Static member that left with epoch -2 and may come back. */
  leftTemporarily: boolean;
  /**
   * Keeps the topics the member's principal may DESCRIBE, from its last heartbeat (in memory only; undefined
   * without an authorizer or for a member replayed from the log until it heartbeats): regex matches pass it.
   */
  topicFilter?: (names: string[]) => string[];
  sessionTimer?: TimerHandle;
  revocationTimer?: TimerHandle;
}

export class ConsumerGroup {
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerMember>();
  /** memberId → target assignment at assignmentEpoch. */
  targetAssignment = new Map<string, Assignment>();
  /** Fingerprint of the subscribed topics' metadata when the group epoch last moved. */
  metadataFingerprint = '';
  assignorName: string;
  constructor(
    readonly groupId: string,
    defaultAssignor: string,
  ) {
    this.assignorName = defaultAssignor;
  }

  /** Kafka's ConsumerGroupState names: Empty, Assigning, Reconciling, Stable. */
  get state(): string {
    if (this.members.size === 0) return 'Empty';
    if (this.assignmentEpoch < this.groupEpoch) return 'Assigning';
    for (const m of this.members.values())
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== 'STABLE') return 'Reconciling';
    return 'Stable';
  }
}

export interface HeartbeatParams {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  /** Owned partitions (topicId → partitions), null when unchanged. */
  ownedTopicPartitions: { topicId: string; partitions: number[] }[] | null;
  clientId: string;
  clientHost: string;
  /** Request version: v1+ requires a client-generated member id. */
  version: number;
  /** The requester's DESCRIBE filter for regex-matched topics (see ConsumerMember.topicFilter). */
  topicFilter?: (names: string[]) => string[];
}

export interface HeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicId: string; partitions: number[] }[] | null;
}

/** A member at epoch 0 with nothing assigned; `init` sets what the joining member told us. */
export function newMember(memberId: string, init: Partial<ConsumerMember> = {}): ConsumerMember {
  return {
    memberId,
    instanceId: null,
    rackId: null,
    clientId: '',
    clientHost: '',
    memberEpoch: 0,
    previousMemberEpoch: 0,
    rebalanceTimeoutMs: 0,
    subscribedTopicNames: [],
    subscribedTopicRegex: null,
    serverAssignor: null,
    state: 'STABLE',
    assigned: new Map(),
    pendingRevocation: new Map(),
    leftTemporarily: false,
    ...init,
  };
}
