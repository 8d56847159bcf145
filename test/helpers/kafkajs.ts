/** kafkajs helpers for the handler tests. */
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import type { RunningBroker } from '../../broker/index.js';

/** A kafkajs client of `b` (or of a bootstrap address) with logging off and `retries` retries (default none). */
export function quietKafkajs(b: RunningBroker | string, retries = 0): Kafka {
  return new Kafka({
    clientId: 't',
    brokers: [typeof b === 'string' ? b : b.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries },
  });
}

/** Send `messages` to `topic` with a kafkajs producer connected for this call only. */
export async function kafkajsSend(b: RunningBroker, topic: string, messages: Message[]): Promise<void> {
  const producer = quietKafkajs(b).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
}
