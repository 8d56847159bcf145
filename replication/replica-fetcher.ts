/**
 * Replica fetchers: how a follower copies its leaders' logs (Kafka's ReplicaFetcherThread and
 * ReplicaFetcherManager).
 *
 * - One ReplicaFetcher per source broker, fetching every partition this node follows from that leader in one
 *   request (replica id = this node; fetch offset = the local log end, which the leader records as this
 *   follower's end; the current leader epoch as the partition knows it).
 * - A partition added at a new leader epoch first truncates (KIP-101/KIP-279): OffsetForLeaderEpoch for the
 *   latest epoch of the local leader-epoch cache; the leader answers the largest epoch <= it and where that
 *   epoch ends; the local log is truncated to min(that end, the local end of that epoch). Unknown epochs
 *   (empty cache, or the leader has none as old) truncate to the local high watermark. So a former leader
 *   drops what it wrote past the HW in its old epoch and the logs never diverge.
 * - Fetched batches are appended as they are (Partition.appendAsFollower) with the leader's HW, the partitions
 *   of one answer concurrently; once every append of a round has settled the answers go back to the transport
 *   (`release`: their memory is reused).
 *   OFFSET_OUT_OF_RANGE (the answer's log start is -1, as Kafka's): the leader's log start comes from
 *   ListOffsets (earliest); behind it → the log restarts empty there; otherwise truncate again. Epoch and
 *   leadership errors (FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER,
 *   UNKNOWN_TOPIC_OR_PARTITION) and transport failures back the partition (or the fetcher) off for
 *   `backoffMs` until the metadata moves it.
 * - A partition whose leader is no longer the source (makeLeader, another leader) leaves the fetcher.
 * - `runOnce` is one round (tests drive it); `start` loops until `stop`. Time from the injected clock.
 *
 * The transport is an interface: `localTransport` calls another node's ReplicaManager in-process (tests);
 * replica-transport.ts speaks Fetch/OffsetForLeaderEpoch over Runnel's client connection.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { Clock } from '../storage/clock.js';
import type { Partition } from './partition.js';
import type { FollowerFetchers, ReplicaFetchData, ReplicaFetchPartition, ReplicaManager } from './replica-manager.js';

export interface EpochEndRequest {
  topic: string;
  partition: number;
  currentLeaderEpoch: number;
  leaderEpoch: number;
}

export interface EpochEndResult {
  topic: string;
  partition: number;
  errorCode: number;
  leaderEpoch: number;
  endOffset: number;
}

export interface LogStartRequest {
  topic: string;
  partition: number;
  currentLeaderEpoch: number;
}

export interface LogStartResult {
  topic: string;
  partition: number;
  errorCode: number;
  logStartOffset: number;
}

/** How a fetcher reaches its leader. */
export interface ReplicaTransport {
  fetch(replicaId: number, items: ReplicaFetchPartition[], maxWaitMs: number): Promise<ReplicaFetchData[]>;
  /**
   * Optional: the fetcher is done with what `fetch` returned (appended, or dropped) and keeps no part of its
   * records; the transport may reuse their memory (the network transport reads its next response into it).
   */
  release?(answers: ReplicaFetchData[]): void;
  offsetForLeaderEpoch(replicaId: number, items: EpochEndRequest[]): Promise<EpochEndResult[]>;
  /** The leader's log start offsets (ListOffsets, earliest), after an OFFSET_OUT_OF_RANGE fetch. */
  logStartOffsets(replicaId: number, items: LogStartRequest[]): Promise<LogStartResult[]>;
}

/** A transport into another node's ReplicaManager, in the same process. */
export function localTransport(leader: ReplicaManager): ReplicaTransport {
  return {
    fetch: (replicaId, items, maxWaitMs) => leader.fetchForReplica(replicaId, items, maxWaitMs),
    offsetForLeaderEpoch: async (_replicaId, items) =>
      items.map((it) => {
        const p = leader.getPartitionOrError(it.topic, it.partition, it.currentLeaderEpoch);
        if (typeof p === 'number') return { ...it, errorCode: p, leaderEpoch: -1, endOffset: -1 };
        const r = p.endOffsetForEpoch(it.leaderEpoch);
        return { topic: it.topic, partition: it.partition, errorCode: 0, leaderEpoch: r.epoch, endOffset: r.endOffset };
      }),
    logStartOffsets: async (_replicaId, items) =>
      items.map((it) => {
        const p = leader.getPartitionOrError(it.topic, it.partition, it.currentLeaderEpoch);
        if (typeof p === 'number') return { ...it, errorCode: p, logStartOffset: -1 };
        return { topic: it.topic, partition: it.partition, errorCode: 0, logStartOffset: p.logStartOffset };
      }),
  };
}

export interface ReplicaFetcherOptions {
  /** replica.fetch.wait.max.ms (default 500). */
  maxWaitMs?: number;
  /** replica.fetch.max.bytes per partition (default 1 MiB). */
  maxBytes?: number;
  /** replica.fetch.backoff.ms (default 1000). */
  backoffMs?: number;
}

interface FetchState {
  topic: string;
  partition: number;
  leaderEpoch: number;
  truncating: boolean;
  /** Not before this time (clock ms) after an error. */
  delayedUntil: number;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class ReplicaFetcher {
  private readonly states = new Map<string, FetchState>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly maxWaitMs: number;
  private readonly maxBytes: number;
  private readonly backoffMs: number;
  /** Rounds that failed in the transport (diagnostics, tests). */
  failures = 0;

  constructor(
    readonly sourceId: number,
    private readonly local: ReplicaManager,
    private readonly transport: ReplicaTransport,
    private readonly clock: Clock,
    options: ReplicaFetcherOptions = {},
  ) {
    this.maxWaitMs = options.maxWaitMs ?? 500;
    this.maxBytes = options.maxBytes ?? 1048576;
    this.backoffMs = options.backoffMs ?? 1000;
  }

  /** Follow `topic-partition` at `leaderEpoch`; a new epoch (or a new partition) truncates first. */
  add(topic: string, partition: number, leaderEpoch: number): void {
    const k = key(topic, partition);
    const s = this.states.get(k);
    if (s && s.leaderEpoch === leaderEpoch) return;
    this.states.set(k, { topic, partition, leaderEpoch, truncating: true, delayedUntil: 0 });
    this.wake?.();
  }

  remove(topic: string, partition: number): boolean {
    return this.states.delete(key(topic, partition));
  }

  get size(): number {
    return this.states.size;
  }

  has(topic: string, partition: number): boolean {
    return this.states.has(key(topic, partition));
  }

  /** The local partition if it still follows this source, else drop it from the fetcher. */
  private follower(s: FetchState): Partition | undefined {
    const p = this.local.getPartition(s.topic, s.partition);
    if (typeof p === 'number' || p.isLeader || p.leaderId !== this.sourceId) {
      this.remove(s.topic, s.partition);
      return undefined;
    }
    return p;
  }

  /** One round: truncate what needs it, then one fetch of every ready partition. Returns bytes appended. */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    const ready = [...this.states.values()].filter((s) => s.delayedUntil <= now && this.follower(s));
    try {
      await this.truncate(ready.filter((s) => s.truncating));
      return await this.fetch(ready.filter((s) => !s.truncating && this.states.get(key(s.topic, s.partition)) === s));
    } catch {
      this.failures++;
      for (const s of ready) s.delayedUntil = this.clock.now() + this.backoffMs;
      return 0;
    }
  }

  private async truncate(list: FetchState[]): Promise<void> {
    if (list.length === 0) return;
    const reqs: EpochEndRequest[] = [];
    const parts: Partition[] = [];
    for (const s of list) {
      const p = this.follower(s);
      if (!p) continue;
      parts.push(p);
      reqs.push({
        topic: s.topic,
        partition: s.partition,
        currentLeaderEpoch: s.leaderEpoch,
        leaderEpoch: p.log.leaderEpochCache.latestEpoch(),
      });
    }
    const noEpoch = reqs.filter((r) => r.leaderEpoch < 0);
    const asked = reqs.filter((r) => r.leaderEpoch >= 0);
    const answers = asked.length > 0 ? await this.transport.offsetForLeaderEpoch(this.local.nodeId, asked) : [];
    const byKey = new Map(answers.map((a) => [key(a.topic, a.partition), a]));
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i]!;
      const p = parts[i]!;
      const s = this.states.get(key(r.topic, r.partition));
      if (!s || s.leaderEpoch !== r.currentLeaderEpoch) continue;
      let target = p.highWatermark;
      if (!noEpoch.includes(r)) {
        const a = byKey.get(key(r.topic, r.partition));
        if (!a) continue;
        if (a.errorCode !== ErrorCode.NONE) {
          s.delayedUntil = this.clock.now() + this.backoffMs;
          continue;
        }
        if (a.leaderEpoch >= 0) {
          const mine = p.log.leaderEpochCache.endOffsetFor(a.leaderEpoch, p.logEndOffset);
          target = Math.min(a.endOffset, mine.endOffset >= 0 ? mine.endOffset : p.logEndOffset);
        }
      }
      if (target < p.logEndOffset) await p.truncateTo(target);
      s.truncating = false;
    }
  }

  private async fetch(list: FetchState[]): Promise<number> {
    if (list.length === 0) return 0;
    const items: ReplicaFetchPartition[] = [];
    for (const s of list) {
      const p = this.follower(s);
      if (!p) continue;
      items.push({
        topic: s.topic,
        partition: s.partition,
        fetchOffset: p.logEndOffset,
        currentLeaderEpoch: s.leaderEpoch,
        maxBytes: this.maxBytes,
      });
    }
    if (items.length === 0) return 0;
    const answers = await this.transport.fetch(this.local.nodeId, items, this.maxWaitMs);
    try {
      return await this.appendAnswers(items, answers);
    } finally {
      // Every append of this round has settled (written or failed): nothing refers to the records any more.
      this.transport.release?.(answers);
    }
  }

  /**
   * Each partition's answer at once (their logs are independent: one partition's write does not wait for
   * another's); settles once every one has, then fails with the first failure, if any.
   */
  private async appendAnswers(items: ReplicaFetchPartition[], answers: ReplicaFetchData[]): Promise<number> {
    let appended = 0;
    const one = async (a: ReplicaFetchData): Promise<void> => {
      const s = this.states.get(key(a.topic, a.partition));
      if (!s) return;
      const p = this.follower(s);
      if (!p) return;
      if (a.errorCode === ErrorCode.NONE) {
        const asked = items.find((it) => it.topic === a.topic && it.partition === a.partition);
        if (asked && asked.fetchOffset !== p.logEndOffset) return; // truncated meanwhile
        await p.appendAsFollower(a.records, a.highWatermark);
        appended += a.records.length;
      } else if (a.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        await this.outOfRange(s, p, a.logStartOffset);
      } else {
        // Epoch and leadership errors (FENCED/UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER, unknown partition)
        // and any other: back off until the metadata moves the partition.
        s.delayedUntil = this.clock.now() + this.backoffMs;
      }
    };
    const settled = await Promise.allSettled(answers.map(one));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return appended;
  }

  /**
   * OFFSET_OUT_OF_RANGE at our log end (Kafka's fetchOffsetAndTruncate): a Fetch error carries no log start
   * offset (-1, as Kafka's), so ask the leader's (ListOffsets earliest). Behind it: the log restarts empty
   * there; otherwise (our end is past the leader's) truncate again through OffsetForLeaderEpoch.
   */
  private async outOfRange(s: FetchState, p: Partition, answered: number): Promise<void> {
    let start = answered;
    if (start < 0) {
      const [r] = await this.transport.logStartOffsets(this.local.nodeId, [
        { topic: s.topic, partition: s.partition, currentLeaderEpoch: s.leaderEpoch },
      ]);
      if (!r || r.errorCode !== ErrorCode.NONE || this.states.get(key(s.topic, s.partition)) !== s) {
        s.delayedUntil = this.clock.now() + this.backoffMs;
        return;
      }
      start = r.logStartOffset;
    }
    if (start > p.logEndOffset) await p.truncateFullyAndStartAt(start);
    else s.truncating = true;
  }

  /** Fetch in a loop until `stop` (sleeping `backoffMs` when nothing is ready). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const now = this.clock.now();
        const ready = [...this.states.values()].some((s) => s.delayedUntil <= now);
        if (!ready) await this.sleep(this.backoffMs);
        else await this.runOnce();
      }
    })();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.clock.clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }
}

/** The fetchers of one node, one per leader it follows partitions from (Kafka's ReplicaFetcherManager). */
export class ReplicaFetcherManager implements FollowerFetchers {
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private started = false;

  constructor(
    private readonly local: ReplicaManager,
    private readonly transportFor: (leaderId: number) => ReplicaTransport,
    private readonly clock: Clock,
    private readonly options: ReplicaFetcherOptions = {},
  ) {}

  /** The fetcher for `leaderId`, if any. */
  fetcher(leaderId: number): ReplicaFetcher | undefined {
    return this.fetchers.get(leaderId);
  }

  all(): ReplicaFetcher[] {
    return [...this.fetchers.values()];
  }

  follow(leaderId: number, topic: string, partition: number, leaderEpoch: number): void {
    for (const [id, f] of this.fetchers) if (id !== leaderId) f.remove(topic, partition);
    let f = this.fetchers.get(leaderId);
    if (!f) {
      f = new ReplicaFetcher(leaderId, this.local, this.transportFor(leaderId), this.clock, this.options);
      this.fetchers.set(leaderId, f);
      if (this.started) f.start();
    }
    f.add(topic, partition, leaderEpoch);
  }

  unfollow(topic: string, partition: number): void {
    for (const f of this.fetchers.values()) f.remove(topic, partition);
  }

  /** Run every fetcher's loop (and those created later). */
  start(): void {
    this.started = true;
    for (const f of this.fetchers.values()) f.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()));
  }
}
