/**
 * ReplicaManager: the Partition objects this node hosts, by topic-partition, and the purgatory. Every
 * write (produce, internal topics, transaction markers, admin records, DeleteRecords) and every read goes
 * through here to a Partition, never to a PartitionLog directly.
 *
 * - Partitions follow the log manager's logs: `getPartition` wraps the log the log manager holds for the
 *   topic-partition, creating the Partition on first use and replacing it when the log changed (topic
 *   deleted and created again); a partition without a log is gone (UNKNOWN_TOPIC_OR_PARTITION).
 * - Single node: this node leads every partition at epoch `leaderEpoch` (0); the controller will drive
 *   makeLeader/makeFollower when replication lands.
 * - `appendRecords`: Partition.appendAsLeader, then acks: 0 and 1 answer once the log acknowledged the
 *   append; -1 (all) waits in the purgatory until the high watermark passes the batch (at once with one
 *   replica), or REQUEST_TIMED_OUT after timeoutMs.
 * - Appends and HW moves wake the purgatory's delayed fetches and produces of that partition.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { Clock } from '../storage/clock.js';
import type { AppendOptions, AppendResult, PartitionLog, TxnMarkerRequest } from '../storage/partition-log.js';
import { NO_LEADER_EPOCH, Partition, PartitionStateError } from './partition.js';
import { Purgatory } from './purgatory.js';

/** Where the partition logs live (the LogManager). */
export interface LogSource {
  getLog(topic: string, partition: number): PartitionLog | undefined;
  allLogs(): PartitionLog[];
}

export interface ReplicaManagerOptions {
  clock: Clock;
  /** The leader epoch of every partition on a single node (default 0). */
  leaderEpoch?: number;
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

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  readonly purgatory: Purgatory;
  private readonly leaderEpoch: number;

  constructor(
    private readonly logs: LogSource,
    options: ReplicaManagerOptions,
  ) {
    this.purgatory = new Purgatory(options.clock);
    this.leaderEpoch = options.leaderEpoch ?? 0;
  }

  /** The hosted partition, or UNKNOWN_TOPIC_OR_PARTITION. */
  getPartition(topic: string, partition: number): Partition | number {
    const k = key(topic, partition);
    const log = this.logs.getLog(topic, partition);
    let p = this.partitions.get(k);
    if (!log) {
      if (p) this.partitions.delete(k);
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (!p || p.log !== log) {
      p = new Partition(log, {
        leaderEpoch: this.leaderEpoch,
        isLeader: true,
        onChange: (x) => this.purgatory.checkAndComplete(x.topic, x.partition),
      });
      this.partitions.set(k, p);
    }
    return p;
  }

  /**
   * The partition when this node may serve a request made at `currentLeaderEpoch` (-1 = not checked),
   * else the Kafka error code (UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_LEADER_EPOCH, FENCED_LEADER_EPOCH,
   * NOT_LEADER_OR_FOLLOWER when `requireLeader`).
   */
  getPartitionOrError(
    topic: string,
    partition: number,
    currentLeaderEpoch = NO_LEADER_EPOCH,
    requireLeader = true,
  ): Partition | number {
    const p = this.getPartition(topic, partition);
    if (typeof p === 'number') return p;
    const code = p.checkEpoch(currentLeaderEpoch, requireLeader);
    return code === ErrorCode.NONE ? p : code;
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
    const r = await p.appendAsLeader(records, appendOpts, options.onQueued);
    let errorCode: number = ErrorCode.NONE;
    if (options.requiredAcks === -1) {
      const end = r.lastOffset + 1;
      const [code] = await this.purgatory.delayProduce(
        [{ topic, partition, check: () => this.produceStatus(p, end) }],
        options.timeoutMs ?? 30000,
      );
      errorCode = code ?? ErrorCode.NONE;
    }
    return { ...r, errorCode };
  }

  /** acks=all for one partition: NONE once its HW reaches `end`, an error if it moved away, else wait. */
  private produceStatus(p: Partition, end: number): number | undefined {
    const now = this.getPartition(p.topic, p.partition);
    if (now !== p) return typeof now === 'number' ? now : ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (!p.isLeader) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    return p.highWatermark >= end ? ErrorCode.NONE : undefined;
  }

  /**
   * Write a transaction marker on a partition this node leads; undefined when the partition is gone
   * (nothing to mark). Throws the log's errors (stale producer or coordinator epochs).
   */
  async appendTxnMarker(
    topic: string,
    partition: number,
    marker: Omit<TxnMarkerRequest, 'leaderEpoch'>,
  ): Promise<AppendResult | undefined> {
    const p = this.getPartition(topic, partition);
    if (typeof p === 'number') return undefined;
    return p.appendTxnMarker(marker);
  }

  /** Wait (delayed fetch) for an append or HW move on any of the partitions, up to timeoutMs. */
  delayFetch(partitions: Iterable<[string, number]>, timeoutMs: number): Promise<void> {
    return this.purgatory.delayFetch(partitions, timeoutMs);
  }

  /** Shutdown: every waiting request answers now. */
  shutdown(): void {
    this.purgatory.wakeAll();
  }
}
