/**
 * `runnel user add|alter|list|delete` as child processes against an in-process broker: what they print, the
 * credentials the broker then holds (checked against RFC 5802 keys computed here from the password and the
 * stored salt and iterations — what a SCRAM login verifies), and exit codes 1 (refused) / 2 (usage). A kafkajs
 * A CLI-made user then logs in with kafkajs over SASL/SCRAM.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { testBroker } from '../../helpers/test-broker.js';
import { startBroker, type RunningBroker } from '../../../broker/index.js';
import { cliAt, type CliResult } from './run-cli.js';

let b: RunningBroker;
let cli: ReturnType<typeof cliAt>;
before(async () => {
  b = await testBroker();
  cli = cliAt(b.bootstrapServers);
});
after(async () => {
  await b.stop();
});

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

/** true when the broker's credential of `user` is the one `password` derives (a SCRAM login would succeed). */
function loginWouldSucceed(user: string, mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', password: string): boolean {
  const c = b.broker.scramCredentials.credential(user, mechanism);
  if (!c) return false;
  const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
  const salted = pbkdf2Sync(password, c.salt, c.iterations, hash === 'sha256' ? 32 : 64, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  return createHash(hash).update(clientKey).digest().equals(c.storedKey);
}

test('add, list, alter, delete: printed and stored', async () => {
  const added = ok(await cli(['user', 'add', 'alice', '--mechanism', 'SCRAM-SHA-256', '--password', 'alice-pw']));
  assert.equal(added.stdout, 'added SCRAM-SHA-256 credential of user alice (4096 iterations)\n');
  assert.ok(loginWouldSucceed('alice', 'SCRAM-SHA-256', 'alice-pw'));
  assert.ok(!loginWouldSucceed('alice', 'SCRAM-SHA-256', 'wrong'));
  ok(await cli(['user', 'add', 'alice', '-m', 'scram-sha-512', '--password', 'alice-512', '--iterations', '8192']));
  ok(await cli(['user', 'add', 'bob', '-m', 'SCRAM-SHA-512', '--password', 'bob-pw']));

  const list = ok(await cli(['user', 'list'])).stdout;
  assert.match(list, /^USER\s+MECHANISM\s+ITERATIONS\n/);
  assert.match(list, /^alice\s+SCRAM-SHA-256\s+4096$/m);
  assert.match(list, /^alice\s+SCRAM-SHA-512\s+8192$/m);
  assert.match(list, /^bob\s+SCRAM-SHA-512\s+4096$/m);
  assert.equal(list.trim().split('\n').length, 4);
  const one = ok(await cli(['user', 'list', 'bob', '--json'])).stdout;
  assert.deepEqual(JSON.parse(one), [{ user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] }]);

  const altered = ok(
    await cli(['user', 'alter', 'alice', '-m', 'SCRAM-SHA-256', '--password', 'new-pw', '--iterations', '10000']),
  );
  assert.equal(altered.stdout, 'altered SCRAM-SHA-256 credential of user alice (10000 iterations)\n');
  assert.ok(loginWouldSucceed('alice', 'SCRAM-SHA-256', 'new-pw'));
  assert.ok(!loginWouldSucceed('alice', 'SCRAM-SHA-256', 'alice-pw'), 'the old password no longer works');
  assert.equal(b.broker.scramCredentials.credential('alice', 'SCRAM-SHA-256')?.iterations, 10000);

  const deleted = ok(await cli(['user', 'delete', 'alice', '--mechanism', 'SCRAM-SHA-256']));
  assert.equal(deleted.stdout, 'deleted SCRAM-SHA-256 credential of user alice\n');
  assert.equal(b.broker.scramCredentials.credential('alice', 'SCRAM-SHA-256'), undefined);
  assert.ok(loginWouldSucceed('alice', 'SCRAM-SHA-512', 'alice-512'), 'the other mechanism stays');
  assert.doesNotMatch(ok(await cli(['user', 'list', 'alice'])).stdout, /SCRAM-SHA-256/);
});

test('refusals exit 1 with a clear message', async () => {
  const few = await cli(['user', 'add', 'carol', '-m', 'SCRAM-SHA-256', '--password', 'x', '--iterations', '100']);
  assert.equal(few.code, 1, few.stderr);
  assert.match(few.stderr, /Too few iterations.*4096 to 16384/);
  assert.equal(b.broker.scramCredentials.credential('carol', 'SCRAM-SHA-256'), undefined);

  ok(await cli(['user', 'add', 'dave', '-m', 'SCRAM-SHA-256', '--password', 'd']));
  const again = await cli(['user', 'add', 'dave', '-m', 'SCRAM-SHA-256', '--password', 'd2']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already has a SCRAM-SHA-256 credential \(use: runnel user alter\)/);
  assert.ok(loginWouldSucceed('dave', 'SCRAM-SHA-256', 'd'), 'unchanged');

  const alterMissing = await cli(['user', 'alter', 'erin', '-m', 'SCRAM-SHA-256', '--password', 'e']);
  assert.equal(alterMissing.code, 1);
  assert.match(alterMissing.stderr, /user erin has no SCRAM-SHA-256 credential \(use: runnel user add\)/);
  const delMissing = await cli(['user', 'delete', 'erin', '-m', 'SCRAM-SHA-512']);
  assert.equal(delMissing.code, 1);
  assert.match(delMissing.stderr, /user erin has no SCRAM-SHA-512 credential/);
  const listMissing = await cli(['user', 'list', 'erin']);
  assert.equal(listMissing.code, 1);
  assert.match(listMissing.stderr, /RESOURCE_NOT_FOUND.*erin/);
});

test('usage errors exit 2: unknown mechanism, missing password or mechanism, bad iterations', async () => {
  const cases: string[][] = [
    ['user', 'add', 'x', '-m', 'SCRAM-SHA-1', '--password', 'p'],
    ['user', 'add', 'x', '-m', 'PLAIN', '--password', 'p'],
    ['user', 'add', 'x', '-m', 'SCRAM-SHA-256'],
    ['user', 'add', 'x', '--password', 'p'],
    ['user', 'alter', 'x', '-m', 'SCRAM-SHA-256', '--password', 'p', '--iterations', 'many'],
    ['user', 'delete', 'x'],
    ['user', 'add'],
  ];
  for (const args of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
  }
  const r = await cli(['user', 'add', 'x', '-m', 'SCRAM-SHA-1', '--password', 'p']);
  assert.match(r.stderr, /expected one of SCRAM-SHA-256, SCRAM-SHA-512/);
  assert.equal(b.broker.scramCredentials.credential('x', 'SCRAM-SHA-256'), undefined);
});

describe('a user added by the CLI logs in with kafkajs (SASL/SCRAM)', () => {
  let sb: RunningBroker;
  before(async () => {
    sb = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
      },
    });
  });
  after(async () => {
    await sb?.stop();
  });

  test('right password connects, wrong password is refused', async () => {
    const plain = cliAt(`127.0.0.1:${sb.listeners.PLAINTEXT!.port}`);
    ok(await plain(['user', 'add', 'frank', '-m', 'SCRAM-SHA-512', '--password', 'frank-pw']));
    const admin = (password: string) =>
      new Kafka({
        brokers: [`127.0.0.1:${sb.listeners.SASL_PLAINTEXT!.port}`],
        sasl: { mechanism: 'scram-sha-512', username: 'frank', password },
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      }).admin();
    const good = admin('frank-pw');
    await good.connect();
    assert.ok(Array.isArray(await good.listTopics()));
    await good.disconnect();
    const bad = admin('wrong');
    await assert.rejects(bad.connect());
    await bad.disconnect();
  });
});
