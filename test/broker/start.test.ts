import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStartArgs, startHelp, UsageError } from '../../broker/start.js';

test('parseStartArgs: flags map to their configs, --set repeats, a flag wins over a --set of the same config', () => {
  const a = parseStartArgs([
    '--port',
    '9093',
    '-d',
    '/tmp/x',
    '--host=127.0.0.1',
    '--set',
    'num.partitions=3',
    '-s',
    'port=1',
    '--set',
    'log.format=json',
    '--admin-port',
    '0',
  ]);
  assert.deepEqual(a, {
    help: false,
    configFile: undefined,
    overrides: {
      'num.partitions': '3',
      port: '9093',
      'log.format': 'json',
      'data.dir': '/tmp/x',
      host: '127.0.0.1',
      'admin.port': '0',
    },
    addScram: [],
  });
  assert.deepEqual(parseStartArgs(['--set', 'admin.port=-1', '--set', 'x=a=b']).overrides, {
    'admin.port': '-1',
    x: 'a=b',
  });
  assert.equal(parseStartArgs(['-c', 'broker.properties']).configFile, 'broker.properties');
  assert.equal(parseStartArgs(['--help']).help, true);
  assert.equal(parseStartArgs([]).help, false);
});

test('parseStartArgs: a negative number after a flag is its value (--admin-port -1, -p -1)', () => {
  assert.equal(parseStartArgs(['--admin-port', '-1']).overrides['admin.port'], '-1');
  assert.equal(parseStartArgs(['-p', '-1', '--node-id', '2']).overrides.port, '-1');
  assert.equal(parseStartArgs(['--admin-port=-1']).overrides['admin.port'], '-1');
});

test('parseStartArgs: unknown options, positionals, missing values and a --set without = are usage errors', () => {
  for (const args of [
    ['--bogus'],
    ['extra'],
    ['--port'],
    ['--set', 'novalue'],
    ['--set', '=x'],
    ['--admin-port', '-x'],
  ]) {
    assert.throws(() => parseStartArgs(args), UsageError, JSON.stringify(args));
  }
});

test('startHelp lists every flag', () => {
  const help = startHelp();
  for (const f of [
    '--port',
    '--host',
    '--data-dir',
    '--node-id',
    '--advertised-host',
    '--advertised-port',
    '--admin-port',
    '--config',
    '--set',
    '--help',
  ]) {
    assert.match(help, new RegExp(`${f} `), f);
  }
});

test('runnel start listens before loading commander, client commands, fastify, prom-client, codecs, CRC', async () => {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { dirname, join, resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const bundle = join(dist, 'bundle/start.cjs');
  const source = readFileSync(bundle, 'utf8');
  assert.doesNotMatch(source, /node_modules\/commander\//);
  assert.doesNotMatch(source, /client\/cli\//);
  // A child runs the bundle as bin.cjs does, recording every module it requires, and prints them once the
  // Kafka port accepts a connection.
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-start-lazy-'));
  const code = `
const Module = require('node:module');
const loaded = new Set();
const orig = Module._load;
Module._load = function (request, ...rest) { loaded.add(request); return orig.call(this, request, ...rest); };
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  this.once('listening', () => {
    if (this.address().port === 0 || globalThis.done) return;
    globalThis.done = true;
    const port = this.address().port;
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      process.stdout.write(JSON.stringify([...loaded]));
      process.exit(0);
    });
  });
  return listen.apply(this, args);
};
const { runWithCompileCache } = require(${JSON.stringify(join(dist, 'broker/compile-cache.cjs'))});
runWithCompileCache(${JSON.stringify(bundle)}, null).exports.main([process.execPath, 'runnel', 'start', '--port', '0',
  '--host', '127.0.0.1', '--admin-port', '-1', '--data-dir', ${JSON.stringify(dataDir)}]);
`;
  const child = spawn(process.execPath, ['-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUNNEL_LOG_LEVEL: 'warn' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = await new Promise<number | null>((r) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      r(-1);
    }, 20_000);
    child.once('exit', (c) => {
      clearTimeout(t);
      r(c);
    });
  });
  assert.equal(status, 0, err);
  const loaded = JSON.parse(out) as string[];
  assert.ok(
    loaded.includes('node:net') && loaded.includes('node:fs/promises'),
    `the hook saw the bundle load its modules: ${loaded.join(' ')}`,
  );
  for (const lazy of [
    'commander',
    'fastify',
    'prom-client',
    'pino-pretty',
    'snappy',
    'lz4-napi',
    '@mongodb-js/zstd',
    'node:zlib',
    'zlib',
    '@node-rs/crc32',
    'msgpackr',
    'msgpackr/index-no-eval',
    'etcd3',
    '@grpc/grpc-js',
  ]) {
    assert.ok(!loaded.includes(lazy), `${lazy} loaded at start: ${loaded.join(' ')}`);
  }
});
