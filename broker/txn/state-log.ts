/**
 * The durable side of the transaction coordinator: the internal compacted topic `__transaction_state`.
 *
 * - Created on first use with `transaction.state.log.num.partitions` partitions and cleanup.policy=compact;
 *   all records of one transactional id go to txnStatePartitionFor(id), so they are totally ordered.
 * - `write` appends one record (key = TransactionLogKey, value = TransactionLogValue or null for a
 *   tombstone) and resolves once the partition log accepted it; the coordinator changes its in-memory
 *   state only after that, so an answered transition survives a kill -9.
 * - `replay` reads every partition from log start to end in order; later records win.
 */
import { InternalTopic, type InternalTopicServices } from '../internal-topic.js';
import { TRANSACTION_STATE_TOPIC, txnLogKey, txnStatePartitionFor } from './records.js';
import { InjectedFaultError } from '../../protocol/errors.js';

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
    );
  }

  /** Create `__transaction_state` if missing (idempotent, concurrency-safe). */
  ensureTopic(): Promise<void> {
    return this.topic.ensureTopic();
  }

  async write(transactionalId: string, value: Buffer | null, timestamp: number): Promise<void> {
    await this.topic.ensureTopic();
    const partition = txnStatePartitionFor(transactionalId, this.topic.partitions);
    await this.topic.append(partition, [{ key: txnLogKey(transactionalId), value, timestamp }]);
  }

  /** Feed every stored record, partition by partition in offset order, to `apply`. Returns the count. */
  async replay(apply: (key: Buffer, value: Buffer | null) => void): Promise<number> {
    if (!this.topic.exists) return 0;
    let count = 0;
    for (let p = 0; p < this.topic.partitions; p++) {
      for await (const { batch, readFrom } of this.topic.batches(p)) {
        if (batch.isControl) continue;
        for (const rec of await batch.recordsArray()) {
          if (Number(rec.offset) < readFrom || rec.key === null) continue;
          apply(rec.key, rec.value);
          count++;
        }
      }
    }
    return count;
  }
}
