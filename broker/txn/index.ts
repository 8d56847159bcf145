/**
 * Wiring of the transaction coordinator into the broker's services: configuration from the broker config table,
 * producer ids from `services.producerIds` (cluster-wide blocks from the metadata store), the
 * `__transaction_state` log, markers through the marker sender (markers.ts: local partitions through the replica
 * manager, the others with WriteTxnMarkers to their leaders; closed on shutdown), transactional offsets
 * (groups/txn-offsets.ts), the partitions it coordinates (coordinator-partitions.ts: those of
 * `__transaction_state` this node leads, each replayed when it becomes led here, its ids answering
 * COORDINATOR_LOAD_IN_PROGRESS meanwhile, and its Prepare* transactions then completed; dropped when lost, its
 * marker retries then stopped) and the periodic tasks.
 */
import type { BrokerServices } from '../services.js';
import { OFFSETS_TOPIC, OffsetsTopicLog } from '../groups/offsets-log.js';
import { offsetsPartitionFor } from '../groups/records.js';
import { TxnOffsetStore } from '../groups/txn-offsets.js';
import { TransactionCoordinator } from './coordinator.js';
import { TxnMarkerSender } from './markers.js';
import { interBrokerClient } from '../broker-connection.js';
import { TxnStateTopicLog } from './state-log.js';
import { TRANSACTION_STATE_TOPIC } from './records.js';
import { CoordinatorPartitions } from '../coordinator-partitions.js';

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
    ...(cfg.etcdEndpoints.length > 0 ? { via: interBrokerClient(cfg) } : {}),
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
      writeMarker: (topic, partition, m, signal) => markers.write(topic, partition, m, signal),
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
  const ownership = new CoordinatorPartitions({
    topic: TRANSACTION_STATE_TOPIC,
    replicas: services.partitions,
    partitionCount: () => stateLog.partitionCount,
    leadsAll: cfg.etcdEndpoints.length === 0,
    needsLoad: (p) => stateLog.hasRecords(p),
    load: async (p, current) => {
      const n = await stateLog.replayPartition(p, (key, value) => txn.applyRecord(key, value), current);
      log.debug({ partition: p, records: n }, 'replayed a __transaction_state partition');
    },
    loaded: (p) => void txn.finishLoading((id) => ownership.inPartition(id, p)).catch(() => undefined),
    unload: (p) => txn.unloadPartition(p),
    log,
  });
  txn.ownership = ownership;
  return txn;
}

/**
 * Adopt the transactional offsets the group loads left unresolved (now and as later partitions load), then
 * follow the leadership of `__transaction_state`: the partitions led here now are replayed (awaited), later
 * ones as they come; Prepare* transactions are completed in the background; the periodic tasks start.
 * Returns the number of transactional ids loaded.
 */
export async function loadTransactions(txn: Transactions, offsetsLog: OffsetsTopicLog): Promise<number> {
  txn.offsets.adopt(offsetsLog.unresolvedTxnRecords);
  offsetsLog.unresolvedTxnRecords.clear();
  offsetsLog.onUnresolved = (records) => txn.offsets.adopt(records);
  try {
    txn.ownership?.start();
    await txn.ownership?.settled();
  } finally {
    void txn.finishLoading(() => false).catch(() => undefined);
  }
  return txn.txns.size;
}
