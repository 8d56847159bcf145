/** kafkajs helpers for the handler tests. */
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import type { RunningBroker } from '../../broker/index.js';

/** Send `messages` to `topic` with a kafkajs producer connected for this call only. */
export async function kafkajsSend(b: RunningBroker, topic: string, messages: Message[]): Promise<void> {
  const kafka = new Kafka({
    clientId: 't',
    brokers: [b.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
}
