/**
 * Wiring of the transaction coordinator into the broker's services: configuration from the broker config table,
 * producer ids from `services.producerIds`, the `__transaction_state` log, markers through the marker sender
 * (markers.ts: local partitions through the replica manager, the others with WriteTxnMarkers to their
 * leaders; closed on shutdown), transactional offsets
 * (groups/txn-offsets.ts), replay on start (the coordinator answers COORDINATOR_LOAD_IN_PROGRESS until it
 * finishes) and the periodic tasks.
 */
import type { BrokerServices } from '../services.js';
import { OFFSETS_TOPIC, OffsetsTopicLog } from '../groups/offsets-log.js';
import { offsetsPartitionFor } from '../groups/records.js';
import { TxnOffsetStore } from '../groups/txn-offsets.js';
import { TransactionCoordinator } from './coordinator.js';
import { TxnMarkerSender } from './markers.js';
import { TxnStateTopicLog } from './state-log.js';

export { TransactionCoordinator } from './coordinator.js';
export { TRANSACTION_STATE_TOPIC } from './records.js';

/** The transaction coordinator with its transactional-offset store and marker sender. */
export class Transactions extends TransactionCoordinator {
  offsets!: TxnOffsetStore;
  stateLog!: TxnStateTopicLog;
  markers!: TxnMarkerSender;

  /** Stops the coordinator; markers still being retried are abandoned and their connections closed. */
  override shutdown(): void {
    super.shutdown();
    this.markers.close();
  }
}

/** What the transaction coordinator is built from (the group coordinator included). */
export type TxnServices = Pick<
  BrokerServices,
  'nodeId' | 'config' | 'clock' | 'metadata' | 'partitions' | 'producerIds' | 'groups' | 'log' | 'childLogger'
>;

export function createTransactionCoordinator(services: TxnServices): Transactions {
  const cfg = services.config;
  const stateLog = new TxnStateTopicLog(services);
  const offsetsLog = new OffsetsTopicLog(services);
  const offsets = new TxnOffsetStore(() => services.groups);
  const log = services.childLogger('txn');
  const markers = new TxnMarkerSender({
    nodeId: services.nodeId,
    clustered: cfg.etcdEndpoints.length > 0,
    image: () => services.metadata.image,
    partitions: services.partitions,
    clock: services.clock,
    log,
  });
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
      writeMarker: (topic, partition, m) => markers.write(topic, partition, m),
      groupPartition: async (groupId) => {
        await offsetsLog.ensureTopic();
        return {
          topic: OFFSETS_TOPIC,
          partition: offsetsPartitionFor(groupId, services.metadata.image.topic(OFFSETS_TOPIC)!.partitions),
        };
      },
      onMarkersWritten: (pid, commit) => offsets.complete(pid, commit),
      log,
    },
  );
  txn.offsets = offsets;
  txn.stateLog = stateLog;
  txn.markers = markers;
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
