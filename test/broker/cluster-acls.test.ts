/**
 * ACLs and SCRAM users shared by a replicated cluster, and inter-broker SASL (broker/broker-connection.ts): a real
 * etcd and two in-process brokers with the StandardAuthorizer, clients on a SASL_PLAINTEXT listener (CLIENT) and
 * the brokers among themselves on a SASL_SSL one (INTERNAL) with SCRAM-SHA-256 as User:broker, a super user as
 * Kafka's docs set it up. An ACL created through node 1 lets a non-super kafkajs user produce through node 2; a
 * SCRAM user created through node 1 logs in on node 2; acks=all writes reach the follower byte for byte over
 * INTERNAL. Every wait is bounded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { ACL_SECTION } from '../../replication/metadata/acls.js';
import { TestCluster } from '../helpers/cluster.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { waitFor } from '../helpers/etcd-nodes.js';
import { RawClient } from '../helpers/raw-client.js';
import { rawAuthenticate } from '../helpers/sasl.js';
import { call } from '../helpers/test-broker.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  encodeAlterUserScramCredentialsRequest,
} from '../../protocol/generated/alter-user-scram-credentials-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeAlterUserScramCredentialsResponse,
} from '../../protocol/generated/alter-user-scram-credentials-response.js';

const TOPIC = 'acl-shared';
const ADMIN: SASLOptions = { mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' };
const CAROL: SASLOptions = { mechanism: 'scram-sha-256', username: 'carol', password: 'carol-secret' };
const BROKER_JAAS =
  'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";';

let certs: TestCerts;
let cluster: TestCluster;

before(async () => {
  certs = makeTestCerts();
  cluster = await TestCluster.start({
    name: 'cluster-acls',
    nodes: 2,
    scramUsers: [
      'SCRAM-SHA-256=[name=broker,password=broker-secret]',
      'SCRAM-SHA-256=[name=admin,password=admin-secret]',
    ],
    config: {
      listeners: 'CLIENT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
      'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT,INTERNAL:SASL_SSL',
      'inter.broker.listener.name': 'INTERNAL',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-256',
      'listener.name.internal.scram-sha-256.sasl.jaas.config': BROKER_JAAS,
      'ssl.keystore.location': certs.broker.keystore,
      'ssl.truststore.location': certs.ca,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:broker;User:admin',
      'connection.failed.authentication.delay.ms': 20,
    },
  });
});
after(async () => {
  await cluster?.close();
  certs?.remove();
});

const clientPort = (id: number): number => cluster.broker(id).listeners.CLIENT!.port;

/** A kafkajs client of node `id`'s CLIENT listener only, as `sasl`, without retries. */
function kafka(id: number, sasl: SASLOptions): Kafka {
  return new Kafka({
    clientId: 'cluster-acls',
    brokers: [`127.0.0.1:${clientPort(id)}`],
    sasl,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

/** Retries `fn` (every 100 ms, 15 s / 150 times at most) until it resolves; its last error otherwise. */
async function eventually<T>(fn: () => Promise<T>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  let last: unknown;
  for (let i = 0; i < 150 && Date.now() < deadline; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what}: not within 15 s; last error ${String(last)}`);
}

/** Whether `user` logs in with SCRAM-SHA-256 on node `id`'s CLIENT listener. */
async function login(id: number, username: string, password: string): Promise<void> {
  const c = await RawClient.connect(clientPort(id));
  try {
    await rawAuthenticate(c, { mechanism: 'SCRAM-SHA-256', username, password });
  } finally {
    c.close();
  }
}

test('a SCRAM user created through node 1 logs in on node 2', async () => {
  await assert.rejects(login(2, 'carol', 'carol-secret'), /authentication failed/i, 'no carol yet');
  const c = await RawClient.connect(clientPort(1));
  try {
    await rawAuthenticate(c, { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' });
    const salt = randomBytes(16);
    const r = await call(c, 51, 0, encodeAlterUserScramCredentialsRequest, decodeAlterUserScramCredentialsResponse, {
      deletions: [],
      upsertions: [
        {
          name: 'carol',
          mechanism: 1,
          iterations: 4096,
          salt,
          saltedPassword: pbkdf2Sync('carol-secret', salt, 4096, 32, 'sha256'),
        },
      ],
    });
    assert.deepEqual(
      r.results.map((x) => [x.user, x.errorCode]),
      [['carol', 0]],
    );
  } finally {
    c.close();
  }
  await eventually(() => login(2, 'carol', 'carol-secret'), 'carol logs in on node 2');
  await assert.rejects(login(2, 'carol', 'wrong'), /authentication failed/i);
});

test('an ACL created through node 1 lets a non-super user produce through node 2', async () => {
  const admin = kafka(1, ADMIN).admin();
  await admin.connect();
  try {
    // Led by node 2 (the first replica), followed by node 1.
    await admin.createTopics({
      topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas: [2, 1] }] }],
    });
  } finally {
    await admin.disconnect();
  }
  await waitFor(
    () => cluster.live().every((b) => b.broker.metadata.image.partition(TOPIC, 0)?.leader === 2),
    20_000,
    'node 2 leads the topic everywhere',
  );
  await eventually(() => kafka(2, CAROL).admin().connect(), 'carol is known on node 2');

  const send = async (value: string): Promise<void> => {
    const producer = kafka(2, CAROL).producer();
    await producer.connect();
    try {
      await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, value }] });
    } finally {
      await producer.disconnect();
    }
  };
  await assert.rejects(send('denied'), /authoriz/i, 'no ACL: carol may not write');

  const acls = kafka(1, ADMIN).admin();
  await acls.connect();
  try {
    await acls.createAcls({
      acl: [
        // kafkajs enum codes: TOPIC 2, LITERAL 3, WRITE 4, DESCRIBE 8, ALLOW 3
        ...[4, 8].map((operation) => ({
          resourceType: 2,
          resourceName: TOPIC,
          resourcePatternType: 3,
          principal: 'User:carol',
          host: '*',
          operation,
          permissionType: 3,
        })),
      ],
    });
  } finally {
    await acls.disconnect();
  }
  // Node 2 learns of them from etcd's watch (not from node 1): wait until its image has both.
  await waitFor(
    () => cluster.broker(2).broker.metadata.image.records(ACL_SECTION).size === 2,
    15_000,
    'node 2 has both ACLs',
  );
  for (let i = 0; i < 3; i++) await send(`v${i}`);

  // acks=all: the follower (node 1) fetched them over INTERNAL (SASL_SSL, as User:broker) byte for byte.
  const ends = await cluster.waitReplicated(TOPIC, 1, 'after carol wrote 3 records');
  assert.deepEqual(ends, [3]);
  const internal = cluster
    .live()
    .flatMap((b) => b.broker.connectionSessions())
    .filter((s) => s.listenerName === 'INTERNAL');
  assert.ok(internal.length > 0, 'fetchers are connected on INTERNAL');
  assert.ok(
    internal.every((s) => s.principal === 'User:broker' && s.securityProtocol === 'SASL_SSL'),
    JSON.stringify(internal),
  );
});

test('node 2 describes the ACLs made through node 1; deleting them through node 2 removes them on node 1', async () => {
  const admin = kafka(2, ADMIN).admin();
  await admin.connect();
  try {
    // kafkajs filter codes: ANY 1 for the resource type, pattern type, operation and permission type.
    const filter = {
      resourceType: 1,
      resourcePatternType: 1,
      operation: 1,
      permissionType: 1,
      principal: 'User:carol',
    };
    const described = await admin.describeAcls(filter);
    assert.deepEqual(
      described.resources.flatMap((r) => r.acls.map((a) => [r.resourceName, a.principal, a.operation])).sort(),
      [
        [TOPIC, 'User:carol', 4],
        [TOPIC, 'User:carol', 8],
      ],
    );
    const deleted = await admin.deleteAcls({ filters: [filter] });
    assert.equal(deleted.filterResponses[0]?.matchingAcls.length, 2);
  } finally {
    await admin.disconnect();
  }
  await waitFor(
    () => cluster.broker(1).broker.metadata.image.records(ACL_SECTION).size === 0,
    15_000,
    'node 1 no longer has them',
  );
});
