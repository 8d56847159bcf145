import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildImage,
  EtcdKeys,
  nothingTouched,
  partitionKey,
  partitionRecord,
  topicKey,
} from '../../../replication/metadata/etcd-image.js';
import { MetadataImage } from '../../../replication/metadata/image.js';

const PREFIX = '/runnel/x/';
let revision = 0;
const kv = (rel: string, value: unknown) => ({
  key: PREFIX + rel,
  value: Buffer.from(JSON.stringify(value)),
  createRevision: ++revision,
  modRevision: revision,
  version: 1,
  lease: '0',
});

test('partition records: adding/removing written only during a reassignment; old records read as none', () => {
  const plain = { partition: 0, replicas: [1, 2], isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0 };
  assert.deepEqual(Object.keys(partitionRecord(plain)), ['replicas', 'isr', 'leader', 'leaderEpoch', 'partitionEpoch']);
  const moving = { ...plain, replicas: [2, 3, 1], addingReplicas: [3], removingReplicas: [1] };
  assert.deepEqual(partitionRecord(moving), {
    replicas: [2, 3, 1],
    isr: [1, 2],
    leader: 1,
    leaderEpoch: 0,
    partitionEpoch: 0,
    addingReplicas: [3],
    removingReplicas: [1],
  });

  const keys = new EtcdKeys(PREFIX);
  const touched = nothingTouched();
  keys.apply(kv(topicKey('t'), { topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: 2, configs: {} }), false, touched);
  // Partition 0 as an older node wrote it (no reassignment fields), partition 1 mid-reassignment.
  keys.apply(kv(partitionKey('t', 0), partitionRecord(plain)), false, touched);
  keys.apply(kv(partitionKey('t', 1), partitionRecord({ ...moving, partition: 1 })), false, touched);
  const { image } = buildImage(new MetadataImage({ clusterId: 'c', controllerId: -1 }), keys, touched);
  const [p0, p1] = image.partitions('t');
  assert.deepEqual([p0.addingReplicas, p0.removingReplicas], [undefined, undefined]);
  assert.deepEqual([p1.replicas, p1.addingReplicas, p1.removingReplicas], [[2, 3, 1], [3], [1]]);

  // Clearing the reassignment (same replicas/ISR/leader/epochs otherwise) is a partition change.
  const again = nothingTouched();
  keys.apply(kv(partitionKey('t', 1), partitionRecord({ ...plain, partition: 1, replicas: [2, 3, 1] })), false, again);
  const next = buildImage(image, keys, again);
  assert.deepEqual(
    next.changes.map((c) => c.type),
    ['partition-changed'],
  );
  assert.equal(next.image.partition('t', 1)?.addingReplicas, undefined);
});
