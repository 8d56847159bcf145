/**
 * Logging: JSON lines by default, pino-pretty when stdout is a terminal (the TTY flag injected here), the
 * `log.format` setting overriding the check; and one logger shared by the broker and the admin API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { chooseLogFormat, logDestination, setRootLogger } from '../../broker/logger.js';
import { BrokerConfig } from '../../broker/config.js';

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
  assert.ok(!out.includes('\x1b['), 'no colours when asked for none');
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
