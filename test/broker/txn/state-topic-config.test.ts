/**
 * The coordinators' internal topics are created compacted with small segments by default (1 MiB, Kafka 4's
 * smallest segment.bytes; Kafka's default is 100 MiB): the active segment is never cleaned, so its size
 * bounds what a load replays per partition (config rows offsets.topic.segment.bytes and
 * transaction.state.log.segment.bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testBroker } from '../../helpers/test-broker.js';
import { TxnStateTopicLog } from '../../../broker/txn/state-log.js';
import { TRANSACTION_STATE_TOPIC } from '../../../broker/txn/records.js';
import { OFFSETS_TOPIC, OffsetsTopicLog } from '../../../broker/groups/offsets-log.js';

test('__transaction_state and __consumer_offsets default to compacted 1 MiB segments', async () => {
  const b = await testBroker({ storage: 'memory', config: { 'transaction.state.log.num.partitions': 2 } });
  try {
    await new TxnStateTopicLog(b.broker.services).ensureTopic();
    await new OffsetsTopicLog(b.broker.services).ensureTopic();
    for (const name of [TRANSACTION_STATE_TOPIC, OFFSETS_TOPIC]) {
      const t = b.broker.services.metadata.image.topic(name);
      assert.equal(t?.configs['cleanup.policy'], 'compact', name);
      assert.equal(t?.configs['segment.bytes'], '1048576', name);
    }
  } finally {
    await b.stop();
  }
});
