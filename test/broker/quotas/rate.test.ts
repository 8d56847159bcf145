import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SampledRate, throttleTimeMs, TokenBucket } from '../../../broker/quotas/rate.js';

test('a new rate divides by the time since its first record, one window at least; after idle, by 10 windows', () => {
  const r = new SampledRate(11, 1000);
  r.record(1000, 0);
  assert.equal(r.windowSizeMs(0), 1000);
  assert.equal(r.rate(0), 1000);
  assert.equal(r.windowSizeMs(500), 1000);
  assert.equal(r.windowSizeMs(2500), 2500);
  assert.equal(r.rate(2500), 400);
  // Every sample expired: the windows since count as empty (Kafka's samples - 1 full windows).
  r.record(5000, 30_000);
  assert.equal(r.windowSizeMs(30_000), 10_000);
  assert.equal(r.rate(30_000), 500);
  assert.equal(r.windowSizeMs(30_500), 10_500);
});

test('samples rotate every window and expire after samples * window', () => {
  const r = new SampledRate(3, 1000);
  r.record(300, 0);
  r.record(300, 1000); // second sample
  r.record(300, 2000); // third sample
  // oldest sample started at 0: elapsed 2500 ms >= 2 full windows -> no padding.
  assert.equal(r.windowSizeMs(2500), 2500);
  assert.equal(r.rate(2500), 900 / 2.5);
  // At 3000 the first sample (started at 0) is 3 windows old: it no longer counts.
  r.record(0, 3000);
  assert.equal(r.rate(3000), 600 / 2);
  // Long idle: everything expires.
  assert.equal(r.rate(60_000), 0);
});

test('unrecord takes a value back from the current sample', () => {
  const r = new SampledRate(11, 1000);
  r.record(5000, 0);
  r.unrecord(5000, 10);
  assert.equal(r.rate(10), 0);
});

test('throttle time is (rate - quota) / quota * window, rounded, capped; 0 within the quota', () => {
  assert.equal(throttleTimeMs(100, 100, 10_000, 1000), 0);
  assert.equal(throttleTimeMs(90, 100, 10_000, 1000), 0);
  assert.equal(throttleTimeMs(105, 100, 10_000, 1000), 500);
  assert.equal(throttleTimeMs(100.004, 100, 10_000, 1000), 0);
  assert.equal(throttleTimeMs(100.006, 100, 10_000, 1000), 1);
  assert.equal(throttleTimeMs(300, 100, 10_000, 1000), 1000);
});

test('token bucket: starts full (quota * samples * window), goes negative, refills at the quota', () => {
  const b = new TokenBucket(2, 11, 1000, 0);
  assert.equal(b.measure(0), 22);
  b.record(22, 0);
  assert.equal(b.measure(0), 0);
  assert.equal(b.throttleTimeMs(0), 0);
  b.record(3, 0);
  assert.equal(b.measure(0), -3);
  assert.equal(b.throttleTimeMs(0), 1500);
  assert.equal(b.throttleTimeMs(1000), 500);
  assert.equal(b.throttleTimeMs(1500), 0);
  // Never above the burst.
  assert.equal(b.measure(1_000_000), 22);
  // A lower quota caps the tokens at its burst.
  b.setQuota(1, 1_000_000);
  assert.equal(b.measure(1_000_000), 11);
});
