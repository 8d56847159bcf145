import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../../broker/logger.js';
import { ConnectionLimits, parseIpOverrides, RateLimitedLog } from '../../broker/connection-limits.js';
import { testBroker } from '../helpers/test-broker.js';
import { RawClient } from '../helpers/raw-client.js';

interface Line {
  fields: Record<string, unknown>;
  msg: string;
}

function captureLog(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = { warn: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) };
  return { log: log as unknown as Logger, lines };
}

test('connection limits: per-IP, per-listener and node-wide counts, released once', () => {
  const { log, lines } = captureLog();
  const limits = new ConnectionLimits({
    maxConnections: 3,
    listenerMax: (l) => (l === 'EXTERNAL' ? 1 : 3),
    maxPerIp: 2,
    overrides: new Map([['10.0.0.9', 5]]),
    interBrokerListener: 'INTERNAL',
    log,
  });
  const a = limits.admit('PLAINTEXT', '10.0.0.1');
  const b = limits.admit('PLAINTEXT', '::ffff:10.0.0.1'); // the same address, IPv4-mapped
  assert.ok(a && b);
  assert.equal(limits.admit('PLAINTEXT', '10.0.0.1'), undefined);
  assert.match(lines.at(-1)!.msg, /refused a connection from 10\.0\.0\.1: it already has the maximum of 2/);
  const c = limits.admit('EXTERNAL', '10.0.0.9');
  assert.ok(c);
  assert.equal(limits.admit('EXTERNAL', '10.0.0.9'), undefined);
  assert.match(lines.at(-1)!.msg, /listener EXTERNAL: max\.connections \(1\) reached/);
  assert.equal(limits.admit('PLAINTEXT', '10.0.0.9'), undefined); // 3 open: the node-wide limit
  assert.match(lines.at(-1)!.msg, /this node's max\.connections \(3\) reached/);
  const d = limits.admit('INTERNAL', '10.0.0.9'); // the inter-broker listener is exempt from it
  assert.ok(d);
  assert.equal(limits.connections, 4);
  a();
  a(); // idempotent
  assert.equal(limits.connections, 3);
  d!();
  const e = limits.admit('PLAINTEXT', '10.0.0.1');
  assert.ok(e);
  assert.equal(limits.connections, 3);
});

test('connection limits: overrides parse, refusals and accept errors are logged once per interval', async () => {
  assert.deepEqual(
    [...parseIpOverrides(' 127.0.0.1:200, myhost:100,[::1]:3')],
    [
      ['127.0.0.1', 200],
      ['myhost', 100],
      ['::1', 3],
    ],
  );
  assert.equal(parseIpOverrides('').size, 0);
  assert.throws(() => parseIpOverrides('127.0.0.1'), /not <host or ip>:<count>/);
  assert.throws(() => parseIpOverrides('h:-1'), /not <host or ip>:<count>/);
  const resolved = await ConnectionLimits.resolve(new Map([['localhost', 7]]), captureLog().log);
  assert.ok(resolved.get('127.0.0.1') === 7 || resolved.get('::1') === 7);

  const { log, lines } = captureLog();
  let now = 0;
  const rl = new RateLimitedLog(log, 1000, () => now);
  for (let i = 0; i < 5; i++) rl.warn('k', { i }, 'm');
  rl.warn('other', {}, 'o');
  assert.equal(lines.length, 2);
  now = 1000;
  rl.warn('k', { i: 5 }, 'm');
  assert.deepEqual(lines.at(-1)!.fields, { i: 5, suppressedSinceLastLog: 4 });

  const limits = new ConnectionLimits({ maxConnections: 1, listenerMax: () => 1, maxPerIp: 1, log });
  const before = lines.length;
  const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
  for (let i = 0; i < 100; i++) limits.acceptError('PLAINTEXT', emfile);
  assert.equal(lines.length, before + 1);
  assert.match(lines.at(-1)!.msg, /out of file descriptors accepting a connection .*still listening/);
});

/** True if the broker answers ApiVersions on this connection; false if it closed it. */
async function answers(c: RawClient): Promise<boolean> {
  c.send(18, 0, () => undefined);
  return (await c.receive(10_000)) !== null;
}

test('max.connections and max.connections.per.ip(.overrides) on a running broker', async () => {
  const broker = await testBroker({
    config: { 'max.connections': 3, 'max.connections.per.ip': 1, 'max.connections.per.ip.overrides': '127.0.0.1:2' },
  });
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < 2; i++) clients.push(await RawClient.connect(broker.port));
    for (const c of clients) assert.equal(await answers(c), true);
    // A third connection from 127.0.0.1 is over its override (2): accepted and closed at once.
    const third = await RawClient.connect(broker.port);
    clients.push(third);
    assert.equal(await answers(third), false);
    // Once one closes, a new one is accepted.
    clients[0]!.close();
    let accepted = false;
    for (let i = 0; i < 50 && !accepted; i++) {
      const c = await RawClient.connect(broker.port);
      clients.push(c);
      accepted = await answers(c);
      if (!accepted) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(accepted, true);
  } finally {
    for (const c of clients) c.close();
    await broker.stop();
  }
});

test('max.connections: a connection over the node-wide limit is closed, the listener keeps serving', async () => {
  const broker = await testBroker({ config: { 'max.connections': 2 } });
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < 2; i++) clients.push(await RawClient.connect(broker.port));
    for (const c of clients) assert.equal(await answers(c), true);
    const over = await RawClient.connect(broker.port);
    clients.push(over);
    assert.equal(await answers(over), false);
    assert.equal(await answers(clients[0]!), true, 'admitted connections are untouched');
  } finally {
    for (const c of clients) c.close();
    await broker.stop();
  }
});
