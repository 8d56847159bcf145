/**
 * Runnel's own Kafka client (`runnel/client`): Admin, Producer and Consumer on the generated codec, plus
 * Kafka's murmur2 partitioner. Works against any Kafka-compatible broker (versions are negotiated with
 * ApiVersions).
 */
export { Admin, type TopicDescription, type ConfigEntry, type GroupDescription } from './admin.js';
export {
  type ScramAlteration,
  type ScramMechanismName,
  type UserScramCredentials,
  scramSaltedPassword,
} from './admin-scram.js';
export { Producer, type ProducerOptions } from './producer.js';
export { Consumer, type ConsumerOptions } from './consumer.js';
export { KafkaError } from './errors.js';
export { murmur2, partitionForKey, toPositive } from './partitioner.js';
export type { ClientOptions } from './pool.js';
export type { OffsetSpec } from './offsets.js';
export type {
  ProducerRecord,
  RecordMetadata,
  ConsumerRecord,
  Compression,
  Isolation,
  TopicPartition,
} from './types.js';
