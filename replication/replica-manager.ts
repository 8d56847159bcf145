/**
 * ReplicaManager: the Partition objects this node hosts, by topic-partition, and the purgatory. Every
 * write (produce, internal topics, transaction markers, admin records, DeleteRecords) and every read goes
 * through here to a Partition, never to a PartitionLog directly.
 *
 * - Partitions follow the log manager's logs: `getPartition` wraps the log the log manager holds for the
 *   topic-partition, creating the Partition on first use and replacing it when the log changed (topic
 *   deleted and created again); a partition without a log is gone (UNKNOWN_TOPIC_OR_PARTITION).
 * - Without a metadata store (single node): this node leads every partition at epoch `leaderEpoch` (0).
 * - With one (`options.store`): a Partition starts from its registration in the image, and `start` follows
 *   the store's deltas: a partition whose leader is this node → makeLeader(epoch); one led elsewhere →
 *   makeFollower(leader, epoch) and handed to the fetcher of that leader (`followers`, the
 *   ReplicaFetcherManager of replica-fetcher.ts); a new ISR at the same epoch → updateAssignment. ISR
 *   proposals of the leaders go to store.alterPartition (CAS on the partition epoch), never adding a broker
 *   that is fenced or in controlled shutdown (KIP-841); every
 *   replica.lag.time.max.ms / 2 the leaders drop followers that lag (Partition.maybeShrinkIsr).
 * - `appendRecords`: Partition.appendAsLeader, then acks: 0 and 1 answer once the log acknowledged the
 *   append; -1 (all) is refused with NOT_ENOUGH_REPLICAS (nothing written) while the ISR is smaller than
 *   min.insync.replicas, else waits in the purgatory until the high watermark passes the batch (at once with
 *   one replica): NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below the minimum meanwhile, or
 *   REQUEST_TIMED_OUT after timeoutMs.
 * - `appendTxnMarker`: a COMMIT/ABORT marker as leader; with requiredAcks -1 (WriteTxnMarkers and the
 *   coordinator's local markers) the same min.insync.replicas check and wait for the high watermark.
 * - Replica fetches (`readForReplica`, `fetchForReplica`, replica-reads.ts): the follower's fetch offset is its
 *   log end (Partition.recordFollowerFetch), the read goes up to the log end (from the leader's tail cache,
 *   leader-tail-cache.ts, bounded by `tailCacheBytes` for the whole node), the answer carries the HW.
 * - Appends and HW moves wake the purgatory's delayed fetches and produces of that partition.
 * - With a store, a log's first Partition starts from the HW of `replication-offset-checkpoint`
 *   (`initialHighWatermarks`, hw-checkpoint.ts), not from its log end.
 * - A partition of the image this node does not host is NOT_LEADER_OR_FOLLOWER (`getPartitionOrError`).
 * - Leadership events (`onLeadershipChange(topic, listener)`, for the coordinators of the internal topics):
 *   the listener hears at once of every hosted partition of the topic this node leads, then "leader at
 *   epoch E" when the image makes this node leader, and "not leader" when it becomes a follower, loses its
 *   replica or the topic goes. A single node leads everything at epoch 0: it reports the partitions it
 *   hosts, then those of topics created later (`localStore`'s deltas, followed by `start`).
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { tpKey } from '../storage/checkpoint.js';
import type { Clock, TimerHandle } from '../storage/clock.js';
import type { AppendOptions, AppendResult, PartitionLog, TxnMarkerRequest } from '../storage/partition-log.js';
import { NO_LEADER_EPOCH, Partition, PartitionStateError } from './partition.js';
import { Purgatory } from './purgatory.js';
import { TopicPartitionMap } from '../storage/topic-partition-map.js';
import { TailCacheBudget } from './leader-tail-cache.js';
import { fetchForReplica, type ReplicaFetchData, type ReplicaFetchPartition, readForReplica } from './replica-reads.js';
import type { PartitionRegistration } from './metadata/image.js';
import type { MetadataDelta, MetadataStore } from './metadata/store.js';

export type { ReplicaFetchData, ReplicaFetchPartition } from './replica-reads.js';

/** A change of this node's leadership of one hosted partition. */
export interface LeadershipChange {
  topic: string;
  partition: number;
  /** true: this node leads the partition from `leaderEpoch` on; false: it stopped leading it. */
  leader: boolean;
  leaderEpoch: number;
}

export type LeadershipListener = (change: LeadershipChange) => void;

/** Where the partition logs live (the LogManager). */
export interface LogSource {
  getLog(topic: string, partition: number): PartitionLog | undefined;
  allLogs(): PartitionLog[];
}

export interface ReplicaManagerOptions {
  clock: Clock;
  /** The leader epoch of every partition on a single node (default 0). */
  leaderEpoch?: number;
  /** The cluster metadata (replication); without it this node leads everything. */
  store?: MetadataStore;
  /** replica.lag.time.max.ms (default 30000). */
  replicaLagTimeMaxMs?: number;
  /**
   * With a store: the high watermarks of `replication-offset-checkpoint` by `topic-partition` (hw-checkpoint.ts);
   * a log's first Partition starts from its entry, else from the log start (clamped to the log).
   */
  initialHighWatermarks?: ReadonlyMap<string, number>;
  /**
   * Single node (no `store`): the local store, whose topic creations and deletions `start` reports as
   * leadership changes (this node leads every partition at `leaderEpoch`).
   */
  localStore?: Pick<MetadataStore, 'subscribe'>;
  /**
   * With a store: bytes of the leaders' tail caches together (leader-tail-cache.ts; default 64 MiB, 0: none):
   * followers' fetches of the latest appends are answered from memory.
   */
  tailCacheBytes?: number;
  /**
   * Bytes of the tail caches of leaders without followers together (log.tail.cache.max.bytes; default 0: none):
   * consumers' fetches of the latest appends are answered from memory.
   */
  localTailCacheBytes?: number;
}

/** Who fetches for the partitions this node follows (replica-fetcher.ts's ReplicaFetcherManager). */
export interface FollowerFetchers {
  /** Fetch `topic-partition` from `leaderId` (truncating first) at `leaderEpoch`. */
  follow(leaderId: number, topic: string, partition: number, leaderEpoch: number): void;
  /** Stop fetching `topic-partition`. */
  unfollow(topic: string, partition: number): void;
}

export interface AppendRecordsOptions {
  /** 0, 1 or -1 (all in-sync replicas); default 1. */
  requiredAcks?: number;
  /** acks=-1: how long to wait for the high watermark (default 30000). */
  timeoutMs?: number;
  /** Broker receive time (ms). */
  appendTime?: number;
  /** Who writes (see AppendOptions.origin). */
  origin?: AppendOptions['origin'];
  /** Called once the append is queued on the log (the produce handler then frees the connection). */
  onQueued?: () => void;
}

export interface AppendRecordsResult extends AppendResult {
  /** NONE, or REQUEST_TIMED_OUT when acks=-1 was not met in time (the records are written). */
  errorCode: number;
}

export class ReplicaManager {
  private readonly partitions = new TopicPartitionMap<Partition>();
  readonly purgatory: Purgatory;
  private readonly leaderEpoch: number;
  private readonly clock: Clock;
  private readonly store: MetadataStore | undefined;
  readonly replicaLagTimeMaxMs: number;
  /** Set by the owner of the fetchers before `start`. */
  followers: FollowerFetchers | undefined;
  private unsubscribe: (() => void) | undefined;
  private shrinkTimer: TimerHandle | undefined;
  private readonly initialHighWatermarks: Map<string, number> | undefined;
  /** The logs a Partition was made for (a log's HW is set from the checkpoint once). */
  private readonly seenLogs = new WeakSet<PartitionLog>();
  private readonly localStore: ReplicaManagerOptions['localStore'];
  /** Leadership listeners by topic. */
  private readonly leadershipListeners = new Map<string, Set<LeadershipListener>>();
  private readonly tailCache: TailCacheBudget | undefined;
  private readonly localTailCache: TailCacheBudget | undefined;

  constructor(
    private readonly logs: LogSource,
    options: ReplicaManagerOptions,
  ) {
    this.purgatory = new Purgatory(options.clock);
    this.leaderEpoch = options.leaderEpoch ?? 0;
    this.clock = options.clock;
    this.store = options.store;
    this.replicaLagTimeMaxMs = options.replicaLagTimeMaxMs ?? 30000;
    this.initialHighWatermarks = options.initialHighWatermarks ? new Map(options.initialHighWatermarks) : undefined;
    this.localStore = options.localStore;
    const tailBytes = options.tailCacheBytes ?? 64 * 1048576;
    this.tailCache = this.store && tailBytes > 0 ? new TailCacheBudget(tailBytes) : undefined;
    const localBytes = options.localTailCacheBytes ?? 0;
    this.localTailCache = localBytes > 0 ? new TailCacheBudget(localBytes) : undefined;
  }

  /**
   * Hear of this node's leadership of `topic`'s partitions: at once for each one it leads now, then of every
   * change (see the header). Returns the unsubscribe function.
   */
  onLeadershipChange(topic: string, listener: LeadershipListener): () => void {
    let set = this.leadershipListeners.get(topic);
    if (!set) {
      set = new Set();
      this.leadershipListeners.set(topic, set);
    }
    set.add(listener);
    for (const log of this.logs.allLogs()) {
      if (log.topic !== topic) continue;
      const p = this.getPartition(topic, log.partition);
      if (typeof p !== 'number' && p.isLeader)
        listener({ topic, partition: p.partition, leader: true, leaderEpoch: p.leaderEpoch });
    }
    return () => set.delete(listener);
  }

  private announce(topic: string, partition: number, leader: boolean, leaderEpoch: number): void {
    const set = this.leadershipListeners.get(topic);
    if (!set) return;
    for (const l of [...set]) l({ topic, partition, leader, leaderEpoch });
  }

  /** This node's id (the store's; 0 without one). */
  get nodeId(): number {
    return this.store?.nodeId ?? 0;
  }

  /** The hosted partition, or UNKNOWN_TOPIC_OR_PARTITION. */
  getPartition(topic: string, partition: number): Partition | number {
    const log = this.logs.getLog(topic, partition);
    let p = this.partitions.get(topic, partition);
    if (!log) {
      if (p) this.partitions.delete(topic, partition);
      p?.releaseTailCache();
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (!p || p.log !== log) {
      p?.releaseTailCache();
      if (this.store && this.initialHighWatermarks && !this.seenLogs.has(log)) {
        // Replicated: what this node knew committed, not its log end (the ISR may never have had the tail).
        log.updateHighWatermark(this.initialHighWatermarks.get(tpKey(topic, partition)) ?? 0);
      }
      this.seenLogs.add(log);
      const reg = this.store?.image.partition(topic, partition);
      p = new Partition(log, {
        leaderEpoch: reg ? reg.leaderEpoch : this.leaderEpoch,
        isLeader: reg ? reg.leader === this.nodeId : true,
        localId: this.nodeId,
        onChange: (x) => this.purgatory.checkAndComplete(x.topic, x.partition),
        alterIsr: (x, isr, epoch) => this.alterIsr(x.topic, x.partition, isr, epoch),
        ...(this.tailCache ? { tailCache: this.tailCache } : {}),
        ...(this.localTailCache ? { localTailCache: this.localTailCache } : {}),
      });
      this.partitions.set(topic, partition, p);
      if (reg) this.applyRegistration(topic, reg, p);
    }
    return p;
  }

  /**
   * A leader's ISR proposal to the store. A follower that is not active (fenced, or in controlled shutdown) is
   * not taken into the ISR (Kafka's KIP-841 INELIGIBLE_REPLICA): the proposal is refused and not written.
   */
  private alterIsr(topic: string, partition: number, isr: number[], epoch: number): Promise<unknown> {
    const store = this.store!;
    const cur = store.image.partition(topic, partition);
    const active = store.image.activeBrokerIds();
    const ineligible = isr.filter((id) => !cur?.isr.includes(id) && id !== this.nodeId && !active.has(id));
    if (ineligible.length > 0)
      return Promise.reject(
        new PartitionStateError(
          `replicas ${ineligible.join(',')} of ${topic}-${partition} are not eligible to join the ISR`,
          ErrorCode.INELIGIBLE_REPLICA,
        ),
      );
    return store.alterPartition(topic, partition, epoch, { isr });
  }

  /**
   * The partition when this node may serve a request made at `currentLeaderEpoch` (-1 = not checked),
   * else the Kafka error code (UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_LEADER_EPOCH, FENCED_LEADER_EPOCH,
   * NOT_LEADER_OR_FOLLOWER when `requireLeader`). A partition of the cluster that this node does not host
   * is NOT_LEADER_OR_FOLLOWER (Kafka: the metadata knows it, the client should ask another broker).
   */
  getPartitionOrError(
    topic: string,
    partition: number,
    currentLeaderEpoch = NO_LEADER_EPOCH,
    requireLeader = true,
  ): Partition | number {
    const p = this.getPartition(topic, partition);
    if (typeof p === 'number') return p === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? this.notHosted(topic, partition) : p;
    const code = p.checkEpoch(currentLeaderEpoch, requireLeader);
    return code === ErrorCode.NONE ? p : code;
  }

  /**
   * The error for a partition without a log here: NOT_LEADER_OR_FOLLOWER when the cluster has it elsewhere
   * (e.g. reassigned away from this node), else UNKNOWN_TOPIC_OR_PARTITION (as Kafka's ReplicaManager).
   */
  private notHosted(topic: string, partition: number): number {
    return this.store?.image.partition(topic, partition)
      ? ErrorCode.NOT_LEADER_OR_FOLLOWER
      : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }

  /** Every hosted partition. */
  allPartitions(): Partition[] {
    const out: Partition[] = [];
    for (const log of this.logs.allLogs()) {
      const p = this.getPartition(log.topic, log.partition);
      if (typeof p !== 'number') out.push(p);
    }
    return out;
  }

  /**
   * Append validated batches to a partition this node leads and wait for `requiredAcks`. Throws a
   * RunnelError with the Kafka code when the partition is unknown or not led here, and the log's errors
   * (producer-state errors, storage errors).
   */
  async appendRecords(
    topic: string,
    partition: number,
    records: Buffer,
    options: AppendRecordsOptions = {},
  ): Promise<AppendRecordsResult> {
    const p = this.getPartitionOrError(topic, partition);
    if (typeof p === 'number') throw new PartitionStateError(`cannot append to ${topic}-${partition}`, p);
    const appendOpts: Omit<AppendOptions, 'leaderEpoch'> = {};
    if (options.appendTime !== undefined) appendOpts.appendTime = options.appendTime;
    if (options.origin !== undefined) appendOpts.origin = options.origin;
    if (options.requiredAcks === -1) this.requireMinIsr(p);
    const r = await p.appendAsLeader(records, appendOpts, options.onQueued);
    const errorCode =
      options.requiredAcks === -1 ? await this.awaitHighWatermark(p, r, options.timeoutMs) : ErrorCode.NONE;
    return { ...r, errorCode };
  }

  /** acks=all is refused (nothing written) while the ISR is smaller than min.insync.replicas. */
  private requireMinIsr(p: Partition): void {
    if (p.isr.length < p.logConfig.minInsyncReplicas) {
      throw new PartitionStateError(
        `${p.topic}-${p.partition} has ${p.isr.length} in-sync replicas, fewer than min.insync.replicas`,
        ErrorCode.NOT_ENOUGH_REPLICAS,
      );
    }
  }

  /** acks=all: wait in the purgatory until the HW passes the append (or an error, or the timeout). */
  private async awaitHighWatermark(p: Partition, r: AppendResult, timeoutMs = 30000): Promise<number> {
    const end = r.lastOffset + 1;
    const [code] = await this.purgatory.delayProduce(
      [{ topic: p.topic, partition: p.partition, check: () => this.produceStatus(p, end) }],
      timeoutMs,
    );
    return code ?? ErrorCode.NONE;
  }

  /** acks=all for one partition: NONE once its HW reaches `end`, an error if it moved away, else wait. */
  private produceStatus(p: Partition, end: number): number | undefined {
    const now = this.getPartition(p.topic, p.partition);
    if (now !== p)
      return typeof now === 'number' ? this.notHosted(p.topic, p.partition) : ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (!p.isLeader) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (p.highWatermark < end) return undefined;
    return p.isr.length < p.logConfig.minInsyncReplicas ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : ErrorCode.NONE;
  }

  /**
   * Write a transaction marker on a partition this node leads; undefined when the partition is gone
   * (nothing to mark). Throws NOT_LEADER_OR_FOLLOWER on a follower and the log's errors (stale producer or
   * coordinator epochs). With `requiredAcks` -1 (WriteTxnMarkers, the coordinator's own markers) it is
   * refused with NOT_ENOUGH_REPLICAS below min.insync.replicas and waits for the HW as a produce does.
   */
  async appendTxnMarker(
    topic: string,
    partition: number,
    marker: Omit<TxnMarkerRequest, 'leaderEpoch'>,
    options: Pick<AppendRecordsOptions, 'requiredAcks' | 'timeoutMs'> = {},
  ): Promise<AppendRecordsResult | undefined> {
    const p = this.getPartition(topic, partition);
    if (typeof p === 'number') return undefined;
    if (options.requiredAcks === -1 && p.isLeader) this.requireMinIsr(p);
    const r = await p.appendTxnMarker(marker);
    const errorCode =
      options.requiredAcks === -1 ? await this.awaitHighWatermark(p, r, options.timeoutMs) : ErrorCode.NONE;
    return { ...r, errorCode };
  }

  /** Wait (delayed fetch) for an append or HW move on any of the partitions, up to timeoutMs. */
  delayFetch(partitions: Iterable<[string, number]>, timeoutMs: number): Promise<void> {
    return this.purgatory.delayFetch(partitions, timeoutMs);
  }

  /** Shutdown: every waiting request answers now; stop following the store. */
  shutdown(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.clock.clearTimeout(this.shrinkTimer);
    this.shrinkTimer = undefined;
    this.purgatory.wakeAll();
  }

  // ---- replication --------------------------------------------------------------------------------

  /**
   * Follow the store: apply the current image to the hosted partitions, then every delta; check the ISRs
   * every replica.lag.time.max.ms / 2. Call after the log applier subscribed (logs exist before this runs).
   */
  start(): void {
    const store = this.store;
    if (this.unsubscribe) return;
    if (!store) {
      this.unsubscribe = this.localStore?.subscribe((d) => this.applyLocalDelta(d));
      return;
    }
    for (const { topic, partition } of store.image.replicasOf(this.nodeId)) {
      this.applyRegistration(topic.name, partition);
    }
    this.unsubscribe = store.subscribe((d) => this.applyDelta(d));
    const tick = (): void => {
      this.shrinkIsrs();
      this.shrinkTimer = this.clock.setTimeout(tick, Math.max(1, this.replicaLagTimeMaxMs / 2));
    };
    this.shrinkTimer = this.clock.setTimeout(tick, Math.max(1, this.replicaLagTimeMaxMs / 2));
  }

  /** Leaders drop followers not caught up within replica.lag.time.max.ms; returns how many proposals. */
  shrinkIsrs(): number {
    let n = 0;
    const now = this.clock.now();
    for (const p of this.partitions.values()) if (p.maybeShrinkIsr(now, this.replicaLagTimeMaxMs)) n++;
    return n;
  }

  /** Single node: new partitions are led here at the single node's epoch; deleted ones no longer. */
  private applyLocalDelta(delta: MetadataDelta): void {
    for (const c of delta.changes) {
      if (c.type !== 'topic-created' && c.type !== 'topic-deleted' && c.type !== 'partitions-created') continue;
      const name = c.topic.name;
      for (const reg of c.type === 'partitions-created' ? c.partitions : c.topic.partitionStates) {
        if (c.type === 'topic-deleted') this.announce(name, reg.partition, false, this.leaderEpoch);
        else if (typeof this.getPartition(name, reg.partition) !== 'number')
          this.announce(name, reg.partition, true, this.leaderEpoch);
      }
    }
  }

  applyDelta(delta: MetadataDelta): void {
    for (const c of delta.changes) {
      if (c.type === 'topic-deleted') {
        for (const p of c.topic.partitionStates) {
          this.followers?.unfollow(c.topic.name, p.partition);
          this.announce(c.topic.name, p.partition, false, p.leaderEpoch);
        }
      } else if (c.type === 'topic-created') {
        for (const p of c.topic.partitionStates) this.applyRegistration(c.topic.name, p);
      } else if (c.type === 'partitions-created') {
        for (const p of c.partitions) this.applyRegistration(c.topic.name, p);
      } else if (c.type === 'partition-changed') {
        this.applyRegistration(c.topic.name, c.partition);
      }
    }
  }

  /** Make the hosted partition follow its registration (leader, follower, new ISR). */
  private applyRegistration(topic: string, reg: PartitionRegistration, known?: Partition): void {
    const id = this.nodeId;
    if (!reg.replicas.includes(id)) {
      this.followers?.unfollow(topic, reg.partition);
      this.partitions.get(topic, reg.partition)?.releaseTailCache();
      // Reassigned away: waiting acks=all produces and fetches answer now (NOT_LEADER_OR_FOLLOWER).
      this.purgatory.checkAndComplete(topic, reg.partition);
      this.announce(topic, reg.partition, false, reg.leaderEpoch);
      return;
    }
    const p = known ?? this.getPartition(topic, reg.partition);
    if (typeof p === 'number') return;
    if (reg.leaderEpoch < p.leaderEpoch) return;
    if (reg.leader === id) {
      if (!p.isLeader || reg.leaderEpoch > p.leaderEpoch || known) {
        this.followers?.unfollow(topic, reg.partition);
        p.makeLeader(reg.leaderEpoch, reg, this.clock.now());
        this.announce(topic, reg.partition, true, reg.leaderEpoch);
      } else {
        p.updateAssignment(reg);
      }
      return;
    }
    if (p.isLeader || reg.leaderEpoch > p.leaderEpoch || p.leaderId !== reg.leader || known) {
      const wasLeader = p.isLeader;
      p.makeFollower(reg.leaderEpoch, reg.leader, reg);
      if (wasLeader) this.announce(topic, reg.partition, false, reg.leaderEpoch);
      // Waiting acks=all produces and fetches re-check (they fail with NOT_LEADER_OR_FOLLOWER).
      this.purgatory.checkAndComplete(topic, reg.partition);
      if (reg.leader >= 0) this.followers?.follow(reg.leader, topic, reg.partition, reg.leaderEpoch);
      else this.followers?.unfollow(topic, reg.partition);
    } else {
      p.updateAssignment(reg);
      if (reg.leader >= 0) this.followers?.follow(reg.leader, topic, reg.partition, reg.leaderEpoch);
    }
  }

  /** Leader side of a replica fetch for one partition (replica-reads.ts). */
  readForReplica(replicaId: number, it: ReplicaFetchPartition, minOneBatch = true): Promise<ReplicaFetchData> {
    return readForReplica(this, this.clock, replicaId, it, minOneBatch);
  }

  /** A whole replica fetch, waiting up to `maxWaitMs` (the in-process transport; replica-reads.ts). */
  fetchForReplica(replicaId: number, items: ReplicaFetchPartition[], maxWaitMs: number): Promise<ReplicaFetchData[]> {
    return fetchForReplica(this, this.clock, replicaId, items, maxWaitMs);
  }
}
