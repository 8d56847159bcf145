/**
 * Inter-broker TLS (broker/broker-connection.ts `interBrokerClient`): a 3-node cluster on etcd whose
 * `inter.broker.listener.name` is an mTLS listener (INTERNAL:SSL, ssl.client.auth=required there). Clients use
 * PLAINTEXT; the followers fetch from their leaders over INTERNAL with the broker's own keystore as client
 * certificate, so acks=all writes to a topic of replication factor 3 and min.insync.replicas=2 are acknowledged
 * and replicated byte for byte to all three nodes with ISR [1,2,3], and each leader sees its fetchers as the
 * broker certificate's principal (User:CN=localhost) on INTERNAL. (SASL_SSL inter-broker: cluster-3node.test.ts.)
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
    nodes: 3,
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

test('acks=all writes to RF 3 reach all three nodes over the mTLS inter-broker listener, ISR [1,2,3]', async () => {
  const admin = cluster.kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic: TOPIC,
          // Node p + 1 leads partition p, so that every node has fetchers of both others.
          replicaAssignment: [0, 1, 2].map((p) => ({
            partition: p,
            replicas: [0, 1, 2].map((i) => ((p + i) % 3) + 1),
          })),
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  await waitFor(
    () =>
      cluster
        .live()
        .every((b) => [0, 1, 2].every((p) => b.broker.metadata.image.partition(TOPIC, p)?.leader === p + 1)),
    20_000,
    'every broker sees the topic led as assigned',
  );
  const producer = cluster.kafka().producer();
  await producer.connect();
  try {
    for (let i = 0; i < 5; i++) {
      const sent = await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: [0, 1, 2].map((partition) => ({ partition, value: `${partition}-${i}` })),
      });
      assert.deepEqual(
        sent.map((s) => [s.partition, s.errorCode, s.baseOffset]).sort(),
        [0, 1, 2].map((p) => [p, 0, String(i)]),
      );
    }
  } finally {
    await producer.disconnect();
  }
  const ends = await cluster.waitReplicated(TOPIC, 3, 'after 15 records');
  assert.deepEqual(ends, [5, 5, 5]);
  await cluster.waitAll(
    (b) => [0, 1, 2].every((p) => b.broker.metadata.image.partition(TOPIC, p)?.isr.length === 3),
    15_000,
    'every ISR is [1,2,3]',
  );
  for (const b of cluster.live()) {
    const internal = b.broker.connectionSessions().filter((s) => s.listenerName === 'INTERNAL');
    assert.ok(internal.length >= 2, `node ${b.broker.started.nodeId} has fetchers of both others on INTERNAL`);
    assert.ok(
      internal.every((s) => s.principal === 'User:CN=localhost' && s.securityProtocol === 'SSL'),
      JSON.stringify(internal),
    );
  }
});
