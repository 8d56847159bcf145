import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../storage/clock.js';
import { QuotaManager, resolveQuota, type QuotaSource } from '../../../broker/quotas/quota-manager.js';
import type { QuotaEntity } from '../../../replication/metadata/client-quotas.js';

/** Quotas in a map keyed like the store: `client-id=...,user=...`. */
class FakeSource implements QuotaSource {
  readonly m = new Map<string, Record<string, number>>();
  private static key(e: QuotaEntity): string {
    return Object.keys(e)
      .sort()
      .map((t) => `${t}=${JSON.stringify(e[t])}`)
      .join(',');
  }
  set(e: QuotaEntity, key: string, value: number | undefined): void {
    const v = { ...(this.m.get(FakeSource.key(e)) ?? {}) };
    if (value === undefined) delete v[key];
    else v[key] = value;
    this.m.set(FakeSource.key(e), v);
  }
  quotaValue(e: QuotaEntity, key: string): number | undefined {
    return this.m.get(FakeSource.key(e))?.[key];
  }
}

function manager(source: QuotaSource, clock: FakeClock): QuotaManager {
  return new QuotaManager({
    source,
    clock,
    numSamples: 11,
    windowMs: 1000,
    mutationSamples: 11,
    mutationWindowMs: 1000,
  });
}

test("precedence: Kafka's eight levels, most specific first; tags say who shares a rate", () => {
  const s = new FakeSource();
  const K = 'producer_byte_rate';
  const levels: Array<[QuotaEntity, number, string, string]> = [
    [{ 'client-id': null }, 8, '', 'app'],
    [{ 'client-id': 'app' }, 7, '', 'app'],
    [{ user: null }, 6, 'alice', ''],
    [{ user: null, 'client-id': null }, 5, 'alice', 'app'],
    [{ user: null, 'client-id': 'app' }, 4, 'alice', 'app'],
    [{ user: 'alice' }, 3, 'alice', ''],
    [{ user: 'alice', 'client-id': null }, 2, 'alice', 'app'],
    [{ user: 'alice', 'client-id': 'app' }, 1, 'alice', 'app'],
  ];
  assert.equal(resolveQuota(s, K, 'alice', 'app'), undefined);
  for (const [entity, quota, user, clientId] of levels) {
    s.set(entity, K, quota);
    assert.deepEqual(resolveQuota(s, K, 'alice', 'app'), { quota, user, clientId }, JSON.stringify(entity));
  }
  // Another key is resolved on its own.
  assert.equal(resolveQuota(s, 'consumer_byte_rate', 'alice', 'app'), undefined);
  // Other users and clients fall to the defaults.
  assert.deepEqual(resolveQuota(s, K, 'bob', 'other'), { quota: 5, user: 'bob', clientId: 'other' });
});

test('produce: throttled once over the quota, by how long the rate needs to fall back (not bounded)', () => {
  const clock = new FakeClock(1_000_000);
  const s = new FakeSource();
  s.set({ 'client-id': 'p' }, 'producer_byte_rate', 1000);
  const q = manager(s, clock);
  const produce = (bytes: number) => q.recordAndGetThrottleTimeMs('produce', 'User:ANONYMOUS', 'p', bytes);
  // A new client's rate is over one window at first (no empty windows before its first record).
  assert.equal(produce(1000), 0);
  // 500 more: 1500 B/s over 1 s -> (500 / 1000) * 1000 = 500 ms.
  assert.equal(produce(500), 500);
  // 4 s on, the window is those 4 s: 4000 bytes in all are within the quota, 1000 more are 1250 B/s.
  clock.advance(4000);
  assert.equal(produce(2500), 0);
  assert.equal(produce(1000), 1000);
  // Far over: as long as it takes (Kafka bounds only request-time throttles).
  assert.equal(produce(50_000), 51_000);
  // An unlimited client on the same broker is never throttled.
  assert.equal(q.recordAndGetThrottleTimeMs('produce', 'User:ANONYMOUS', 'free', 1e9), 0);
  // Back from idle (every sample expired), the empty windows count, as in Kafka: 10 windows' worth at once.
  clock.advance(12_000);
  assert.equal(produce(100), 0);
  assert.equal(produce(9900), 0);
  assert.equal(produce(1000), 1000);
});

test('a quota change applies at once; removing it stops throttling', () => {
  const clock = new FakeClock(0);
  const s = new FakeSource();
  s.set({ 'client-id': null }, 'producer_byte_rate', 100);
  const q = manager(s, clock);
  assert.ok(q.recordAndGetThrottleTimeMs('produce', 'User:ANONYMOUS', 'c', 5000) > 0);
  s.set({ 'client-id': null }, 'producer_byte_rate', 1_000_000);
  assert.equal(q.recordAndGetThrottleTimeMs('produce', 'User:ANONYMOUS', 'c', 1), 0);
  s.set({ 'client-id': null }, 'producer_byte_rate', 100);
  assert.ok(q.recordAndGetThrottleTimeMs('produce', 'User:ANONYMOUS', 'c', 1) > 0);
  s.set({ 'client-id': null }, 'producer_byte_rate', undefined);
  assert.equal(q.recordAndGetThrottleTimeMs('produce', 'User:ANONYMOUS', 'c', 1e9), 0);
});

test('a user quota is shared by all client-ids of the user; a default client-id quota is per client-id', () => {
  const clock = new FakeClock(0);
  const s = new FakeSource();
  s.set({ user: 'alice' }, 'consumer_byte_rate', 1000);
  s.set({ 'client-id': null }, 'consumer_byte_rate', 1000);
  const q = manager(s, clock);
  assert.equal(q.recordAndGetThrottleTimeMs('fetch', 'User:alice', 'a1', 1000), 0);
  assert.ok(q.recordAndGetThrottleTimeMs('fetch', 'User:alice', 'a2', 1000) > 0, 'alice shares one rate');
  assert.equal(q.recordAndGetThrottleTimeMs('fetch', 'User:bob', 'b1', 1000), 0);
  assert.equal(q.recordAndGetThrottleTimeMs('fetch', 'User:bob', 'b2', 1000), 0, 'per client-id for bob');
});

test("a consumer's fetch allowance is what its quota has left in the window, at most 10 windows' worth", () => {
  const clock = new FakeClock(0);
  const s = new FakeSource();
  s.set({ 'client-id': null }, 'consumer_byte_rate', 1000);
  const q = manager(s, clock);
  const allowance = (clientId: string) => q.maxValueInQuotaWindow('fetch', 'User:bob', clientId);
  assert.equal(allowance('new'), 1000, 'one window for a new client');
  assert.equal(q.recordAndGetThrottleTimeMs('fetch', 'User:bob', 'b1', 600), 0);
  assert.equal(allowance('b1'), 400);
  clock.advance(5000);
  assert.equal(allowance('b1'), 4400, '5 s at 1000 B/s less the 600 taken');
  assert.equal(q.recordAndGetThrottleTimeMs('fetch', 'User:bob', 'b1', 4400), 0);
  assert.equal(allowance('b1'), 0);
  assert.ok(q.recordAndGetThrottleTimeMs('fetch', 'User:bob', 'b1', 1) > 0);
  // After a long idle: Kafka's getMaxValueInQuotaWindow, quota * (samples - 1) windows.
  clock.advance(60_000);
  assert.equal(allowance('b1'), 10_000);
  s.set({ 'client-id': null }, 'consumer_byte_rate', undefined);
  assert.equal(allowance('b1'), Number.POSITIVE_INFINITY);
});

test('request_percentage: handler time as a share of one thread; its throttle is capped by the window', () => {
  const clock = new FakeClock(0);
  const s = new FakeSource();
  s.set({ 'client-id': 'r' }, 'request_percentage', 10);
  const q = manager(s, clock);
  // 10% of one thread over the first 1 s window = 100 ms of handling.
  assert.equal(q.recordAndGetThrottleTimeMs('request', 'User:ANONYMOUS', 'r', 100), 0);
  // 10 ms more: 11% -> (1 / 10) * 1000 = 100 ms.
  assert.equal(q.recordAndGetThrottleTimeMs('request', 'User:ANONYMOUS', 'r', 10), 100);
  // Far over: 111% -> 10,100 ms, capped at the window (Kafka's ClientRequestQuotaManager).
  assert.equal(q.recordAndGetThrottleTimeMs('request', 'User:ANONYMOUS', 'r', 1000), 1000);
  assert.ok(Math.abs(q.measuredRate('request', 'User:ANONYMOUS', 'r') - 111) < 1e-9);
});

test('controller mutations: strict refuses while the bucket is below 0, permissive only throttles', () => {
  const clock = new FakeClock(0);
  const s = new FakeSource();
  s.set({ 'client-id': 'admin' }, 'controller_mutation_rate', 1);
  const q = manager(s, clock);
  // Burst: 1/s * 11 samples * 1 s = 11 mutations; a request may overshoot it once.
  const first = q.mutationQuota('User:ANONYMOUS', 'admin', true);
  assert.equal(first.record(10), true);
  assert.equal(first.record(5), true); // tokens 1 -> -4
  assert.equal(first.throttleTimeMs, 0);
  const second = q.mutationQuota('User:ANONYMOUS', 'admin', true);
  assert.equal(second.record(1), false);
  assert.equal(second.throttleTimeMs, 4000);
  clock.advance(4000);
  assert.equal(q.mutationQuota('User:ANONYMOUS', 'admin', true).record(1), true);
  // Permissive: accepted and throttled.
  const old = q.mutationQuota('User:ANONYMOUS', 'admin', false);
  assert.equal(old.record(3), true);
  assert.equal(old.throttleTimeMs, 4000);
  // Without a quota nothing is refused.
  assert.equal(q.mutationQuota('User:ANONYMOUS', 'other', true).record(1e6), true);
});
