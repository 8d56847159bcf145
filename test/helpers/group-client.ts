/**
 * Raw-protocol helpers for the group-coordinator handler tests: one call per API at a given version,
 * built from the generated codecs' defaults plus overrides.
 */
import { call } from './test-broker.js';
import type { RawClient } from './raw-client.js';
import {
  defaultJoinGroupRequest,
  encodeJoinGroupRequest,
  type JoinGroupRequest,
} from '../../protocol/generated/join-group-request.js';
import { decodeJoinGroupResponse, type JoinGroupResponse } from '../../protocol/generated/join-group-response.js';
import {
  defaultSyncGroupRequest,
  encodeSyncGroupRequest,
  type SyncGroupRequest,
} from '../../protocol/generated/sync-group-request.js';
import { decodeSyncGroupResponse, type SyncGroupResponse } from '../../protocol/generated/sync-group-response.js';
import {
  defaultHeartbeatRequest,
  encodeHeartbeatRequest,
  type HeartbeatRequest,
} from '../../protocol/generated/heartbeat-request.js';
import { decodeHeartbeatResponse, type HeartbeatResponse } from '../../protocol/generated/heartbeat-response.js';
import {
  defaultLeaveGroupRequest,
  encodeLeaveGroupRequest,
  type LeaveGroupRequest,
} from '../../protocol/generated/leave-group-request.js';
import { decodeLeaveGroupResponse, type LeaveGroupResponse } from '../../protocol/generated/leave-group-response.js';
import {
  defaultOffsetCommitRequest,
  encodeOffsetCommitRequest,
  type OffsetCommitRequest,
} from '../../protocol/generated/offset-commit-request.js';
import {
  decodeOffsetCommitResponse,
  type OffsetCommitResponse,
} from '../../protocol/generated/offset-commit-response.js';
import {
  defaultOffsetFetchRequest,
  encodeOffsetFetchRequest,
  type OffsetFetchRequest,
} from '../../protocol/generated/offset-fetch-request.js';
import { decodeOffsetFetchResponse, type OffsetFetchResponse } from '../../protocol/generated/offset-fetch-response.js';

/** ConsumerProtocolSubscription v0: ["t"], no user data. */
export const SUB = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 0]);

export function joinGroup(c: RawClient, v: number, over: Partial<JoinGroupRequest>): Promise<JoinGroupResponse> {
  const req = {
    ...defaultJoinGroupRequest(),
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: SUB }],
    ...over,
  };
  return call(c, 11, v, encodeJoinGroupRequest, decodeJoinGroupResponse, req, 20_000);
}

export function syncGroup(c: RawClient, v: number, over: Partial<SyncGroupRequest>): Promise<SyncGroupResponse> {
  return call(
    c,
    14,
    v,
    encodeSyncGroupRequest,
    decodeSyncGroupResponse,
    { ...defaultSyncGroupRequest(), ...over },
    20_000,
  );
}

export function heartbeat(c: RawClient, v: number, over: Partial<HeartbeatRequest>): Promise<HeartbeatResponse> {
  return call(c, 12, v, encodeHeartbeatRequest, decodeHeartbeatResponse, { ...defaultHeartbeatRequest(), ...over });
}

export function leaveGroup(c: RawClient, v: number, over: Partial<LeaveGroupRequest>): Promise<LeaveGroupResponse> {
  return call(c, 13, v, encodeLeaveGroupRequest, decodeLeaveGroupResponse, { ...defaultLeaveGroupRequest(), ...over });
}

export function commit(c: RawClient, v: number, over: Partial<OffsetCommitRequest>): Promise<OffsetCommitResponse> {
  return call(c, 8, v, encodeOffsetCommitRequest, decodeOffsetCommitResponse, {
    ...defaultOffsetCommitRequest(),
    ...over,
  });
}

/**
 * OffsetCommit v8 of `topic`'s partitions 0-3 at offset round*10+p, metadata `metadata(p)`, as a simple consumer
 * (or `member`'s generation); returns the partitions' error codes.
 */
export async function commitFour(
  c: RawClient,
  topic: string,
  groupId: string,
  round: number,
  metadata: (p: number) => string,
  member: { memberId: string; generationId: number } | null = null,
): Promise<number[]> {
  const r = await commit(c, 8, {
    groupId,
    generationIdOrMemberEpoch: member?.generationId ?? -1,
    memberId: member?.memberId ?? '',
    topics: [
      {
        name: topic,
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [0, 1, 2, 3].map((p) => ({
          partitionIndex: p,
          committedOffset: BigInt(round * 10 + p),
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: metadata(p),
        })),
      },
    ],
  });
  return r.topics[0]!.partitions.map((p) => p.errorCode);
}

export function fetchCommitted(
  c: RawClient,
  v: number,
  over: Partial<OffsetFetchRequest>,
): Promise<OffsetFetchResponse> {
  return call(c, 9, v, encodeOffsetFetchRequest, decodeOffsetFetchResponse, {
    ...defaultOffsetFetchRequest(),
    ...over,
  });
}

/** Join (answering MEMBER_ID_REQUIRED if needed) and sync a one-member group; returns its member id and generation. */
export async function joinAndSync(
  c: RawClient,
  v: { join: number; sync: number },
  groupId: string,
  clientAssignment = Buffer.from('asg'),
): Promise<{ memberId: string; generationId: number }> {
  let j = await joinGroup(c, v.join, { groupId });
  if (j.errorCode === 79) j = await joinGroup(c, v.join, { groupId, memberId: j.memberId });
  if (j.errorCode !== 0) throw new Error(`join failed: ${j.errorCode}`);
  const s = await syncGroup(c, v.sync, {
    groupId,
    generationId: j.generationId,
    memberId: j.memberId,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: j.memberId, assignment: clientAssignment }],
  });
  if (s.errorCode !== 0) throw new Error(`sync failed: ${s.errorCode}`);
  return { memberId: j.memberId, generationId: j.generationId };
}
