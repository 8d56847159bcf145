/**
 * The durable side of the transaction coordinator: the internal compacted topic `__transaction_state`.
 *
 * - Created on first use with `transaction.state.log.num.partitions` partitions and cleanup.policy=compact;
 *   all records of one transactional id go to txnStatePartitionFor(id), so they are totally ordered.
 * - `write` appends one record (key = TransactionLogKey, value = TransactionLogValue or null for a
 *   tombstone) to the id's partition, which this node must lead, and resolves once every in-sync replica
 *   has it (acks=all, waiting up to 30 s: Kafka's request.timeout.ms default, which its transaction log
 *   appends use); the coordinator changes its in-memory state only after that, so an answered transition
 *   survives a kill -9 and a change of coordinator. Failures throw with the log's Kafka code.
 * - `replayPartition` reads one partition from log start to end in order (`replay`: all); later records win.
 */
import { InternalTopic, type InternalTopicServices } from '../internal-topic.js';
import { TRANSACTION_STATE_TOPIC, txnLogKey, txnStatePartitionFor } from './records.js';
import { InjectedFaultError } from '../../protocol/errors.js';

/** How long a `__transaction_state` write waits for the in-sync replicas (Kafka: request.timeout.ms). */
const WRITE_TIMEOUT_MS = 30_000;

/** Where the coordinator persists transaction state (the topic, or memory in unit tests). */
export interface TxnStateStore {
  write(transactionalId: string, value: Buffer | null, timestamp: number): Promise<void>;
}

export class MemoryTxnStateStore implements TxnStateStore {
  readonly records: { transactionalId: string; value: Buffer | null }[] = [];
  failNext = false;
  async write(transactionalId: string, value: Buffer | null): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new InjectedFaultError('injected write failure');
    }
    this.records.push({ transactionalId, value });
  }
}

export class TxnStateTopicLog implements TxnStateStore {
  private readonly topic: InternalTopic;

  constructor(services: InternalTopicServices) {
    this.topic = new InternalTopic(
      services,
      TRANSACTION_STATE_TOPIC,
      'transaction.state.log.num.partitions',
      'transaction.state.log.replication.factor',
      'transaction.state.log.segment.bytes',
    );
  }

  /** Create `__transaction_state` if missing (idempotent, concurrency-safe). */
  ensureTopic(): Promise<void> {
    return this.topic.ensureTopic();
  }

  async write(transactionalId: string, value: Buffer | null, timestamp: number): Promise<void> {
    await this.topic.ensureTopic();
    const partition = txnStatePartitionFor(transactionalId, this.topic.partitions);
    await this.topic.append(partition, [{ key: txnLogKey(transactionalId), value, timestamp }], {
      requiredAcks: -1,
      timeoutMs: WRITE_TIMEOUT_MS,
    });
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
  async replay(apply: (key: Buffer, value: Buffer | null) => void): Promise<number> {
    if (!this.topic.exists) return 0;
    let count = 0;
    for (let p = 0; p < this.topic.partitions; p++) count += await this.replayPartition(p, apply);
    return count;
  }

  /** Feed one partition's records in offset order to `apply` (until `current()` turns false); the count. */
  async replayPartition(
    p: number,
    apply: (key: Buffer, value: Buffer | null) => void,
    current: () => boolean = () => true,
  ): Promise<number> {
    let count = 0;
    for await (const { batch, readFrom } of this.topic.batches(p)) {
      if (!current()) break;
      if (batch.isControl) continue;
      for (const rec of await batch.recordsArray()) {
        if (Number(rec.offset) < readFrom || rec.key === null) continue;
        apply(rec.key, rec.value);
        count++;
      }
    }
    return count;
  }
}
