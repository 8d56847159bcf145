import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_LOG_CONFIG,
  InvalidConfigError,
  LONG_MAX,
  logConfigFromProps,
  logConfigToProps,
} from '../../storage/log-config.js';

test('Kafka defaults', () => {
  assert.equal(DEFAULT_LOG_CONFIG.segmentBytes, 1073741824);
  assert.equal(DEFAULT_LOG_CONFIG.segmentMs, 604800000);
  assert.equal(DEFAULT_LOG_CONFIG.retentionMs, 604800000);
  assert.equal(DEFAULT_LOG_CONFIG.retentionBytes, -1);
  assert.equal(DEFAULT_LOG_CONFIG.indexIntervalBytes, 4096);
  assert.equal(DEFAULT_LOG_CONFIG.segmentIndexBytes, 10485760);
  assert.equal(DEFAULT_LOG_CONFIG.flushMessages, LONG_MAX);
  assert.equal(DEFAULT_LOG_CONFIG.maxMessageBytes, 1048588);
  assert.equal(DEFAULT_LOG_CONFIG.messageTimestampType, 'CreateTime');
  assert.deepEqual(DEFAULT_LOG_CONFIG.cleanupPolicy, ['delete']);
  assert.equal(DEFAULT_LOG_CONFIG.minInsyncReplicas, 1);
});

test('overrides parse Kafka names and round-trip to strings', () => {
  const c = logConfigFromProps({
    'segment.bytes': '1048576',
    'retention.ms': '-1',
    'flush.messages': '9223372036854775807',
    'message.timestamp.type': 'LogAppendTime',
    'cleanup.policy': 'compact, delete',
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
  const props = logConfigToProps(c);
  assert.equal(props['flush.messages'], '9223372036854775807');
  assert.equal(props['cleanup.policy'], 'compact,delete');
  assert.deepEqual(logConfigFromProps(props), c);
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
  ] as const) {
    assert.throws(
      () => logConfigFromProps({ [k]: v }),
      (e: unknown) => e instanceof InvalidConfigError && e.kafkaCode === 40,
      `${k}=${v}`,
    );
  }
});
