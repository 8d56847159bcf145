/**
 * Topic rules shared by the handlers: internal topics, auto-creation (Metadata, and later Produce and
 * FindCoordinator for internal topics), name validation with Kafka's error codes.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { invalidTopicName, type TopicMetadata } from '../replication/metadata/image.js';
import type { BrokerServices } from './services.js';

const INTERNAL = new Set(['__consumer_offsets', '__transaction_state']);

/** Kafka's Uuid.ZERO_UUID as base64url: "no topic id". */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export function isInternalTopic(name: string): boolean {
  return INTERNAL.has(name);
}

/**
 * Create a missing topic if auto-creation is enabled and allowed; returns the topic, or the Kafka error
 * code to answer with (INVALID_TOPIC_EXCEPTION, UNKNOWN_TOPIC_OR_PARTITION).
 */
export async function autoCreateTopic(
  services: Pick<BrokerServices, 'config' | 'metadata' | 'log'>,
  name: string,
  allowed: boolean,
): Promise<TopicMetadata | number> {
  if (invalidTopicName(name) !== undefined) return ErrorCode.INVALID_TOPIC_EXCEPTION;
  if (!allowed || !services.config.bool('auto.create.topics.enable') || isInternalTopic(name))
    return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  try {
    return await services.metadata.createTopic(name, {
      partitions: services.config.int('num.partitions'),
      replicationFactor: services.config.int('default.replication.factor'),
    });
  } catch (err) {
    // Lost a race with a concurrent creation: the topic exists now.
    const t = services.metadata.image.topic(name);
    if (t) return t;
    services.log.warn({ topic: name, err: (err as Error).message }, 'auto-creating topic failed');
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}
