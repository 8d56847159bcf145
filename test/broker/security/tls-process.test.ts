/**
 * `runnel start` (the CLI, as a child process) with a PLAINTEXT and an SSL listener from `--set` Kafka configs
 * (ssl.keystore.type=PEM, ssl.keystore.location): kcat produces over one and consumes over the other; a
 * missing keystore file stops start-up with the ConfigError's message and a non-zero exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { run, startBrokerProcess, waitExit } from '../../helpers/broker-process.js';
import { makeTestCerts } from '../../helpers/certs.js';

test('runnel start with PLAINTEXT and SSL listeners: kcat over both', async () => {
  const certs = makeTestCerts();
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-tls-proc-'));
  try {
    const b = await startBrokerProcess(dataDir, [
      '--set',
      'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
      '--set',
      'ssl.keystore.type=PEM',
      '--set',
      `ssl.keystore.location=${certs.broker.keystore}`,
      '--set',
      `ssl.truststore.location=${certs.ca}`,
    ]);
    try {
      const m = /SSL:\/\/127\.0\.0\.1:(\d+)/.exec(b.output());
      assert.ok(m, b.output());
      const ssl = `127.0.0.1:${m[1]}`;
      const tls = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs.ca}`];
      const produced = await new Promise<number | null>((res) => {
        const p = spawn('kcat', ['-P', '-b', ssl, '-t', 'over-tls', '-p', '0', '-X', 'acks=all', ...tls], {
          stdio: ['pipe', 'ignore', 'ignore'],
        });
        const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
        p.once('exit', (c) => {
          clearTimeout(t);
          res(c);
        });
        p.stdin.end('a\nb\n');
      });
      assert.equal(produced, 0, 'kcat produce over SSL');
      const plain = await run('kcat', ['-C', '-b', b.bootstrap, '-t', 'over-tls', '-o', 'beginning', '-e', '-q']);
      assert.equal(plain.stdout, 'a\nb\n', plain.stderr);
      const viaTls = await run('kcat', ['-C', '-b', ssl, '-t', 'over-tls', '-o', 'beginning', '-e', '-q', ...tls]);
      assert.equal(viaTls.stdout, 'a\nb\n', viaTls.stderr);
    } finally {
      b.child.kill('SIGTERM');
      await waitExit(b.child, 15_000);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    certs.remove();
  }
});

test('runnel start with a missing keystore file exits with the ConfigError', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-tls-proc-'));
  try {
    const missing = join(dataDir, 'nope.pem');
    await assert.rejects(
      startBrokerProcess(dataDir, [
        '--set',
        'listeners=SSL://127.0.0.1:0',
        '--set',
        `ssl.keystore.location=${missing}`,
      ]),
      (e: Error) => /exited with [1-9]/.test(e.message) && e.message.includes(`${missing} cannot be read`),
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
