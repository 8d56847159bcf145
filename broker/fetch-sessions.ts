/**
 * Incremental fetch sessions (KIP-227), as Kafka's FetchManager / FetchSessionCache keep them.
 *
 * A session remembers the partitions a client fetches and, for each, its last request parameters (fetch
 * offset, max bytes, leader epoch) and what it was last told (high watermark, log start offset, last stable
 * offset). Request forms (sessionId S, epoch E):
 * - E = -1 (FINAL_EPOCH): close S if S != 0, then a full fetch without a session (response sessionId 0);
 * - E = 0 (INITIAL_EPOCH): close S if S != 0, then a full fetch that creates a new session when the
 *   cache has room (or can evict one); the response carries its id, else 0. Clients reset a session this way.
 * - any other E: an incremental fetch of session S: unknown S (or S = 0) → FETCH_SESSION_ID_NOT_FOUND;
 *   E not the session's expected epoch → INVALID_FETCH_SESSION_EPOCH; a session opened with topic ids
 *   (v13+) used by a request below v13, or the reverse → FETCH_SESSION_TOPIC_ID_ERROR. Otherwise the
 *   request's partitions are added or updated, then its forgotten partitions removed (Kafka's order: a
 *   partition both listed and forgotten in one request ends up forgotten); a session left empty is closed
 *   and the request answered without a session; else the expected epoch moves on (MAX_INT wraps to 1).
 *   The response lists only partitions with news (records, an error, or a changed high watermark, log
 *   start offset or last stable offset); partitions that returned records move to the end of the session,
 *   so that a response size limit does not starve the partitions behind them.
 * Cache (Kafka's eviction rules): at most `maxSessions` sessions. A new session takes a free slot, else
 * evicts the least recently used session if it is stale (unused for more than `evictionMs`), else the
 * least valuable evictable session if the new one is worth more: sessions compare by (privileged, number
 * of partitions, id), followers' sessions being privileged; a consumer may evict only sessions that were
 * older than `evictionMs` when last used, a follower also any consumer session. Otherwise no session.
 */
import { randomInt } from 'node:crypto';

export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;
const INT32_MAX = 2147483647;

export interface SessionPartition {
  /** Topic name; '' while a topic id (v13+) does not resolve. */
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
  /** What the client was last told, to decide whether an incremental response must include it. */
  lastHighWatermark: number;
  lastLogStartOffset: number;
  lastStableOffset: number;
}

/** What one fetched partition answered, as far as the session's "news" rule is concerned. */
export interface PartitionAnswer {
  errorCode: number;
  recordsSize: number;
  highWatermark: number;
  logStartOffset: number;
  lastStableOffset: number;
}

/** The epoch that follows `epoch` (Kafka's FetchMetadata.nextEpoch). */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  return epoch >= INT32_MAX ? 1 : epoch + 1;
}

export class FetchSession {
  /** Next expected epoch. */
  epoch = nextEpoch(INITIAL_EPOCH);
  lastUsed: number;
  /** Set by the cache at each touch (Kafka's evictable maps). */
  evictableByAll = false;
  evictableByPrivileged = false;
  /** The number of partitions at the last touch (the eviction key's size). */
  cachedSize = 0;
  /** Insertion-ordered partitions, keyed by topic id (v13+ sessions) or name, and partition. */
  readonly partitions = new Map<string, SessionPartition>();

  constructor(
    readonly id: number,
    readonly privileged: boolean,
    readonly usesTopicIds: boolean,
    readonly created: number,
  ) {
    this.lastUsed = created;
  }

  static key(topicOrId: string, partition: number): string {
    return `${topicOrId}\u0000${partition}`;
  }

  keyOf(p: { topic: string; topicId: string; partition: number }): string {
    return FetchSession.key(this.usesTopicIds ? p.topicId : p.topic, p.partition);
  }

  /**
   * Kafka's FetchSession.update: add or update the request's partitions (an update changes only the
   * request parameters, not what the client was told), then remove the forgotten ones.
   */
  update(requested: SessionPartition[], forgotten: { topic: string; topicId: string; partition: number }[]): void {
    for (const r of requested) {
      const k = this.keyOf(r);
      const e = this.partitions.get(k);
      if (!e) {
        this.partitions.set(k, { ...r, lastHighWatermark: -1, lastLogStartOffset: -1, lastStableOffset: -1 });
        continue;
      }
      e.fetchOffset = r.fetchOffset;
      e.maxBytes = r.maxBytes;
      e.currentLeaderEpoch = r.currentLeaderEpoch;
      if (e.topic === '' && r.topic !== '') e.topic = r.topic;
    }
    for (const f of forgotten) this.partitions.delete(this.keyOf(f));
  }

  /**
   * Whether an incremental response must include this partition; records what the client is told.
   * After an error the cached high watermark is -1, so the partition is sent again once the error clears.
   */
  static news(e: SessionPartition, a: PartitionAnswer): boolean {
    let news = a.recordsSize > 0 || a.errorCode !== 0;
    if (e.lastHighWatermark !== a.highWatermark) news = true;
    if (e.lastLogStartOffset !== a.logStartOffset) news = true;
    if (e.lastStableOffset !== a.lastStableOffset) news = true;
    e.lastHighWatermark = a.errorCode !== 0 ? -1 : a.highWatermark;
    e.lastLogStartOffset = a.logStartOffset;
    e.lastStableOffset = a.lastStableOffset;
    return news;
  }

  /** Move a partition to the end of the session (after it returned records). */
  rotate(e: SessionPartition): void {
    const k = this.keyOf(e);
    if (this.partitions.get(k) !== e) return;
    this.partitions.delete(k);
    this.partitions.set(k, e);
  }
}

/** (privileged, size, id), compared in that order. */
function compareKeys(a: [boolean, number, number], b: [boolean, number, number]): number {
  if (a[0] !== b[0]) return a[0] ? 1 : -1;
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] - b[2];
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  /** Sessions evicted to make room for others (metrics). */
  evictions = 0;

  constructor(
    private readonly maxSessions = 1000,
    private readonly evictionMs = 120_000,
    private readonly newId: () => number = () => randomInt(1, INT32_MAX),
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Partitions held by all sessions (as of their last touch). */
  get totalPartitions(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.cachedSize;
    return n;
  }

  /**
   * Create a session holding `partitions` (in order), if there is room or a session can be evicted
   * for it (Kafka's maybeCreateSession); undefined otherwise.
   */
  create(
    now: number,
    privileged: boolean,
    usesTopicIds: boolean,
    partitions: SessionPartition[],
  ): FetchSession | undefined {
    if (this.sessions.size >= this.maxSessions && !this.tryEvict(privileged, partitions.length, now)) return undefined;
    let id = this.newId();
    for (let i = 0; id === INVALID_SESSION_ID || this.sessions.has(id); i++) {
      id = i < 100 ? this.newId() : (id % (INT32_MAX - 1)) + 1;
    }
    const s = new FetchSession(id, privileged, usesTopicIds, now);
    for (const p of partitions) s.partitions.set(s.keyOf(p), p);
    this.sessions.set(id, s);
    this.touch(s, now);
    return s;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  remove(id: number): boolean {
    return this.sessions.delete(id);
  }

  /** Record a use of the session: its last-used time, size and evictability (Kafka's touch). */
  touch(s: FetchSession, now: number): void {
    s.lastUsed = now;
    s.cachedSize = s.partitions.size;
    s.evictableByAll = now - s.created > this.evictionMs;
    s.evictableByPrivileged = !s.privileged || s.evictableByAll;
  }

  private tryEvict(privileged: boolean, size: number, now: number): boolean {
    let lru: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      if (!lru || s.lastUsed < lru.lastUsed || (s.lastUsed === lru.lastUsed && s.id < lru.id)) lru = s;
    }
    if (!lru) return false;
    if (now - lru.lastUsed > this.evictionMs) {
      this.evict(lru);
      return true;
    }
    let victim: FetchSession | undefined;
    const keyOf = (s: FetchSession): [boolean, number, number] => [s.privileged, s.cachedSize, s.id];
    for (const s of this.sessions.values()) {
      if (!(privileged ? s.evictableByPrivileged : s.evictableByAll)) continue;
      if (!victim || compareKeys(keyOf(s), keyOf(victim)) < 0) victim = s;
    }
    if (!victim || compareKeys([privileged, size, 0], keyOf(victim)) < 0) return false;
    this.evict(victim);
    return true;
  }

  private evict(s: FetchSession): void {
    this.sessions.delete(s.id);
    this.evictions++;
  }
}
