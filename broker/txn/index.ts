/**
 * Wiring of the transaction coordinator into the broker's services: configuration from the broker config table,
 * producer ids from `services.producerIds`, the `__transaction_state` log, markers through the replica
 * manager (`appendTxnMarker`, which wakes fetches as the HW moves), transactional offsets
 * (groups/txn-offsets.ts), replay on start (the coordinator answers COORDINATOR_LOAD_IN_PROGRESS until it
 * finishes) and the periodic tasks.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { BrokerServices } from '../services.js';
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

/** What the transaction coordinator is built from (the group coordinator included). */
export type TxnServices = Pick<
  BrokerServices,
  'config' | 'clock' | 'metadata' | 'partitions' | 'producerIds' | 'groups' | 'log' | 'childLogger'
>;

async function writeMarker(
  services: Pick<BrokerServices, 'partitions' | 'log'>,
  topic: string,
  partition: number,
  m: TxnMarker,
): Promise<void> {
  try {
    // undefined: the topic was deleted, nothing to mark.
    await services.partitions.appendTxnMarker(topic, partition, m);
  } catch (err) {
    // A newer epoch of the producer (or a newer coordinator epoch) already ended the transaction on this
    // partition: nothing left to mark there (Kafka's marker handler stops on these too).
    const code = (err as { kafkaCode?: number }).kafkaCode;
    if (code !== ErrorCode.INVALID_PRODUCER_EPOCH && code !== ErrorCode.TRANSACTION_COORDINATOR_FENCED) throw err;
    services.log.warn(
      { topic, partition, producerId: m.producerId, epoch: m.producerEpoch, err: (err as Error).message },
      'transaction marker refused; skipped',
    );
  }
}

export function createTransactionCoordinator(services: TxnServices): Transactions {
  const cfg = services.config;
  const stateLog = new TxnStateTopicLog(services);
  const offsetsLog = new OffsetsTopicLog(services);
  const offsets = new TxnOffsetStore(() => services.groups);
  const txn = new Transactions(
    {
      maxTimeoutMs: cfg.int('transaction.max.timeout.ms'),
      abortCheckIntervalMs: cfg.int('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
      idExpirationMs: cfg.int('transactional.id.expiration.ms'),
      expireCheckIntervalMs: cfg.int('transaction.remove.expired.transaction.cleanup.interval.ms'),
    },
    {
      clock: services.clock,
      store: stateLog,
      allocateProducerId: () => services.producerIds.allocate(),
      partitionsOf: (topic) => services.metadata.image.topic(topic)?.partitions,
      writeMarker: (topic, partition, m) => writeMarker(services, topic, partition, m),
      groupPartition: async (groupId) => {
        await offsetsLog.ensureTopic();
        return {
          topic: OFFSETS_TOPIC,
          partition: offsetsPartitionFor(groupId, services.metadata.image.topic(OFFSETS_TOPIC)!.partitions),
        };
      },
      onMarkersWritten: (pid, commit) => offsets.complete(pid, commit),
      log: services.childLogger('txn'),
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
