/**
 * The durable side of the group coordinator: the internal topic `__consumer_offsets`.
 *
 * - The topic (internal-topic.ts) is created on first use with `offsets.topic.num.partitions` partitions
 *   and cleanup.policy=compact; a group's records all go to partition offsetsPartitionFor(groupId), as
 *   Kafka places them, so one group's records are totally ordered.
 * - `write` appends the records (records.ts formats) to the group's partition, which this node must lead, in
 *   one record batch with the other writes of that partition in the same event-loop turn (group commit,
 *   offsets-batcher.ts), and resolves once every in-sync replica has it (acks=all, as Kafka's
 *   offsets.commit.required.acks = -1, waiting up to offsets.commit.timeout.ms); the coordinator updates
 *   its in-memory state only after that, so an acknowledged commit survives a kill -9 of the broker process
 *   and a change of coordinator. Failures throw with the log's Kafka code (internal-topic.ts's
 *   coordinatorErrorFor maps them); every write of a failed batch fails.
 * - `replayPartition` reads one partition from its log start to its end, in order, and hands the last record
 *   of each key to the callback (`replay`: every partition; offsets-replay.ts), as a compacted log would hold
 *   them; null values are tombstones. Records of transactional batches (TxnOffsetCommit, txn-offsets.ts) are
 *   held until their producer's marker: COMMIT hands them over, ABORT drops them; those with no marker yet
 *   end up in `unresolvedTxnRecords`.
 */
import { CONTROL_TYPE_COMMIT } from '../../protocol/records/builder.js';
import { parseControlRecordKey } from '../../protocol/records/batch.js';
import { InternalTopic, type InternalRecord, type InternalTopicServices } from '../internal-topic.js';
import { PartitionBatcher } from './offsets-batcher.js';
import { copyRecord, forEachRecord, LastValues, recordsOf } from './offsets-replay.js';

/** Records of transactional offset commits with no marker yet, by producer id. */
export type UnresolvedTxnRecords = Map<number, { key: Buffer; value: Buffer | null; timestamp: number }[]>;
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
  readonly unresolvedTxnRecords: UnresolvedTxnRecords = new Map();
  /** Takes the unresolved records of each partition loaded (once the transaction coordinator exists). */
  onUnresolved: ((records: UnresolvedTxnRecords) => void) | undefined;
  private readonly commitTimeoutMs: number;
  /** Group commit: the writes of one event-loop turn to a partition go as one batch (offsets-batcher.ts). */
  private readonly batcher = new PartitionBatcher((partition, records) =>
    this.topic.append(partition, records, { requiredAcks: -1, timeoutMs: this.commitTimeoutMs }),
  );

  constructor(services: InternalTopicServices) {
    this.commitTimeoutMs = services.config.int('offsets.commit.timeout.ms');
    this.topic = new InternalTopic(
      services,
      OFFSETS_TOPIC,
      'offsets.topic.num.partitions',
      'offsets.topic.replication.factor',
      'offsets.topic.segment.bytes',
    );
  }

  /** Create `__consumer_offsets` if missing (idempotent, concurrency-safe). */
  ensureTopic(): Promise<void> {
    return this.topic.ensureTopic();
  }

  write(groupId: string, records: GroupLogRecord[], timestamp: number): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    // The topic exists after the first write: later ones (every commit) take no extra promise.
    if (!this.topic.exists) return this.createAndWrite(groupId, records, timestamp);
    try {
      return this.submit(groupId, records, timestamp);
    } catch (err) {
      return Promise.reject(err); // callers see a rejection, never a throw, as from an async function
    }
  }

  private async createAndWrite(groupId: string, records: GroupLogRecord[], timestamp: number): Promise<void> {
    await this.topic.ensureTopic();
    return this.submit(groupId, records, timestamp);
  }

  private submit(groupId: string, records: GroupLogRecord[], timestamp: number): Promise<void> {
    const partition = offsetsPartitionFor(groupId, this.topic.partitions);
    const stamped = new Array<InternalRecord>(records.length);
    for (let i = 0; i < records.length; i++) stamped[i] = { key: records[i]!.key, value: records[i]!.value, timestamp };
    return this.batcher.submit(partition, stamped);
  }

  /** The topic's partition count, undefined while it does not exist. */
  get partitionCount(): number | undefined {
    return this.topic.exists ? this.topic.partitions : undefined;
  }

  /** Whether `partition` has records to replay. */
  hasRecords(partition: number): boolean {
    return this.topic.hasRecords(partition);
  }

  /** Feed every stored record, partition by partition in offset order, to `apply`. Returns the count. */
  async replay(apply: (key: Buffer, value: Buffer | null, timestamp: number) => void): Promise<number> {
    if (!this.topic.exists) return 0;
    let count = 0;
    for (let p = 0; p < this.topic.partitions; p++) {
      const r = await this.replayPartition(p, apply);
      count += r.count;
      this.keepUnresolved(r.unresolved);
    }
    return count;
  }

  /** Hand a loaded partition's unresolved transactional records over (or keep them until someone takes them). */
  keepUnresolved(records: UnresolvedTxnRecords): void {
    if (records.size === 0) return;
    if (this.onUnresolved) {
      this.onUnresolved(records);
      return;
    }
    for (const [pid, held] of records)
      this.unresolvedTxnRecords.set(pid, [...(this.unresolvedTxnRecords.get(pid) ?? []), ...held]);
  }

  /**
   * Feed one partition's records in offset order to `apply` (until `current()` turns false). Returns the
   * count and the records of transactions with no marker yet.
   */
  async replayPartition(
    p: number,
    apply: (key: Buffer, value: Buffer | null, timestamp: number) => void,
    current: () => boolean = () => true,
  ): Promise<{ count: number; unresolved: UnresolvedTxnRecords }> {
    let count = 0;
    const txnHeld: UnresolvedTxnRecords = new Map();
    // Last value wins (offsets-replay.ts): only each key's final record is applied, as after compaction.
    const last = new LastValues();
    // Reads reuse one buffer: what is kept is copied out (release, copyRecord) before the next read.
    for await (const { batches, readFrom } of this.topic.reads(p, true)) {
      if (!current()) break;
      for (const batch of batches) {
        if (batch.isControl) {
          // Transaction marker (txn-offsets.ts): COMMIT applies the producer's held records, ABORT drops them.
          const held = txnHeld.get(Number(batch.producerId));
          txnHeld.delete(Number(batch.producerId));
          const [marker] = await batch.recordsArray();
          if (held && marker && parseControlRecordKey(marker.key).type === CONTROL_TYPE_COMMIT) {
            for (const h of held) last.addRecord(h.key, h.value, h.timestamp);
            count += held.length;
          }
          continue;
        }
        const records = recordsOf(batch);
        const data = records instanceof Buffer ? records : await records;
        if (batch.isTransactional) {
          const pid = Number(batch.producerId);
          forEachRecord(batch, data, readFrom, (d, keyStart, keyEnd, valueStart, valueEnd, timestamp) => {
            let held = txnHeld.get(pid);
            if (!held) {
              held = [];
              txnHeld.set(pid, held);
            }
            held.push({ ...copyRecord(d, keyStart, keyEnd, valueStart, valueEnd), timestamp });
          });
          continue;
        }
        count += batch.recordsCount;
        forEachRecord(batch, data, readFrom, last.add);
      }
      last.release(); // the values still current are copied out of this read before the next one
    }
    last.applyTo(apply, current);
    return { count, unresolved: txnHeld };
  }
}
