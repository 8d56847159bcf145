/**
 * The classic group state machine with a fake clock and an in-memory group log: initial rebalance delay
 * (extension and cap), MEMBER_ID_REQUIRED, session expiry, rebalance timeout, heartbeat errors, protocol
 * selection, static membership, commit rules, offset expiry and replay of the stored records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../storage/clock.js';
import { GroupCoordinator, type JoinParams } from '../../../broker/groups/coordinator.js';
import { MemoryGroupLog } from '../../../broker/groups/offsets-log.js';
import {
  commitOffsets,
  deleteGroups,
  describeGroup,
  expireOffsets,
  fetchOffsets,
  listGroups,
} from '../../../broker/groups/offsets.js';
import type { JoinResult } from '../../../broker/groups/group.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { offsetsPartitionFor, javaStringHashCode } from '../../../broker/groups/records.js';
import { GROUP_CFG, coordinatorSetup, joinParams, settle, track } from '../../helpers/classic-groups.js';

/** Settings of these tests: a 100 ms initial rebalance delay, at most 3 members. */
const CFG = { ...GROUP_CFG, initialRebalanceDelayMs: 100, maxSize: 3 };
const setup = (over: Partial<typeof CFG> = {}) => coordinatorSetup({ ...CFG, ...over });
const meta = (s: string): Buffer => Buffer.from(s);
const jp = joinParams;

test('javaStringHashCode and the __consumer_offsets partition match Kafka', () => {
  assert.equal(javaStringHashCode(''), 0);
  assert.equal(javaStringHashCode('a'), 97);
  assert.equal(javaStringHashCode('hello'), 99162322);
  assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
  assert.equal(offsetsPartitionFor('polygenelubricants', 50), 0);
  assert.equal(offsetsPartitionFor('my-group', 50), Math.abs(javaStringHashCode('my-group')) % 50);
});

test('initial rebalance delay: extended while members join, then one generation for all', async () => {
  const { c, clock } = setup();
  const a = track(c.join(jp()));
  clock.advance(50);
  const b = track(c.join(jp({ clientId: 'other' })));
  await settle();
  clock.advance(60); // t=110: first delay expired, but B joined during it → extended
  await settle();
  assert.equal(a.value, undefined);
  assert.equal(c.groups.get('g')!.state, 'PreparingRebalance');
  clock.advance(100); // t=210: no new joins during the extension
  await settle();
  const av = a.value as JoinResult | undefined;
  const bv = b.value as JoinResult | undefined;
  assert.ok(av && bv);
  assert.equal(av.errorCode, 0);
  assert.equal(av.generationId, 1);
  assert.equal(bv.generationId, 1);
  assert.equal(av.leader, av.memberId);
  assert.equal(av.members.length, 2);
  assert.equal(bv.members.length, 0);
  assert.equal(av.protocolName, 'range');
  assert.match(av.memberId, /^cli-[0-9a-f-]{36}$/);
  assert.equal(c.groups.get('g')!.state, 'CompletingRebalance');
});

test('initial delay is capped by the rebalance timeout', async () => {
  const { c, clock } = setup();
  const a = track(c.join(jp({ rebalanceTimeoutMs: 150 })));
  for (let i = 0; i < 4; i++) {
    clock.advance(40);
    void c.join(jp({ rebalanceTimeoutMs: 150, clientId: `x${i}` })).catch(() => undefined);
    await settle();
    if (a.value) break;
  }
  await settle();
  assert.ok(a.value, 'completed by t=150 at the latest');
  assert.ok(clock.now() - 1_000_000 <= 160);
});

test('JoinGroup v4+: MEMBER_ID_REQUIRED, pending member expires after its session timeout', async () => {
  const { c, clock } = setup();
  const r = await c.join(jp({ requireKnownMemberId: true }));
  assert.equal(r.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.match(r.memberId, /^cli-/);
  assert.equal(c.groups.get('g')!.pendingMembers.size, 1);
  clock.advance(1001);
  assert.equal(c.groups.get('g')!.pendingMembers.size, 0);
  const r2 = await c.join(jp({ requireKnownMemberId: true }));
  const j = track(c.join(jp({ requireKnownMemberId: true, memberId: r2.memberId })));
  clock.advance(100);
  await settle();
  assert.equal(j.value?.errorCode, 0);
  assert.equal(j.value?.memberId, r2.memberId);
});

async function stableGroup(
  c: GroupCoordinator,
  clock: FakeClock,
  n: number,
  over: Partial<JoinParams> = {},
): Promise<JoinResult[]> {
  const joins = Array.from({ length: n }, (_, i) =>
    track(
      c.join(
        jp({
          clientId: `c${i}`,
          ...over,
          groupInstanceId: over.groupInstanceId ? `${over.groupInstanceId}-${i}` : null,
        }),
      ),
    ),
  );
  clock.advance(300); // initial delay, extended once because the others joined during it
  await settle();
  const results = joins.map((j) => j.value!);
  const leader = results.find((r) => r.leader === r.memberId)!;
  const syncs = results.map((r) =>
    c.sync({
      groupId: 'g',
      generationId: r.generationId,
      memberId: r.memberId,
      groupInstanceId: over.groupInstanceId ? `${over.groupInstanceId}-${results.indexOf(r)}` : null,
      protocolType: null,
      protocolName: null,
      assignments: r === leader ? results.map((x, i) => ({ memberId: x.memberId, assignment: meta(`a${i}`) })) : [],
    }),
  );
  const done = await Promise.all(syncs);
  done.forEach((s, i) => {
    assert.deepEqual(s.assignment, meta(`a${i}`));
  });
  assert.equal(c.groups.get('g')!.state, 'Stable');
  return results;
}

test('session expiry removes a silent member and rebalances the rest', async () => {
  const { c, clock } = setup();
  const [a, b] = await stableGroup(c, clock, 2);
  clock.advance(600);
  assert.equal(c.heartbeat('g', a!.memberId, null, 1), ErrorCode.NONE);
  clock.advance(600); // b silent for 1200 > 1000
  assert.equal(c.groups.get('g')!.members.has(b!.memberId), false);
  assert.equal(c.groups.get('g')!.state, 'PreparingRebalance');
  assert.equal(c.heartbeat('g', a!.memberId, null, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  const re = await c.join(jp({ memberId: a!.memberId, clientId: 'c0' }));
  assert.equal(re.errorCode, 0);
  assert.equal(re.generationId, 2);
  assert.equal(re.members.length, 1);
});

test('rebalance timeout removes members that do not rejoin; heartbeat errors', async () => {
  const { c, clock } = setup();
  const [a, b] = await stableGroup(c, clock, 2);
  assert.equal(c.heartbeat('g', 'nobody', null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(c.heartbeat('nogroup', a!.memberId, null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(c.heartbeat('g', a!.memberId, null, 7), ErrorCode.ILLEGAL_GENERATION);
  // b changes its metadata → rebalance; a keeps heartbeating but never rejoins.
  const bj = track(
    c.join(jp({ memberId: b!.memberId, clientId: 'c1', protocols: [{ name: 'range', metadata: meta('new') }] })),
  );
  for (let i = 0; i < 5; i++) {
    clock.advance(300);
    c.heartbeat('g', a!.memberId, null, 1);
  }
  await settle();
  assert.equal(bj.value?.errorCode, 0);
  assert.equal(bj.value?.generationId, 2);
  assert.equal(c.groups.get('g')!.members.size, 1);
  assert.equal(c.heartbeat('g', a!.memberId, null, 2), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('protocol selection by votes; INCONSISTENT_GROUP_PROTOCOL; GROUP_MAX_SIZE_REACHED', async () => {
  const { c, clock } = setup();
  const p = (...names: string[]): { name: string; metadata: Buffer }[] =>
    names.map((n) => ({ name: n, metadata: meta(n) }));
  const a = track(c.join(jp({ protocols: p('range', 'roundrobin', 'sticky') })));
  const b = track(c.join(jp({ protocols: p('sticky', 'roundrobin') })));
  const d = track(c.join(jp({ protocols: p('roundrobin', 'sticky') })));
  assert.equal((await c.join(jp({ protocols: p('cooperative') }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(
    (await c.join(jp({ protocolType: 'connect', protocols: p('sticky') }))).errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  assert.equal((await c.join(jp({ protocols: p('sticky') }))).errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
  clock.advance(300);
  await settle();
  // candidates: roundrobin, sticky; votes: a → roundrobin, b → sticky, d → roundrobin.
  assert.equal(a.value?.protocolName, 'roundrobin');
  assert.deepEqual(
    a.value?.members.map((m) => m.metadata.toString()),
    ['roundrobin', 'roundrobin', 'roundrobin'],
  );
  assert.ok(b.value && d.value);
  assert.equal((await c.join(jp({ sessionTimeoutMs: 5 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal((await c.join(jp({ groupId: '' }))).errorCode, ErrorCode.INVALID_GROUP_ID);
  assert.equal(
    (await c.join(jp({ memberId: 'ghost', protocols: p('sticky') }))).errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
});

test('static member rejoining unchanged keeps its assignment without a rebalance; old id is fenced', async () => {
  const { c, clock } = setup();
  const [a, b] = await stableGroup(c, clock, 2, { groupInstanceId: 'inst' });
  const gen = c.groups.get('g')!.generation;
  const r = await c.join(jp({ clientId: 'c1', groupInstanceId: 'inst-1' }));
  assert.equal(r.errorCode, 0);
  assert.notEqual(r.memberId, b!.memberId);
  assert.equal(r.generationId, gen);
  assert.equal(c.groups.get('g')!.state, 'Stable');
  assert.equal(c.heartbeat('g', b!.memberId, 'inst-1', gen), ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(c.heartbeat('g', r.memberId, 'inst-1', gen), ErrorCode.NONE);
  const s = await c.sync({
    groupId: 'g',
    generationId: gen,
    memberId: r.memberId,
    groupInstanceId: 'inst-1',
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  assert.deepEqual(s.assignment, meta('a1'));
  // The leader's instance rejoining gets the member list back with skipAssignment.
  const l = await c.join(jp({ clientId: 'c0', groupInstanceId: 'inst-0' }));
  assert.equal(l.leader, l.memberId);
  assert.equal(l.skipAssignment, true);
  assert.equal(l.members.length, 2);
  assert.notEqual(l.memberId, a!.memberId);
  // LeaveGroup by instance id with a stale member id is fenced; with the right one it leaves.
  assert.equal(
    c.leave('g', [{ memberId: a!.memberId, groupInstanceId: 'inst-0' }]).members[0]!.errorCode,
    ErrorCode.FENCED_INSTANCE_ID,
  );
  assert.equal(c.leave('g', [{ memberId: '', groupInstanceId: 'inst-0' }]).members[0]!.errorCode, ErrorCode.NONE);
  assert.equal(c.groups.get('g')!.state, 'PreparingRebalance');
});

test('commit rules: simple consumers, generations, rebalances, metadata size; fetch; delete', async () => {
  const { c, clock } = setup();
  const parts = (topic: string, offset: number, metadata: string | null = 'meta') => [
    { topic, partition: 0, offset, leaderEpoch: 3, metadata },
  ];
  const partitionsOf = (t: string): number | undefined => (t === 'missing' ? undefined : 2);
  // Simple consumer into a new group.
  assert.deepEqual(
    await commitOffsets(
      c,
      { groupId: 's', generationId: -1, memberId: '', groupInstanceId: null, partitions: parts('t', 5) },
      partitionsOf,
    ),
    [0],
  );
  assert.deepEqual(
    fetchOffsets(c, 's', [{ name: 't', partitions: [0, 1] }]).offsets.map((o) => [o.offset, o.leaderEpoch, o.metadata]),
    [
      [5, 3, 'meta'],
      [-1, -1, ''],
    ],
  );
  assert.deepEqual(
    await commitOffsets(
      c,
      { groupId: 'nogroup', generationId: 1, memberId: 'm', groupInstanceId: null, partitions: parts('t', 1) },
      partitionsOf,
    ),
    [ErrorCode.ILLEGAL_GENERATION],
  );
  // OffsetCommit v9 answers GROUP_ID_NOT_FOUND for a member commit to an unknown group, as Kafka.
  assert.deepEqual(
    await commitOffsets(
      c,
      {
        groupId: 'nogroup',
        generationId: 1,
        memberId: 'm',
        groupInstanceId: null,
        partitions: parts('t', 1),
        apiVersion: 9,
      },
      partitionsOf,
    ),
    [ErrorCode.GROUP_ID_NOT_FOUND],
  );
  assert.deepEqual(
    await commitOffsets(
      c,
      {
        groupId: 's',
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        partitions: [...parts('t', 1, 'x'.repeat(4097)), ...parts('missing', 1)],
      },
      partitionsOf,
    ),
    [ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  // Group members.
  const joins = [track(c.join(jp())), track(c.join(jp({ clientId: 'z' })))];
  clock.advance(300);
  await settle();
  const [a, b] = joins.map((j) => j.value!);
  const commit = (memberId: string, generationId: number): Promise<number[]> =>
    commitOffsets(
      c,
      { groupId: 'g', generationId, memberId, groupInstanceId: null, partitions: parts('t', 9) },
      partitionsOf,
    );
  assert.deepEqual(await commit(a!.memberId, 1), [ErrorCode.REBALANCE_IN_PROGRESS], 'CompletingRebalance');
  await Promise.all([
    c.sync({
      groupId: 'g',
      generationId: 1,
      memberId: a!.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    }),
    c.sync({
      groupId: 'g',
      generationId: 1,
      memberId: b!.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    }),
  ]);
  assert.deepEqual(await commit(a!.memberId, 1), [0]);
  assert.deepEqual(await commit(a!.memberId, 0), [ErrorCode.ILLEGAL_GENERATION]);
  assert.deepEqual(await commit('stranger', 1), [ErrorCode.UNKNOWN_MEMBER_ID]);
  assert.deepEqual(await commit('', -1), [ErrorCode.UNKNOWN_MEMBER_ID], 'simple commit into a non-empty group');
  assert.deepEqual(await deleteGroups(c, ['g', 'unknown', '']), [
    { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
    { groupId: 'unknown', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    { groupId: '', errorCode: ErrorCode.INVALID_GROUP_ID },
  ]);
  assert.equal(describeGroup(c, 'g').state, 'Stable');
  assert.equal(describeGroup(c, 'g').members.length, 2);
  assert.equal(describeGroup(c, 'nope').state, 'Dead');
  assert.deepEqual(
    listGroups(c, ['stable'], []).groups.map((g) => g.groupId),
    ['g'],
  );
  assert.deepEqual(listGroups(c, [], ['consumer']).groups, []);
  // Everyone leaves → Empty, generation 2; then the group can be deleted.
  const left = c.leave('g', [
    { memberId: a!.memberId, groupInstanceId: null },
    { memberId: b!.memberId, groupInstanceId: null },
    { memberId: 'x', groupInstanceId: null },
  ]);
  assert.deepEqual(
    left.members.map((m) => m.errorCode),
    [0, 0, ErrorCode.UNKNOWN_MEMBER_ID],
  );
  assert.equal(c.groups.get('g')!.state, 'Empty');
  assert.equal(c.groups.get('g')!.generation, 2);
  assert.deepEqual(await deleteGroups(c, ['g']), [{ groupId: 'g', errorCode: 0 }]);
  assert.equal(fetchOffsets(c, 'g', null).offsets.length, 0);
});

test('offsets of empty groups expire after the retention; stored records replay to the same state', async () => {
  const { c, clock, log } = setup();
  const partitionsOf = (): number => 1;
  await commitOffsets(
    c,
    {
      groupId: 'old',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      partitions: [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }],
    },
    partitionsOf,
  );
  clock.advance(30_000);
  await commitOffsets(
    c,
    {
      groupId: 'young',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      partitions: [{ topic: 't', partition: 0, offset: 2, leaderEpoch: -1, metadata: 'm' }],
    },
    partitionsOf,
  );
  const members = await stableGroup(c, clock, 1, { sessionTimeoutMs: 100_000 });
  await commitOffsets(
    c,
    {
      groupId: 'g',
      generationId: 1,
      memberId: members[0]!.memberId,
      groupInstanceId: null,
      partitions: [{ topic: 't', partition: 0, offset: 3, leaderEpoch: 1, metadata: 'gm' }],
    },
    partitionsOf,
  );
  clock.advance(30_001);
  assert.equal(await expireOffsets(c), 1);
  assert.equal(c.groups.has('old'), false);
  assert.equal(fetchOffsets(c, 'young', null).offsets.length, 1);
  assert.equal(fetchOffsets(c, 'g', null).offsets.length, 1, 'group with members keeps its offsets');

  const replayed = new GroupCoordinator(CFG, new FakeClock(clock.now()), new MemoryGroupLog());
  for (const r of log.records) replayed.applyRecord(r.key, r.value);
  replayed.finishLoading();
  assert.equal(replayed.groups.has('old'), false);
  assert.deepEqual(fetchOffsets(replayed, 'young', null).offsets, fetchOffsets(c, 'young', null).offsets);
  assert.deepEqual(fetchOffsets(replayed, 'g', null).offsets, fetchOffsets(c, 'g', null).offsets);
  const g = replayed.groups.get('g')!;
  assert.equal(g.state, 'Stable');
  assert.equal(g.generation, 1);
  assert.deepEqual(
    [...g.members.values()].map((m) => m.assignment.toString()),
    ['a0'],
  );
  replayed.shutdown();
  c.shutdown();
});

test('a failed write answers an error and changes nothing; loading answers COORDINATOR_LOAD_IN_PROGRESS', async () => {
  const { c, log } = setup();
  log.failNext = true;
  const codes = await commitOffsets(
    c,
    {
      groupId: 's',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      partitions: [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }],
    },
    () => 1,
  );
  assert.deepEqual(codes, [ErrorCode.COORDINATOR_NOT_AVAILABLE]);
  assert.equal(fetchOffsets(c, 's', null).offsets.length, 0);
  c.loading = true;
  assert.equal((await c.join(jp())).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(c.heartbeat('g', 'm', null, 1), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(fetchOffsets(c, 's', null).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
});

test('members loaded from the log must heartbeat: silent ones expire after their session timeout', async () => {
  const { c, clock, log } = setup();
  await stableGroup(c, clock, 2);
  const clock2 = new FakeClock(clock.now());
  const loaded = new GroupCoordinator(CFG, clock2, new MemoryGroupLog());
  loaded.loading = true;
  for (const r of log.records) loaded.applyRecord(r.key, r.value);
  loaded.finishLoading();
  const g = loaded.groups.get('g')!;
  assert.equal(g.state, 'Stable');
  assert.equal(g.members.size, 2);
  const [first] = [...g.members.keys()];
  clock2.advance(600);
  assert.equal(loaded.heartbeat('g', first!, null, 1), ErrorCode.NONE);
  clock2.advance(600);
  assert.equal(g.members.size, 1, 'the silent member expired');
  assert.equal(g.state, 'PreparingRebalance');
  clock2.advance(1000); // the survivor never rejoins either: removed at the rebalance timeout
  assert.equal(g.state, 'Empty');
  assert.equal(g.generation, 2);
  loaded.shutdown();
  c.shutdown();
});

test('pending sync: a member without SyncGroup in the rebalance timeout is removed; the group rebalances', async () => {
  const { c, clock } = setup();
  const a = track(c.join(jp({ clientId: 'a' })));
  const b = track(c.join(jp({ clientId: 'b' })));
  for (let i = 0; i < 5 && !(a.value && b.value); i++) {
    clock.advance(100); // initial delay (extended once by b's join): generation 1 with both
    await settle();
  }
  const av = a.value!;
  const bv = b.value!;
  assert.equal(av.generationId, 1);
  const g = c.groups.get('g')!;
  assert.equal(g.state, 'CompletingRebalance');
  assert.equal(g.pendingSync.size, 2);
  const leader = av.leader === av.memberId ? av : bv;
  const follower = leader === av ? bv : av;
  const s = await c.sync({
    groupId: 'g',
    generationId: 1,
    memberId: leader.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [
      { memberId: leader.memberId, assignment: meta('L') },
      { memberId: follower.memberId, assignment: meta('F') },
    ],
  });
  assert.equal(s.errorCode, 0);
  assert.equal(g.state, 'Stable');
  assert.deepEqual([...g.pendingSync], [follower.memberId]);
  clock.advance(999);
  await settle();
  assert.equal(g.members.size, 2, 'not yet: the rebalance timeout has not passed');
  assert.equal(c.heartbeat('g', leader.memberId, null, 1), ErrorCode.NONE);
  clock.advance(2);
  await settle();
  assert.equal(g.members.has(follower.memberId), false, 'the follower that never synced is removed');
  assert.equal(g.state, 'PreparingRebalance');
  assert.equal(c.heartbeat('g', leader.memberId, null, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  const again = await c.join(jp({ clientId: 'a', memberId: leader.memberId }));
  assert.equal(again.errorCode, 0);
  assert.equal(again.generationId, 2);
  assert.deepEqual(
    again.members.map((m) => m.memberId),
    [leader.memberId],
  );

  // Every member synced: the timer is cleared and nobody is removed.
  const s2 = await c.sync({
    groupId: 'g',
    generationId: 2,
    memberId: leader.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: leader.memberId, assignment: meta('L') }],
  });
  assert.equal(s2.errorCode, 0);
  assert.equal(g.pendingSync.size, 0);
  assert.equal(g.syncTimer, undefined);
  clock.advance(900);
  assert.equal(c.heartbeat('g', leader.memberId, null, 2), ErrorCode.NONE);
  clock.advance(900);
  assert.equal(g.state, 'Stable');
  assert.equal(g.members.size, 1);
  c.shutdown();
});
