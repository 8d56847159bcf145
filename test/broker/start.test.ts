import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStartArgs, startHelp, UsageError } from '../../broker/start.js';

test('parseStartArgs: flags map to their configs, --set repeats, a flag wins over a --set of the same config', () => {
  const a = parseStartArgs(['--port', '9093', '-d', '/tmp/x', '--host=127.0.0.1', '--set', 'num.partitions=3', '-s', 'port=1', '--set', 'log.format=json', '--admin-port', '0']);
  assert.deepEqual(a, {
    help: false,
    configFile: undefined,
    overrides: { 'num.partitions': '3', port: '9093', 'log.format': 'json', 'data.dir': '/tmp/x', host: '127.0.0.1', 'admin.port': '0' },
  });
  assert.deepEqual(parseStartArgs(['--set', 'admin.port=-1', '--set', 'x=a=b']).overrides, { 'admin.port': '-1', x: 'a=b' });
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
  for (const args of [['--bogus'], ['extra'], ['--port'], ['--set', 'novalue'], ['--set', '=x'], ['--admin-port', '-x']]) {
    assert.throws(() => parseStartArgs(args), UsageError, JSON.stringify(args));
  }
});

test('startHelp lists every flag', () => {
  const help = startHelp();
  for (const f of ['--port', '--host', '--data-dir', '--node-id', '--advertised-host', '--advertised-port', '--admin-port', '--config', '--set', '--help']) {
    assert.match(help, new RegExp(`${f} `), f);
  }
});
