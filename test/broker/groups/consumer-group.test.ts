/**
 * The KIP-848 consumer group state machine (ConsumerGroupManager) and the server assignors, with a fake
 * clock and an in-memory topic table: joins, disjoint and complete assignments, revoke-before-assign,
 * leave, static leave/rejoin, session timeout, rebalance-timeout fencing, epoch errors, subscription and
 * partition-count changes, offset-commit epoch checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../storage/clock.js';
import {
  ConsumerGroupManager,
  type HeartbeatParams,
  type HeartbeatResult,
} from '../../../broker/groups/consumer-group.js';
import { rangeAssignor, uniformAssignor, type Assignment } from '../../../broker/groups/assignors.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

type TP = { topicId: string; partitions: number[] }[];

function setup(
  topics: Record<string, number> = { a: 6, b: 3 },
  over: Partial<ConstructorParameters<typeof ConsumerGroupManager>[0]> = {},
) {
  const clock = new FakeClock(1_000_000);
  const table = new Map(
    Object.entries(topics).map(([name, n]) => [name, { name, topicId: `id-${name}`, partitions: n }]),
  );
  const m = new ConsumerGroupManager(
    { heartbeatIntervalMs: 5000, sessionTimeoutMs: 45_000, assignors: ['uniform', 'range'], maxSize: 100, ...over },
    clock,
    {
      byName: (n) => table.get(n),
      byId: (id) => [...table.values()].find((t) => t.topicId === id),
    },
  );
  m.allTopicNames = () => [...table.keys()];
  return { m, clock, table };
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

function join(
  m: ConsumerGroupManager,
  memberId: string,
  topics = ['a', 'b'],
  extra: Partial<HeartbeatParams> = {},
): HeartbeatResult {
  return m.heartbeat(
    hb({
      memberId,
      memberEpoch: 0,
      rebalanceTimeoutMs: 10_000,
      subscribedTopicNames: topics,
      ownedTopicPartitions: [],
      ...extra,
    }),
  );
}

/** A client: heartbeats with its epoch and owned partitions (what it was last given). */
class Member {
  epoch = 0;
  owned: TP = [];
  constructor(
    readonly m: ConsumerGroupManager,
    readonly id: string,
  ) {}
  join(topics = ['a', 'b'], extra: Partial<HeartbeatParams> = {}): HeartbeatResult {
    const r = join(this.m, this.id, topics, extra);
    this.apply(r);
    return r;
  }
  beat(extra: Partial<HeartbeatParams> = {}): HeartbeatResult {
    const r = this.m.heartbeat(
      hb({ memberId: this.id, memberEpoch: this.epoch, ownedTopicPartitions: this.owned, ...extra }),
    );
    this.apply(r);
    return r;
  }
  private apply(r: HeartbeatResult): void {
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
    this.epoch = r.memberEpoch;
    if (r.assignment) this.owned = r.assignment;
  }
  count(): number {
    return this.owned.reduce((s, t) => s + t.partitions.length, 0);
  }
  keys(): string[] {
    return this.owned.flatMap((t) => t.partitions.map((p) => `${t.topicId}:${p}`));
  }
}

/** Heartbeat everyone until nothing changes; asserts no partition is ever owned twice. */
function settle(members: Member[], rounds = 10): void {
  for (let i = 0; i < rounds; i++) {
    for (const x of members) {
      x.beat();
      const seen = new Set<string>();
      for (const y of members)
        for (const k of y.keys()) {
          assert.ok(!seen.has(k), `partition ${k} owned twice`);
          seen.add(k);
        }
    }
  }
}

function assertCovers(members: Member[], total: number): void {
  const all = members.flatMap((x) => x.keys());
  assert.equal(all.length, total);
  assert.equal(new Set(all).size, total);
}

test('first member gets everything at epoch 1; INVALID_REQUEST and UNSUPPORTED_ASSIGNOR checks', () => {
  const { m } = setup();
  const a = new Member(m, 'm1');
  const r = a.join();
  assert.equal(r.memberEpoch, 1);
  assert.equal(r.heartbeatIntervalMs, 5000);
  assert.equal(a.count(), 9);
  assert.equal(
    m.heartbeat(
      hb({
        memberId: '',
        memberEpoch: 0,
        rebalanceTimeoutMs: 1,
        subscribedTopicNames: ['a'],
        ownedTopicPartitions: [],
      }),
    ).errorCode,
    ErrorCode.INVALID_REQUEST,
  );
  assert.equal(
    m.heartbeat(hb({ memberId: 'x', memberEpoch: 0, subscribedTopicNames: ['a'], ownedTopicPartitions: [] })).errorCode,
    ErrorCode.INVALID_REQUEST,
  );
  assert.equal(join(m, 'x', ['a'], { serverAssignor: 'sticky' }).errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
  assert.equal(
    m.heartbeat(hb({ groupId: 'nope', memberId: 'x', memberEpoch: 3 })).errorCode,
    ErrorCode.GROUP_ID_NOT_FOUND,
  );
  assert.equal(m.heartbeat(hb({ memberId: 'ghost', memberEpoch: 3 })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(m.heartbeat(hb({ memberId: 'm1', memberEpoch: 7 })).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
});

test('v0: an empty member id on join gets a server-generated one', () => {
  const { m } = setup();
  const r = m.heartbeat(
    hb({ version: 0, memberEpoch: 0, rebalanceTimeoutMs: 1000, subscribedTopicNames: ['a'], ownedTopicPartitions: [] }),
  );
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.ok(r.memberId && r.memberId.length > 0);
});

for (const assignor of ['uniform', 'range']) {
  test(`${assignor}: two members, disjoint and complete; a third joins, moves wait for revocation; leave`, () => {
    const { m } = setup({ a: 6, b: 3 });
    const a = new Member(m, 'm1');
    const b = new Member(m, 'm2');
    a.join(['a', 'b'], { serverAssignor: assignor });
    b.join(['a', 'b'], { serverAssignor: assignor });
    // b joined while a owns everything: b gets nothing until a revokes.
    assert.equal(b.count(), 0);
    settle([a, b]);
    assertCovers([a, b], 9);
    assert.ok(Math.abs(a.count() - b.count()) <= (assignor === 'uniform' ? 1 : 2));
    assert.equal(m.groups.get('g')!.state, 'Stable');
    assert.equal(m.groups.get('g')!.assignorName, assignor);

    const c = new Member(m, 'm3');
    c.join(['a', 'b'], { serverAssignor: assignor });
    assert.equal(c.count(), 0, 'nothing is free yet');
    const before = a.keys();
    a.beat();
    // a is asked to revoke: its returned assignment is a subset of what it had, epoch unchanged.
    assert.ok(a.keys().every((k) => before.includes(k)));
    c.beat();
    assert.equal(c.count(), 0, 'still nothing for c before a and b acknowledge the revocation');
    settle([a, b, c]);
    assertCovers([a, b, c], 9);
    assert.ok(c.count() > 0);
    const g = m.groups.get('g')!;
    assert.equal(g.state, 'Stable');
    for (const x of [a, b, c]) assert.equal(x.epoch, g.groupEpoch);

    // b leaves: its partitions go to a and c.
    const leave = m.heartbeat(hb({ memberId: 'm2', memberEpoch: -1 }));
    assert.equal(leave.errorCode, ErrorCode.NONE);
    assert.equal(leave.memberEpoch, -1);
    settle([a, c]);
    assertCovers([a, c], 9);
    assert.equal(m.heartbeat(hb({ memberId: 'm2', memberEpoch: b.epoch })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });
}

test('session timeout removes a silent member; its partitions are reassigned', () => {
  const { m, clock } = setup();
  const a = new Member(m, 'm1');
  const b = new Member(m, 'm2');
  a.join();
  b.join();
  settle([a, b]);
  clock.advance(30_000);
  a.beat();
  clock.advance(20_000); // b silent for 50s > 45s
  assert.equal(m.groups.get('g')!.members.has('m2'), false);
  assert.equal(
    b.m.heartbeat(hb({ memberId: 'm2', memberEpoch: b.epoch, ownedTopicPartitions: b.owned })).errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  settle([a]);
  assert.equal(a.count(), 9);
});

test('a member that does not revoke within its rebalance timeout is removed', () => {
  const { m, clock } = setup();
  const a = new Member(m, 'm1');
  a.join(['a', 'b'], { rebalanceTimeoutMs: 1000 });
  const b = new Member(m, 'm2');
  b.join();
  a.m.heartbeat(hb({ memberId: 'm1', memberEpoch: a.epoch })); // told to revoke, never acknowledges
  clock.advance(1500);
  b.beat();
  assert.equal(m.groups.get('g')!.members.has('m1'), false);
  settle([b]);
  assert.equal(b.count(), 9);
});

test('fencing: a greater epoch, or a smaller one that is not the previous epoch, is FENCED_MEMBER_EPOCH', () => {
  const { m } = setup();
  const a = new Member(m, 'm1');
  a.join();
  const b = new Member(m, 'm2');
  b.join();
  settle([a, b]);
  assert.equal(m.heartbeat(hb({ memberId: 'm1', memberEpoch: a.epoch + 1 })).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  assert.equal(
    m.heartbeat(
      hb({
        memberId: 'm1',
        memberEpoch: 0,
        rebalanceTimeoutMs: 1,
        subscribedTopicNames: ['a'],
        ownedTopicPartitions: [],
      }),
    ).errorCode,
    ErrorCode.FENCED_MEMBER_EPOCH,
  );
  // Previous epoch with owned partitions within the assignment is accepted (a lost response).
  const prev = m.groups.get('g')!.members.get('m1')!.previousMemberEpoch;
  assert.equal(
    m.heartbeat(hb({ memberId: 'm1', memberEpoch: prev, ownedTopicPartitions: a.owned })).errorCode,
    ErrorCode.NONE,
  );
});

test('subscription change and new partitions move the group epoch', () => {
  const { m, table } = setup({ a: 4, b: 2 });
  const a = new Member(m, 'm1');
  a.join(['a']);
  assert.equal(a.count(), 4);
  const e = a.epoch;
  a.beat({ subscribedTopicNames: ['a', 'b'] });
  settle([a]);
  assert.equal(a.count(), 6);
  assert.ok(a.epoch > e);
  table.get('a')!.partitions = 6;
  settle([a]);
  assert.equal(a.count(), 8);
  // Unsubscribing revokes.
  a.beat({ subscribedTopicNames: ['b'] });
  settle([a]);
  assert.deepEqual(
    a.owned.map((t) => t.topicId),
    ['id-b'],
  );
});

test('regex subscription', () => {
  const { m } = setup({ 'orders-1': 2, 'orders-2': 2, other: 5 });
  const a = new Member(m, 'm1');
  a.join([], { subscribedTopicNames: null, subscribedTopicRegex: 'orders-.*' });
  assert.equal(a.count(), 4);
});

test('static member: leave with -2 keeps its assignment; rejoining with its instance id takes it back', () => {
  const { m } = setup();
  const a = new Member(m, 'm1');
  a.join(['a', 'b'], { instanceId: 'i1' });
  const b = new Member(m, 'm2');
  b.join();
  settle([a, b]);
  const had = a.keys().sort();
  assert.equal(m.heartbeat(hb({ memberId: 'm1', memberEpoch: -2, instanceId: 'i1' })).memberEpoch, -2);
  b.beat();
  assert.equal(join(m, 'other', ['a'], { instanceId: 'i2' }).errorCode, ErrorCode.NONE);
  const a2 = new Member(m, 'm1-new');
  const r = a2.join(['a', 'b'], { instanceId: 'i1' });
  assert.equal(r.memberId, 'm1-new');
  assert.ok(a2.keys().length > 0 && a2.keys().every((k) => had.includes(k)), 'keeps (part of) its previous assignment');
  assert.equal(a2.epoch, m.groups.get('g')!.members.get('m1-new')!.memberEpoch);
  assert.equal(join(m, 'm1-again', ['a'], { instanceId: 'i1' }).errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
});

test('offset commits from members: matching epoch accepted, else STALE_MEMBER_EPOCH / UNKNOWN_MEMBER_ID', () => {
  const { m } = setup();
  const a = new Member(m, 'm1');
  a.join();
  assert.equal(m.validateOffsetCommit('g', 'm1', a.epoch), ErrorCode.NONE);
  assert.equal(m.validateOffsetCommit('g', 'm1', a.epoch - 1), ErrorCode.STALE_MEMBER_EPOCH);
  assert.equal(m.validateOffsetCommit('g', 'zz', a.epoch), ErrorCode.UNKNOWN_MEMBER_ID);
});

function total(a: Map<string, Assignment>): number {
  let n = 0;
  for (const x of a.values()) for (const s of x.values()) n += s.size;
  return n;
}

test('assignors: uniform balances and is sticky; range gives contiguous ranges per topic', () => {
  const parts = new Map([
    ['t1', 7],
    ['t2', 3],
  ]);
  const members = ['a', 'b', 'c'].map((memberId) => ({ memberId, topics: new Set(['t1', 't2']), current: new Map() }));
  const u = uniformAssignor.assign(members, parts);
  assert.equal(total(u), 10);
  const counts = [...u.values()].map((x) => [...x.values()].reduce((s, y) => s + y.size, 0));
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1);
  // Adding a member keeps most partitions where they were.
  const withD = [
    ...members.map((x) => ({ ...x, current: u.get(x.memberId)! })),
    { memberId: 'd', topics: new Set(['t1', 't2']), current: new Map() },
  ];
  const u2 = uniformAssignor.assign(withD, parts);
  let moved = 0;
  for (const x of members)
    for (const [t, s] of u.get(x.memberId)!) for (const p of s) if (!u2.get(x.memberId)!.get(t)?.has(p)) moved++;
  assert.ok(moved <= 3, `moved ${moved}`);
  const r = rangeAssignor.assign(members, parts);
  assert.deepEqual([...r.get('a')!.get('t1')!], [0, 1, 2]);
  assert.deepEqual([...r.get('b')!.get('t1')!], [3, 4]);
  assert.deepEqual([...r.get('c')!.get('t2')!], [2]);
});
