/**
 * Security of a 3-node replicated cluster (issue #14), one cluster start for the whole file: a real etcd and three
 * in-process brokers with the StandardAuthorizer (test/helpers/cluster.ts). Clients use a SASL_PLAINTEXT listener
 * (CLIENT); the brokers replicate over a SASL_SSL inter-broker listener (INTERNAL, SCRAM-SHA-256 as the super user
 * User:broker), as Kafka's docs set it up. Real clients on each node's CLIENT listener alone:
 * - a SCRAM user added through node 1 (`runnel user`, a child process) logs in on nodes 2 and 3 (kafkajs, kcat);
 *   its altered password replaces the old one there, and once deleted it logs in nowhere;
 * - ACLs created through node 1 let a non-super user produce through nodes 2 and 3 (kafkajs, to the partition each
 *   leads) and consume there (kcat); nodes 2 and 3 describe them; deleted through node 3, produce through nodes 1
 *   and 2 is TOPIC_AUTHORIZATION_FAILED and nothing is written;
 * - a topic of replication factor 3 and min.insync.replicas=2: every acks=all record is acknowledged, every node's
 *   log has the same bytes, ISR = [1,2,3] everywhere, the fetchers are User:broker on INTERNAL; with a leader
 *   stopped, ISR [2,3] still takes acks=all writes and the new leader serves every record to a consumer (kcat);
 *   started again, it catches up over INTERNAL and is back in every ISR.
 * Every wait is bounded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { ACL_SECTION } from '../../../replication/metadata/acls.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { defaultProduceRequest, encodeProduceRequest } from '../../../protocol/generated/produce-request.js';
import { decodeProduceResponse } from '../../../protocol/generated/produce-response.js';
import { buildRecordBatchSync } from '../../../protocol/records/builder.js';
import { TestCluster } from '../../helpers/cluster.js';
import { makeTestCerts, type TestCerts } from '../../helpers/certs.js';
import { run } from '../../helpers/broker-process.js';
import { RawClient } from '../../helpers/raw-client.js';
import { rawAuthenticate } from '../../helpers/sasl.js';
import { call } from '../../helpers/test-broker.js';
import { runCli } from '../../client/cli/run-cli.js';

const ADMIN: SASLOptions = { mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' };
const DAVE: SASLOptions = { mechanism: 'scram-sha-256', username: 'dave', password: 'dave-secret' };
const BROKER_JAAS =
  'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";';
/** Partition p's replicas: node p + 1 leads it, the two others follow. */
const ASSIGNMENT = [
  { partition: 0, replicas: [1, 2, 3] },
  { partition: 1, replicas: [2, 3, 1] },
  { partition: 2, replicas: [3, 1, 2] },
];

let certs: TestCerts;
let cluster: TestCluster;
let adminConfig: string;

before(async () => {
  certs = makeTestCerts();
  adminConfig = join(certs.dir, 'admin.properties');
  writeFileSync(
    adminConfig,
    'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.username=admin\nsasl.password=admin-secret\n',
  );
  cluster = await TestCluster.start({
    name: 'cluster-3node',
    nodes: 3,
    scramUsers: [
      'SCRAM-SHA-256=[name=broker,password=broker-secret]',
      'SCRAM-SHA-256=[name=admin,password=admin-secret]',
      'SCRAM-SHA-256=[name=dave,password=dave-secret]',
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

const clientAddress = (id: number): string => `127.0.0.1:${cluster.broker(id).listeners.CLIENT!.port}`;

/** A kafkajs client bootstrapped from node `id`'s CLIENT listener only, as `sasl`, without retries. */
function kafka(id: number, sasl: SASLOptions): Kafka {
  return new Kafka({
    clientId: 'cluster-3node',
    brokers: [clientAddress(id)],
    sasl,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

/** kcat's SASL/SCRAM-SHA-256 options for `user`. */
const kcatSasl = (user: string, password: string): string[] =>
  ['security.protocol=SASL_PLAINTEXT', 'sasl.mechanism=SCRAM-SHA-256', `sasl.username=${user}`]
    .concat(`sasl.password=${password}`)
    .flatMap((x) => ['-X', x]);

/**
 * kcat, as `user`, asking node `id`'s CLIENT listener for metadata (-L): whether it got them, whether librdkafka
 * reported the SASL login refused, and its output. Waits 10 s for metadata where a login is expected, 5 s where a
 * refusal is (librdkafka reports that at once, then retries until the wait is over).
 */
async function kcatLogin(id: number, user: string, password: string, expectOk: boolean) {
  const wait = expectOk ? '10' : '5';
  const r = await run('kcat', ['-L', '-b', clientAddress(id), '-m', wait, ...kcatSasl(user, password)], 30_000);
  return {
    ok: r.code === 0 && /broker 1 at/.test(r.stdout),
    refused: /SASL authentication error: Authentication failed/.test(r.stderr),
    out: `exit ${r.code}: ${r.stdout}\n${r.stderr}`,
  };
}

/** Whether kafkajs, as `user`, connects and authenticates to node `id`'s CLIENT listener. */
async function kafkajsLogin(id: number, username: string, password: string): Promise<boolean> {
  const admin = kafka(id, { mechanism: 'scram-sha-256', username, password }).admin();
  try {
    await admin.connect();
    return true;
  } catch (err) {
    assert.match(String(err), /authentication failed|SASL/i);
    return false;
  } finally {
    await admin.disconnect();
  }
}

/** Whether a raw SCRAM-SHA-256 login to node `id` succeeds. */
async function rawLogin(id: number, username: string, password: string): Promise<boolean> {
  const c = await RawClient.connect(cluster.broker(id).listeners.CLIENT!.port);
  try {
    await rawAuthenticate(c, { mechanism: 'SCRAM-SHA-256', username, password });
    return true;
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/** Waits (15 s at most) until a raw login of `user` to node `id` succeeds or fails as `ok` says. */
async function waitLogin(id: number, user: string, password: string, ok: boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (let i = 0; i < 150 && Date.now() < deadline; i++) {
    if ((await rawLogin(id, user, password)) === ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${user} login on node ${id} is not ${ok ? 'accepted' : 'refused'} within 15 s`);
}

/** `runnel user <args>` against node 1's CLIENT listener, as admin; asserts exit 0. */
async function userCli(args: string[]): Promise<void> {
  const r = await runCli(['user', ...args, '--bootstrap', clientAddress(1), '--command-config', adminConfig], {
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, `runnel user ${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
}

/** Asserts how `user` fares on nodes 2 and 3 with real clients: kafkajs on node 2, kcat on node 3. */
async function assertLogins(user: string, password: string, ok: boolean, what: string): Promise<void> {
  for (const id of [2, 3]) await waitLogin(id, user, password, ok);
  assert.equal(await kafkajsLogin(2, user, password), ok, `kafkajs on node 2: ${what}`);
  const k = await kcatLogin(3, user, password, ok);
  assert.deepEqual([k.ok, k.refused], [ok, !ok], `kcat on node 3: ${what}: ${k.out}`);
}

test('a SCRAM user added, altered, deleted through node 1 logs in, changes, stops on nodes 2 and 3', async () => {
  for (const id of [2, 3]) assert.equal(await rawLogin(id, 'carol', 'carol-1'), false, `no carol on node ${id}`);
  await userCli(['add', 'carol', '--mechanism', 'SCRAM-SHA-256', '--password', 'carol-1']);
  await assertLogins('carol', 'carol-1', true, 'carol added');
  await assertLogins('carol', 'nope', false, 'a wrong password');

  await userCli(['alter', 'carol', '--mechanism', 'SCRAM-SHA-256', '--password', 'carol-2', '--iterations', '8192']);
  await assertLogins('carol', 'carol-2', true, 'the new password');
  await assertLogins('carol', 'carol-1', false, 'the old password');

  await userCli(['delete', 'carol', '--mechanism', 'SCRAM-SHA-256']);
  await assertLogins('carol', 'carol-2', false, 'carol deleted');
  for (const b of cluster.live()) {
    assert.equal(b.broker.scramCredentials.credential('carol', 'SCRAM-SHA-256'), undefined);
  }
});

/** Waits until every node has `topic` with `partitions` partitions, partition p led by node p + 1. */
async function waitAssigned(topic: string, partitions: number): Promise<void> {
  await cluster.waitAll(
    (b) =>
      Array.from({ length: partitions }, (_, p) => b.broker.metadata.image.partition(topic, p)?.leader === p + 1).every(
        Boolean,
      ),
    20_000,
    `every node sees ${topic} led as assigned`,
  );
}

async function createTopic(topic: string, configEntries: { name: string; value: string }[] = []): Promise<void> {
  const admin = kafka(1, ADMIN).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, replicaAssignment: ASSIGNMENT, configEntries }] });
  } finally {
    await admin.disconnect();
  }
  await waitAssigned(topic, ASSIGNMENT.length);
}

/** A raw Produce v9 (acks=all) of one record as dave to node `id`: the partition's error code. */
async function rawProduce(id: number, topic: string, partition: number): Promise<number> {
  const c = await RawClient.connect(cluster.broker(id).listeners.CLIENT!.port);
  try {
    await rawAuthenticate(c, { mechanism: 'SCRAM-SHA-256', username: 'dave', password: 'dave-secret' });
    const req = defaultProduceRequest();
    req.acks = -1;
    req.timeoutMs = 5000;
    req.topicData = [
      {
        name: topic,
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitionData: [{ index: partition, records: buildRecordBatchSync([{ value: 'denied' }]) }],
      },
    ];
    const r = await call(c, 0, 9, encodeProduceRequest, decodeProduceResponse, req);
    return r.responses[0]!.partitionResponses[0]!.errorCode;
  } finally {
    c.close();
  }
}

/** Every node's log end offset of each partition of `topic` (node id order), e.g. [[3,3,3],[..],[..]]. */
function logEnds(topic: string, partitions: number): number[][] {
  return Array.from({ length: partitions }, (_, p) =>
    [1, 2, 3].map((id) => {
      const part = cluster.broker(id).broker.replicaManager.getPartition(topic, p);
      if (typeof part === 'number') throw new Error(`node ${id} hosts no ${topic}-${p} (error ${part})`);
      return part.logEndOffset;
    }),
  );
}

/** kafkajs filter codes: ANY (1) for the resource type, pattern type, operation and permission type. */
const DAVE_FILTER = {
  resourceType: 1,
  resourcePatternType: 1,
  operation: 1,
  permissionType: 1,
  principal: 'User:dave',
};

test('ACLs made on node 1 work on nodes 2 and 3; deleted on node 3, nodes 1 and 2 deny', async () => {
  const TOPIC = 'acl-3node';
  await createTopic(TOPIC);
  for (const id of [2, 3]) {
    assert.equal(await rawProduce(id, TOPIC, id - 1), ErrorCode.TOPIC_AUTHORIZATION_FAILED, `no ACL yet: node ${id}`);
  }

  const acls = kafka(1, ADMIN).admin();
  await acls.connect();
  try {
    // kafkajs enum codes: TOPIC 2, LITERAL 3, READ 3, WRITE 4, DESCRIBE 8, ALLOW 3
    await acls.createAcls({
      acl: [3, 4, 8].map((operation) => ({
        resourceType: 2,
        resourceName: TOPIC,
        resourcePatternType: 3,
        principal: 'User:dave',
        host: '*',
        operation,
        permissionType: 3,
      })),
    });
  } finally {
    await acls.disconnect();
  }
  // Nodes 2 and 3 learn of them from etcd's watch, not from node 1.
  await cluster.waitAll(
    (b) => b.broker.metadata.image.records(ACL_SECTION).size === 3,
    15_000,
    'every node has 3 ACLs',
  );

  for (const id of [2, 3]) {
    const producer = kafka(id, DAVE).producer();
    await producer.connect();
    try {
      const sent = await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: [0, 1].map((i) => ({ partition: id - 1, value: `n${id}-${i}` })),
      });
      assert.deepEqual(
        sent.map((s) => [s.partition, s.errorCode, s.baseOffset]),
        [[id - 1, 0, '0']],
      );
    } finally {
      await producer.disconnect();
    }
    const args = ['-C', '-b', clientAddress(id), '-t', TOPIC, '-p', String(id - 1), '-o', 'beginning', '-e'];
    const r = await run('kcat', [...args, '-c', '2', '-f', '%s\\n', ...kcatSasl('dave', 'dave-secret')], 30_000);
    assert.deepEqual(r.stdout.trim().split('\n'), [`n${id}-0`, `n${id}-1`], `kcat on node ${id}: ${r.stderr}`);
  }

  for (const id of [2, 3]) {
    const admin = kafka(id, ADMIN).admin();
    await admin.connect();
    try {
      const described = await admin.describeAcls(DAVE_FILTER);
      assert.deepEqual(
        described.resources.flatMap((r) => r.acls.map((a) => [r.resourceName, a.principal, a.operation])).sort(),
        [3, 4, 8].map((op) => [TOPIC, 'User:dave', op]),
        `node ${id} describes them`,
      );
    } finally {
      await admin.disconnect();
    }
  }

  const admin3 = kafka(3, ADMIN).admin();
  await admin3.connect();
  try {
    const deleted = await admin3.deleteAcls({ filters: [DAVE_FILTER] });
    assert.equal(deleted.filterResponses[0]?.matchingAcls.length, 3);
  } finally {
    await admin3.disconnect();
  }
  await cluster.waitAll((b) => b.broker.metadata.image.records(ACL_SECTION).size === 0, 15_000, 'no ACL is left');
  await cluster.waitReplicated(TOPIC, 3, 'dave wrote 2 records to partitions 1 and 2');
  const before = logEnds(TOPIC, 3);
  assert.deepEqual(before, [
    [0, 0, 0],
    [2, 2, 2],
    [2, 2, 2],
  ]);
  for (const id of [1, 2]) {
    // Authorization comes before leadership (as in Kafka): every partition, led there or not, is refused.
    for (const p of [0, 1, 2]) {
      const code = await rawProduce(id, TOPIC, p);
      assert.equal(code, ErrorCode.TOPIC_AUTHORIZATION_FAILED, `node ${id} denies partition ${p}`);
    }
    const producer = kafka(id, DAVE).producer();
    await producer.connect();
    try {
      await assert.rejects(
        producer.send({ topic: TOPIC, acks: -1, messages: [{ partition: id - 1, value: 'no' }] }),
        // kafkajs's metadata request already fails (no DESCRIBE either): a non-retriable error with that cause.
        (err: Error & { type?: string; cause?: { type?: string } }) =>
          (err.cause ?? err).type === 'TOPIC_AUTHORIZATION_FAILED',
        `kafkajs through node ${id}`,
      );
    } finally {
      await producer.disconnect();
    }
  }
  assert.deepEqual(logEnds(TOPIC, 3), before, 'nothing was written');
});

test('RF 3 over SASL_SSL inter-broker: acks=all in every log, ISR [1,2,3]; a new leader serves them', async () => {
  const TOPIC = 'replicated-3node';
  await createTopic(TOPIC, [{ name: 'min.insync.replicas', value: '2' }]);
  const producer = kafka(1, ADMIN).producer();
  await producer.connect();
  try {
    for (let i = 0; i < 5; i++) {
      const sent = await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: [0, 1, 2].map((partition) => ({ partition, value: `p${partition}-${i}` })),
      });
      assert.deepEqual(
        sent.map((s) => [s.partition, s.errorCode, s.baseOffset]).sort(),
        [0, 1, 2].map((p) => [p, 0, String(i)]),
      );
    }
  } finally {
    await producer.disconnect();
  }
  assert.deepEqual(await cluster.waitReplicated(TOPIC, 3, 'after 15 records'), [5, 5, 5]);
  await cluster.waitAll(
    (b) => [0, 1, 2].every((p) => b.broker.metadata.image.partition(TOPIC, p)?.isr.length === 3),
    15_000,
    'every ISR is full',
  );
  const admin = kafka(2, ADMIN).admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    assert.deepEqual(
      md.topics[0]!.partitions.map((p) => [p.partitionId, p.leader, [...p.isr].sort()]).sort(),
      [0, 1, 2].map((p) => [p, p + 1, [1, 2, 3]]),
    );
  } finally {
    await admin.disconnect();
  }
  // Each node leads a partition the two others fetch: at least two INTERNAL sessions on each, all User:broker.
  for (const b of cluster.live()) {
    const internal = b.broker.connectionSessions().filter((s) => s.listenerName === 'INTERNAL');
    assert.ok(internal.length >= 2, `node ${b.broker.started.nodeId}: ${JSON.stringify(internal)}`);
    assert.ok(
      internal.every((s) => s.principal === 'User:broker' && s.securityProtocol === 'SASL_SSL'),
      JSON.stringify(internal),
    );
  }

  // Node 1 stops (controlled shutdown): ISR [2,3] still meets min.insync.replicas=2, so acks=all is acknowledged.
  await cluster.stopNode(1);
  const leader = await cluster.waitNewLeader(TOPIC, 0, 1);
  assert.ok(leader === 2 || leader === 3, `new leader ${leader}`);
  await cluster.waitAll(
    (b) => [...(b.broker.metadata.image.partition(TOPIC, 0)?.isr ?? [])].sort().join() === '2,3',
    15_000,
    'node 1 left the ISR',
  );
  const more = kafka(leader, ADMIN).producer();
  await more.connect();
  try {
    const sent = await more.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, value: 'p0-5' }] });
    assert.deepEqual(
      sent.map((s) => [s.partition, s.errorCode, s.baseOffset]),
      [[0, 0, '5']],
    );
  } finally {
    await more.disconnect();
  }
  assert.deepEqual(await cluster.waitReplicated(TOPIC, 1, 'nodes 2 and 3 after the 6th record'), [6]);
  const args = ['-C', '-b', clientAddress(leader), '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-c', '6'];
  const r = await run('kcat', [...args, '-f', '%s\\n', ...kcatSasl('admin', 'admin-secret')], 30_000);
  assert.deepEqual(
    r.stdout.trim().split('\n'),
    [0, 1, 2, 3, 4, 5].map((i) => `p0-${i}`),
    `kcat from node ${leader}: ${r.stderr}`,
  );

  // Node 1 starts again on its files, catches up over INTERNAL and is back in every ISR.
  await cluster.startNode(1);
  await cluster.waitAll(
    (b) => [0, 1, 2].every((p) => b.broker.metadata.image.partition(TOPIC, p)?.isr.length === 3),
    30_000,
    'node 1 is back in every ISR',
  );
  assert.deepEqual(await cluster.waitReplicated(TOPIC, 3, 'node 1 caught up'), [6, 5, 5]);
});
