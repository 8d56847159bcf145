import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PreferredLeaderBalancer,
  preferredLeaderChange,
  rebalanceCandidates,
} from '../../replication/preferred-leader.js';
import {
  MetadataImage,
  topicImage,
  type BrokerRegistration,
  type PartitionRegistration,
} from '../../replication/metadata/image.js';
import type { PartitionChange } from '../../replication/metadata/store.js';
import { FakeClock } from '../../storage/clock.js';

const reg = (partition: number, replicas: number[], isr: number[], leader: number): PartitionRegistration => ({
  partition,
  replicas,
  isr,
  leader,
  leaderEpoch: 0,
  partitionEpoch: 0,
});
const broker = (nodeId: number, extra: Partial<BrokerRegistration> = {}): BrokerRegistration => ({
  nodeId,
  rack: null,
  listeners: [],
  fenced: false,
  ...extra,
});

function image(partitions: PartitionRegistration[], brokers = [broker(1), broker(2), broker(3)]): MetadataImage {
  return new MetadataImage({
    clusterId: 'c',
    controllerId: 1,
    brokers,
    topics: [topicImage({ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', configs: {} }, partitions)],
  });
}

test('preferredLeaderChange: only to an active, in-sync first replica that does not lead', () => {
  const active = new Set([1, 2, 3]);
  assert.deepEqual(preferredLeaderChange(reg(0, [1, 2, 3], [1, 2, 3], 2), active), { leader: 1 });
  assert.equal(preferredLeaderChange(reg(0, [1, 2, 3], [1, 2, 3], 1), active), undefined);
  assert.equal(preferredLeaderChange(reg(0, [1, 2, 3], [2, 3], 2), active), undefined);
  assert.equal(preferredLeaderChange(reg(0, [1, 2, 3], [1, 2, 3], 2), new Set([2, 3])), undefined);
});

test('rebalanceCandidates: per preferred broker, only above leader.imbalance.per.broker.percentage', () => {
  // Broker 1 prefers 10 partitions and leads 9 of them: 10 % imbalance, not above 10 %.
  const parts = Array.from({ length: 10 }, (_, p) => reg(p, [1, 2, 3], [1, 2, 3], p === 0 ? 2 : 1));
  assert.deepEqual(rebalanceCandidates(image(parts), 10), []);
  // 2 of 10 led elsewhere: 20 % > 10 %: both move back (one of them only when 1 is in its ISR).
  parts[1] = reg(1, [1, 2, 3], [1, 2, 3], 3);
  parts[2] = reg(2, [1, 2, 3], [2, 3], 3);
  const c = rebalanceCandidates(image(parts), 10);
  assert.deepEqual(
    c.map((x) => [x.partition.partition, x.change]),
    [
      [0, { leader: 1 }],
      [1, { leader: 1 }],
    ],
  );
  assert.equal(rebalanceCandidates(image(parts), 30).length, 0);
  // A preferred broker in controlled shutdown (or fenced) gets nothing back.
  const shutting = [broker(1, { inControlledShutdown: true }), broker(2), broker(3)];
  assert.deepEqual(rebalanceCandidates(image(parts, shutting), 10), []);
  assert.deepEqual(rebalanceCandidates(image(parts, [broker(1, { fenced: true }), broker(2), broker(3)]), 10), []);
});

test('PreferredLeaderBalancer: checks every interval while active; writes with the partition epoch', async () => {
  const clock = new FakeClock(0);
  let active = false;
  const writes: [string, number, number, PartitionChange][] = [];
  const img = image([reg(0, [1, 2], [1, 2], 2), reg(1, [2, 1], [1, 2], 2)]);
  const b = new PreferredLeaderBalancer({
    clock,
    intervalMs: 1000,
    imbalancePercentage: 10,
    image: () => img,
    isActive: () => active,
    write: async (batch) =>
      batch.map((w) => {
        writes.push([w.topic, w.partition, w.partitionEpoch, w.change]);
        return { status: 'fulfilled', value: undefined } as const;
      }),
    log: { info: () => undefined, warn: () => undefined },
  });
  b.start();
  clock.advance(1000);
  await b.check();
  assert.deepEqual(writes, [], 'not the controller: nothing written');
  active = true;
  clock.advance(999);
  assert.deepEqual(writes, []);
  clock.advance(1);
  await b.check();
  assert.deepEqual(writes, [['t', 0, 0, { leader: 1 }]]);
  await b.close();
  clock.advance(5000);
  assert.equal(writes.length, 1, 'closed: no more checks');
});
