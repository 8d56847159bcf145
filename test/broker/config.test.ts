import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BrokerConfig,
  ConfigError,
  configDef,
  envName,
  formatConfigValue,
  LONG_MAX,
  parseConfigValue,
} from '../../broker/config.js';
import { readmePath, withConfigReference } from '../../broker/config-readme.js';

test('README configuration reference matches the config table', () => {
  const readme = readFileSync(readmePath(), 'utf8');
  assert.equal(readme, withConfigReference(readme), 'README.md is out of date: run npm run gen:readme');
});

test('precedence: default < file < env < overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-cfg-'));
  const file = join(dir, 'broker.properties');
  writeFileSync(file, '# comment\nport=1000\nnum.partitions = 3\nretention.ms=5000\n');
  const c = new BrokerConfig({
    file,
    env: { [envName('num.partitions')]: '4', RUNNEL_PORT: '2000' },
    overrides: { port: 3000 },
  });
  assert.equal(c.int('port'), 3000);
  assert.equal(c.int('num.partitions'), 4);
  assert.equal(c.int('log.retention.ms'), 5000, 'topic-level name sets the broker default');
  assert.equal(c.topicDefault('retention.ms'), 5000);
  assert.equal(c.sources.get('port'), 'override');
  assert.equal(c.int('log.segment.bytes'), 1073741824);
  const json = join(dir, 'b.json');
  writeFileSync(
    json,
    JSON.stringify({ 'auto.create.topics.enable': false, 'log.cleanup.policy': ['compact', 'delete'] }),
  );
  const j = new BrokerConfig({ file: json });
  assert.equal(j.bool('auto.create.topics.enable'), false);
  assert.deepEqual(j.get('log.cleanup.policy'), ['compact', 'delete']);
});

test('bad values and unknown names are refused with INVALID_CONFIG', () => {
  assert.throws(() => new BrokerConfig({ overrides: { port: 'abc' } }), ConfigError);
  assert.throws(() => new BrokerConfig({ overrides: { port: 70000 } }), /maximum/);
  assert.throws(() => new BrokerConfig({ overrides: { 'no.such.config': 1 } }), /unknown config/);
  assert.throws(() => parseConfigValue(configDef('log.message.timestamp.type')!, 'Sometime'), /one of/);
  assert.throws(() => parseConfigValue(configDef('log.cleanup.policy')!, 'delete,shred'), /one of/);
  assert.throws(() => parseConfigValue(configDef('num.partitions')!, '0'), /minimum/);
  assert.throws(() => parseConfigValue(configDef('auto.create.topics.enable')!, 'yes'), /true or false/);
  try {
    new BrokerConfig({ overrides: { port: 'x' } });
  } catch (e) {
    assert.equal((e as ConfigError).kafkaCode, 40);
  }
});

test('long values print as Kafka prints them', () => {
  const d = configDef('log.flush.interval.messages')!;
  assert.equal(formatConfigValue(d, LONG_MAX), '9223372036854775807');
  assert.equal(parseConfigValue(d, '9223372036854775807'), LONG_MAX);
  assert.equal(formatConfigValue(configDef('log.cleanup.policy')!, ['compact', 'delete']), 'compact,delete');
});
