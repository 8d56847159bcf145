/**
 * `MODE=kafkajs npm run bench:security` (test/bench/security.bench.ts): the cost of security on the produce path
 * measured with kafkajs in this process (issue #14; a benchmark, not a test). One in-process broker (memory
 * storage) with a PLAINTEXT and an SSL listener (certificates made at run time,
 * test/helpers/certs.ts) and the StandardAuthorizer holding ACLS ACLs (User:u<i> WRITE on topic t-<i>, plus
 * User:ANONYMOUS ALL on the bench topic). A kafkajs producer sends RECORDS records of VALUE_BYTES bytes in
 * sequential batches of BATCH (acks=1), after one untimed warm-up run:
 *   tls    PLAINTEXT vs SSL listener, ROUNDS rounds of A B → ratio SSL/PLAINTEXT of the medians (goal >= 0.6)
 *   acls   authorizer with the ACLs vs none (the broker's authorizer swapped out), same rounds → ratio
 *          (goal: within 10 %, ratio >= 0.9)
 * Client and broker share this process (and this noisy machine's cores): figures are indicative only.
 * Env: RECORDS (20000), BATCH (200), VALUE_BYTES (512), ROUNDS (2), ACLS (10000). Prints a table and one JSON
 * line (`security-json {...}`) on stdout. No goal is asserted. The loadgen mode (security-loadgen.ts) is the
 * issue's workloads; this one stays for a machine without librdkafka.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { startBroker } from '../../broker/index.js';
import {
  type AclBinding,
  AclOperation,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
} from '../../broker/authorizer.js';
import { makeTestCerts } from '../helpers/certs.js';
import { envInt, median } from './bench-env.js';

const RECORDS = envInt('RECORDS', 20_000, 10_000_000);
const BATCH = envInt('BATCH', 200, 10_000);
const VALUE_BYTES = envInt('VALUE_BYTES', 512, 1_000_000);
const ROUNDS = envInt('ROUNDS', 2, 20);
const ACLS = envInt('ACLS', 10_000, 1_000_000);
const TOPIC = 'bench';

/** Records per second of one producer run of RECORDS records. */
async function produceRate(config: KafkaConfig): Promise<number> {
  const producer = new Kafka({ ...config, clientId: 'bench', logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  const messages = Array.from({ length: Math.min(BATCH, RECORDS) }, () => ({ value }));
  try {
    const start = process.hrtime.bigint();
    for (let sent = 0; sent < RECORDS; sent += messages.length) {
      await producer.send({ topic: TOPIC, acks: 1, messages: messages.slice(0, Math.min(BATCH, RECORDS - sent)) });
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return RECORDS / seconds;
  } finally {
    await producer.disconnect();
  }
}

/** ROUNDS rounds of A then B; medians and ratio B/A. */
async function compare(a: () => Promise<number>, b: () => Promise<number>): Promise<{ a: number; b: number }> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    as.push(await a());
    bs.push(await b());
  }
  return { a: median(as), b: median(bs) };
}

export async function runKafkajs(): Promise<void> {
  const certs = makeTestCerts();
  const b = await startBroker({
    storage: 'memory',
    topics: [TOPIC],
    logLevel: 'warn',
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL',
      'ssl.keystore.location': certs.broker.keystore,
      'ssl.truststore.location': certs.ca,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    },
  });
  try {
    const authorizer = b.broker.authorizer!;
    const acl = (principal: string, name: string, operation: number): AclBinding => ({
      resourceType: AclResourceType.TOPIC,
      resourceName: name,
      patternType: AclPatternType.LITERAL,
      principal,
      host: '*',
      operation,
      permissionType: AclPermissionType.ALLOW,
    });
    await authorizer.createAcls([acl('User:ANONYMOUS', TOPIC, AclOperation.ALL)]);
    for (let i = 1; i < ACLS; i += 1000) {
      const chunk = Array.from({ length: Math.min(1000, ACLS - i) }, (_, j) =>
        acl(`User:u${i + j}`, `t-${i + j}`, AclOperation.WRITE),
      );
      await authorizer.createAcls(chunk);
    }
    const plain: KafkaConfig = { brokers: [`127.0.0.1:${b.listeners.PLAINTEXT.port}`] };
    const ssl: KafkaConfig = {
      brokers: [`127.0.0.1:${b.listeners.SSL.port}`],
      ssl: { ca: [readFileSync(certs.ca, 'utf8')] },
    };
    await produceRate(plain); // warm-up (JIT, first metadata), not counted
    process.stderr.write(`tls: ${ROUNDS} rounds of ${RECORDS} records\n`);
    const tls = await compare(
      () => produceRate(plain),
      () => produceRate(ssl),
    );
    process.stderr.write(`acls: ${ROUNDS} rounds of ${RECORDS} records, ${ACLS} ACLs\n`);
    const acls = await compare(
      async () => {
        b.broker.authorizer = undefined;
        return produceRate(plain);
      },
      async () => {
        b.broker.authorizer = authorizer;
        return produceRate(plain);
      },
    );
    b.broker.authorizer = authorizer;
    const out = {
      records: RECORDS,
      valueBytes: VALUE_BYTES,
      rounds: ROUNDS,
      acls: ACLS,
      plaintextRps: Math.round(tls.a),
      sslRps: Math.round(tls.b),
      tlsRatio: Number((tls.b / tls.a).toFixed(3)),
      noAclsRps: Math.round(acls.a),
      withAclsRps: Math.round(acls.b),
      aclRatio: Number((acls.b / acls.a).toFixed(3)),
    };
    const rows = [
      ['PLAINTEXT records/s', out.plaintextRps],
      ['SSL records/s', out.sslRps],
      ['SSL / PLAINTEXT (goal >= 0.6)', out.tlsRatio],
      ['no authorizer records/s', out.noAclsRps],
      [`${ACLS} ACLs records/s`, out.withAclsRps],
      ['ACLs / none (goal >= 0.9)', out.aclRatio],
    ];
    for (const [k, v] of rows) process.stdout.write(`${String(k).padEnd(32)} ${v}\n`);
    process.stdout.write(`security-json ${JSON.stringify(out)}\n`);
  } finally {
    await b.stop();
    certs.remove();
  }
}
