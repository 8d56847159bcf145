/**
 * Config rows of the group coordinator: classic-group rebalance and session bounds, KIP-848 consumer groups, and
 * committed offsets with their internal topic __consumer_offsets. Part of the one config table (../config.ts).
 */
import type { ConfigDef } from '../config-model.js';

export const GROUP_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'group.initial.rebalance.delay.ms',
    type: 'int',
    default: 3000,
    min: 0,
    doc:
      'How long the first rebalance of a new (empty) group waits for more members to join; ' +
      'extended by this much as members keep joining, up to the rebalance timeout.',
  },
  {
    name: 'group.min.session.timeout.ms',
    type: 'int',
    default: 6000,
    min: 0,
    doc: 'Smallest session timeout a group member may ask for (JoinGroup answers INVALID_SESSION_TIMEOUT below it).',
  },
  {
    name: 'group.max.session.timeout.ms',
    type: 'int',
    default: 1_800_000,
    min: 0,
    doc: 'Largest session timeout a group member may ask for (JoinGroup answers INVALID_SESSION_TIMEOUT above it).',
  },
  {
    name: 'group.max.size',
    type: 'int',
    default: 2147483647,
    min: 1,
    doc: 'Most members a consumer group may have (GROUP_MAX_SIZE_REACHED beyond it).',
  },
  {
    name: 'group.consumer.heartbeat.interval.ms',
    type: 'int',
    default: 5000,
    min: 1,
    doc: 'Heartbeat interval given to members of KIP-848 consumer groups (ConsumerGroupHeartbeat).',
  },
  {
    name: 'group.consumer.session.timeout.ms',
    type: 'int',
    default: 45000,
    min: 1,
    doc: 'A KIP-848 consumer group member that has not heartbeated for this long is removed from its group.',
  },
  {
    name: 'group.consumer.assignors',
    type: 'list',
    default: ['uniform', 'range'],
    oneOf: ['uniform', 'range'],
    doc:
      'Server-side assignors KIP-848 consumer groups may use; ' +
      'the first is the default (UNSUPPORTED_ASSIGNOR for others).',
  },
  {
    name: 'offsets.retention.minutes',
    type: 'int',
    default: 10080,
    min: 1,
    doc: 'Committed offsets of a group that has been empty this long are deleted.',
  },
  {
    name: 'offsets.topic.num.partitions',
    type: 'int',
    default: 50,
    min: 1,

    doc: 'Partitions of the internal __consumer_offsets topic, created on first use (fixed once created).',
  },
  {
    name: 'offsets.topic.segment.bytes',
    type: 'int',
    // Kafka's default is 100 MiB; 1 MiB is the smallest segment.bytes Kafka 4 accepts for a topic (KIP-1030).
    // At 4,000 commits/s a 100 MiB active segment per partition takes hours to roll, so the replay at start
    // grows to gigabytes; with 1 MiB the uncleaned part is at most about a MiB per partition.
    default: 1_048_576,
    min: 1,
    doc:
      'segment.bytes of __consumer_offsets when created: kept small so the log cleaner can compact ' +
      'committed offsets (the active segment is never cleaned), which bounds their replay on load ' +
      '(Kafka: 100 MiB).',
  },
  {
    name: 'offsets.topic.replication.factor',
    type: 'int',
    default: 3,
    min: 1,
    doc: 'Replication factor of __consumer_offsets when created (capped at the live broker count).',
  },
  {
    name: 'offsets.commit.timeout.ms',
    type: 'int',
    default: 5000,
    min: 1,
    doc:
      'How long an offset commit (or group record) waits for every in-sync replica of its ' +
      '__consumer_offsets partition (acks=all) before failing with COORDINATOR_NOT_AVAILABLE.',
  },
  {
    name: 'offsets.retention.check.interval.ms',
    type: 'long',
    default: 600_000,
    min: 1,
    doc: 'How often expired committed offsets are looked for.',
  },
];
