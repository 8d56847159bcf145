/**
 * KIP-848 group state survives kill -9 of a real `runnel start` process: two members (raw
 * ConsumerGroupHeartbeat v1) settle on disjoint assignments of a 4-partition topic and commit with
 * OffsetCommit v9; the broker is killed with SIGKILL and restarted on the same data directory; the members
 * go on heartbeating with their old member ids and epochs (accepted, not fenced; assignments unchanged),
 * ConsumerGroupDescribe shows the same group, OffsetFetch v9 checks the member epoch, and a member that
 * leaves is gone after a second kill -9 too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrokerProcess, waitExit, type BrokerProcess } from '../../helpers/broker-process.js';
import { RawClient } from '../../helpers/raw-client.js';
import { call } from '../../helpers/test-broker.js';
import {
  defaultConsumerGroupHeartbeatRequest,
  encodeConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatRequest,
} from '../../../protocol/generated/consumer-group-heartbeat-request.js';
import {
  decodeConsumerGroupHeartbeatResponse,
  type ConsumerGroupHeartbeatResponse,
} from '../../../protocol/generated/consumer-group-heartbeat-response.js';
import { encodeConsumerGroupDescribeRequest } from '../../../protocol/generated/consumer-group-describe-request.js';
import {
  decodeConsumerGroupDescribeResponse,
  type ConsumerGroupDescribeResponse,
} from '../../../protocol/generated/consumer-group-describe-response.js';
import {
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestCreatableTopic,
  encodeCreateTopicsRequest,
} from '../../../protocol/generated/create-topics-request.js';
import { decodeCreateTopicsResponse } from '../../../protocol/generated/create-topics-response.js';
import {
  defaultOffsetCommitRequest,
  encodeOffsetCommitRequest,
} from '../../../protocol/generated/offset-commit-request.js';
import { decodeOffsetCommitResponse } from '../../../protocol/generated/offset-commit-response.js';
import {
  defaultOffsetFetchRequest,
  encodeOffsetFetchRequest,
} from '../../../protocol/generated/offset-fetch-request.js';
import { decodeOffsetFetchResponse } from '../../../protocol/generated/offset-fetch-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const GROUP = 'kip848-crash';
const TOPIC = 'kip848-crash-topic';
type TP = { topicId: string; partitions: number[] }[];

/** Heartbeat, retrying (bounded) while the coordinator is still loading. */
async function hb(c: RawClient, over: Partial<ConsumerGroupHeartbeatRequest>): Promise<ConsumerGroupHeartbeatResponse> {
  for (let i = 0; ; i++) {
    const r = await call(c, 68, 1, encodeConsumerGroupHeartbeatRequest, decodeConsumerGroupHeartbeatResponse, {
      ...defaultConsumerGroupHeartbeatRequest(),
      groupId: GROUP,
      ...over,
    });
    if (r.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || i >= 50) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

class Member {
  epoch = 0;
  owned: TP = [];
  constructor(
    public c: RawClient,
    readonly id: string,
  ) {}
  async join(): Promise<void> {
    const r = await hb(this.c, {
      memberId: this.id,
      memberEpoch: 0,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: [TOPIC],
      serverAssignor: 'range',
      topicPartitions: [],
    });
    this.take(r);
  }
  async beat(): Promise<ConsumerGroupHeartbeatResponse> {
    const r = await hb(this.c, { memberId: this.id, memberEpoch: this.epoch, topicPartitions: this.owned });
    this.take(r);
    return r;
  }
  private take(r: ConsumerGroupHeartbeatResponse): void {
    assert.equal(r.errorCode, ErrorCode.NONE, `${this.id}: ${r.errorCode} ${r.errorMessage ?? ''}`);
    this.epoch = r.memberEpoch;
    if (r.assignment) this.owned = r.assignment.topicPartitions;
  }
  keys(): string[] {
    return this.owned.flatMap((t) => t.partitions.map((p) => `${t.topicId}:${p}`)).sort();
  }
}

function describe(c: RawClient): Promise<ConsumerGroupDescribeResponse> {
  return call(c, 69, 1, encodeConsumerGroupDescribeRequest, decodeConsumerGroupDescribeResponse, {
    groupIds: [GROUP],
    includeAuthorizedOperations: false,
  });
}

function summary(d: ConsumerGroupDescribeResponse): unknown {
  const g = d.groups[0]!;
  return {
    errorCode: g.errorCode,
    state: g.groupState,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    members: g.members
      .map((m) => ({
        id: m.memberId,
        epoch: m.memberEpoch,
        assigned: m.assignment.topicPartitions.map((t) => [t.topicName, [...t.partitions].sort()]),
        target: m.targetAssignment.topicPartitions.map((t) => [t.topicName, [...t.partitions].sort()]),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1)),
  };
}

test('KIP-848 members keep their ids, epochs and assignments across kill -9', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-kip848-crash-'));
  const extra = ['--set', 'offsets.topic.num.partitions=5', '--set', 'group.consumer.session.timeout.ms=30000'];
  const procs: BrokerProcess[] = [];
  const clients: RawClient[] = [];
  const restart = async (): Promise<RawClient> => {
    const prev = procs.at(-1);
    if (prev) {
      prev.child.kill('SIGKILL');
      await waitExit(prev.child);
    }
    const p = await startBrokerProcess(dataDir, extra);
    procs.push(p);
    const c = await RawClient.connect(p.port);
    clients.push(c);
    return c;
  };
  try {
    let c = await restart();
    const ct = await call(c, 19, 7, encodeCreateTopicsRequest, decodeCreateTopicsResponse, {
      ...defaultCreateTopicsRequest(),
      topics: [{ ...defaultCreateTopicsRequestCreatableTopic(), name: TOPIC, numPartitions: 4, replicationFactor: 1 }],
    });
    assert.equal(ct.topics[0]!.errorCode, ErrorCode.NONE);
    const a = new Member(c, 'member-a-0000000000000');
    const b = new Member(c, 'member-b-0000000000000');
    await a.join();
    await b.join();
    for (let i = 0; i < 8; i++) {
      await a.beat();
      await b.beat();
    }
    assert.equal(a.keys().length, 2);
    assert.equal(b.keys().length, 2);
    assert.equal(new Set([...a.keys(), ...b.keys()]).size, 4);
    const commit = await call(c, 8, 9, encodeOffsetCommitRequest, decodeOffsetCommitResponse, {
      ...defaultOffsetCommitRequest(),
      groupId: GROUP,
      generationIdOrMemberEpoch: a.epoch,
      memberId: a.id,
      topics: [
        {
          name: TOPIC,
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 17n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: 'kept',
            },
          ],
        },
      ],
    });
    assert.equal(commit.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    const before = summary(await describe(c));
    const [ea, eb, ka, kb] = [a.epoch, b.epoch, a.keys(), b.keys()];

    c = await restart();
    a.c = c;
    b.c = c;
    // Old member ids and epochs are accepted (no FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID), nothing moves.
    const ra = await a.beat();
    const rb = await b.beat();
    assert.equal(ra.memberEpoch, ea);
    assert.equal(rb.memberEpoch, eb);
    assert.deepEqual(a.keys(), ka);
    assert.deepEqual(b.keys(), kb);
    assert.deepEqual(summary(await describe(c)), before);
    const fetch = (memberId: string | null, memberEpoch: number) =>
      call(c, 9, 9, encodeOffsetFetchRequest, decodeOffsetFetchResponse, {
        ...defaultOffsetFetchRequest(),
        groups: [
          {
            groupId: GROUP,
            memberId,
            memberEpoch,
            topics: [{ name: TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionIndexes: [0] }],
          },
        ],
      });
    const f = await fetch(a.id, a.epoch);
    assert.equal(f.groups[0]!.errorCode, ErrorCode.NONE);
    assert.equal(f.groups[0]!.topics[0]!.partitions[0]!.committedOffset, 17n);
    assert.equal(f.groups[0]!.topics[0]!.partitions[0]!.metadata, 'kept');
    assert.equal((await fetch(a.id, a.epoch + 1)).groups[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal((await fetch('stranger', 1)).groups[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);

    // b leaves; after another kill -9, a takes all partitions and b is unknown.
    assert.equal((await hb(c, { memberId: b.id, memberEpoch: -1 })).errorCode, ErrorCode.NONE);
    c = await restart();
    a.c = c;
    for (let i = 0; i < 4; i++) await a.beat();
    assert.equal(a.keys().length, 4);
    const d = await describe(c);
    assert.deepEqual(
      d.groups[0]!.members.map((m) => m.memberId),
      [a.id],
    );
    assert.equal((await hb(c, { memberId: b.id, memberEpoch: eb })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  } finally {
    for (const x of clients) x.close();
    for (const p of procs) {
      p.child.kill('SIGKILL');
      await waitExit(p.child);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
});
