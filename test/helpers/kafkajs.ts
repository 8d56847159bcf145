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

/** Poll `cond` every 50 ms until it holds; throws `timed out waiting for <what>` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Consume `topic` from the beginning in group `group` until a record with value `last` arrives (bounded by 30 s);
 * returns the values seen, in order. `readUncommitted` false reads committed transactions only.
 */
export async function consumeUntil(
  kafka: Kafka,
  topic: string,
  last: string,
  readUncommitted: boolean,
  group: string,
): Promise<string[]> {
  const c = kafka.consumer({
    groupId: group,
    readUncommitted,
    maxWaitTimeInMs: 200,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  const got: string[] = [];
  await c.connect();
  try {
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({
      eachMessage: async ({ message }) => void got.push(message.value!.toString()),
    });
    const mode = readUncommitted ? 'read_uncommitted' : 'read_committed';
    await waitUntil(`${last} on ${topic} (${mode})`, () => got.includes(last));
  } finally {
    await c.disconnect();
  }
  return got;
}
