/** TopicPartitionMap (storage/topic-partition-map.ts): get/set/delete by topic and partition, size, values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicPartitionMap } from '../../storage/topic-partition-map.js';

test('values by topic and partition; delete drops empty topics; size counts entries', () => {
  const m = new TopicPartitionMap<string>();
  m.set('a', 0, 'a0');
  m.set('a', 1, 'a1');
  m.set('a-1', 0, 'a-1/0'); // no clash with a string key "a-1" + "0"
  m.set('a', 1, 'a1 again');
  assert.equal(m.size, 3);
  assert.equal(m.get('a', 1), 'a1 again');
  assert.equal(m.get('a-1', 0), 'a-1/0');
  assert.equal(m.get('a', 2), undefined);
  assert.equal(m.get('b', 0), undefined);
  assert.deepEqual([...m.values()].sort(), ['a-1/0', 'a0', 'a1 again']);
  assert.equal(m.delete('a', 5), false);
  assert.equal(m.delete('a', 0), true);
  assert.equal(m.delete('a', 1), true);
  assert.equal(m.delete('a', 1), false);
  assert.equal(m.size, 1);
  assert.equal(m.get('a', 0), undefined);
  assert.deepEqual([...m.values()], ['a-1/0']);
});
