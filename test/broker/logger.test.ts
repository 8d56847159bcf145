/**
 * Logging: JSON lines by default, pino-pretty when stdout is a terminal (the TTY flag injected here), the
 * `log.format` setting overriding the check; one logger shared by the broker and the admin API. Embedded
 * brokers are quiet (warn and above, on stderr: checked in a child process through the package entry),
 * take the application's pino logger and their own level; `runnel start` logs info on stdout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { chooseLogFormat, logDestination, setRootLogger } from '../../broker/logger.js';
import { BrokerConfig } from '../../broker/config.js';
import { startBroker } from '../../broker/index.js';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test('format: auto is pretty on a terminal and JSON otherwise; json and pretty are taken as given', () => {
  assert.equal(chooseLogFormat(undefined, true), 'pretty');
  assert.equal(chooseLogFormat(undefined, false), 'json');
  assert.equal(chooseLogFormat(undefined, undefined), 'json');
  assert.equal(chooseLogFormat('auto', true), 'pretty');
  assert.equal(chooseLogFormat('auto', false), 'json');
  assert.equal(chooseLogFormat('json', true), 'json');
  assert.equal(chooseLogFormat('pretty', false), 'pretty');
});

test('log.format is a config with default auto; other values are rejected', () => {
  assert.equal(new BrokerConfig({}).str('log.format'), 'auto');
  assert.equal(new BrokerConfig({ env: { RUNNEL_LOG_FORMAT: 'json' } }).str('log.format'), 'json');
  assert.throws(() => new BrokerConfig({ overrides: { 'log.format': 'xml' } }));
});

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('json destination writes one JSON object per line; pretty writes readable, uncoloured text', async () => {
  const j = capture();
  const jl = pino({ level: 'info' }, logDestination({ format: 'json', destination: j.stream }));
  jl.child({ ns: 'broker' }).info({ port: 9092 }, 'listening');
  const line = JSON.parse(j.text().trim()) as Record<string, unknown>;
  assert.equal(line.msg, 'listening');
  assert.equal(line.ns, 'broker');
  assert.equal(line.port, 9092);

  const p = capture();
  const pl = pino({ level: 'info' }, logDestination({ format: 'pretty', destination: p.stream, colorize: false }));
  pl.child({ ns: 'broker' }).info({ port: 9092 }, 'listening');
  const deadline = Date.now() + 2000;
  while (!p.text().includes('listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const out = p.text();
  assert.match(out, /INFO.*listening/);
  assert.match(out, /port: 9092/);
  assert.throws(() => JSON.parse(out.trim()));
  assert.ok(!out.includes('\u001b['), 'no colours when asked for none');
});

test('the admin API logs through the broker logger (one root for both)', async () => {
  const c = capture();
  setRootLogger(pino({ level: 'debug' }, logDestination({ format: 'json', destination: c.stream })));
  try {
    const { startBroker } = await import('../../broker/index.js');
    const b = await startBroker();
    try {
      const res = await fetch(`${b.adminUrl}/nope`);
      assert.equal(res.status, 404);
    } finally {
      await b.stop();
    }
    const lines = c
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ns?: string; msg: string });
    assert.ok(
      lines.some((l) => l.ns === 'broker' && /listening/.test(l.msg)),
      'broker line',
    );
    assert.ok(
      lines.some((l) => l.ns === 'admin' && l.msg === 'admin request'),
      'admin (fastify) line',
    );
  } finally {
    setRootLogger(pino({ level: 'silent' }));
  }
});

/**
 * Runs `body` (an ES module's top-level code, `startBroker` in scope, from the package entry) in a child
 * process without RUNNEL_LOG_* in its environment; resolves with its exit code and output.
 */
function embeddedChild(body: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const entry = pathToFileURL(join(dist, 'broker/entry.js')).href;
  const script = `import { startBroker } from ${JSON.stringify(entry)};\n${body}`;
  const env = { ...process.env };
  delete env.RUNNEL_LOG_LEVEL;
  delete env.RUNNEL_LOG_FORMAT;
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('close', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}

/** Child-process code: a frame whose size is out of bounds makes the broker warn and close the connection. */
const OVERSIZED_FRAME = `
const { connect } = await import('node:net');
await new Promise((resolve, reject) => {
  const s = connect(b.port, '127.0.0.1', () => s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff])));
  s.on('close', resolve);
  s.on('error', reject);
  setTimeout(() => reject(new Error('the broker kept the connection')), 10000).unref();
});`;

function jsonLines(text: string): Array<{ level: number; msg: string; ns?: string }> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { level: number; msg: string; ns?: string });
}

test('embedded: starting and stopping a broker prints nothing on stdout; warnings go to stderr as JSON', async () => {
  const r = await embeddedChild(`
const b = await startBroker({ topics: ['t'] });
${OVERSIZED_FRAME}
await b.stop();`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'nothing on the host process stdout');
  const lines = jsonLines(r.stderr);
  assert.ok(
    lines.some((l) => l.level === 40 && l.ns === 'network' && /frame size out of bounds/.test(l.msg)),
    `the warning on stderr: ${r.stderr}`,
  );
  assert.ok(
    lines.every((l) => l.level >= 40),
    `only warn and above by default: ${r.stderr}`,
  );
});

test('embedded: logLevel info logs the start and stop (on stderr); logLevel error drops the warning', async () => {
  const info = await embeddedChild(`
const b = await startBroker({ logLevel: 'info', storage: 'memory' });
await b.stop();`);
  assert.equal(info.code, 0, info.stderr);
  assert.equal(info.stdout, '');
  const lines = jsonLines(info.stderr);
  assert.ok(lines.some((l) => l.level === 30 && l.ns === 'broker' && /^listening on 127\.0\.0\.1:/.test(l.msg)));
  assert.ok(lines.some((l) => l.ns === 'broker' && l.msg === 'stopped'));

  const quiet = await embeddedChild(`
const b = await startBroker({ logLevel: 'error', storage: 'memory' });
${OVERSIZED_FRAME}
await b.stop();`);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout, '');
  assert.equal(quiet.stderr, '', 'a warning is below error');
});

test('startBroker({ logger }): each broker logs through its own app logger, at logLevel when given', async () => {
  const a = capture();
  const c = capture();
  setRootLogger(pino({ level: 'silent' }));
  const appA = pino({ level: 'info', base: { app: 'a' } }, a.stream);
  const appC = pino({ level: 'info', base: { app: 'c' } }, c.stream);
  const ba = await startBroker({ logger: appA, storage: 'memory', config: { 'admin.port': -1 } });
  const bc = await startBroker({ logger: appC, logLevel: 'debug', storage: 'memory' });
  try {
    assert.equal((await fetch(`${bc.adminUrl}/nope`)).status, 404);
    const s = connect(bc.port, '127.0.0.1');
    await new Promise<void>((res, rej) => {
      s.on('close', () => res());
      s.on('error', rej);
      s.on('connect', () => s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff])));
    });
  } finally {
    await ba.stop();
    await bc.stop();
  }
  const la = jsonLines(a.text()) as Array<{ level: number; msg: string; ns?: string; app?: string }>;
  const lc = jsonLines(c.text()) as Array<{ level: number; msg: string; ns?: string; app?: string }>;
  assert.ok(la.length > 0 && lc.length > 0);
  assert.ok(la.every((l) => l.app === 'a') && lc.every((l) => l.app === 'c'), 'bindings of each application logger');
  assert.ok(la.some((l) => l.msg === `listening on 127.0.0.1:${ba.port}`));
  assert.ok(!la.some((l) => l.msg.includes(String(bc.port))), "no line of the other broker's");
  assert.ok(lc.some((l) => l.msg === `listening on 127.0.0.1:${bc.port}`));
  assert.ok(
    lc.some((l) => l.ns === 'network' && /frame size out of bounds/.test(l.msg)),
    "the warning of broker c's connection",
  );
  assert.ok(!la.some((l) => l.level < 30), "broker a keeps its logger's level (info)");
  assert.ok(
    lc.some((l) => l.level === 20 && l.ns === 'admin' && l.msg === 'admin request'),
    'broker c logs debug lines, its admin API too',
  );
  await assert.rejects(startBroker({ logLevel: 'loud' as 'info', storage: 'memory' }), /logLevel must be one of/);
});

test('runnel start logs info lines on stdout, nothing on stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-log-'));
  const env = { ...process.env };
  delete env.RUNNEL_LOG_LEVEL;
  const args = ['start', '--port', '0', '--host', '127.0.0.1', '--admin-port', '-1', '--data-dir', dir];
  const child = spawn(process.execPath, [join(dist, 'broker/bin.cjs'), ...args, '--set', 'log.format=json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<number | null>((res) => child.once('close', res));
  try {
    const deadline = Date.now() + 15_000;
    while (!stdout.includes('listening on') && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.match(stdout, /listening on 127\.0\.0\.1:/, stderr);
  } finally {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    assert.equal(await closed, 0);
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(stderr, '');
  const lines = jsonLines(stdout);
  assert.ok(lines.some((l) => l.level === 30 && l.ns === 'broker' && /^listening on/.test(l.msg)));
  assert.ok(lines.some((l) => l.ns === 'cli' && l.msg === 'shutting down'));
});
