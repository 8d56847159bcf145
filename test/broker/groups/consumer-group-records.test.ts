/**
 * Durable KIP-848 consumer groups (consumer-group-records.ts) with a fake clock and an in-memory group log:
 * the record layouts byte for byte, replay to the same state (members keep ids, epochs, assignments and
 * pending revocations; a heartbeat with the stored epoch is accepted), session timers restarted on load,
 * tombstones when a member leaves and when the group is deleted (DeleteGroups: NON_EMPTY_GROUP first),
 * a failed write rewritten with the next change, the OffsetCommit/OffsetFetch member-epoch checks,
 * OffsetDelete of subscribed topics, and expiry of an empty group's offsets (the group goes with them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FakeClock } from '../../../storage/clock.js';
import { GroupCoordinator } from '../../../broker/groups/coordinator.js';
import {
  ConsumerGroupManager,
  type HeartbeatParams,
  type HeartbeatResult,
} from '../../../broker/groups/consumer-group.js';
import {
  cgKey,
  ConsumerGroupStore,
  currentAssignmentValue,
  decodeCgKey,
  decodeMetadataValue,
  metadataValue,
  targetMetadataValue,
  CG_CURRENT_ASSIGNMENT,
  CG_MEMBER,
  CG_METADATA,
  CG_TARGET_MEMBER,
} from '../../../broker/groups/consumer-group-records.js';
import { MemoryGroupLog } from '../../../broker/groups/offsets-log.js';
import {
  commitOffsets,
  deleteGroups,
  deleteOffsets,
  expireOffsets,
  fetchOffsets,
} from '../../../broker/groups/offsets.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const uuid = (): string => randomBytes(16).toString('base64url');
const TOPICS = new Map([
  ['a', { name: 'a', topicId: uuid(), partitions: 6 }],
  ['b', { name: 'b', topicId: uuid(), partitions: 3 }],
]);

/** A node: coordinator + consumer-group manager + store over a shared log (one per "process"). */
function node(log: MemoryGroupLog, clock = new FakeClock(1_000_000)) {
  const c = new GroupCoordinator(
    {
      initialRebalanceDelayMs: 0,
      minSessionTimeoutMs: 10,
      maxSessionTimeoutMs: 100_000,
      maxSize: 10,
      offsetsRetentionMs: 60_000,
      offsetsRetentionCheckIntervalMs: 10_000,
    },
    clock,
    log,
  );
  const m = new ConsumerGroupManager(
    { heartbeatIntervalMs: 1000, sessionTimeoutMs: 5000, assignors: ['uniform', 'range'], maxSize: 10 },
    clock,
    {
      byName: (n) => TOPICS.get(n),
      byId: (id) => [...TOPICS.values()].find((t) => t.topicId === id),
    },
  );
  m.allTopicNames = () => [...TOPICS.keys()];
  m.store = new ConsumerGroupStore(m, log, clock);
  c.consumer = m;
  return { c, m, clock };
}

function replayInto(log: MemoryGroupLog, clock = new FakeClock(2_000_000)) {
  const n = node(log, clock);
  n.c.loading = true;
  for (const r of log.records) n.c.applyRecord(r.key, r.value);
  n.c.finishLoading();
  return n;
}

function hb(over: Partial<HeartbeatParams>): HeartbeatParams {
  return {
    groupId: 'g',
    memberId: '',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: -1,
    subscribedTopicNames: null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    ownedTopicPartitions: null,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    version: 1,
    ...over,
  };
}

type TP = { topicId: string; partitions: number[] }[];
class Client {
  epoch = 0;
  owned: TP = [];
  constructor(
    public m: ConsumerGroupManager,
    readonly id: string,
  ) {}
  async send(p: Partial<HeartbeatParams>): Promise<HeartbeatResult> {
    const r = this.m.heartbeat(hb({ memberId: this.id, ...p }));
    await this.m.flush('g');
    if (r.errorCode === ErrorCode.NONE) {
      this.epoch = r.memberEpoch;
      if (r.assignment) this.owned = r.assignment;
    }
    return r;
  }
  join(): Promise<HeartbeatResult> {
    return this.send({
      memberEpoch: 0,
      rebalanceTimeoutMs: 10_000,
      subscribedTopicNames: ['a', 'b'],
      ownedTopicPartitions: [],
      serverAssignor: 'range',
    });
  }
  beat(): Promise<HeartbeatResult> {
    return this.send({ memberEpoch: this.epoch, ownedTopicPartitions: this.owned });
  }
}

/** Everything about a group that must survive a restart. */
function snapshot(m: ConsumerGroupManager): unknown {
  const g = m.groups.get('g');
  if (!g) return undefined;
  const a = (x: Map<string, Set<number>>) => [...x].map(([t, s]) => [t, [...s].sort()]).sort();
  return {
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    assignor: g.assignorName,
    state: g.state,
    target: [...g.targetAssignment].map(([id, x]) => [id, a(x)]).sort(),
    members: [...g.members.values()]
      .map((x) => ({
        id: x.memberId,
        epoch: x.memberEpoch,
        prev: x.previousMemberEpoch,
        state: x.state,
        assigned: a(x.assigned),
        pending: a(x.pendingRevocation),
        subs: x.subscribedTopicNames,
        regex: x.subscribedTopicRegex,
        assignor: x.serverAssignor,
        rebalance: x.rebalanceTimeoutMs,
        client: x.clientId,
        host: x.clientHost,
        instance: x.instanceId,
        left: x.leftTemporarily,
      }))
      .sort((p, q) => (p.id < q.id ? -1 : 1)),
  };
}

test("record layouts are Kafka's: non-flexible keys, flexible version-0 values with tagged fields", () => {
  // ConsumerGroupTargetAssignmentMetadataKey: version 6, group string.
  assert.deepEqual(cgKey(6, 'g'), Buffer.from([0, 6, 0, 1, 0x67]));
  // ConsumerGroupCurrentMemberAssignmentKey: version 8, group, member.
  assert.deepEqual(cgKey(CG_CURRENT_ASSIGNMENT, 'g', 'm'), Buffer.from([0, 8, 0, 1, 0x67, 0, 1, 0x6d]));
  assert.deepEqual(decodeCgKey(cgKey(CG_MEMBER, 'grp', 'mem')), { type: CG_MEMBER, groupId: 'grp', memberId: 'mem' });
  assert.equal(
    decodeCgKey(Buffer.from([0, 1, 0, 1, 0x67, 0, 1, 0x74, 0, 0, 0, 0])),
    undefined,
    'offset commit keys are not consumer-group keys',
  );
  // ConsumerGroupTargetAssignmentMetadataValue: version 0, AssignmentEpoch int32, no tagged fields.
  assert.deepEqual(targetMetadataValue(5), Buffer.from([0, 0, 0, 0, 0, 5, 0]));
  // ConsumerGroupMetadataValue: Epoch, then MetadataHash as tag 0 (8 bytes).
  const mv = metadataValue(7, 0x0102030405060708n);
  assert.deepEqual(mv, Buffer.from([0, 0, 0, 0, 0, 7, 1, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]));
  assert.deepEqual(decodeMetadataValue(mv), { epoch: 7, metadataHash: 0x0102030405060708n });
  // ConsumerGroupCurrentMemberAssignmentValue: epochs, state int8, two TopicPartitions arrays.
  const id = Buffer.alloc(16, 0xab).toString('base64url');
  const v = currentAssignmentValue({
    memberId: 'm',
    instanceId: null,
    rackId: null,
    clientId: '',
    clientHost: '',
    memberEpoch: 4,
    previousMemberEpoch: 3,
    rebalanceTimeoutMs: 1,
    subscribedTopicNames: [],
    subscribedTopicRegex: null,
    serverAssignor: null,
    state: 'UNREVOKED_PARTITIONS',
    assigned: new Map([[id, new Set([2, 1])]]),
    pendingRevocation: new Map(),
    leftTemporarily: false,
  });
  const expected = Buffer.concat([
    Buffer.from([0, 0, 0, 0, 0, 4, 0, 0, 0, 3, 1]),
    Buffer.from([2]),
    Buffer.alloc(16, 0xab),
    Buffer.from([3, 0, 0, 0, 1, 0, 0, 0, 2, 0]),
    Buffer.from([1]),
    Buffer.from([0]),
  ]);
  assert.deepEqual(v, expected);
});

test('a consumer group replays to the same state; members keep their epochs; sessions restart on load', async () => {
  const log = new MemoryGroupLog();
  const n1 = node(log);
  const x = new Client(n1.m, 'member-x');
  const y = new Client(n1.m, 'member-y');
  await x.join();
  await y.join(); // x must now revoke: caught mid-reconciliation
  await x.beat();
  const mid = snapshot(n1.m);
  const n2 = replayInto(log);
  assert.deepEqual(snapshot(n2.m), mid, 'state mid-reconciliation replays exactly');
  for (let i = 0; i < 6; i++) {
    await x.beat();
    await y.beat();
  }
  const written = log.records.length;
  await x.beat();
  await y.beat();
  assert.equal(log.records.length, written, 'steady-state heartbeats write nothing');
  const settled = snapshot(n1.m) as { members: { epoch: number; assigned: unknown[] }[] };
  assert.ok(settled.members.every((mm) => mm.assigned.length > 0));
  n1.m.shutdown();

  const n3 = replayInto(log);
  assert.deepEqual(snapshot(n3.m), settled);
  // The clients continue against the restarted node with their ids and epochs: accepted, not fenced.
  x.m = n3.m;
  y.m = n3.m;
  const ex = x.epoch;
  const rx = await x.beat();
  assert.equal(rx.errorCode, ErrorCode.NONE, rx.errorMessage ?? '');
  assert.equal(rx.memberEpoch, ex);
  // Sessions were restarted on load: y stays silent and is removed after the session timeout; x is kept.
  n3.clock.advance(3000);
  await x.beat();
  n3.clock.advance(2500);
  await n3.m.flush('g');
  const g = n3.m.groups.get('g')!;
  assert.deepEqual([...g.members.keys()], ['member-x']);
  // Its removal was written as tombstones for its member, target and current-assignment records.
  const gone = log.records.filter((r) => r.value === null).map((r) => decodeCgKey(r.key));
  assert.deepEqual(
    gone.map((k) => [k!.type, k!.memberId]).sort(),
    [
      [CG_MEMBER, 'member-y'],
      [CG_TARGET_MEMBER, 'member-y'],
      [CG_CURRENT_ASSIGNMENT, 'member-y'],
    ].sort(),
  );
  const n4 = replayInto(log);
  assert.deepEqual([...n4.m.groups.get('g')!.members.keys()], ['member-x']);
  n3.m.shutdown();
  n4.m.shutdown();
});

test('DeleteGroups: NON_EMPTY_GROUP with members; an empty group is deleted (tombstones), stays deleted', async () => {
  const log = new MemoryGroupLog();
  const { c, m } = node(log);
  const x = new Client(m, 'mx');
  await x.join();
  const a = TOPICS.get('a')!;
  assert.deepEqual(
    await commitOffsets(
      c,
      {
        groupId: 'g',
        generationId: x.epoch,
        memberId: 'mx',
        groupInstanceId: null,
        partitions: [{ topic: 'a', partition: 0, offset: 42, leaderEpoch: -1, metadata: 'md' }],
        apiVersion: 9,
      },
      () => a.partitions,
    ),
    [0],
  );
  assert.deepEqual(await deleteGroups(c, ['g']), [{ groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP }]);
  const r = await x.send({ memberEpoch: -1 });
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(m.groups.get('g')!.state, 'Empty');
  const before = log.records.length;
  assert.deepEqual(await deleteGroups(c, ['g']), [{ groupId: 'g', errorCode: ErrorCode.NONE }]);
  const written = log.records.slice(before);
  assert.ok(
    written.every((w) => w.value === null),
    'only tombstones',
  );
  assert.equal(decodeCgKey(written.at(-1)!.key)?.type, CG_METADATA, 'the group metadata tombstone comes last');
  assert.ok(
    written.some((w) => w.key.readInt16BE(0) === 1),
    'the committed offset is tombstoned too',
  );
  assert.equal(m.groups.has('g'), false);
  assert.equal(fetchOffsets(c, 'g', [{ name: 'a', partitions: [0] }]).offsets[0]!.offset, -1);
  const n2 = replayInto(log);
  assert.equal(n2.m.groups.has('g'), false);
  assert.equal(n2.c.groups.has('g'), false);
  assert.deepEqual(await deleteGroups(c, ['g']), [{ groupId: 'g', errorCode: ErrorCode.GROUP_ID_NOT_FOUND }]);
  m.shutdown();
});

test('a failed write answers an error and the group is written in full with its next change', async () => {
  const log = new MemoryGroupLog();
  const { m } = node(log);
  const x = new Client(m, 'mx');
  await x.join();
  log.failNext = true;
  const y = new Client(m, 'my');
  await assert.rejects(y.join());
  await x.beat();
  await y.beat();
  const n2 = replayInto(log);
  assert.deepEqual(snapshot(n2.m), snapshot(m));
  m.shutdown();
  n2.m.shutdown();
});

test('OffsetCommit / OffsetFetch member-epoch checks for KIP-848 groups', async () => {
  const log = new MemoryGroupLog();
  const { c, m } = node(log);
  const x = new Client(m, 'mx');
  await x.join();
  const parts = [{ topic: 'a', partition: 1, offset: 9, leaderEpoch: -1, metadata: null }];
  const commit = (memberId: string, epoch: number, apiVersion = 9) =>
    commitOffsets(
      c,
      { groupId: 'g', generationId: epoch, memberId, groupInstanceId: null, partitions: parts, apiVersion },
      () => 6,
    );
  assert.deepEqual(await commit('mx', x.epoch + 1), [ErrorCode.STALE_MEMBER_EPOCH]);
  assert.deepEqual(await commit('mx', x.epoch - 1), [ErrorCode.STALE_MEMBER_EPOCH]);
  assert.deepEqual(await commit('nobody', x.epoch), [ErrorCode.UNKNOWN_MEMBER_ID]);
  assert.deepEqual(await commit('', -1), [ErrorCode.UNKNOWN_MEMBER_ID], 'an admin commit needs an empty group');
  assert.deepEqual(await commit('mx', x.epoch, 8), [ErrorCode.UNSUPPORTED_VERSION], 'KIP-848 members commit with v9+');
  assert.deepEqual(await commit('mx', x.epoch), [ErrorCode.NONE]);
  const t = [{ name: 'a', partitions: [1] }];
  assert.equal(fetchOffsets(c, 'g', t, { memberId: 'mx', memberEpoch: x.epoch }).offsets[0]!.offset, 9);
  assert.equal(fetchOffsets(c, 'g', t, { memberId: null, memberEpoch: -1 }).offsets[0]!.offset, 9, 'admin fetch');
  assert.equal(fetchOffsets(c, 'g', t).offsets[0]!.offset, 9, 'OffsetFetch below v9');
  assert.equal(
    fetchOffsets(c, 'g', t, { memberId: 'mx', memberEpoch: x.epoch + 3 }).errorCode,
    ErrorCode.STALE_MEMBER_EPOCH,
  );
  assert.equal(fetchOffsets(c, 'g', t, { memberId: 'zz', memberEpoch: 1 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  // OffsetDelete: a topic the members subscribe to is GROUP_SUBSCRIBED_TO_TOPIC; once empty it can go.
  assert.deepEqual((await deleteOffsets(c, 'g', [{ topic: 'a', partition: 1 }])).codes, [
    ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC,
  ]);
  await x.send({ memberEpoch: -1 });
  assert.deepEqual((await deleteOffsets(c, 'g', [{ topic: 'a', partition: 1 }])).codes, [ErrorCode.NONE]);
  assert.equal(fetchOffsets(c, 'g', t).offsets[0]!.offset, -1);
  assert.deepEqual(await commit('', -1), [ErrorCode.NONE], 'the empty group takes admin commits');
  m.shutdown();
});

test("an empty KIP-848 group's offsets expire after the retention, and the group goes with them", async () => {
  const log = new MemoryGroupLog();
  const { c, m, clock } = node(log);
  const x = new Client(m, 'mx');
  await x.join();
  assert.deepEqual(
    await commitOffsets(
      c,
      {
        groupId: 'g',
        generationId: x.epoch,
        memberId: 'mx',
        groupInstanceId: null,
        partitions: [{ topic: 'a', partition: 2, offset: 5, leaderEpoch: -1, metadata: null }],
        apiVersion: 9,
      },
      () => 6,
    ),
    [0],
  );
  for (let i = 0; i < 14; i++) {
    clock.advance(4500); // past the retention (60 s), heartbeating within the session timeout (5 s)
    assert.equal((await x.beat()).errorCode, ErrorCode.NONE);
  }
  assert.equal(await expireOffsets(c), 0, 'not while the group has members');
  await x.send({ memberEpoch: -1 });
  clock.advance(10);
  assert.equal(await expireOffsets(c), 1);
  assert.equal(m.groups.has('g'), false);
  assert.equal(c.groups.has('g'), false);
  const n2 = replayInto(log);
  assert.equal(n2.m.groups.has('g'), false);
  assert.equal(n2.c.groups.has('g'), false);
  m.shutdown();
});

test('an unreadable record is skipped on replay; the records after it still apply', () => {
  const { c, m } = node(new MemoryGroupLog());
  c.loading = true;
  assert.doesNotThrow(() => c.applyRecord(cgKey(CG_MEMBER, 'g', 'm'), Buffer.from([0, 0, 5])));
  c.applyRecord(cgKey(CG_METADATA, 'g'), metadataValue(4, 0n));
  c.finishLoading();
  assert.equal(m.groups.get('g')?.groupEpoch, 4);
  assert.equal(m.groups.get('g')?.members.size, 0, 'the unreadable member record added nothing');
  m.shutdown();
});
