/**
 * README's security examples, run as written so they cannot rot (issue #14): every block after a
 * `<!-- readme-test <setup> <kind> -->` marker (test/helpers/readme-blocks.ts). Per setup, the `broker` block's
 * `runnel start` line runs as a process (dist/broker/bin.cjs) with its placeholders replaced: certificates
 * generated here (test/helpers/certs.ts), free ports on 127.0.0.1 for 9092/9093/9094, a temp data dir and, for
 * signed OAUTHBEARER tokens, a small OAuth identity provider started here (client credentials grant, RS256 JWTs,
 * a JWKS). Then each client block of the setup:
 * - librdkafka properties: `kcat -F <file>` produces two records and consumes them back, then confluent-kafka
 *   with the same keys as its config dict (librdkafka 2.0.2; a block using `sasl.oauthbearer.method=oidc` is
 *   skipped when this build of librdkafka lacks it);
 * - kafkajs: the block is evaluated (imports dropped, `new Kafka(config)` captured) and a real kafkajs client
 *   made from that config creates a topic, produces two records and reads their offsets;
 * - Java properties: `runnel --command-config <file>` creates a topic, produces two records and consumes them;
 * - runnel (the ACL example): each command runs, `admin.properties` being the setup's Java block; then alice,
 *   granted by it, produces to `orders` with kafkajs and is refused another topic;
 * - kafka-python: the `KafkaProducer(...)` expression is evaluated by kafka-python 2.0.2, which produces two
 *   records, and a KafkaConsumer of the same settings reads them back;
 * - quotas: the @platformatic/kafka block runs (imports dropped, in an async function) and DescribeClientQuotas
 *   then shows alice's quotas as the README states them;
 * - curl (admin API): each line runs; `-f` lines must succeed with JSON, `-w '%{http_code}'` lines print the
 *   status their comment names.
 * Every process is bounded in time and only the processes started here are stopped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { CLI, run } from './helpers/broker-process.js';
import { makeTestCerts, type TestCerts } from './helpers/certs.js';
import {
  placeholderMap,
  properties,
  readmeBlocks,
  shellCommands,
  substitute,
  type ReadmeBlock,
} from './helpers/readme-blocks.js';
import { root } from './helpers/dockerfile.js';
import { startLine, type IssueBroker } from './helpers/start-line.js';

const SETUPS = ['ssl', 'mtls', 'plain', 'scram', 'oauth-dev', 'oauth-jwt'];
const CLIENTS = ['librdkafka', 'kafkajs', 'java'];
const KEY_PASSWORD = 'key-secret';
const IDP_CLIENT = { id: 'orders-app', secret: 'orders-app-secret' };
const ISSUER = 'https://idp.example.com';
const PY = '/usr/bin/python3';

const blocks = readmeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));

/** Run `cmd` with `input` on stdin, bounded; resolves to its exit code and output. */
function runWithInput(cmd: string, args: string[], input: string, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a command that exits at once (bad config) closes its stdin
    child.stdin.end(input);
  });
}

/** A tiny OAuth 2 identity provider: client credentials grant at /oauth2/token, its keys at /oauth2/jwks. */
function startIdp(): Promise<{ server: Server; base: string; issued: () => number }> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }] });
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const basic = `Basic ${Buffer.from(`${IDP_CLIENT.id}:${IDP_CLIENT.secret}`).toString('base64')}`;
  let issued = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/oauth2/jwks') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
        return;
      }
      const form = new URLSearchParams(body);
      if (req.url !== '/oauth2/token' || req.method !== 'POST' || req.headers.authorization !== basic) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      if (form.get('grant_type') !== 'client_credentials') {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"unsupported_grant_type"}');
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: IDP_CLIENT.id, aud: 'kafka', iss: ISSUER, iat: now, exp: now + 600, scope: 'kafka' };
      const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64(claims)}`;
      const token = `${input}.${sign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;
      issued++;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: 600, scope: 'kafka' }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, base: `http://127.0.0.1:${port}/oauth2`, issued: () => issued });
    });
  });
}

let certs: TestCerts;
let clientKeystore: string;
let idp: Awaited<ReturnType<typeof startIdp>>;
const dirs: string[] = [];

before(async () => {
  certs = makeTestCerts();
  // Java's PEM keystore: an encrypted PKCS#8 key, then the certificate (as the README tells how to make).
  clientKeystore = join(certs.dir, 'client-java.keystore.pem');
  const encrypted = certs.encryptedKey(certs.client, KEY_PASSWORD);
  writeFileSync(clientKeystore, readFileSync(encrypted, 'utf8') + readFileSync(certs.client.cert, 'utf8'));
  idp = await startIdp();
});
after(async () => {
  await new Promise((res) => idp?.server.close(res));
  certs?.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('README marks a broker line and a librdkafka, kafkajs and Java config for every security setup', () => {
  for (const setup of SETUPS) {
    const kinds = blocks.filter((b) => b.setup === setup).map((b) => b.kind);
    assert.equal(kinds.filter((k) => k === 'broker').length, 1, `${setup}: one broker block`);
    for (const c of CLIENTS) assert.ok(kinds.includes(c), `${setup}: a ${c} block`);
  }
  const acl = blocks.filter((b) => b.setup === 'acl').map((b) => b.kind);
  assert.deepEqual(acl, ['broker', 'java', 'runnel', 'curl', 'quotas'], 'the ACL, admin API and quota examples');
});

/** One setup's broker, started from its README line with the placeholders filled in. */
async function startSetup(setup: string): Promise<{ b: IssueBroker; sub: (s: string) => string }> {
  const [line] = blocks.filter((x) => x.setup === setup && x.kind === 'broker');
  assert.ok(line, `${setup} has a broker block`);
  const dataDir = mkdtempSync(join(tmpdir(), `runnel-readme-${setup}-`));
  dirs.push(dataDir);
  let sub: (s: string) => string = (s) => s;
  const b = await startLine((ports) => {
    sub = (s) =>
      substitute(
        s,
        placeholderMap({
          dataDir,
          ports,
          brokerKeystore: certs.broker.keystore,
          ca: certs.ca,
          clientCert: certs.client.cert,
          clientKey: certs.client.key,
          clientKeystore,
          idp: idp.base,
        }),
      );
    const commands = shellCommands(sub(line.body));
    assert.equal(commands.length, 1, `${setup}: one command in the broker block`);
    const [runnel, ...args] = commands[0]!;
    assert.equal(runnel, 'runnel');
    assert.equal(args[0], 'start');
    return args;
  });
  const admin = /admin API at http:\/\/127\.0\.0\.1:(\d+)/.exec(b.output());
  const adminPort = admin ? Number(admin[1]) : 0;
  const withAdmin = sub;
  return { b, sub: (s) => withAdmin(s).replaceAll('127.0.0.1:9644', `127.0.0.1:${adminPort}`) };
}

function writeProperties(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, `${text}\n`);
  return file;
}

async function librdkafka(block: ReadmeBlock, file: string, topic: string, t: { skip(m: string): void }) {
  const produced = await runWithInput('kcat', ['-F', file, '-t', topic, '-P'], 'one\ntwo\n');
  if (/not supported in this build/.test(produced.stderr)) {
    t.skip(`this librdkafka build lacks it: ${produced.stderr.trim().split('\n').pop()}`);
    return;
  }
  assert.equal(produced.code, 0, `README line ${block.line}: kcat -P\n${produced.stderr}`);
  const consumed = await run('kcat', ['-F', file, '-t', topic, '-C', '-o', 'beginning', '-e', '-q', '-c', '2']);
  assert.equal(consumed.code, 0, `README line ${block.line}: kcat -C\n${consumed.stderr}`);
  assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two'], `README line ${block.line}`);
  // The same keys as a confluent-kafka config dict (README says they go there unchanged).
  const py = await run(PY, [join(root, 'test/helpers/clients/properties_roundtrip.py'), file, `${topic}-py`], 90_000);
  assert.match(
    py.stdout,
    /^OK$/m,
    `README line ${block.line}: confluent-kafka\n${py.stdout}\n${py.stderr.slice(-1500)}`,
  );
}

/** The config a kafkajs block passes to `new Kafka(...)`, the block run as written (its imports dropped). */
function kafkajsConfig(code: string): KafkaConfig {
  const made: KafkaConfig[] = [];
  class CapturingKafka {
    constructor(config: KafkaConfig) {
      made.push(config);
    }
  }
  const script = code.replace(/^import .*$/gm, '');
  runInNewContext(script, { Kafka: CapturingKafka, readFileSync, Buffer, fetch, URLSearchParams }, { timeout: 5000 });
  assert.equal(made.length, 1, 'the block makes one Kafka client');
  return made[0]!;
}

async function kafkajs(block: ReadmeBlock, code: string, topic: string) {
  const config = kafkajsConfig(code);
  const kafka = new Kafka({ ...config, clientId: 'readme-test', logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ value: 'one' }, { value: 'two' }] });
    } finally {
      await producer.disconnect();
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.equal(offsets[0]?.high, '2', `README line ${block.line}: both records written`);
  } finally {
    await admin.disconnect();
  }
}

async function java(block: ReadmeBlock, file: string, dir: string, topic: string) {
  const bootstrap = properties(readFileSync(file, 'utf8')).get('bootstrap.servers');
  assert.ok(bootstrap, `README line ${block.line}: bootstrap.servers`);
  const common = ['--bootstrap', bootstrap, '--command-config', file];
  const runnel = (args: string[]) => run(process.execPath, [CLI, ...args, ...common], 60_000);
  const created = await runnel(['topic', 'create', topic, '--partitions', '1']);
  assert.equal(created.code, 0, `README line ${block.line}: topic create\n${created.stderr}`);
  const lines = writeProperties(dir, `${topic}.txt`, 'one\ntwo');
  const produced = await runnel(['produce', topic, '--file', lines]);
  assert.equal(produced.code, 0, `README line ${block.line}: produce\n${produced.stderr}`);
  const consumed = await runnel(['consume', topic]);
  assert.equal(consumed.code, 0, `README line ${block.line}: consume\n${consumed.stderr}`);
  assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two'], `README line ${block.line}`);
}

/** The ACL example's `runnel` commands, then alice's rights as they granted them. */
async function runnelBlock(block: ReadmeBlock, text: string, adminProperties: string, bootstrap: string) {
  for (const [cmd, ...args] of shellCommands(text.replaceAll('admin.properties', adminProperties))) {
    assert.equal(cmd, 'runnel', `README line ${block.line}: ${cmd}`);
    const r = await run(process.execPath, [CLI, ...args], 60_000);
    assert.equal(r.code, 0, `README line ${block.line}: runnel ${args.join(' ')}\n${r.stderr}`);
  }
  const kafka = new Kafka({
    brokers: [bootstrap],
    sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: 'orders', messages: [{ value: 'allowed' }] });
    await assert.rejects(producer.send({ topic: 'payments', messages: [{ value: 'x' }] }), /authoriz/i);
  } finally {
    await producer.disconnect();
  }
}

/** The admin API example: each curl line, against the node's admin port. */
async function curlBlock(block: ReadmeBlock, text: string) {
  for (const line of text.split('\n')) {
    const [args] = shellCommands(line);
    if (!args) continue;
    assert.equal(args[0], 'curl');
    const r = await run('curl', [...args.slice(1), '--max-time', '20'], 30_000);
    const status = /#.*?\b(\d{3})\b/.exec(line)?.[1];
    if (status) assert.equal(r.stdout.trim(), status, `README line ${block.line}: ${line}`);
    else {
      assert.equal(r.code, 0, `README line ${block.line}: ${line}\n${r.stderr}`);
      const names = (JSON.parse(r.stdout) as { topics: Array<{ name: string }> }).topics.map((t) => t.name);
      assert.ok(names.includes('orders'), `README line ${block.line}: ${r.stdout}`);
      // The README says so: alice's ACLs let her see `orders` only (the admin sees the other topics too).
      if (args.includes('alice:alice-secret')) assert.deepEqual(names, ['orders']);
      else assert.ok(names.length > 1, `README line ${block.line}: the super user sees every topic`);
    }
  }
}

/** The quota example, run as written; then the node reports alice's quotas as set. */
async function quotasBlock(block: ReadmeBlock, code: string) {
  const script = `(async () => {\n${code.replace(/^import .*$/gm, '')}\n})()`;
  await runInNewContext(script, { Admin: PlatformaticAdmin }, { timeout: 5000 });
  const [bootstrap] = /127\.0\.0\.1:\d+/.exec(code) ?? [];
  assert.ok(bootstrap, `README line ${block.line}: a bootstrap address`);
  const admin = new PlatformaticAdmin({
    clientId: 'readme-quotas-check',
    bootstrapBrokers: [bootstrap],
    sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' },
    retries: 0,
  });
  try {
    const found = await admin.describeClientQuotas({
      components: [{ entityType: 'user', matchType: 0, match: 'alice' }],
      strict: true,
    });
    const values = Object.fromEntries(found.flatMap((e) => e.values.map((v) => [v.key, v.value])));
    assert.deepEqual(values, { producer_byte_rate: 1048576, consumer_byte_rate: 2097152 }, `README line ${block.line}`);
  } finally {
    await admin.close();
  }
}

for (const setup of [...SETUPS, 'acl']) {
  describe(`README security setup "${setup}"`, () => {
    let b: IssueBroker;
    let sub: (s: string) => string;
    let dir: string;
    let javaFile = '';
    before(async () => {
      ({ b, sub } = await startSetup(setup));
      dir = mkdtempSync(join(tmpdir(), `runnel-readme-${setup}-client-`));
      dirs.push(dir);
    });
    after(async () => {
      await b?.stop();
    });
    blocks
      .filter((x) => x.setup === setup && x.kind !== 'broker')
      .forEach((block, i) => {
        const topic = `readme-${setup}-${i}-${block.kind}`;
        test(`${block.kind} config (README line ${block.line})`, async (t) => {
          const text = sub(block.body);
          if (block.kind === 'librdkafka')
            await librdkafka(block, writeProperties(dir, `${topic}.properties`, text), topic, t);
          else if (block.kind === 'kafkajs') await kafkajs(block, text, topic);
          else if (block.kind === 'java') {
            javaFile = writeProperties(dir, `${topic}.properties`, text);
            await java(block, javaFile, dir, topic);
          } else if (block.kind === 'runnel') await runnelBlock(block, text, javaFile, b.saslPlaintext);
          else if (block.kind === 'curl') await curlBlock(block, text);
          else if (block.kind === 'quotas') await quotasBlock(block, text);
          else if (block.kind === 'kafka-python') {
            const snippet = writeProperties(dir, `${topic}.py`, text);
            const helper = join(root, 'test/helpers/clients/readme_kafka_python.py');
            const r = await run(PY, [helper, snippet, topic], 90_000);
            assert.match(r.stdout, /^OK$/m, `README line ${block.line}\n${r.stdout}\n${r.stderr.slice(-1500)}`);
          } else assert.fail(`README line ${block.line}: unknown kind ${block.kind}`);
        });
      });
  });
}

test('the signed-token setup got its tokens from the identity provider', () => {
  // Runs after the setups above (node:test runs top-level tests in order): kafkajs and the CLI each asked it.
  assert.ok(idp.issued() >= 2, `tokens issued: ${idp.issued()}`);
});
