/**
 * An internal compacted topic written and replayed by a coordinator (`__consumer_offsets`,
 * `__transaction_state`), through the replica manager like any producer.
 *
 * - The topic is created on first use with the partition count from its broker config and
 *   cleanup.policy=compact and, as Kafka, a segment.bytes of its own (100 MiB by default, so the cleaner gets
 *   to compact it: the active segment is never cleaned); `ensureTopic` is idempotent and safe to call
 *   concurrently.
 * - `append` writes one record batch to one partition this node leads and resolves once the partition log
 *   accepted it (in the page cache: it survives a kill -9 of the process) and, with `requiredAcks` -1 (what
 *   the coordinators use, as Kafka's offsets.commit.required.acks), once the high watermark passed it, so
 *   callers change their in-memory state only after a write that survives a change of leader. It throws a
 *   RunnelError with the Kafka code (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, ...);
 *   `coordinatorErrorFor` maps it to what a coordinator answers.
 * - `batches` walks one partition from its log start to its log end in offset order, handing over whole
 *   batches (control batches included) with the offset reading started from, so a caller skips records
 *   below it (`reads`: the same, the batches of one read at a time). It is bounded by MAX_READS_PER_PARTITION
 *   reads.
 */
import { buildRecordBatch } from '../protocol/records/builder.js';
import { iterateBatches, type RecordBatch } from '../protocol/records/batch.js';
import type { BrokerServices } from './services.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { PartitionStateError } from '../replication/partition.js';

/** What an internal topic reads and writes through. */
export type InternalTopicServices = Pick<BrokerServices, 'metadata' | 'config' | 'partitions'>;

const READ_CHUNK = 1 << 20;
const MAX_READS_PER_PARTITION = 1_000_000;

export interface InternalRecord {
  key: Buffer;
  value: Buffer | null;
  timestamp: number;
}

export interface InternalAppendOptions {
  /** 1 (the leader's log) or -1 (every in-sync replica; the coordinators' default). */
  requiredAcks?: number;
  /** acks -1: how long to wait for the high watermark. */
  timeoutMs?: number;
}

/**
 * What a coordinator answers for a failed write to its partition, as Kafka maps log errors: leadership moved
 * (NOT_LEADER_OR_FOLLOWER, epoch errors, storage errors) → NOT_COORDINATOR; a batch too large →
 * INVALID_COMMIT_OFFSET_SIZE (`tooLarge`); anything else (no ISR, timeout, ...) → COORDINATOR_NOT_AVAILABLE.
 */
export function coordinatorErrorFor(err: unknown, tooLarge: number = ErrorCode.COORDINATOR_NOT_AVAILABLE): number {
  switch ((err as { kafkaCode?: number } | undefined)?.kafkaCode) {
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.FENCED_LEADER_EPOCH:
    case ErrorCode.UNKNOWN_LEADER_EPOCH:
    case ErrorCode.KAFKA_STORAGE_ERROR:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return tooLarge;
    default:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }
}

export class InternalTopic {
  private creating: Promise<void> | undefined;

  constructor(
    private readonly services: InternalTopicServices,
    readonly name: string,
    /** The broker config holding the partition count used when the topic is created. */
    private readonly partitionsConfig: string,
    /** The broker config holding its replication factor (capped at the live broker count). */
    private readonly replicationConfig?: string,
    /** The broker config holding its segment.bytes when created (Kafka's offsets.topic.segment.bytes). */
    private readonly segmentBytesConfig?: string,
  ) {}

  /** The topic's partition count (the config's value until it exists). */
  get partitions(): number {
    const t = this.services.metadata.image.topic(this.name);
    return t ? t.partitions : this.services.config.int(this.partitionsConfig);
  }

  get exists(): boolean {
    return this.services.metadata.image.topic(this.name) !== undefined;
  }

  /** The configured replication factor, at most the live broker count (at least 1), as Kafka creates it. */
  private replicationFactor(): number {
    if (!this.replicationConfig) return 1;
    const live = this.services.metadata.image.liveBrokers().length;
    return Math.max(1, Math.min(this.services.config.int(this.replicationConfig), live));
  }

  ensureTopic(): Promise<void> {
    if (this.exists) return Promise.resolve();
    this.creating ??= (async () => {
      try {
        await this.services.metadata.createTopic(this.name, {
          partitions: this.services.config.int(this.partitionsConfig),
          replicationFactor: this.replicationFactor(),
          configs: {
            'cleanup.policy': 'compact',
            ...(this.segmentBytesConfig
              ? { 'segment.bytes': String(this.services.config.int(this.segmentBytesConfig)) }
              : {}),
          },
        });
      } catch (err) {
        if (!this.exists) throw err;
      } finally {
        this.creating = undefined;
      }
    })();
    return this.creating;
  }

  async append(partition: number, records: InternalRecord[], options: InternalAppendOptions = {}): Promise<void> {
    await this.ensureTopic();
    const r = await this.services.partitions.appendRecords(this.name, partition, await buildRecordBatch(records), {
      requiredAcks: options.requiredAcks ?? 1,
      timeoutMs: options.timeoutMs,
    });
    if (r.errorCode !== ErrorCode.NONE)
      throw new PartitionStateError(`${this.name}-${partition}: write not acknowledged (${r.errorCode})`, r.errorCode);
  }

  /** Whether `partition` has records to replay (false when it is empty or not hosted). */
  hasRecords(partition: number): boolean {
    const p = this.services.partitions.getPartition(this.name, partition);
    return typeof p !== 'number' && p.logEndOffset > p.logStartOffset;
  }

  /** Every batch of `partition` in offset order, with the offset the read containing it started at. */
  async *batches(partition: number): AsyncGenerator<{ batch: RecordBatch; readFrom: number }> {
    for await (const { batches, readFrom } of this.reads(partition))
      for (const batch of batches) yield { batch, readFrom };
  }

  /**
   * The batches of `partition` in offset order, one read (up to READ_CHUNK bytes) at a time, with the offset
   * that read started at: a replay of many small batches pays one async step per read, not per batch.
   * `reuse`: every read lands in the same memory (no megabyte of external memory a read for the garbage
   * collector), so the caller must be done with a read's batches (copied what it keeps) before the next.
   */
  async *reads(partition: number, reuse = false): AsyncGenerator<{ batches: RecordBatch[]; readFrom: number }> {
    const log = this.services.partitions.getPartition(this.name, partition);
    if (typeof log === 'number') return;
    let offset = log.logStartOffset;
    // From the second read on (a partition read at once needs none): a read may allocate more than once
    // (record-less batches ending a segment, a first batch past the first guess), so bump allocation in a
    // buffer with room for twice the chunk, fresh memory past it.
    let memory: Buffer | undefined;
    let used = 0;
    const alloc = (n: number): Buffer => {
      if (memory === undefined || used + n > memory.length) return Buffer.allocUnsafe(n);
      used += n;
      return memory.subarray(used - n, used);
    };
    for (let i = 0; i < MAX_READS_PER_PARTITION && offset < log.logEndOffset; i++) {
      if (reuse && i === 1) memory = Buffer.allocUnsafe(2 * READ_CHUNK);
      used = 0;
      const res = await log.readLocal(offset, READ_CHUNK, true, reuse ? alloc : undefined);
      if (res.errorCode !== 0 || res.records.length === 0) return;
      const batches = [...iterateBatches(res.records)];
      if (batches.length === 0) return;
      const next = Number(batches[batches.length - 1]!.nextOffset);
      yield { batches, readFrom: offset };
      if (next <= offset) return;
      offset = next;
    }
  }
}
