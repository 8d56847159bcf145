/**
 * Issue #14's start line, run as a CLI child process (dist/broker/bin.cjs) exactly as the issue writes it:
 * SASL_PLAINTEXT, SASL_SSL and SSL listeners on free ports, PEM keystore/truststore from test/helpers/certs.ts,
 * mTLS required on the SSL listener, SCRAM-SHA-256/512, the StandardAuthorizer with super user admin, and the
 * SCRAM users admin (SHA-256) and alice (SHA-512) from --add-scram. Only the admin HTTP port is moved off its
 * default (RUNNEL_ADMIN_PORT=0 in the environment) so that tests running side by side do not collide.
 * Also kafkajs clients of each listener. Every wait is bounded; only the child started here is ever killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type Admin, Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { CLI, waitExit } from './broker-process.js';
import { makeTestCerts, type TestCerts } from './certs.js';

export interface IssueBroker {
  child: ChildProcess;
  /** host:port of each listener. */
  saslPlaintext: string;
  saslSsl: string;
  ssl: string;
  output(): string;
  stop(): Promise<void>;
}

/** `n` distinct ports that were free a moment ago (bound to port 0 and released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer();
          s.once('error', rej);
          s.listen(0, '127.0.0.1', () => res(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
  return ports;
}

/** The issue's arguments after `runnel`, with the listeners' ports and the files filled in. */
export function issueArgs(dataDir: string, certs: TestCerts, ports: number[], extra: string[] = []): string[] {
  const [p1, p2, p3] = ports;
  return [
    'start',
    '--node-id',
    '1',
    '--data-dir',
    dataDir,
    '--set',
    `listeners=SASL_PLAINTEXT://127.0.0.1:${p1},SASL_SSL://127.0.0.1:${p2},SSL://127.0.0.1:${p3}`,
    '--set',
    'ssl.keystore.type=PEM',
    '--set',
    `ssl.keystore.location=${certs.broker.keystore}`,
    '--set',
    'ssl.truststore.type=PEM',
    '--set',
    `ssl.truststore.location=${certs.ca}`,
    '--set',
    'listener.name.ssl.ssl.client.auth=required',
    '--set',
    'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
    '--set',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    '--set',
    'super.users=User:admin',
    '--add-scram',
    'SCRAM-SHA-256=[name=admin,password=admin-secret]',
    '--add-scram',
    'SCRAM-SHA-512=[name=alice,password=alice-secret]',
    ...extra,
  ];
}

/** Start the issue's line (plus `extra` arguments); resolves once it logs "listening on". */
export function startIssueLine(dataDir: string, certs: TestCerts, extra: string[] = []): Promise<IssueBroker> {
  return startLine((ports) => issueArgs(dataDir, certs, ports, extra));
}

/**
 * Start `runnel` with the arguments `args(ports)` makes of three free ports, which it must use for its
 * SASL_PLAINTEXT, SASL_SSL and SSL listeners in that order (a listener it does not have is simply unused).
 */
export async function startLine(args: (ports: number[]) => string[]): Promise<IssueBroker> {
  const ports = await freePorts(3);
  const child = spawn(process.execPath, [CLI, ...args(ports)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUNNEL_ADMIN_PORT: '0' },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`broker did not start: ${out}`)), 20_000);
    const check = (): void => {
      if (out.includes('listening on 127.0.0.1:')) {
        clearTimeout(t);
        res();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(t);
      rej(new Error(`broker exited with ${code}: ${out}`));
    });
  });
  const [p1, p2, p3] = ports.map((p) => `127.0.0.1:${p}`);
  return {
    child,
    saslPlaintext: p1,
    saslSsl: p2,
    ssl: p3,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      if ((await waitExit(child, 15_000)) === -1) child.kill('SIGKILL');
    },
  };
}

export const ADMIN: SASLOptions = { mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' };
export const ALICE: SASLOptions = { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' };

/** A quiet kafkajs client over SASL_SSL (trusting the test CA) as `sasl`. */
export function saslSslKafkajs(b: IssueBroker, certs: TestCerts, sasl: SASLOptions, retries = 0): Kafka {
  return new Kafka({
    clientId: `e2e-${sasl.mechanism}`,
    brokers: [b.saslSsl],
    ssl: { ca: [readFileSync(certs.ca, 'utf8')] },
    sasl,
    logLevel: logLevel.NOTHING,
    retry: { retries },
  });
}

/** The issue line with an admin client (SASL_SSL SCRAM-SHA-256) for one test file; filled in by its `before`. */
export interface IssueLineFixture {
  certs: TestCerts;
  b: IssueBroker;
  admin: Admin;
}

/**
 * Registers node:test `before`/`after` hooks that start the issue line in a temporary data dir with fresh
 * certificates, connect an admin client and run `setup`; everything is stopped and removed after the file.
 */
export function useIssueLine(setup?: (fx: IssueLineFixture) => Promise<void>): IssueLineFixture {
  const fx = {} as IssueLineFixture;
  let dataDir = '';
  before(async () => {
    fx.certs = makeTestCerts();
    dataDir = mkdtempSync(join(tmpdir(), 'runnel-start-line-'));
    fx.b = await startIssueLine(dataDir, fx.certs);
    fx.admin = saslSslKafkajs(fx.b, fx.certs, ADMIN, 2).admin();
    await fx.admin.connect();
    await setup?.(fx);
  });
  after(async () => {
    await fx.admin?.disconnect();
    await fx.b?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    fx.certs?.remove();
  });
  return fx;
}
