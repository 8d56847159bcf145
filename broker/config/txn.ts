/**
 * Config rows of the transaction coordinator: its internal topic __transaction_state, transaction timeouts and
 * the expiry of transactional ids. Part of the one config table (../config.ts).
 */
import type { ConfigDef } from '../config-model.js';

export const TXN_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'transaction.state.log.num.partitions',
    type: 'int',
    default: 50,
    min: 1,

    doc: 'Partitions of the internal __transaction_state topic, created on first use (fixed once created).',
  },
  {
    name: 'transaction.state.log.segment.bytes',
    type: 'int',
    // As offsets.topic.segment.bytes (groups.ts): Kafka's default is 100 MiB; 1 MiB is the smallest
    // segment.bytes Kafka 4 accepts (KIP-1030). Every transaction writes three records or more to its id's
    // partition and the load replays each record of the never-cleaned active segments (decoding every value),
    // so with 100 MiB a busy partition's replay grows to that much per partition before anything is cleaned.
    default: 1_048_576,
    min: 1,
    doc:
      'segment.bytes of __transaction_state when created: kept small so the log cleaner can compact it ' +
      '(the active segment is never cleaned), which bounds its replay on load (Kafka: 100 MiB).',
  },
  {
    name: 'transaction.state.log.replication.factor',
    type: 'int',
    default: 3,
    min: 1,
    doc: 'Replication factor of __transaction_state when created (capped at the live broker count).',
  },
  {
    name: 'transaction.max.timeout.ms',
    type: 'int',
    default: 900_000,
    min: 1,
    doc:
      'Largest transaction timeout a producer may ask for ' +
      '(InitProducerId answers INVALID_TRANSACTION_TIMEOUT above it).',
  },
  {
    name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    type: 'int',
    default: 10_000,
    min: 1,
    doc: 'How often transactions open past their timeout are looked for and aborted (with a producer epoch bump).',
  },
  {
    name: 'transactional.id.expiration.ms',
    type: 'int',
    default: 604_800_000,
    min: 1,
    doc: 'A transactional id with no transaction for this long is removed from __transaction_state.',
  },
  {
    name: 'transaction.remove.expired.transaction.cleanup.interval.ms',
    type: 'int',
    default: 3_600_000,
    min: 1,
    doc: 'How often expired transactional ids are looked for.',
  },
];
