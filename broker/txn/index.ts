/**
 * Wiring of the transaction coordinator into a Broker: configuration from the broker config table,
 * producer ids from `broker.producerIds`, the `__transaction_state` log, markers through the replica
 * manager (`appendTxnMarker`, which wakes fetches as the HW moves), transactional offsets
 * (groups/txn-offsets.ts), replay on start (the coordinator answers COORDINATOR_LOAD_IN_PROGRESS until it
 * finishes) and the periodic tasks.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { Broker } from '../broker.js';
import { OFFSETS_TOPIC, OffsetsTopicLog } from '../groups/offsets-log.js';
import { offsetsPartitionFor } from '../groups/records.js';
import { TxnOffsetStore } from '../groups/txn-offsets.js';
import { TransactionCoordinator, type TxnMarker } from './coordinator.js';
import { TxnStateTopicLog } from './state-log.js';

export { TransactionCoordinator } from './coordinator.js';
export { TRANSACTION_STATE_TOPIC } from './records.js';

/** The transaction coordinator with its transactional-offset store. */
export class Transactions extends TransactionCoordinator {
  offsets!: TxnOffsetStore;
  stateLog!: TxnStateTopicLog;
}

async function writeMarker(broker: Broker, topic: string, partition: number, m: TxnMarker): Promise<void> {
  try {
    // undefined: the topic was deleted, nothing to mark.
    await broker.replicaManager.appendTxnMarker(topic, partition, m);
  } catch (err) {
    // A newer epoch of the producer (or a newer coordinator epoch) already ended the transaction on this
    // partition: nothing left to mark there (Kafka's marker handler stops on these too).
    const code = (err as { kafkaCode?: number }).kafkaCode;
    if (code !== ErrorCode.INVALID_PRODUCER_EPOCH && code !== ErrorCode.TRANSACTION_COORDINATOR_FENCED) throw err;
    broker.log.warn(
      { topic, partition, producerId: m.producerId, epoch: m.producerEpoch, err: (err as Error).message },
      'transaction marker refused; skipped',
    );
  }
}

export function createTransactionCoordinator(broker: Broker): Transactions {
  const cfg = broker.config;
  const stateLog = new TxnStateTopicLog(broker);
  const offsetsLog = new OffsetsTopicLog(broker);
  const offsets = new TxnOffsetStore(() => broker.groups);
  const txn = new Transactions(
    {
      maxTimeoutMs: cfg.int('transaction.max.timeout.ms'),
      abortCheckIntervalMs: cfg.int('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
      idExpirationMs: cfg.int('transactional.id.expiration.ms'),
      expireCheckIntervalMs: cfg.int('transaction.remove.expired.transaction.cleanup.interval.ms'),
    },
    {
      clock: broker.clock,
      store: stateLog,
      allocateProducerId: () => broker.producerIds.allocate(),
      partitionsOf: (topic) => broker.metadata.image.topic(topic)?.partitions,
      writeMarker: (topic, partition, m) => writeMarker(broker, topic, partition, m),
      groupPartition: async (groupId) => {
        await offsetsLog.ensureTopic();
        return {
          topic: OFFSETS_TOPIC,
          partition: offsetsPartitionFor(groupId, broker.metadata.image.topic(OFFSETS_TOPIC)!.partitions),
        };
      },
      onMarkersWritten: (pid, commit) => offsets.complete(pid, commit),
      log: broker.childLogger('txn'),
    },
  );
  txn.offsets = offsets;
  txn.stateLog = stateLog;
  return txn;
}

/**
 * Replay `__transaction_state`, adopt transactional offsets the group replay left unresolved, complete
 * Prepare* transactions (in the background) and start the periodic tasks.
 */
export async function loadTransactions(
  txn: Transactions,
  unresolvedOffsets: Map<number, { key: Buffer; value: Buffer | null }[]>,
): Promise<number> {
  txn.loading = true;
  let n = 0;
  try {
    n = await txn.stateLog.replay((key, value) => txn.applyRecord(key, value));
    txn.offsets.adopt(unresolvedOffsets);
  } finally {
    void txn.finishLoading().catch(() => undefined);
  }
  return n;
}
