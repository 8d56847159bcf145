/**
 * Consumer, with the Java consumer's semantics:
 * - assign(): manual partitions; subscribe(): a classic consumer group (group-membership.ts), rejoined on
 *   the next poll after a rebalance is signalled, committing first when autoCommit is on (eager revocation);
 * - a partition's starting position is, in order: an offset given to assign()/seek(), the group's committed
 *   offset, else the reset policy (fromBeginning → earliest, otherwise latest, as auto.offset.reset);
 *   OFFSET_OUT_OF_RANGE resets by the same policy;
 * - poll() fetches from the leaders of every assigned, unpaused partition (fetcher.ts) and returns the
 *   records in offset order per partition; positions advance past what was returned;
 * - commit() commits the positions (the next offset to read), or the offsets given; autoCommit commits every
 *   autoCommitIntervalMs during poll, before rebalancing and on close; close() leaves the group.
 * Defaults follow Kafka: autoCommit true (with a group), 5 s interval, session 45 s, heartbeat 3 s,
 * read_uncommitted, max wait 500 ms, 50 MiB per fetch and 1 MiB per partition.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { KafkaError, needsMetadataRefresh } from './errors.js';
import { Fetcher, type FetchTarget } from './fetcher.js';
import { GroupMembership } from './group-membership.js';
import { Metadata, sleep } from './metadata.js';
import { commitOffsets, fetchOffsets, listOffsets, type OffsetSpec } from './offsets.js';
import { ConnectionPool, resolveOptions, type ClientOptions } from './pool.js';
import type { CoordinatorCache } from './coordinator.js';
import type { ConsumerRecord, Isolation, TopicPartition } from './types.js';

export interface ConsumerOptions extends ClientOptions {
  groupId?: string;
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  sessionTimeoutMs?: number;
  /** Kafka's max.poll.interval.ms, sent as the rebalance timeout. */
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Static membership (group.instance.id). */
  groupInstanceId?: string;
  /** Assignors offered, in order of preference: 'range' (default first) and 'roundrobin'. */
  assignors?: Array<'range' | 'roundrobin'>;
  fromBeginning?: boolean;
  isolation?: Isolation;
  maxWaitMs?: number;
  maxBytes?: number;
  maxPartitionBytes?: number;
  /** How often the group leader looks for partition count changes of subscribed topics (metadata.max.age.ms, 5 min). */
  metadataMaxAgeMs?: number;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset to read; null until resolved. */
  position: number | null;
  /**
   * A seek to resolve on the next poll (earliest/latest/timestamp), or 'committed' (committed offset, else reset
   * policy).
   */
  pending: OffsetSpec | 'committed' | null;
  paused: boolean;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class Consumer {
  readonly pool: ConnectionPool;
  readonly metadata: Metadata;
  private readonly fetcher: Fetcher;
  private readonly membership: GroupMembership | null;
  private readonly coordinators: CoordinatorCache | null;
  private readonly groupId: string | null;
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly fromBeginning: boolean;
  private readonly isolation: Isolation;
  private readonly maxWaitMs: number;
  private readonly parts = new Map<string, PartitionState>();
  private subscribed: string[] | null = null;
  private lastCommit = Date.now();
  private lastMetadataCheck = Date.now();
  private readonly metadataMaxAgeMs: number;
  private closed = false;
  private iterBuffer: ConsumerRecord[] = [];

  constructor(opts: ConsumerOptions) {
    const o = resolveOptions(opts);
    this.pool = new ConnectionPool(o);
    this.metadata = new Metadata(this.pool);
    this.groupId = opts.groupId ?? null;
    this.autoCommit = this.groupId !== null && (opts.autoCommit ?? true);
    this.autoCommitIntervalMs = opts.autoCommitIntervalMs ?? 5_000;
    this.fromBeginning = opts.fromBeginning ?? false;
    this.isolation = opts.isolation ?? 'read_uncommitted';
    this.maxWaitMs = opts.maxWaitMs ?? 500;
    this.metadataMaxAgeMs = opts.metadataMaxAgeMs ?? 300_000;
    this.fetcher = new Fetcher(this.metadata, {
      isolation: this.isolation,
      maxBytes: opts.maxBytes ?? 52_428_800,
      partitionMaxBytes: opts.maxPartitionBytes ?? 1_048_576,
      minBytes: 1,
    });
    this.membership =
      this.groupId === null
        ? null
        : new GroupMembership(this.metadata, {
            groupId: this.groupId,
            groupInstanceId: opts.groupInstanceId ?? null,
            sessionTimeoutMs: opts.sessionTimeoutMs ?? 45_000,
            rebalanceTimeoutMs: opts.rebalanceTimeoutMs ?? 300_000,
            heartbeatIntervalMs:
              opts.heartbeatIntervalMs ?? Math.min(3_000, Math.floor((opts.sessionTimeoutMs ?? 45_000) / 3)),
            assignors: opts.assignors ?? ['range', 'roundrobin'],
            logger: o.logger,
          });
    this.coordinators = this.membership ? this.membership.coordinators : null;
  }

  /** Manual assignment (replaces any previous one); no group membership. */
  assign(parts: Array<{ topic: string; partition: number; offset?: number }>): void {
    if (this.subscribed)
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'assign() after subscribe(): a consumer uses one or the other');
    this.parts.clear();
    for (const p of parts) {
      this.parts.set(key(p.topic, p.partition), {
        topic: p.topic,
        partition: p.partition,
        position: p.offset ?? null,
        pending: p.offset === undefined ? 'committed' : null,
        paused: false,
      });
    }
  }

  /** Join the group for these topics; resolves once the first assignment is in. */
  async subscribe(topics: string[]): Promise<void> {
    if (!this.membership) throw new KafkaError(ErrorCode.INVALID_GROUP_ID, 'subscribe() needs a groupId');
    if (this.parts.size > 0 && !this.subscribed)
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'subscribe() after assign()');
    this.subscribed = [...topics];
    for (const t of topics) await this.metadata.topic(t, { autoCreate: true }).catch(() => undefined);
    this.membership.setTopics(topics);
    await this.rejoin();
  }

  assignment(): TopicPartition[] {
    return [...this.parts.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
  }

  /** Where the next poll reads each assigned partition from (null = not resolved yet). */
  position(topic: string, partition: number): number | null {
    return this.parts.get(key(topic, partition))?.position ?? null;
  }

  seek(topic: string, partition: number, offset: number | OffsetSpec): void {
    const p = this.parts.get(key(topic, partition));
    if (!p)
      throw new KafkaError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `seek: ${topic}-${partition} is not assigned to this consumer`,
      );
    if (typeof offset === 'number') {
      p.position = offset;
      p.pending = null;
    } else {
      p.position = null;
      p.pending = offset;
    }
    this.iterBuffer = this.iterBuffer.filter((r) => r.topic !== topic || r.partition !== partition);
  }

  pause(parts: TopicPartition[]): void {
    for (const tp of parts) {
      const p = this.parts.get(key(tp.topic, tp.partition));
      if (!p) continue;
      p.paused = true;
      // Records already handed to the iterator's buffer but not yet read are fetched again after resume.
      const held = this.iterBuffer.filter((r) => r.topic === tp.topic && r.partition === tp.partition);
      if (held.length > 0) {
        p.position = held[0].offset;
        this.iterBuffer = this.iterBuffer.filter((r) => r.topic !== tp.topic || r.partition !== tp.partition);
      }
    }
  }

  resume(parts: TopicPartition[]): void {
    for (const tp of parts) {
      const p = this.parts.get(key(tp.topic, tp.partition));
      if (p) p.paused = false;
    }
  }

  paused(): TopicPartition[] {
    return [...this.parts.values()].filter((p) => p.paused).map((p) => ({ topic: p.topic, partition: p.partition }));
  }

  /** Fetch records, waiting up to timeoutMs (default maxWaitMs) for some to arrive. */
  async poll(timeoutMs = this.maxWaitMs): Promise<ConsumerRecord[]> {
    if (this.closed) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'consumer is closed');
    const deadline = Date.now() + timeoutMs;
    if (
      this.membership &&
      this.subscribed &&
      !this.membership.needsRejoin &&
      Date.now() - this.lastMetadataCheck >= this.metadataMaxAgeMs
    ) {
      this.lastMetadataCheck = Date.now();
      if (await this.membership.metadataChanged().catch(() => false)) this.membership.needsRejoin = true;
    }
    if (this.membership && this.subscribed && this.membership.needsRejoin) await this.rejoin();
    await this.resolvePositions();
    if (this.autoCommit && Date.now() - this.lastCommit >= this.autoCommitIntervalMs) await this.commitQuietly();
    const targets: FetchTarget[] = [];
    for (const p of this.parts.values()) {
      if (!p.paused && p.position !== null)
        targets.push({ topic: p.topic, partition: p.partition, offset: p.position });
    }
    if (targets.length === 0) {
      await sleep(Math.max(0, Math.min(deadline - Date.now(), 100)));
      return [];
    }
    const results = await this.fetcher.fetch(targets, Math.max(0, Math.min(this.maxWaitMs, deadline - Date.now())));
    const out: ConsumerRecord[] = [];
    let backoff = false;
    for (const r of results) {
      const p = this.parts.get(key(r.topic, r.partition));
      if (!p || p.position !== r.fetchOffset) continue; // revoked or seeked while fetching
      if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        p.position = null;
        p.pending = this.fromBeginning ? 'earliest' : 'latest';
        continue;
      }
      if (r.errorCode !== ErrorCode.NONE) {
        if (needsMetadataRefresh(r.errorCode)) this.metadata.invalidate(r.topic);
        const e = new KafkaError(r.errorCode, `fetch ${r.topic}-${r.partition}`);
        if (!e.retriable && !needsMetadataRefresh(r.errorCode)) throw e;
        backoff = true;
        continue;
      }
      if (p.paused) continue;
      out.push(...r.records);
      p.position = r.nextOffset;
    }
    if (backoff && out.length === 0) await sleep(Math.max(0, Math.min(deadline - Date.now(), 100)));
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    while (!this.closed) {
      if (this.iterBuffer.length === 0) {
        try {
          this.iterBuffer = await this.poll();
        } catch (e) {
          if (this.closed) return;
          throw e;
        }
        continue;
      }
      yield this.iterBuffer.shift()!;
    }
  }

  /** Commit the given offsets, or the current position of every assigned partition. */
  async commit(
    offsets?: Array<{ topic: string; partition: number; offset: number; metadata?: string }>,
  ): Promise<void> {
    if (!this.groupId || !this.coordinators)
      throw new KafkaError(ErrorCode.INVALID_GROUP_ID, 'commit() needs a groupId');
    const entries =
      offsets ??
      [...this.parts.values()]
        .filter((p) => p.position !== null)
        .map((p) => ({ topic: p.topic, partition: p.partition, offset: p.position as number }));
    const gen =
      this.membership && this.subscribed
        ? this.membership.generation()
        : { generationId: -1, memberId: '', groupInstanceId: null };
    for (let attempt = 0; ; attempt++) {
      try {
        await commitOffsets(await this.coordinators.connection(this.groupId), this.groupId, entries, gen);
        this.lastCommit = Date.now();
        return;
      } catch (e) {
        if (
          attempt < 5 &&
          e instanceof KafkaError &&
          (e.code === ErrorCode.NOT_COORDINATOR ||
            e.code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
            e.code === ErrorCode.NETWORK_EXCEPTION ||
            e.code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
        ) {
          this.coordinators.invalidate(this.groupId);
          await sleep(100 * (attempt + 1));
          continue;
        }
        if (
          e instanceof KafkaError &&
          this.membership &&
          (e.code === ErrorCode.REBALANCE_IN_PROGRESS ||
            e.code === ErrorCode.ILLEGAL_GENERATION ||
            e.code === ErrorCode.UNKNOWN_MEMBER_ID)
        ) {
          this.membership.needsRejoin = true;
        }
        throw e;
      }
    }
  }

  private async commitQuietly(): Promise<void> {
    try {
      await this.commit();
    } catch (e) {
      this.pool.opts.logger?.warn({ err: e }, 'auto-commit failed');
    }
  }

  /** Close: commit (autoCommit), leave the group, close connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.autoCommit && this.parts.size > 0) await this.commitQuietly();
      if (this.membership && this.subscribed) await this.membership.leave();
    } finally {
      this.closed = true;
      this.pool.close();
    }
  }

  private async rejoin(): Promise<void> {
    const m = this.membership!;
    if (this.autoCommit && this.parts.size > 0 && m.generationId >= 0) await this.commitQuietly();
    this.parts.clear();
    this.iterBuffer = [];
    const assigned = await m.join();
    for (const tp of assigned) {
      this.parts.set(key(tp.topic, tp.partition), {
        topic: tp.topic,
        partition: tp.partition,
        position: null,
        pending: 'committed',
        paused: false,
      });
    }
  }

  /** Turn pending seeks and fresh assignments into positions. */
  private async resolvePositions(): Promise<void> {
    const pending = [...this.parts.values()].filter((p) => p.pending !== null);
    if (pending.length === 0) return;
    const committed = pending.filter((p) => p.pending === 'committed');
    if (committed.length > 0) {
      const reset = this.fromBeginning ? 'earliest' : 'latest';
      if (this.groupId && this.coordinators) {
        const byTopic = new Map<string, number[]>();
        for (const p of committed) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
        const got = await fetchOffsets(
          await this.coordinators.connection(this.groupId),
          this.groupId,
          [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
          true,
        );
        for (const p of committed) {
          const c = got.find((o) => o.topic === p.topic && o.partition === p.partition);
          if (c && c.offset >= 0) {
            p.position = c.offset;
            p.pending = null;
          } else p.pending = reset;
        }
      } else {
        for (const p of committed) p.pending = reset;
      }
    }
    const bySpec = new Map<string, PartitionState[]>();
    for (const p of this.parts.values()) {
      if (p.pending === null || p.pending === 'committed') continue;
      const spec = p.pending;
      const k = `${p.topic}\u0000${JSON.stringify(spec)}`;
      bySpec.set(k, [...(bySpec.get(k) ?? []), p]);
    }
    for (const ps of bySpec.values()) {
      const spec = ps[0].pending as OffsetSpec;
      const res = await listOffsets(
        this.metadata,
        ps[0].topic,
        ps.map((p) => p.partition),
        spec,
        this.isolation === 'read_committed',
      );
      const needLatest: PartitionState[] = [];
      for (const p of ps) {
        const o = res.find((x) => x.partition === p.partition);
        if (!o) continue;
        if (o.offset >= 0) {
          p.position = o.offset;
          p.pending = null;
        } else needLatest.push(p); // no record at or after the timestamp: the end of the log
      }
      if (needLatest.length > 0) {
        for (const p of needLatest) p.pending = 'latest';
      }
    }
  }
}
