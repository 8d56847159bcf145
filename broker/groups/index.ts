/**
 * Wiring of the group coordinator into the broker's services: configuration from the broker config table, the
 * `__consumer_offsets` log, replay on start (coordinator APIs answer COORDINATOR_LOAD_IN_PROGRESS until it
 * finishes) and the periodic offset-expiry task.
 */
import type { BrokerServices } from '../services.js';
import { GroupCoordinator } from './coordinator.js';
import { OffsetsTopicLog } from './offsets-log.js';
import { expireOffsets } from './offsets.js';
import { ConsumerGroupManager } from './consumer-group.js';
import { ConsumerGroupStore } from './consumer-group-records.js';

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
  return { coordinator, offsetsLog };
}

/** Replay `__consumer_offsets` into the coordinator, then start its periodic tasks. */
export async function loadGroups(coordinator: GroupCoordinator, offsetsLog: OffsetsTopicLog): Promise<number> {
  coordinator.loading = true;
  try {
    const n = await offsetsLog.replay((key, value) => coordinator.applyRecord(key, value));
    coordinator.log?.info({ records: n, groups: coordinator.groups.size }, 'loaded consumer groups');
    return n;
  } finally {
    coordinator.finishLoading();
    coordinator.startPeriodic(() => expireOffsets(coordinator));
  }
}
