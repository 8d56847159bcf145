// Capture driver for @platformatic/kafka: metadata for `golden`, 3 keyed records with a header, one CreateTopics.
// Usage: node platformatic.mjs <port>. Exits non-zero on failure; the caller bounds the run time.
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';

const port = Number(process.argv[2]);
const common = { clientId: 'golden-platformatic', bootstrapBrokers: [`127.0.0.1:${port}`], retries: 0, timeout: 5000 };

const admin = new Admin(common);
await admin.metadata({ topics: ['golden'] });

const producer = new Producer({ ...common, serializers: stringSerializers });
await producer.send({
  acks: -1,
  messages: [0, 1, 2].map((i) => ({
    topic: 'golden',
    partition: 0,
    key: `k${i}`,
    value: `v${i}`,
    headers: { h: `x${i}` },
  })),
});

await admin.createTopics({ topics: ['golden-admin'], partitions: 1, replicas: 1 });
await producer.close();
await admin.close();
