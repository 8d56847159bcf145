// Capture driver for kafkajs: metadata for `golden`, 3 keyed records with a header, one CreateTopics.
// Usage: node kafkajs.mjs <port>. Exits non-zero on failure; the caller bounds the run time.
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const port = Number(process.argv[2]);
const kafka = new Kafka({
  clientId: 'golden-kafkajs',
  brokers: [`127.0.0.1:${port}`],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 3000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});

const admin = kafka.admin();
await admin.connect();
await admin.fetchTopicMetadata({ topics: ['golden'] });

const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
await producer.send({
  topic: 'golden',
  acks: -1,
  messages: [0, 1, 2].map((i) => ({ key: `k${i}`, value: `v${i}`, headers: { h: `x${i}` } })),
});

await admin.createTopics({
  topics: [{ topic: 'golden-admin', numPartitions: 1, replicationFactor: 1 }],
  waitForLeaders: false,
});
await producer.disconnect();
await admin.disconnect();
