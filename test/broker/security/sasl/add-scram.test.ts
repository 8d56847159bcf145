/**
 * `--add-scram` / startBroker's scramUsers (broker/security/sasl/add-scram.ts): Kafka's kafka-storage syntax,
 * credentials created only when missing, and a CLI broker process whose SCRAM users log in with kafkajs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pbkdf2Sync } from 'node:crypto';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { parseAddScram } from '../../../../broker/security/sasl/add-scram.js';
import { ConfigError } from '../../../../broker/config-model.js';
import { parseStartArgs, startHelp, UsageError } from '../../../../broker/start.js';
import { startBrokerProcess, waitExit, CLI } from '../../../helpers/broker-process.js';
import { spawn } from 'node:child_process';

test('parseAddScram: Kafka syntax with optional iterations, salt and saltedpassword; bad ones refused', () => {
  assert.deepEqual(parseAddScram('SCRAM-SHA-256=[name=admin,password=admin-secret]'), {
    mechanism: 'SCRAM-SHA-256',
    name: 'admin',
    password: 'admin-secret',
  });
  assert.deepEqual(parseAddScram('SCRAM-SHA-512=[name="al,ice",iterations=8192,password="p=\\"q\\""]'), {
    mechanism: 'SCRAM-SHA-512',
    name: 'al,ice',
    iterations: 8192,
    password: 'p="q"',
  });
  assert.deepEqual(parseAddScram('SCRAM-SHA-256=[name=bob,salt="c2FsdA==",saltedpassword="eHl6"]'), {
    mechanism: 'SCRAM-SHA-256',
    name: 'bob',
    salt: 'c2FsdA==',
    saltedPassword: 'eHl6',
  });
  for (const bad of [
    'SCRAM-SHA-1=[name=a,password=b]',
    'SCRAM-SHA-256=name=a,password=b',
    'SCRAM-SHA-256=[password=b]',
    'SCRAM-SHA-256=[name=a]',
    'SCRAM-SHA-256=[name=a,password=b,saltedpassword=c]',
    'SCRAM-SHA-256=[name=a,saltedpassword=c]',
    'SCRAM-SHA-256=[name=a,password=b,iterations=100]',
    'SCRAM-SHA-256=[name=a,password=b,colour=red]',
  ])
    assert.throws(() => parseAddScram(bad), ConfigError, bad);
  assert.doesNotThrow(() => parseAddScram('SCRAM-SHA-256=[name=a,password=secret-word]'));
  assert.throws(
    () => parseAddScram('SCRAM-SHA-256=[name=a,password=secret-word,bogus]'),
    (e: Error) => !e.message.includes('secret-word'),
  );
});

test('runnel start --add-scram: parsed into the start args, listed in --help, bad syntax is a usage error', () => {
  const a = parseStartArgs([
    '--add-scram',
    'SCRAM-SHA-256=[name=a,password=b]',
    '--add-scram',
    'SCRAM-SHA-512=[name=a,password=c]',
  ]);
  assert.deepEqual(
    a.addScram.map((s) => [s.mechanism, s.name]),
    [
      ['SCRAM-SHA-256', 'a'],
      ['SCRAM-SHA-512', 'a'],
    ],
  );
  assert.match(startHelp(), /--add-scram/);
  assert.throws(() => parseStartArgs(['--add-scram', 'nonsense']), UsageError);
});

async function canLogIn(port: number, sasl: SASLOptions): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'add-scram',
    brokers: [`127.0.0.1:${port}`],
    sasl,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect();
  }
}

test('CLI process: --add-scram users log in; a restart with another password keeps the first one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'runnel-add-scram-'));
  const listener = ['--set', 'listeners=SASL_PLAINTEXT://127.0.0.1:0'];
  const salt = Buffer.from('fixed-salt');
  const salted = pbkdf2Sync('carol-secret', salt, 4096, 32, 'sha256').toString('base64');
  try {
    const p = await startBrokerProcess(dir, [
      ...listener,
      '--add-scram',
      'SCRAM-SHA-256=[name=alice,password=alice-secret]',
      '--add-scram',
      'SCRAM-SHA-512=[name=alice,iterations=8192,password=alice-512]',
      '--add-scram',
      `SCRAM-SHA-256=[name=carol,salt="${salt.toString('base64')}",saltedpassword="${salted}"]`,
    ]);
    try {
      assert.ok(await canLogIn(p.port, { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }));
      assert.ok(await canLogIn(p.port, { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-512' }));
      assert.ok(await canLogIn(p.port, { mechanism: 'scram-sha-256', username: 'carol', password: 'carol-secret' }));
      assert.ok(!(await canLogIn(p.port, { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-512' })));
    } finally {
      p.child.kill('SIGTERM');
      assert.equal(await waitExit(p.child), 0);
    }
    const q = await startBrokerProcess(dir, [...listener, '--add-scram', 'SCRAM-SHA-256=[name=alice,password=other]']);
    try {
      assert.ok(await canLogIn(q.port, { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }));
      assert.ok(!(await canLogIn(q.port, { mechanism: 'scram-sha-256', username: 'alice', password: 'other' })));
    } finally {
      q.child.kill('SIGTERM');
      assert.equal(await waitExit(q.child), 0);
    }
    // A bad --add-scram is a usage error (exit 2) before anything starts.
    const bad = spawn(process.execPath, [CLI, 'start', '--data-dir', dir, '--add-scram', 'SCRAM-SHA-256=[x]'], {
      stdio: 'ignore',
    });
    assert.equal(await waitExit(bad), 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
