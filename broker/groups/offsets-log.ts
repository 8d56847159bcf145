/**
 * The durable side of the group coordinator: the internal topic `__consumer_offsets`.
 *
 * - The topic is created on first use with `offsets.topic.num.partitions` partitions and
 *   cleanup.policy=compact; a group's records all go to partition offsetsPartitionFor(groupId), as Kafka
 *   places them, so one group's records are totally ordered.
 * - `write` appends one record batch (records.ts formats) and resolves once the partition log has
 *   accepted it; the coordinator updates its in-memory state only after that, so an acknowledged commit
 *   is in the log (page cache) and survives a kill -9 of the broker process.
 * - `replay` reads every partition from its log start to its end, in order, and hands each record to the
 *   callback; later records win, null values are tombstones.
 */
import { buildRecordBatch } from '../../protocol/records/builder.js';
import { iterateBatches } from '../../protocol/records/batch.js';
import type { Broker } from '../broker.js';
import { offsetsPartitionFor } from './records.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

export interface GroupLogRecord {
  key: Buffer;
  value: Buffer | null;
}

/** Where the coordinator persists records (the offsets topic, or a memory stand-in in tests). */
export interface GroupLog {
  write(groupId: string, records: GroupLogRecord[], timestamp: number): Promise<void>;
}

/** Test/stand-alone stand-in: keeps records in memory. */
export class MemoryGroupLog implements GroupLog {
  readonly records: GroupLogRecord[] = [];
  failNext = false;
  async write(_groupId: string, records: GroupLogRecord[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('injected write failure');
    }
    this.records.push(...records);
  }
}

const READ_CHUNK = 1 << 20;
const MAX_READS_PER_PARTITION = 1_000_000;

export class OffsetsTopicLog implements GroupLog {
  private creating: Promise<void> | undefined;

  constructor(private readonly broker: Broker) {}

  private get partitions(): number {
    const t = this.broker.logs.topic(OFFSETS_TOPIC);
    return t ? t.partitions : this.broker.config.int('offsets.topic.num.partitions');
  }

  /** Create `__consumer_offsets` if missing (idempotent, concurrency-safe). */
  ensureTopic(): Promise<void> {
    if (this.broker.logs.topic(OFFSETS_TOPIC)) return Promise.resolve();
    this.creating ??= (async () => {
      try {
        await this.broker.logs.createTopic(OFFSETS_TOPIC, {
          partitions: this.broker.config.int('offsets.topic.num.partitions'),
          configs: { 'cleanup.policy': 'compact' },
        });
      } catch (err) {
        if (!this.broker.logs.topic(OFFSETS_TOPIC)) throw err;
      } finally {
        this.creating = undefined;
      }
    })();
    return this.creating;
  }

  async write(groupId: string, records: GroupLogRecord[], timestamp: number): Promise<void> {
    if (records.length === 0) return;
    await this.ensureTopic();
    const partition = offsetsPartitionFor(groupId, this.partitions);
    const log = this.broker.logs.getLog(OFFSETS_TOPIC, partition);
    if (!log) throw new Error(`${OFFSETS_TOPIC}-${partition} is not open`);
    const batch = await buildRecordBatch(records.map((r) => ({ key: r.key, value: r.value, timestamp })));
    await log.append(batch, { leaderEpoch: 0 });
  }

  /** Feed every stored record, partition by partition in offset order, to `apply`. Returns the count. */
  async replay(apply: (key: Buffer, value: Buffer | null, timestamp: number) => void): Promise<number> {
    const t = this.broker.logs.topic(OFFSETS_TOPIC);
    if (!t) return 0;
    let count = 0;
    for (let p = 0; p < t.partitions; p++) {
      const log = this.broker.logs.getLog(OFFSETS_TOPIC, p);
      if (!log) continue;
      let offset = log.logStartOffset;
      for (let i = 0; i < MAX_READS_PER_PARTITION && offset < log.logEndOffset; i++) {
        const res = await log.read(offset, READ_CHUNK, { maxOffset: log.logEndOffset });
        if (res.errorCode !== 0 || res.records.length === 0) break;
        let next = offset;
        for (const batch of iterateBatches(res.records)) {
          if (batch.isControl) {
            next = Number(batch.nextOffset);
            continue;
          }
          for (const rec of await batch.recordsArray()) {
            if (Number(rec.offset) < offset || rec.key === null) continue;
            apply(rec.key, rec.value, Number(rec.timestamp));
            count++;
          }
          next = Number(batch.nextOffset);
        }
        if (next <= offset) break;
        offset = next;
      }
    }
    return count;
  }
}
