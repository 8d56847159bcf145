/**
 * Wiring of the group coordinator into the broker's services: configuration from the broker config table, the
 * `__consumer_offsets` log, the partitions it coordinates (coordinator-partitions.ts: those this node leads;
 * each is replayed when it becomes led here, its groups answering COORDINATOR_LOAD_IN_PROGRESS meanwhile, and
 * dropped when it is lost) and the periodic offset-expiry task. A single node leads every partition.
 */
import type { BrokerServices } from '../services.js';
import { GroupCoordinator } from './coordinator.js';
import { OffsetsTopicLog } from './offsets-log.js';
import { expireOffsets } from './offsets.js';
import { ConsumerGroupManager } from './consumer-group.js';
import { ConsumerGroupStore } from './consumer-group-records.js';
import { CoordinatorPartitions } from '../coordinator-partitions.js';
import { OFFSETS_TOPIC } from './offsets-log.js';

export { GroupCoordinator } from './coordinator.js';
export { OFFSETS_TOPIC } from './offsets-log.js';

export function createGroupCoordinator(
  services: Pick<BrokerServices, 'config' | 'clock' | 'metadata' | 'partitions' | 'childLogger'>,
): { coordinator: GroupCoordinator; offsetsLog: OffsetsTopicLog } {
  const cfg = services.config;
  const offsetsLog = new OffsetsTopicLog(services);
  const coordinator = new GroupCoordinator(
    {
      initialRebalanceDelayMs: cfg.int('group.initial.rebalance.delay.ms'),
      minSessionTimeoutMs: cfg.int('group.min.session.timeout.ms'),
      maxSessionTimeoutMs: cfg.int('group.max.session.timeout.ms'),
      maxSize: cfg.int('group.max.size'),
      offsetsRetentionMs: cfg.int('offsets.retention.minutes') * 60_000,
      offsetsRetentionCheckIntervalMs: cfg.int('offsets.retention.check.interval.ms'),
    },
    services.clock,
    offsetsLog,
    services.childLogger('groups'),
  );
  // KIP-848 consumer groups: same coordinator, own state (see consumer-group.ts).
  const consumer = new ConsumerGroupManager(
    {
      heartbeatIntervalMs: cfg.int('group.consumer.heartbeat.interval.ms'),
      sessionTimeoutMs: cfg.int('group.consumer.session.timeout.ms'),
      assignors: cfg.get('group.consumer.assignors') as string[],
      maxSize: cfg.int('group.max.size'),
    },
    services.clock,
    {
      byName: (name) => services.metadata.image.topic(name),
      byId: (id) => services.metadata.image.topicById(id),
    },
    services.childLogger('groups'),
    (groupId) => (coordinator.groups.get(groupId)?.members.size ?? 0) > 0,
  );
  consumer.allTopicNames = () => services.metadata.image.topics().map((t) => t.name);
  consumer.store = new ConsumerGroupStore(consumer, offsetsLog, services.clock, services.childLogger('groups'));
  coordinator.consumer = consumer;
  const ownership = new CoordinatorPartitions({
    topic: OFFSETS_TOPIC,
    replicas: services.partitions,
    partitionCount: () => offsetsLog.partitionCount,
    leadsAll: cfg.etcdEndpoints.length === 0,
    needsLoad: (p) => offsetsLog.hasRecords(p),
    load: async (p, current) => {
      const r = await offsetsLog.replayPartition(p, (key, value) => coordinator.applyRecord(key, value), current);
      if (!current()) return;
      offsetsLog.keepUnresolved(r.unresolved);
      coordinator.log?.debug({ partition: p, records: r.count }, 'replayed a __consumer_offsets partition');
    },
    loaded: (p) => coordinator.finishLoading((groupId) => ownership.inPartition(groupId, p)),
    unload: (p) => coordinator.unloadPartition(p),
    log: services.childLogger('groups'),
  });
  coordinator.ownership = ownership;
  return { coordinator, offsetsLog };
}

/**
 * Follow the leadership of `__consumer_offsets`: the partitions led here now are replayed (the broker
 * listens meanwhile; their groups answer COORDINATOR_LOAD_IN_PROGRESS until loaded), later ones as they come;
 * then the periodic tasks start. Starts following synchronously (before the first await). Returns the number
 * of groups loaded.
 */
export async function loadGroups(coordinator: GroupCoordinator, _offsetsLog?: OffsetsTopicLog): Promise<number> {
  try {
    const started = performance.now();
    coordinator.ownership?.start();
    await coordinator.ownership?.settled();
    coordinator.log?.info(
      {
        groups: coordinator.groups.size,
        partitions: coordinator.ownership?.partitions.length,
        ms: Math.round(performance.now() - started),
      },
      'loaded consumer groups',
    );
    return coordinator.groups.size;
  } finally {
    coordinator.startPeriodic(() => expireOffsets(coordinator));
  }
}
