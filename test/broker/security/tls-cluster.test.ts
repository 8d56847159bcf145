/**
 * Inter-broker TLS (broker/broker-connection.ts `interBrokerClient`): a 2-node cluster on etcd whose
 * `inter.broker.listener.name` is an mTLS listener (INTERNAL:SSL, ssl.client.auth=required there). Clients use
 * PLAINTEXT; the followers fetch from their leaders over INTERNAL with the broker's own keystore as client
 * certificate, so acks=all writes are replicated byte for byte, and the leader sees the fetcher as the
 * broker certificate's principal (User:CN=localhost) on INTERNAL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/etcd-nodes.js';
import { makeTestCerts, type TestCerts } from '../../helpers/certs.js';

const TOPIC = 'tls-replicated';
let certs: TestCerts;
let cluster: TestCluster;

before(async () => {
  certs = makeTestCerts();
  cluster = await TestCluster.start({
    name: 'tls-cluster',
    nodes: 2,
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:SSL',
      'inter.broker.listener.name': 'INTERNAL',
      'ssl.keystore.location': certs.broker.keystore,
      'ssl.truststore.location': certs.ca,
      'listener.name.internal.ssl.client.auth': 'required',
    },
  });
});
after(async () => {
  await cluster?.close();
  certs?.remove();
});

test('replica fetchers reach their leaders over the mTLS inter-broker listener', async () => {
  const admin = cluster.kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2, replicationFactor: 2 }] });
  } finally {
    await admin.disconnect();
  }
  await waitFor(
    () => cluster.live().every((b) => b.broker.metadata.image.partitions(TOPIC).length === 2),
    20_000,
    'every broker sees the topic',
  );
  const producer = cluster.kafka().producer();
  await producer.connect();
  try {
    for (let i = 0; i < 5; i++) {
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: [
          { partition: 0, value: `a${i}` },
          { partition: 1, value: `b${i}` },
        ],
      });
    }
  } finally {
    await producer.disconnect();
  }
  const ends = await cluster.waitReplicated(TOPIC, 2, 'after 10 records');
  assert.deepEqual(ends, [5, 5]);
  const internal = cluster
    .live()
    .flatMap((b) => b.broker.connectionSessions())
    .filter((s) => s.listenerName === 'INTERNAL');
  assert.ok(internal.length > 0, 'fetchers are connected on INTERNAL');
  assert.ok(
    internal.every((s) => s.principal === 'User:CN=localhost' && s.securityProtocol === 'SSL'),
    JSON.stringify(internal),
  );
});
