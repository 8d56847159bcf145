import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../storage/partition-log.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { MetadataImage, newPartition, type BrokerRegistration } from '../../replication/metadata/image.js';
import { Partition } from '../../replication/partition.js';
import { preferredReadReplica, RACK_AWARE_REPLICA_SELECTOR } from '../../replication/replica-selector.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import { batchOf } from '../storage/helpers.js';

const S = RACK_AWARE_REPLICA_SELECTOR;

function broker(nodeId: number, rack: string | null, fenced = false): BrokerRegistration {
  return {
    nodeId,
    rack,
    fenced,
    listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + nodeId, securityProtocol: 'PLAINTEXT' }],
  };
}

/** Node 1 leads a partition on [1, 2, 3, 4] (racks a, b, c, c) with ISR `isr`, 10 records. */
async function setup(isr: number[], fenced: number[] = []) {
  const clock = new FakeClock(1000);
  const log = await PartitionLog.open(
    '/data/t-0',
    { ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'] },
    { fs: new MemoryFileSystem(), clock, autoAdvanceHighWatermark: false },
  );
  const image = new MetadataImage({
    clusterId: 'c',
    controllerId: 1,
    brokers: [
      broker(1, 'a'),
      broker(2, 'b', fenced.includes(2)),
      broker(3, 'c', fenced.includes(3)),
      broker(4, 'c', fenced.includes(4)),
    ],
  });
  const reg = { ...newPartition(0, [1, 2, 3, 4]), isr };
  const p = new Partition(log, { localId: 1, leaderEpoch: 0, isLeader: true });
  p.makeLeader(0, reg, clock.now());
  await p.appendAsLeader(batchOf(10));
  return { clock, image, p, log };
}

test('RackAwareReplicaSelector: a caught-up in-sync follower in the client rack, else the leader', async () => {
  const { clock, image, p, log } = await setup([1, 2, 3, 4]);
  // Nobody fetched yet: followers' ends unknown, the leader serves.
  assert.equal(preferredReadReplica(S, p, image, 'b', 0, clock.now()), -1);
  p.recordFollowerFetch(2, 10, clock.now());
  p.recordFollowerFetch(3, 4, clock.now());
  clock.advance(100);
  p.recordFollowerFetch(4, 4, clock.now());
  assert.equal(preferredReadReplica(S, p, image, 'b', 0, clock.now()), 2);
  assert.equal(preferredReadReplica(S, p, image, 'b', 10, clock.now()), 2);
  assert.equal(preferredReadReplica(S, p, image, 'b', 11, clock.now()), -1, 'not past its end');
  assert.equal(preferredReadReplica(S, p, image, 'a', 0, clock.now()), -1, "the leader's own rack");
  assert.equal(preferredReadReplica(S, p, image, '', 0, clock.now()), -1, 'no client rack');
  assert.equal(preferredReadReplica(S, p, image, 'z', 0, clock.now()), -1, 'no replica in the rack');
  assert.equal(preferredReadReplica(null, p, image, 'b', 0, clock.now()), -1, 'no selector');
  // Rack c: the largest log end wins; between equal ends, the most recently caught up.
  assert.equal(preferredReadReplica(S, p, image, 'c', 2, clock.now()), 3, 'both at 4: 3 caught up as recently');
  p.recordFollowerFetch(4, 10, clock.now());
  assert.equal(preferredReadReplica(S, p, image, 'c', 2, clock.now()), 4, 'the largest log end');
  clock.advance(100);
  p.recordFollowerFetch(3, 10, clock.now());
  assert.equal(preferredReadReplica(S, p, image, 'c', 2, clock.now()), 3, 'same end, caught up later');
  await log.close();
});

test('out-of-sync or fenced followers are never preferred', async () => {
  const a = await setup([1, 3]);
  a.p.recordFollowerFetch(2, 10, a.clock.now());
  assert.equal(preferredReadReplica(S, a.p, a.image, 'b', 0, a.clock.now()), -1, '2 is not in the ISR');
  await a.log.close();
  const f = await setup([1, 2, 3, 4], [2]);
  f.p.recordFollowerFetch(2, 10, f.clock.now());
  assert.equal(preferredReadReplica(S, f.p, f.image, 'b', 0, f.clock.now()), -1, '2 is fenced');
  await f.log.close();
});
