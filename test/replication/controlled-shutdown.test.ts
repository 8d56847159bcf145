import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  controlledShutdownChange,
  shutdownPending,
  shuttingDownBrokers,
} from '../../replication/controlled-shutdown.js';
import {
  MetadataImage,
  NO_LEADER,
  topicImage,
  type BrokerRegistration,
  type PartitionRegistration,
} from '../../replication/metadata/image.js';

const reg = (replicas: number[], isr: number[], leader: number, partition = 0): PartitionRegistration => ({
  partition,
  replicas,
  isr,
  leader,
  leaderEpoch: 3,
  partitionEpoch: 5,
});

const broker = (nodeId: number, extra: Partial<BrokerRegistration> = {}): BrokerRegistration => ({
  nodeId,
  rack: null,
  listeners: [],
  fenced: false,
  ...extra,
});

const all = new Set([1, 2, 3]);

test('leader shutting down: the first other active ISR replica in replica order leads; it leaves the ISR', () => {
  assert.deepEqual(controlledShutdownChange(reg([1, 2, 3], [1, 2, 3], 1), all, new Set([1])), {
    leader: 2,
    isr: [2, 3],
  });
  // Replica order, not ISR order; an ISR member that is shutting down too or gone is no candidate.
  assert.deepEqual(controlledShutdownChange(reg([1, 3, 2], [2, 1, 3], 1), all, new Set([1])), {
    leader: 3,
    isr: [2, 3],
  });
  assert.deepEqual(controlledShutdownChange(reg([1, 2, 3], [1, 2, 3], 1), new Set([1, 3]), new Set([1])), {
    leader: 3,
    isr: [3],
  });
  assert.deepEqual(controlledShutdownChange(reg([1, 2, 3], [1, 2, 3], 1), all, new Set([1, 2])), {
    leader: 3,
    isr: [3],
  });
  // A replica outside the ISR is never elected: the leader keeps leading.
  assert.equal(controlledShutdownChange(reg([1, 2, 3], [1], 1), all, new Set([1])), undefined);
  assert.deepEqual(controlledShutdownChange(reg([1, 2, 3], [1, 2], 1), all, new Set([1, 2])), { isr: [1] });
});

test('follower shutting down leaves the ISR; nothing to do otherwise', () => {
  assert.deepEqual(controlledShutdownChange(reg([1, 2, 3], [1, 2, 3], 1), all, new Set([3])), { isr: [1, 2] });
  assert.equal(controlledShutdownChange(reg([1, 2, 3], [1, 2], 1), all, new Set([3])), undefined);
  assert.equal(controlledShutdownChange(reg([1, 2, 3], [1, 2, 3], 1), all, new Set()), undefined);
  // No leader, or a lost one: the liveness rules apply, not these.
  assert.equal(controlledShutdownChange(reg([1, 2], [1], NO_LEADER), all, new Set([1])), undefined);
  assert.equal(controlledShutdownChange(reg([1, 2], [1, 2], 1), new Set([2]), new Set([2])), undefined);
});

test('shutdownPending: what is left to move for a node, judged as if it were marked', () => {
  const topic = topicImage({ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', configs: {} }, [
    reg([1, 2, 3], [1, 2, 3], 1, 0),
    reg([2, 3, 1], [2, 3, 1], 2, 1),
    reg([3, 1, 2], [3], 3, 2),
    reg([1], [1], 1, 3),
  ]);
  const image = new MetadataImage({
    clusterId: 'c',
    controllerId: 1,
    brokers: [broker(1), broker(2), broker(3, { inControlledShutdown: true })],
    topics: [topic],
  });
  assert.deepEqual([...shuttingDownBrokers(image)], [3]);
  // Node 1 leads t-0 (others in sync) and follows t-1 in the ISR; t-3 has no other replica.
  assert.deepEqual(shutdownPending(image, 1), ['t-0', 't-1']);
  // Node 3 follows t-0 and t-1 in their ISRs; it leads t-2 alone.
  assert.deepEqual(shutdownPending(image, 3), ['t-0', 't-1']);
  const moved = new MetadataImage({
    clusterId: 'c',
    controllerId: 1,
    brokers: [broker(1), broker(2), broker(3, { inControlledShutdown: true })],
    topics: [
      topicImage({ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', configs: {} }, [
        reg([1, 2, 3], [1, 2], 1, 0),
        reg([2, 3, 1], [2, 1], 2, 1),
        reg([3, 1, 2], [3], 3, 2),
      ]),
    ],
  });
  assert.deepEqual(shutdownPending(moved, 3), []);
});
