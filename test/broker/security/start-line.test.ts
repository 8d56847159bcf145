/**
 * Issue #14's start line as a process (test/helpers/start-line.ts): SASL_PLAINTEXT, SASL_SSL and mTLS SSL
 * listeners, SCRAM users from --add-scram, the StandardAuthorizer with super user admin. With real clients:
 * kafkajs as admin (SASL_SSL SCRAM-SHA-256) creates topics and ACLs; kcat as alice (SASL_SSL SCRAM-SHA-512)
 * is refused before the ACLs (nothing written) and produces after; confluent-kafka consumes with a group;
 * sarama produces and consumes; kcat with the client certificate consumes as User:CN=client1,OU=eng,O=Acme and
 * fails without one; kafkajs round-trips over SASL_PLAINTEXT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs, { Kafka, logLevel, Partitioners } from 'kafkajs';
import { run } from '../../helpers/broker-process.js';
import { goDriver, runGoDriver } from '../../helpers/go-driver.js';
import { ADMIN, useIssueLine } from '../../helpers/start-line.js';

const { AclOperationTypes: Op, AclPermissionTypes, AclResourceTypes: Res, ResourcePatternTypes } = kafkajs;
type Op = (typeof Op)[keyof typeof Op];
type Res = (typeof Res)[keyof typeof Res];
const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/helpers/clients'));
const CERT_PRINCIPAL = 'User:CN=client1,OU=eng,O=Acme';

const fx = useIssueLine();

const allow = (principal: string, resourceType: Res, resourceName: string, operation: Op) => ({
  principal,
  resourceType,
  resourceName,
  resourcePatternType: ResourcePatternTypes.LITERAL,
  host: '*',
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

async function highWatermark(topic: string): Promise<number> {
  const [p] = await fx.admin.fetchTopicOffsets(topic);
  return Number(p.high);
}

const aliceKcat = (): string[] => [
  '-X',
  'security.protocol=SASL_SSL',
  '-X',
  `ssl.ca.location=${fx.certs.ca}`,
  '-X',
  'sasl.mechanism=SCRAM-SHA-512',
  '-X',
  'sasl.username=alice',
  '-X',
  'sasl.password=alice-secret',
];

/** kcat -P of `lines` to partition 0 of `topic`; resolves to its exit code and stderr. */
function kcatProduce(args: string[], topic: string, lines: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((res) => {
    const opts = ['-X', 'acks=all', '-X', 'message.timeout.ms=8000'];
    const p = spawn('kcat', ['-P', '-b', fx.b.saslSsl, '-t', topic, '-p', '0', ...opts, ...args], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.once('exit', (code) => {
      clearTimeout(t);
      res({ code, err });
    });
    p.stdin.end(`${lines.join('\n')}\n`);
  });
}

test('admin creates a topic and ACLs; kcat as alice is refused before them and produces after', async () => {
  assert.equal(await fx.admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] }), true);
  const refused = await kcatProduce(aliceKcat(), 'orders', ['early']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.err, /authorization failed/i);
  assert.equal(await highWatermark('orders'), 0, 'nothing written before the ACLs');

  await fx.admin.createAcls({
    acl: [
      allow('User:alice', Res.TOPIC, 'orders', Op.WRITE),
      allow('User:alice', Res.TOPIC, 'orders', Op.DESCRIBE),
      allow('User:alice', Res.TOPIC, 'orders', Op.READ),
      allow('User:alice', Res.GROUP, 'orders-group', Op.READ),
      allow(CERT_PRINCIPAL, Res.TOPIC, 'orders', Op.READ),
    ],
  });
  const described = await fx.admin.describeAcls({
    resourceType: Res.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: Op.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const bindings = described.resources.flatMap((r) => r.acls.map((a) => `${a.principal}:${r.resourceName}`));
  assert.equal(bindings.length, 5, JSON.stringify(described));
  assert.ok(bindings.includes(`${CERT_PRINCIPAL}:orders`));

  const produced = await kcatProduce(aliceKcat(), 'orders', ['o1', 'o2', 'o3']);
  assert.equal(produced.code, 0, produced.err);
  assert.equal(await highWatermark('orders'), 3);
});

test('confluent-kafka as alice over SASL_SSL SCRAM-SHA-512 consumes with a group and commits', async () => {
  const r = await run(
    '/usr/bin/python3',
    [
      join(clients, 'secure_consume.py'),
      fx.b.saslSsl,
      'orders',
      'orders-group',
      '3',
      fx.certs.ca,
      'SCRAM-SHA-512',
      'alice',
      'alice-secret',
    ],
    60_000,
  );
  assert.match(r.stdout, /^OK o1,o2,o3$/m, `${r.stdout}\n${r.stderr.slice(-1500)}`);
  const [committed] = await fx.admin.fetchOffsets({ groupId: 'orders-group', topics: ['orders'] });
  assert.equal(committed.partitions[0].offset, '3');
});

test('sarama as alice over SASL_SSL SCRAM-SHA-512 produces and consumes once granted WRITE and READ', async () => {
  await fx.admin.createTopics({ topics: [{ topic: 'sarama-t', numPartitions: 1 }] });
  const bin = await goDriver('sarama-secure');
  const args = ['-bootstrap', fx.b.saslSsl, '-topic', 'sarama-t', '-user', 'alice', '-password', 'alice-secret'];
  const more = ['-mechanism', 'SCRAM-SHA-512', '-ca', fx.certs.ca, '-count', '10'];
  const denied = await runGoDriver(bin, [...args, ...more]);
  assert.notEqual(denied.code, 0);
  assert.match(String(denied.result.error), /authoriz/i);
  assert.equal(await highWatermark('sarama-t'), 0);

  await fx.admin.createAcls({
    acl: [allow('User:alice', Res.TOPIC, 'sarama-t', Op.WRITE), allow('User:alice', Res.TOPIC, 'sarama-t', Op.READ)],
  });
  const { code, result } = await runGoDriver(bin, [...args, ...more]);
  assert.equal(code, 0, JSON.stringify(result));
  assert.equal(result.produced, 10);
  assert.deepEqual(
    result.values,
    Array.from({ length: 10 }, (_, i) => `secure-${i}`),
  );
  assert.equal(await highWatermark('sarama-t'), 10);
});

test('kcat over SSL with the client certificate consumes as the cert principal; without one it fails', async () => {
  const tls = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${fx.certs.ca}`];
  const cert = [
    '-X',
    `ssl.certificate.location=${fx.certs.client.cert}`,
    '-X',
    `ssl.key.location=${fx.certs.client.key}`,
  ];
  const consume = ['-C', '-b', fx.b.ssl, '-t', 'orders', '-p', '0', '-o', 'beginning', '-e', '-q'];
  const ok = await run('kcat', [...consume, ...tls, ...cert], 30_000);
  assert.equal(ok.stdout, 'o1\no2\no3\n', ok.stderr);
  // The certificate principal has READ on orders only: sarama-t is not even visible to it.
  const other = await run('kcat', ['-L', '-b', fx.b.ssl, '-t', 'sarama-t', ...tls, ...cert], 30_000);
  assert.doesNotMatch(other.stdout, /topic "sarama-t" with 1 partitions/, other.stdout);

  const noCert = await run('kcat', [...consume, ...tls, '-m', '5'], 30_000);
  assert.notEqual(noCert.code, 0);
  assert.equal(noCert.stdout, '');
  assert.match(noCert.stderr, /certificate required|handshake|transport failure/i);
});

test('kafkajs as admin over SASL_PLAINTEXT SCRAM-SHA-256 produces and consumes', async () => {
  const kafka = new Kafka({
    clientId: 'e2e-plaintext',
    brokers: [fx.b.saslPlaintext],
    sasl: ADMIN,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await fx.admin.createTopics({ topics: [{ topic: 'plain-t', numPartitions: 1 }] });
    await producer.send({ topic: 'plain-t', messages: ['a', 'b'].map((value) => ({ value })) });
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: 'plain-g' });
  await consumer.connect();
  const got: string[] = [];
  try {
    await consumer.subscribe({ topic: 'plain-t', fromBeginning: true });
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`timed out; got ${got.join(',')}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(String(message.value));
          if (got.length === 2) {
            clearTimeout(t);
            res();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(got, ['a', 'b']);
});
