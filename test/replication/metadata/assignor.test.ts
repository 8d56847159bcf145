import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError } from '../../../protocol/errors.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { assignReplicas, rackAlternated } from '../../../replication/metadata/assignor.js';

const brokers = (n: number, racks?: string[]) =>
  Array.from({ length: n }, (_, i) => ({ nodeId: i + 1, rack: racks ? racks[i] : null }));

test('rack-unaware: leaders round robin from the start index, followers shift after each round', () => {
  const a = assignReplicas(brokers(3), { partitions: 6, replicationFactor: 2, startIndex: 0 });
  assert.deepEqual(a, [
    [1, 2],
    [2, 3],
    [3, 1],
    [1, 3],
    [2, 1],
    [3, 2],
  ]);
  // Adding partitions continues from partition 0's leader at the next partition id.
  const more = assignReplicas(brokers(3), { partitions: 2, replicationFactor: 2, startPartition: 6, startBroker: 1 });
  assert.deepEqual(more, [
    [1, 3],
    [2, 1],
  ]);
});

test('rack-aware: brokers alternate racks and replicas cover every rack before repeating one', () => {
  const bs = brokers(6, ['a', 'a', 'a', 'b', 'b', 'c']);
  assert.deepEqual(
    rackAlternated(bs).map((b) => b.nodeId),
    [1, 4, 6, 2, 5, 3],
  );
  const rack = (id: number) => bs[id - 1].rack;
  for (let start = 0; start < 6; start++) {
    for (const r of assignReplicas(bs, { partitions: 12, replicationFactor: 3, startIndex: start })) {
      assert.equal(new Set(r).size, 3);
      assert.deepEqual(new Set(r.map(rack)), new Set(['a', 'b', 'c']));
    }
  }
});

test('replication factor below 1 or above the broker count is INVALID_REPLICATION_FACTOR', () => {
  const bad = (e: unknown) => e instanceof StorageError && e.kafkaCode === ErrorCode.INVALID_REPLICATION_FACTOR;
  assert.throws(() => assignReplicas(brokers(2), { partitions: 1, replicationFactor: 3 }), bad);
  assert.throws(() => assignReplicas(brokers(2), { partitions: 1, replicationFactor: 0 }), bad);
  assert.throws(() => assignReplicas([], { partitions: 1, replicationFactor: 1 }), bad);
});
