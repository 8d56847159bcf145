/**
 * Issue #14's start line as a process (test/helpers/start-line.ts), the refusals: kafkajs as alice over SASL_SSL
 * SCRAM-SHA-512 against the StandardAuthorizer with real ACLs (created by admin through CreateAcls) — produce
 * without WRITE, consume without READ on the group, create a topic without CREATE, idempotent produce without
 * IDEMPOTENT_WRITE nor topic WRITE, transactional produce without WRITE on the transactional id, Metadata hiding
 * a topic without DESCRIBE — each asserting through admin that nothing was written. Then bad input: a wrong
 * password, an unknown user, an unknown mechanism, plaintext bytes to the TLS ports and an untrusted client
 * certificate each fail cleanly while the broker keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import kafkajs, { type SASLOptions } from 'kafkajs';
import { run } from '../../helpers/broker-process.js';
import { ADMIN, ALICE, saslSslKafkajs, useIssueLine } from '../../helpers/start-line.js';

const { AclOperationTypes: Op, AclPermissionTypes, AclResourceTypes: Res, ResourcePatternTypes } = kafkajs;
type Op = (typeof Op)[keyof typeof Op];
type Res = (typeof Res)[keyof typeof Res];

const fx = useIssueLine(async ({ admin }) => {
  await admin.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
});

const binding = (resourceType: Res, resourceName: string, operation: Op) => ({
  principal: 'User:alice',
  resourceType,
  resourceName,
  resourcePatternType: ResourcePatternTypes.LITERAL,
  host: '*',
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

/** Make alice's ACLs exactly `acls` (every ACL of User:alice deleted first). */
async function aliceAcls(...acls: ReturnType<typeof binding>[]): Promise<void> {
  await fx.admin.deleteAcls({
    filters: [
      {
        resourceType: Res.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal: 'User:alice',
        operation: Op.ANY,
        permissionType: AclPermissionTypes.ANY,
      },
    ],
  });
  if (acls.length > 0) await fx.admin.createAcls({ acl: acls });
}

const alice = (retries = 0) => saslSslKafkajs(fx.b, fx.certs, ALICE, retries);
const high = async (): Promise<number> => Number((await fx.admin.fetchTopicOffsets('t'))[0].high);
const denied = (code: string) => (err: unknown) => {
  const e = err as { type?: string; message: string; errors?: { type?: string }[]; originalError?: { type?: string } };
  const types = [e.type, e.originalError?.type, ...(e.errors ?? []).map((x) => x.type)].join(' ');
  assert.match(`${types} ${e.message}`, new RegExp(code.replace(/_/g, '[_ ]'), 'i'));
  return true;
};

test('produce without WRITE: TOPIC_AUTHORIZATION_FAILED and nothing written; with WRITE it lands', async () => {
  await aliceAcls(binding(Res.TOPIC, 't', Op.DESCRIBE));
  const producer = alice().producer();
  await producer.connect();
  try {
    await assert.rejects(producer.send({ topic: 't', messages: [{ value: 'x' }] }), denied('TOPIC_AUTHORIZATION'));
    assert.equal(await high(), 0);
    await aliceAcls(binding(Res.TOPIC, 't', Op.WRITE));
    await producer.send({ topic: 't', messages: [{ value: 'allowed' }] });
    assert.equal(await high(), 1);
  } finally {
    await producer.disconnect();
  }
});

test('consume without READ on the group: GROUP_AUTHORIZATION_FAILED, no member and no offsets', async () => {
  await aliceAcls(binding(Res.TOPIC, 't', Op.READ), binding(Res.GROUP, 'cg', Op.DESCRIBE));
  const consumer = alice().consumer({ groupId: 'cg', retry: { retries: 0 } });
  await consumer.connect();
  try {
    const crashed = new Promise<unknown>((res) => consumer.on(consumer.events.CRASH, (e) => res(e.payload.error)));
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    let received = 0;
    await consumer.run({ eachMessage: async () => void received++ });
    let timer: NodeJS.Timeout | undefined;
    const error = await Promise.race([
      crashed,
      new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('no crash in 20s')), 20_000))),
    ]);
    clearTimeout(timer);
    denied('GROUP_AUTHORIZATION_FAILED')(error);
    assert.equal(received, 0);
  } finally {
    await consumer.disconnect();
  }
  const [offsets] = await fx.admin.fetchOffsets({ groupId: 'cg', topics: ['t'] });
  assert.equal(offsets.partitions[0].offset, '-1');
  const { groups } = await fx.admin.describeGroups(['cg']);
  assert.equal(groups[0].members.length, 0);
});

test('create a topic without CREATE: TOPIC_AUTHORIZATION_FAILED and no topic', async () => {
  await aliceAcls(binding(Res.CLUSTER, 'kafka-cluster', Op.DESCRIBE));
  const a = alice().admin();
  await a.connect();
  try {
    await assert.rejects(
      a.createTopics({ topics: [{ topic: 'made', numPartitions: 1 }] }),
      denied('TOPIC_AUTHORIZATION_FAILED'),
    );
  } finally {
    await a.disconnect();
  }
  assert.ok(!(await fx.admin.listTopics()).includes('made'));
});

test('idempotent produce without IDEMPOTENT_WRITE nor topic WRITE: CLUSTER_AUTHORIZATION_FAILED', async () => {
  await aliceAcls(binding(Res.TOPIC, 't', Op.DESCRIBE));
  const before = await high();
  const producer = alice(2).producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await assert.rejects(
      (async () => {
        await producer.connect();
        await producer.send({ topic: 't', messages: [{ value: 'x' }] });
      })(),
      denied('CLUSTER_AUTHORIZATION_FAILED'),
    );
  } finally {
    await producer.disconnect();
  }
  assert.equal(await high(), before);
});

test('transactional produce without WRITE on the transactional id: TRANSACTIONAL_ID_AUTHORIZATION_FAILED', async () => {
  await aliceAcls(binding(Res.TOPIC, 't', Op.WRITE), binding(Res.TRANSACTIONAL_ID, 'txn', Op.DESCRIBE));
  const before = await high();
  const producer = alice(2).producer({ transactionalId: 'txn', idempotent: true, maxInFlightRequests: 1 });
  try {
    await assert.rejects(
      (async () => {
        await producer.connect();
        const tx = await producer.transaction();
        await tx.send({ topic: 't', messages: [{ value: 'x' }] });
        await tx.commit();
      })(),
      denied('TRANSACTIONAL_ID_AUTHORIZATION_FAILED'),
    );
  } finally {
    await producer.disconnect();
  }
  assert.equal(await high(), before);
});

test('Metadata hides a topic without DESCRIBE and shows it with DESCRIBE', async () => {
  await fx.admin.createTopics({ topics: [{ topic: 'secret', numPartitions: 1 }] });
  await aliceAcls(binding(Res.TOPIC, 't', Op.DESCRIBE));
  const a = alice().admin();
  await a.connect();
  try {
    const topics = await a.listTopics();
    assert.ok(topics.includes('t'), topics.join(','));
    assert.ok(!topics.includes('secret'), topics.join(','));
    await aliceAcls(binding(Res.TOPIC, 't', Op.DESCRIBE), binding(Res.TOPIC, 'secret', Op.DESCRIBE));
    assert.ok((await a.listTopics()).includes('secret'));
  } finally {
    await a.disconnect();
  }
});

/** The broker still answers admin (a new connection) and its process is alive. */
async function stillServes(): Promise<void> {
  assert.equal(fx.b.child.exitCode, null);
  const a = saslSslKafkajs(fx.b, fx.certs, ADMIN).admin();
  await a.connect();
  try {
    assert.ok((await a.listTopics()).includes('t'));
  } finally {
    await a.disconnect();
  }
}

test('wrong password, unknown user and a mechanism not enabled are refused; the broker still serves', async () => {
  const bad: Array<[SASLOptions & { username: string }, RegExp]> = [
    [{ mechanism: 'scram-sha-512', username: 'alice', password: 'wrong' }, /SASL .*authentication failed/i],
    [{ mechanism: 'scram-sha-512', username: 'nobody', password: 'x' }, /SASL .*authentication failed/i],
    [{ mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }, /SASL .*authentication failed/i],
    [{ mechanism: 'plain', username: 'alice', password: 'alice-secret' }, /mechanism/i],
  ];
  for (const [sasl, want] of bad) {
    const a = saslSslKafkajs(fx.b, fx.certs, sasl).admin();
    const error = await a.connect().then(
      () => new Error('connected'),
      (e: Error) => e,
    );
    assert.match(error.message, want, `${sasl.mechanism}/${sasl.username}: ${error.message}`);
    await a.disconnect();
  }
  await stillServes();
});

/** Plaintext Kafka bytes (an ApiVersions v0 request) to `address`: resolves to what came back before the close. */
function plaintextBytes(address: string): Promise<Buffer> {
  const [host, port] = address.split(':');
  const body = Buffer.alloc(2 + 2 + 4 + 2);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2);
  body.writeInt32BE(1, 4);
  body.writeInt16BE(-1, 8); // null client id
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);
  return new Promise((res, rej) => {
    const s = connect(Number(port), host);
    const got: Buffer[] = [];
    const t = setTimeout(() => {
      s.destroy();
      rej(new Error('the TLS listener did not close a plaintext connection in 15 s'));
    }, 15_000);
    s.on('connect', () => s.write(frame));
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      res(Buffer.concat(got));
    });
  });
}

test('plaintext bytes to the SASL_SSL and SSL ports: the connection is closed, no Kafka response', async () => {
  for (const address of [fx.b.saslSsl, fx.b.ssl]) {
    const got = await plaintextBytes(address);
    // Whatever came back (a TLS alert at most) is no Kafka response: not a frame with correlation id 1.
    assert.ok(got.length < 8 || got.readInt32BE(4) !== 1, `${address}: ${got.toString('hex')}`);
    if (got.length > 0) assert.equal(got[0], 0x15, 'a TLS alert record');
  }
  await stillServes();
});

test('an untrusted client certificate on the SSL listener fails the handshake; the broker still serves', async () => {
  const r = await run(
    'kcat',
    [
      ...['-L', '-b', fx.b.ssl, '-m', '5', '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${fx.certs.ca}`],
      ...[
        '-X',
        `ssl.certificate.location=${fx.certs.intruder.cert}`,
        '-X',
        `ssl.key.location=${fx.certs.intruder.key}`,
      ],
    ],
    30_000,
  );
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stdout, /brokers:/);
  assert.match(r.stderr, /unknown ca|certificate|handshake|transport failure/i, r.stderr);
  assert.match(fx.b.output(), /TLS handshake failed/);
  await stillServes();
});
