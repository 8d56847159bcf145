/**
 * KIP-848 over the wire (raw client): ConsumerGroupHeartbeat joins, disjoint and complete assignments
 * (uniform and range), a third member gets partitions only after revocation, leave, session timeout,
 * errors, ConsumerGroupDescribe, ListGroups type "consumer", a classic join refused with
 * INCONSISTENT_GROUP_PROTOCOL, and OffsetCommit v9 with the member epoch.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testBroker, call } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import type { RunningBroker } from '../../../broker/index.js';
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
import { decodeConsumerGroupDescribeResponse } from '../../../protocol/generated/consumer-group-describe-response.js';
import { defaultListGroupsRequest, encodeListGroupsRequest } from '../../../protocol/generated/list-groups-request.js';
import { decodeListGroupsResponse } from '../../../protocol/generated/list-groups-response.js';
import { defaultJoinGroupRequest, encodeJoinGroupRequest } from '../../../protocol/generated/join-group-request.js';
import { decodeJoinGroupResponse } from '../../../protocol/generated/join-group-response.js';
import {
  defaultOffsetCommitRequest,
  encodeOffsetCommitRequest,
} from '../../../protocol/generated/offset-commit-request.js';
import { decodeOffsetCommitResponse } from '../../../protocol/generated/offset-commit-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

let b: RunningBroker;
let c: RawClient;
before(async () => {
  b = await testBroker({ config: { 'group.consumer.session.timeout.ms': 600, 'offsets.topic.num.partitions': 3 } });
  await b.broker.metadata.createTopic('cp', { partitions: 5 });
  c = await RawClient.connect(b.port);
});
after(async () => {
  c.socket.destroy();
  await b.stop();
});

type TP = { topicId: string; partitions: number[] }[];

function hb(over: Partial<ConsumerGroupHeartbeatRequest>, v = 1): Promise<ConsumerGroupHeartbeatResponse> {
  return call(c, 68, v, encodeConsumerGroupHeartbeatRequest, decodeConsumerGroupHeartbeatResponse, {
    ...defaultConsumerGroupHeartbeatRequest(),
    ...over,
  });
}

class M {
  epoch = 0;
  owned: TP = [];
  constructor(
    readonly group: string,
    readonly id: string,
  ) {}
  async join(assignor: string): Promise<void> {
    const r = await hb({
      groupId: this.group,
      memberId: this.id,
      memberEpoch: 0,
      rebalanceTimeoutMs: 5000,
      subscribedTopicNames: ['cp'],
      serverAssignor: assignor,
      topicPartitions: [],
    });
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
    this.epoch = r.memberEpoch;
    if (r.assignment) this.owned = r.assignment.topicPartitions;
  }
  async beat(): Promise<void> {
    const r = await hb({
      groupId: this.group,
      memberId: this.id,
      memberEpoch: this.epoch,
      topicPartitions: this.owned,
    });
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
    this.epoch = r.memberEpoch;
    if (r.assignment) this.owned = r.assignment.topicPartitions;
  }
  keys(): string[] {
    return this.owned.flatMap((t) => t.partitions.map((p) => `${t.topicId}:${p}`));
  }
}

async function settle(ms: M[]): Promise<void> {
  for (let i = 0; i < 6; i++) {
    for (const m of ms) {
      await m.beat();
      const all = ms.flatMap((x) => x.keys());
      assert.equal(new Set(all).size, all.length, 'a partition owned twice');
    }
  }
}

for (const assignor of ['uniform', 'range']) {
  test(`${assignor}: join, revoke-before-assign, leave`, async () => {
    const g = `cg-${assignor}`;
    const a = new M(g, `${g}-a`);
    const bb = new M(g, `${g}-b`);
    await a.join(assignor);
    assert.equal(a.keys().length, 5);
    await bb.join(assignor);
    assert.equal(bb.keys().length, 0);
    await settle([a, bb]);
    assert.equal(new Set([...a.keys(), ...bb.keys()]).size, 5);
    assert.ok(bb.keys().length >= 2);
    const x = new M(g, `${g}-x`);
    await x.join(assignor);
    assert.equal(x.keys().length, 0, 'partitions move only after revocation');
    await settle([a, bb, x]);
    assert.equal(new Set([...a.keys(), ...bb.keys(), ...x.keys()]).size, 5);
    assert.ok(x.keys().length >= 1);

    const d = await call(c, 69, 1, encodeConsumerGroupDescribeRequest, decodeConsumerGroupDescribeResponse, {
      groupIds: [g, 'nope'],
      includeAuthorizedOperations: false,
    });
    assert.equal(d.groups[0]!.errorCode, ErrorCode.NONE);
    assert.equal(d.groups[0]!.groupState, 'Stable');
    assert.equal(d.groups[0]!.assignorName, assignor);
    assert.equal(d.groups[0]!.members.length, 3);
    assert.equal(d.groups[0]!.members[0]!.assignment.topicPartitions[0]?.topicName, 'cp');
    assert.equal(d.groups[1]!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    const left = await hb({ groupId: g, memberId: bb.id, memberEpoch: -1 });
    assert.equal(left.memberEpoch, -1);
    await settle([a, x]);
    assert.equal(new Set([...a.keys(), ...x.keys()]).size, 5);
  });
}

test('errors, v0 server member id, ListGroups type, classic join refused, v9 commit epoch, session ends', async () => {
  assert.equal(
    (
      await hb({
        groupId: 'e',
        memberId: 'm',
        memberEpoch: 0,
        rebalanceTimeoutMs: 1000,
        subscribedTopicNames: ['cp'],
        serverAssignor: 'bogus',
        topicPartitions: [],
      })
    ).errorCode,
    ErrorCode.UNSUPPORTED_ASSIGNOR,
  );
  assert.equal(
    (await hb({ groupId: 'missing', memberId: 'm', memberEpoch: 1 })).errorCode,
    ErrorCode.GROUP_ID_NOT_FOUND,
  );
  const v0 = await hb(
    {
      groupId: 'e',
      memberId: '',
      memberEpoch: 0,
      rebalanceTimeoutMs: 1000,
      subscribedTopicNames: ['cp'],
      topicPartitions: [],
    },
    0,
  );
  assert.equal(v0.errorCode, ErrorCode.NONE);
  assert.ok(v0.memberId);
  assert.equal((await hb({ groupId: 'e', memberId: 'ghost', memberEpoch: 1 })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(
    (await hb({ groupId: 'e', memberId: v0.memberId!, memberEpoch: v0.memberEpoch + 5 })).errorCode,
    ErrorCode.FENCED_MEMBER_EPOCH,
  );

  const lg = await call(c, 16, 5, encodeListGroupsRequest, decodeListGroupsResponse, {
    ...defaultListGroupsRequest(),
    typesFilter: ['consumer'],
  });
  assert.ok(lg.groups.some((x) => x.groupId === 'e' && x.groupType === 'consumer'));

  const j = await call(c, 11, 9, encodeJoinGroupRequest, decodeJoinGroupResponse, {
    ...defaultJoinGroupRequest(),
    groupId: 'e',
    memberId: '',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
  });
  assert.equal(j.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);

  const commit = (epoch: number) =>
    call(c, 8, 9, encodeOffsetCommitRequest, decodeOffsetCommitResponse, {
      ...defaultOffsetCommitRequest(),
      groupId: 'e',
      generationIdOrMemberEpoch: epoch,
      memberId: v0.memberId!,
      topics: [
        {
          name: 'cp',
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 0n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: null,
            },
          ],
        },
      ],
    });
  assert.equal((await commit(v0.memberEpoch)).topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.equal((await commit(v0.memberEpoch - 1)).topics[0]!.partitions[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH);

  // Session timeout (600 ms here): a silent member is removed.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(
    (await hb({ groupId: 'e', memberId: v0.memberId!, memberEpoch: v0.memberEpoch })).errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
});
