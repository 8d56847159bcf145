/**
 * Topic rules shared by the handlers: internal topics, auto-creation (Metadata, and later Produce and
 * FindCoordinator for internal topics), name validation with Kafka's error codes.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { invalidTopicName, type TopicMetadata } from '../storage/topic-store.js';
import type { Broker } from './broker.js';
import type { PartitionLog } from '../storage/partition-log.js';

/** This node's leader epoch for every partition (single node: leadership never moves). */
export const LEADER_EPOCH = 0;

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
export async function autoCreateTopic(broker: Broker, name: string, allowed: boolean): Promise<TopicMetadata | number> {
  if (invalidTopicName(name) !== undefined) return ErrorCode.INVALID_TOPIC_EXCEPTION;
  if (!allowed || !broker.config.bool('auto.create.topics.enable') || isInternalTopic(name))
    return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  try {
    return await broker.logs.createTopic(name, { partitions: broker.config.int('num.partitions') });
  } catch (err) {
    // Lost a race with a concurrent creation: the topic exists now.
    const t = broker.logs.topic(name);
    if (t) return t;
    broker.log.warn({ topic: name, err: (err as Error).message }, 'auto-creating topic failed');
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

/**
 * The partition's log when this node leads it at an epoch the client may use, else the Kafka error code:
 * UNKNOWN_TOPIC_OR_PARTITION, or UNKNOWN_LEADER_EPOCH when the client knows a newer epoch than ours
 * (-1 = the client does not check).
 */
export function leaderLog(
  broker: Broker,
  topic: string,
  partition: number,
  currentLeaderEpoch = -1,
): PartitionLog | number {
  const log = broker.logs.getLog(topic, partition);
  if (!log) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  if (currentLeaderEpoch > LEADER_EPOCH) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return log;
}
