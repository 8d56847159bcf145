/**
 * The fetch session cache (KIP-227) on its own: session ids, epochs, Kafka's update order, the "news" rule,
 * rotation, and Kafka's eviction rules (stale first; then only a less valuable session that was created
 * long enough ago, or, for a follower, any consumer session), with explicit clock values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FetchSession,
  FetchSessionCache,
  nextEpoch,
  INVALID_SESSION_ID,
  type SessionPartition,
} from '../../broker/fetch-sessions.js';

const EVICTION_MS = 120_000;

function parts(n: number, topic = 't'): SessionPartition[] {
  return Array.from({ length: n }, (_, i) => ({
    topic,
    topicId: `${topic}-id`,
    partition: i,
    fetchOffset: 0,
    maxBytes: 1024,
    currentLeaderEpoch: -1,
    lastHighWatermark: -1,
    lastLogStartOffset: -1,
    lastStableOffset: -1,
  }));
}

test('epochs start at 1 and wrap from MAX_INT to 1; negative epochs stay final', () => {
  assert.equal(new FetchSession(1, false, false, 0).epoch, 1);
  assert.equal(nextEpoch(1), 2);
  assert.equal(nextEpoch(2147483647), 1);
  assert.equal(nextEpoch(-1), -1);
});

test('session ids are positive, never 0, and unique even when the generator repeats itself', () => {
  const ids = [0, 7, 7, 7, 9];
  const cache = new FetchSessionCache(10, EVICTION_MS, () => ids.shift() ?? 7);
  const a = cache.create(0, false, false, parts(1))!;
  const b = cache.create(0, false, false, parts(1))!;
  const c = cache.create(0, false, false, parts(1))!;
  assert.equal(a.id, 7);
  assert.equal(b.id, 9);
  assert.notEqual(c.id, INVALID_SESSION_ID);
  assert.equal(new Set([a.id, b.id, c.id]).size, 3);
  assert.equal(cache.size, 3);
  assert.equal(cache.totalPartitions, 3);
  assert.equal(cache.remove(a.id), true);
  assert.equal(cache.remove(a.id), false);
  assert.equal(cache.get(a.id), undefined);
});

test('update: the listed partitions are added or updated first, then the forgotten ones removed', () => {
  const s = new FetchSession(1, false, false, 0);
  const [p0, p1] = parts(2);
  s.update([p0, p1], []);
  const e0 = s.partitions.get(s.keyOf(p0))!;
  e0.lastHighWatermark = 10;
  s.update([{ ...p0, fetchOffset: 5, maxBytes: 99 }], []);
  assert.equal(e0.fetchOffset, 5, 'an update changes the request parameters');
  assert.equal(e0.maxBytes, 99);
  assert.equal(e0.lastHighWatermark, 10, 'but not what the client was told');
  s.update([{ ...p1, fetchOffset: 3 }], [p1]);
  assert.equal(s.partitions.has(s.keyOf(p1)), false, 'listed and forgotten in one update: forgotten');
  s.update([{ ...p1, fetchOffset: 4 }], []);
  const back = s.partitions.get(s.keyOf(p1))!;
  assert.equal(back.fetchOffset, 4, 'added back from its new offset');
  assert.equal(back.lastHighWatermark, -1, 'with no memory of what was said before');
  assert.deepEqual(
    [...s.partitions.values()].map((e) => e.partition),
    [0, 1],
  );
});

test('sessions with topic ids key partitions by id: a topic recreated under the same name is another partition', () => {
  const s = new FetchSession(1, false, true, 0);
  const [p0] = parts(1);
  s.update([p0], []);
  s.update([{ ...p0, topicId: 'new-id' }], [p0]);
  assert.deepEqual(
    [...s.partitions.values()].map((e) => e.topicId),
    ['new-id'],
  );
  const byName = new FetchSession(2, false, false, 0);
  byName.update([p0], []);
  byName.update([], [{ topic: 't', topicId: 'whatever', partition: 0 }]);
  assert.equal(byName.partitions.size, 0, 'by name below v13');
});

test('news: records, errors, a changed high watermark, log start or last stable offset; -1 after an error', () => {
  const [e] = parts(1);
  const ok = { errorCode: 0, recordsSize: 0, highWatermark: 5, logStartOffset: 0, lastStableOffset: 5 };
  assert.equal(FetchSession.news(e, ok), true, 'first answer');
  assert.equal(FetchSession.news(e, ok), false, 'nothing changed');
  assert.equal(FetchSession.news(e, { ...ok, recordsSize: 10 }), true);
  assert.equal(FetchSession.news(e, { ...ok, highWatermark: 6, lastStableOffset: 6 }), true);
  assert.equal(FetchSession.news(e, { ...ok, highWatermark: 6, lastStableOffset: 6, logStartOffset: 2 }), true);
  const err = { errorCode: 1, recordsSize: 0, highWatermark: -1, logStartOffset: -1, lastStableOffset: -1 };
  assert.equal(FetchSession.news(e, err), true);
  assert.equal(FetchSession.news(e, err), true, 'errors are always news');
  assert.equal(e.lastHighWatermark, -1);
  assert.equal(FetchSession.news(e, { ...ok, highWatermark: 6, lastStableOffset: 6, logStartOffset: 2 }), true);
});

test('rotate moves a partition to the end of the session', () => {
  const s = new FetchSession(1, false, false, 0);
  s.update(parts(3), []);
  s.rotate(s.partitions.get(s.keyOf(parts(3)[0]))!);
  assert.deepEqual(
    [...s.partitions.values()].map((e) => e.partition),
    [1, 2, 0],
  );
});

test('eviction: a full cache gives no session to a consumer while the others are young and as large', () => {
  let n = 0;
  const cache = new FetchSessionCache(2, EVICTION_MS, () => ++n);
  const a = cache.create(0, false, false, parts(1))!;
  const b = cache.create(0, false, false, parts(5))!;
  assert.equal(cache.create(1000, false, false, parts(50)), undefined, 'sessions newer than evictionMs stay');
  // Used recently but created long ago: evictable by a session with more partitions only.
  cache.touch(a, EVICTION_MS + 1000);
  cache.touch(b, EVICTION_MS + 1000);
  assert.equal(cache.create(EVICTION_MS + 2000, false, false, parts(1)), undefined, 'not more valuable than a');
  const c = cache.create(EVICTION_MS + 2000, false, false, parts(2));
  assert.ok(c, 'more partitions than the smallest old session');
  assert.equal(cache.get(a.id), undefined, 'the least valuable (fewest partitions) went');
  assert.ok(cache.get(b.id));
  assert.equal(cache.evictions, 1);
});

test('eviction: a stale session (unused for evictionMs) goes first, the least recently used', () => {
  let n = 0;
  const cache = new FetchSessionCache(2, EVICTION_MS, () => ++n);
  const a = cache.create(0, false, false, parts(9))!;
  const b = cache.create(10, false, false, parts(1))!;
  cache.touch(b, 50_000);
  const c = cache.create(EVICTION_MS + 10, false, false, parts(1));
  assert.ok(c);
  assert.equal(cache.get(a.id), undefined, 'a was stale even though it is the largest');
  assert.ok(cache.get(b.id));
});

test('eviction: a follower (privileged) session may evict any consumer session, never the reverse', () => {
  let n = 0;
  const cache = new FetchSessionCache(1, EVICTION_MS, () => ++n);
  const consumer = cache.create(0, false, false, parts(100))!;
  const follower = cache.create(10, true, false, parts(1));
  assert.ok(follower, 'privileged beats unprivileged, whatever the size');
  assert.equal(cache.get(consumer.id), undefined);
  assert.equal(cache.create(20, false, false, parts(500)), undefined, 'a consumer cannot evict a follower');
  assert.equal(cache.create(20, true, false, parts(1)), undefined, 'nor a young follower with as many');
});

test('max.incremental.fetch.session.cache.slots = 0: no session is ever created (every fetch is a full one)', () => {
  const cache = new FetchSessionCache(0, EVICTION_MS);
  assert.equal(cache.create(0, false, false, parts(1)), undefined);
  assert.equal(cache.create(10 * EVICTION_MS, true, true, parts(3)), undefined);
  assert.equal(cache.size, 0);
});
