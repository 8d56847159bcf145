/**
 * An internal compacted topic written and replayed by a coordinator (`__consumer_offsets`,
 * `__transaction_state`), through the replica manager like any producer.
 *
 * - The topic is created on first use with the partition count from its broker config and
 *   cleanup.policy=compact; `ensureTopic` is idempotent and safe to call concurrently.
 * - `append` writes one record batch to one partition and resolves once the partition log accepted it
 *   (in the page cache: it survives a kill -9 of the process), so callers change their in-memory state
 *   only after a durable write.
 * - `batches` walks one partition from its log start to its log end in offset order, handing over whole
 *   batches (control batches included) with the offset reading started from, so a caller skips records
 *   below it. It is bounded by MAX_READS_PER_PARTITION reads.
 */
import { buildRecordBatch } from '../protocol/records/builder.js';
import { iterateBatches, type RecordBatch } from '../protocol/records/batch.js';
import type { BrokerServices } from './services.js';

/** What an internal topic reads and writes through. */
export type InternalTopicServices = Pick<BrokerServices, 'metadata' | 'config' | 'partitions'>;

const READ_CHUNK = 1 << 20;
const MAX_READS_PER_PARTITION = 1_000_000;

export interface InternalRecord {
  key: Buffer;
  value: Buffer | null;
  timestamp: number;
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
          configs: { 'cleanup.policy': 'compact' },
        });
      } catch (err) {
        if (!this.exists) throw err;
      } finally {
        this.creating = undefined;
      }
    })();
    return this.creating;
  }

  async append(partition: number, records: InternalRecord[]): Promise<void> {
    await this.ensureTopic();
    await this.services.partitions.appendRecords(this.name, partition, await buildRecordBatch(records));
  }

  /** Every batch of `partition` in offset order, with the offset the read containing it started at. */
  async *batches(partition: number): AsyncGenerator<{ batch: RecordBatch; readFrom: number }> {
    const log = this.services.partitions.getPartition(this.name, partition);
    if (typeof log === 'number') return;
    let offset = log.logStartOffset;
    for (let i = 0; i < MAX_READS_PER_PARTITION && offset < log.logEndOffset; i++) {
      const res = await log.readLocal(offset, READ_CHUNK);
      if (res.errorCode !== 0 || res.records.length === 0) return;
      let next = offset;
      for (const batch of iterateBatches(res.records)) {
        yield { batch, readFrom: offset };
        next = Number(batch.nextOffset);
      }
      if (next <= offset) return;
      offset = next;
    }
  }
}
