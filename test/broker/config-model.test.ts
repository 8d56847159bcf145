import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BrokerConfig,
  CONFIG_TABLE,
  ConfigTable,
  defaultLogConfig,
  EffectiveConfig,
  LONG_MAX,
} from '../../broker/config.js';
import { InvalidConfigError } from '../../storage/log-config.js';

test('topic defaults come from the table (Kafka 4 defaults)', () => {
  const c = defaultLogConfig();
  assert.equal(c.segmentBytes, 1073741824);
  assert.equal(c.segmentMs, 604800000);
  assert.equal(c.retentionMs, 604800000);
  assert.equal(c.retentionBytes, -1);
  assert.equal(c.indexIntervalBytes, 4096);
  assert.equal(c.segmentIndexBytes, 10485760);
  assert.equal(c.flushMessages, LONG_MAX);
  assert.equal(c.maxMessageBytes, 1048588);
  assert.equal(c.messageTimestampType, 'CreateTime');
  assert.equal(c.messageTimestampBeforeMaxMs, LONG_MAX);
  assert.equal(c.messageTimestampAfterMaxMs, 3_600_000);
  assert.deepEqual(c.cleanupPolicy, ['delete']);
  assert.equal(c.minInsyncReplicas, 1);
  assert.equal(c.fileDeleteDelayMs, 60000);
  assert.equal(c.uncleanLeaderElectionEnable, false);
  for (const d of CONFIG_TABLE.defs) if (d.topic && !d.removed) assert.ok(d.field, `${d.topic} names its field`);
});

test('overrides parse Kafka names and round-trip to strings', () => {
  const c = defaultLogConfig({
    'segment.bytes': '1048576',
    'retention.ms': '-1',
    'flush.messages': '9223372036854775807',
    'message.timestamp.type': 'LogAppendTime',
    'cleanup.policy': 'compact, delete,compact',
    'min.cleanable.dirty.ratio': '0.25',
    'unclean.leader.election.enable': 'true',
    'some.unknown': 'x',
  });
  assert.equal(c.segmentBytes, 1048576);
  assert.equal(c.retentionMs, -1);
  assert.equal(c.flushMessages, LONG_MAX);
  assert.equal(c.messageTimestampType, 'LogAppendTime');
  assert.deepEqual(c.cleanupPolicy, ['compact', 'delete']);
  assert.equal(c.minCleanableDirtyRatio, 0.25);
  assert.equal(c.uncleanLeaderElectionEnable, true);
  const props = CONFIG_TABLE.logConfigToProps(c);
  assert.equal(props['flush.messages'], '9223372036854775807');
  assert.equal(props['cleanup.policy'], 'compact,delete');
  assert.equal(props['message.format.version'], undefined, 'removed configs are not LogConfig fields');
  assert.deepEqual(defaultLogConfig(props), c);
});

test('invalid values throw InvalidConfigError (INVALID_CONFIG)', () => {
  for (const [k, v] of [
    ['segment.bytes', 'abc'],
    ['segment.bytes', '3000000000'],
    ['retention.ms', '-2'],
    ['cleanup.policy', 'shred'],
    ['message.timestamp.type', 'Now'],
    ['preallocate', 'maybe'],
    ['min.cleanable.dirty.ratio', '2'],
    ['message.format.version', 'ten'],
    ['message.timestamp.difference.max.ms', '-1'],
    ['message.downconversion.enable', 'perhaps'],
  ] as const) {
    assert.throws(
      () => defaultLogConfig({ [k]: v }),
      (e: unknown) => e instanceof InvalidConfigError && e.kafkaCode === 40 && e.message.includes(k),
      `${k}=${v}`,
    );
  }
});

test('configs Kafka 4.0 removed: format version and down-conversion ignored, timestamp difference mapped', () => {
  const base = defaultLogConfig();
  assert.deepEqual(
    defaultLogConfig({ 'message.format.version': '0.10.0', 'message.downconversion.enable': 'false' }),
    base,
  );
  assert.deepEqual(defaultLogConfig({ 'message.format.version': '2.8-IV1' }), base);
  const diff = defaultLogConfig({ 'message.timestamp.difference.max.ms': '5000' });
  assert.equal(diff.messageTimestampBeforeMaxMs, 5000);
  assert.equal(diff.messageTimestampAfterMaxMs, 5000);
  const both = defaultLogConfig({
    'message.timestamp.difference.max.ms': '5000',
    'message.timestamp.after.max.ms': '70',
  });
  assert.equal(both.messageTimestampBeforeMaxMs, 5000);
  assert.equal(both.messageTimestampAfterMaxMs, 70, 'the KIP-937 bound set itself wins');
});

test('broker level: the removed timestamp difference is the default of the bounds not set themselves', () => {
  const c = new BrokerConfig({
    overrides: { 'log.message.timestamp.difference.max.ms': 9000, 'log.message.timestamp.after.max.ms': 10 },
  });
  assert.equal(c.logDefaults().messageTimestampBeforeMaxMs, 9000);
  assert.equal(c.logDefaults().messageTimestampAfterMaxMs, 10);
  const topic = c.resolveLogConfig({ 'message.timestamp.before.max.ms': '3' });
  assert.equal(topic.messageTimestampBeforeMaxMs, 3);
});

test('dynamic values: per-broker over cluster default over static; logDefaults and isSet follow', () => {
  const c = new BrokerConfig({ overrides: { 'log.retention.ms': 1000 } });
  assert.equal(c.int('log.retention.ms'), 1000);
  c.setDynamic('default', new Map([['log.retention.ms', 2000]]));
  assert.equal(c.int('log.retention.ms'), 2000);
  assert.equal(c.logDefaults().retentionMs, 2000);
  c.setDynamic('broker', new Map([['log.retention.ms', 3000]]));
  assert.equal(c.int('log.retention.ms'), 3000);
  assert.equal(c.staticValue('log.retention.ms'), 1000);
  assert.equal(c.resolveLogConfig({}).retentionMs, 3000);
  assert.equal(c.resolveLogConfig({ 'retention.ms': '7' }).retentionMs, 7, 'a topic override still wins');
  c.setDynamic('broker', new Map());
  c.setDynamic('default', new Map());
  assert.equal(c.int('log.retention.ms'), 1000);
  assert.equal(c.isSet('log.segment.bytes'), false);
  c.setDynamic('default', new Map([['log.segment.bytes', 1 << 20]]));
  assert.equal(c.isSet('log.segment.bytes'), true);
});

test('per-listener overrides: listener.name.<l>[.<mechanism>].<name> over the broker-wide value', () => {
  const table = new ConfigTable([
    {
      name: 'ssl.client.auth',
      type: 'string',
      default: 'none',
      doc: 'x',
      perListener: 'listener',
      oneOf: ['none', 'required'],
    },
    { name: 'sasl.jaas.config', type: 'string', default: null, doc: 'x', perListener: 'mechanism' },
    { name: 'port', type: 'int', default: 9092, doc: 'x' },
  ]);
  const c = new EffectiveConfig(table, {
    overrides: {
      'listener.name.ssl.ssl.client.auth': 'required',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': 'jaas-plain',
    },
  });
  assert.equal(c.listenerValue('SSL', 'ssl.client.auth'), 'required');
  assert.equal(c.listenerValue('PLAINTEXT', 'ssl.client.auth'), 'none');
  assert.equal(c.listenerValue('SASL_SSL', 'sasl.jaas.config', 'PLAIN'), 'jaas-plain');
  assert.equal(c.listenerValue('SASL_SSL', 'sasl.jaas.config', 'SCRAM-SHA-256'), null);
  assert.throws(() => new EffectiveConfig(table, { overrides: { 'listener.name.ssl.port': '1' } }), InvalidConfigError);
  assert.throws(
    () => new EffectiveConfig(table, { overrides: { 'listener.name.ssl.ssl.client.auth': 'maybe' } }),
    InvalidConfigError,
  );
});
