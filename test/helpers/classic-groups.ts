/**
 * Set-up shared by the unit tests of the classic group coordinator (test/broker/groups/coordinator*.test.ts,
 * test/broker/coordinator-partitions.test.ts): a coordinator on a FakeClock and an in-memory group log, JoinGroup
 * parameters with defaults, one member joined and synced to Stable, and helpers to watch pending promises.
 * Nothing here waits on real time except `settle` (a bounded number of event-loop turns).
 */
import assert from 'node:assert/strict';
import { FakeClock } from '../../storage/clock.js';
import { GroupCoordinator, type GroupCoordinatorConfig, type JoinParams } from '../../broker/groups/coordinator.js';
import { MemoryGroupLog } from '../../broker/groups/offsets-log.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';

/** Coordinator settings of these tests: no initial delay, short sessions allowed, room for 10 members. */
export const GROUP_CFG: GroupCoordinatorConfig = {
  initialRebalanceDelayMs: 0,
  minSessionTimeoutMs: 10,
  maxSessionTimeoutMs: 100_000,
  maxSize: 10,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 10_000,
};

/** A coordinator over a fresh MemoryGroupLog on a FakeClock at t = 1,000,000 ms (GROUP_CFG with `over`). */
export function coordinatorSetup(over: Partial<GroupCoordinatorConfig> = {}): {
  c: GroupCoordinator;
  clock: FakeClock;
  log: MemoryGroupLog;
} {
  const clock = new FakeClock(1_000_000);
  const log = new MemoryGroupLog();
  return { c: new GroupCoordinator({ ...GROUP_CFG, ...over }, clock, log), clock, log };
}

/** JoinGroup parameters: a new member of group 'g' (consumer protocol 'range'), 1 s session and rebalance timeout. */
export function joinParams(over: Partial<JoinParams> = {}): JoinParams {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    sessionTimeoutMs: 1000,
    rebalanceTimeoutMs: 1000,
    clientId: 'cli',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: false,
    ...over,
  };
}

/** One member joined and synced (the group Stable, with no initial delay configured); its id and generation. */
export async function stableOne(
  c: GroupCoordinator,
  over: Partial<JoinParams> = {},
): Promise<{ memberId: string; generationId: number }> {
  const j = await c.join(joinParams(over));
  assert.equal(j.errorCode, ErrorCode.NONE);
  const groupId = over.groupId ?? 'g';
  const s = await c.sync({
    groupId,
    generationId: j.generationId,
    memberId: j.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: j.memberId, assignment: Buffer.from('a') }],
  });
  assert.equal(s.errorCode, ErrorCode.NONE);
  assert.equal(c.groups.get(groupId)!.state, 'Stable');
  return { memberId: j.memberId, generationId: j.generationId };
}

export interface Tracked<T> {
  p: Promise<T>;
  value?: T;
}

/** Watch a promise: `value` is set once it resolves. */
export function track<T>(p: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { p };
  void p.then((v) => (t.value = v));
  return t;
}

/** Five turns of the event loop: lets answers that a fake-clock step released settle. */
export const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
