/**
 * Incremental fetch sessions (KIP-227).
 *
 * A session remembers the partitions a client fetches and, for each, what it was last told (high
 * watermark, log start offset, last stable offset) and the offset it will fetch next. Request forms:
 * - sessionId 0, epoch -1: a full fetch with no session (FINAL_EPOCH);
 * - sessionId 0, epoch 0: a full fetch that creates a session; the response carries its id;
 * - sessionId S, epoch E > 0: an incremental fetch: the request lists only changed partitions and
 *   forgotten ones; E must be the session's next epoch, else INVALID_FETCH_SESSION_EPOCH; an unknown S
 *   gets FETCH_SESSION_ID_NOT_FOUND; the response lists only partitions with news;
 * - sessionId S, epoch -1: close session S, then a full fetch with no session.
 * The cache holds at most `maxSessions` sessions; the least recently used is evicted.
 */
export interface SessionPartition {
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  /** What the client was last told, to decide whether an incremental response must include it. */
  lastHighWatermark: number;
  lastLogStartOffset: number;
  lastStableOffset: number;
}

export class FetchSession {
  /** Next expected epoch. */
  epoch = 1;
  lastUsed = 0;
  /** Insertion-ordered partitions, keyed by topic id or name + partition. */
  readonly partitions = new Map<string, SessionPartition>();

  constructor(readonly id: number) {}

  static key(topicOrId: string, partition: number): string {
    return `${topicOrId}\u0000${partition}`;
  }
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private nextId = 1 + Math.floor(Math.random() * 0x3fffffff);

  constructor(private readonly maxSessions = 1000) {}

  get size(): number {
    return this.sessions.size;
  }

  create(now: number): FetchSession {
    while (this.sessions.size >= this.maxSessions) {
      let oldest: FetchSession | undefined;
      for (const s of this.sessions.values()) if (!oldest || s.lastUsed < oldest.lastUsed) oldest = s;
      this.sessions.delete(oldest!.id);
    }
    let id = this.nextId;
    while (id === 0 || this.sessions.has(id)) id = (id + 1) & 0x7fffffff;
    this.nextId = (id + 1) & 0x7fffffff;
    const s = new FetchSession(id);
    s.lastUsed = now;
    this.sessions.set(id, s);
    return s;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  remove(id: number): void {
    this.sessions.delete(id);
  }
}
