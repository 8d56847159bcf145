/**
 * The durable side of the group coordinator: the internal topic `__consumer_offsets`.
 *
 * - The topic (internal-topic.ts) is created on first use with `offsets.topic.num.partitions` partitions
 *   and cleanup.policy=compact; a group's records all go to partition offsetsPartitionFor(groupId), as
 *   Kafka places them, so one group's records are totally ordered.
 * - `write` appends one record batch (records.ts formats) and resolves once the partition log has
 *   accepted it; the coordinator updates its in-memory state only after that, so an acknowledged commit
 *   is in the log (page cache) and survives a kill -9 of the broker process.
 * - `replay` reads every partition from its log start to its end, in order, and hands each record to the
 *   callback; later records win, null values are tombstones. Records of transactional batches
 *   (TxnOffsetCommit, txn-offsets.ts) are held until their producer's marker: COMMIT hands them over,
 *   ABORT drops them; those with no marker yet end up in `unresolvedTxnRecords`.
 */
import { CONTROL_TYPE_COMMIT } from '../../protocol/records/builder.js';
import { parseControlRecordKey } from '../../protocol/records/batch.js';
import { InternalTopic, type InternalTopicServices } from '../internal-topic.js';
import { offsetsPartitionFor } from './records.js';
import { InjectedFaultError } from '../../protocol/errors.js';

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
      throw new InjectedFaultError('injected write failure');
    }
    this.records.push(...records);
  }
}

export class OffsetsTopicLog implements GroupLog {
  private readonly topic: InternalTopic;
  /** After replay: records of transactional offset commits with no marker yet, by producer id (txn-offsets.ts). */
  readonly unresolvedTxnRecords = new Map<number, { key: Buffer; value: Buffer | null; timestamp: number }[]>();

  constructor(services: InternalTopicServices) {
    this.topic = new InternalTopic(
      services,
      OFFSETS_TOPIC,
      'offsets.topic.num.partitions',
      'offsets.topic.replication.factor',
    );
  }

  /** Create `__consumer_offsets` if missing (idempotent, concurrency-safe). */
  ensureTopic(): Promise<void> {
    return this.topic.ensureTopic();
  }

  async write(groupId: string, records: GroupLogRecord[], timestamp: number): Promise<void> {
    if (records.length === 0) return;
    await this.topic.ensureTopic();
    const partition = offsetsPartitionFor(groupId, this.topic.partitions);
    await this.topic.append(
      partition,
      records.map((r) => ({ key: r.key, value: r.value, timestamp })),
    );
  }

  /** Feed every stored record, partition by partition in offset order, to `apply`. Returns the count. */
  async replay(apply: (key: Buffer, value: Buffer | null, timestamp: number) => void): Promise<number> {
    if (!this.topic.exists) return 0;
    let count = 0;
    for (let p = 0; p < this.topic.partitions; p++) {
      const txnHeld = new Map<number, { key: Buffer; value: Buffer | null; timestamp: number }[]>();
      for await (const { batch, readFrom } of this.topic.batches(p)) {
        if (batch.isControl) {
          // Transaction marker (txn-offsets.ts): COMMIT applies the producer's held records, ABORT drops them.
          const held = txnHeld.get(Number(batch.producerId));
          txnHeld.delete(Number(batch.producerId));
          const [marker] = await batch.recordsArray();
          if (held && marker && parseControlRecordKey(marker.key).type === CONTROL_TYPE_COMMIT) {
            for (const h of held) apply(h.key, h.value, h.timestamp);
            count += held.length;
          }
          continue;
        }
        for (const rec of await batch.recordsArray()) {
          if (Number(rec.offset) < readFrom || rec.key === null) continue;
          if (batch.isTransactional) {
            const pid = Number(batch.producerId);
            let held = txnHeld.get(pid);
            if (!held) {
              held = [];
              txnHeld.set(pid, held);
            }
            held.push({ key: rec.key, value: rec.value, timestamp: Number(rec.timestamp) });
            continue;
          }
          apply(rec.key, rec.value, Number(rec.timestamp));
          count++;
        }
      }
      for (const [pid, held] of txnHeld)
        this.unresolvedTxnRecords.set(pid, [...(this.unresolvedTxnRecords.get(pid) ?? []), ...held]);
    }
    return count;
  }
}
