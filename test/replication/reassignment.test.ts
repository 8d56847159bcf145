import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { MetadataImage, type PartitionRegistration, topicImage } from '../../replication/metadata/image.js';
import type { PartitionChange } from '../../replication/metadata/store.js';
import {
  alterReassignment,
  cancelChange,
  completionChange,
  listReassignments,
  startChange,
  validateTarget,
} from '../../replication/reassignment.js';
import { StorageError } from '../../protocol/errors.js';

const reg = (
  replicas: number[],
  isr: number[],
  leader: number,
  adding: number[] = [],
  removing: number[] = [],
): PartitionRegistration => ({
  partition: 0,
  replicas,
  isr,
  leader,
  leaderEpoch: 3,
  partitionEpoch: 9,
  ...(adding.length ? { addingReplicas: adding } : {}),
  ...(removing.length ? { removingReplicas: removing } : {}),
});

/** The registration after `change` (what the store writes, without the epochs). */
function applied(p: PartitionRegistration, c: PartitionChange): PartitionRegistration {
  return reg(
    [...(c.replicas ?? p.replicas)],
    [...(c.isr ?? p.isr)],
    c.leader ?? p.leader,
    [...(c.addingReplicas ?? p.addingReplicas ?? [])],
    [...(c.removingReplicas ?? p.removingReplicas ?? [])],
  );
}

const brokers = [1, 2, 3, 4].map((nodeId) => ({ nodeId, rack: null, listeners: [], fenced: false }));

test('start: replicas = target then the original replicas it drops; adding = T − R, removing = R − T', () => {
  const p = reg([1, 2], [1, 2], 1);
  assert.deepEqual(startChange(p, [2, 3]), {
    replicas: [2, 3, 1],
    isr: [1, 2],
    addingReplicas: [3],
    removingReplicas: [1],
  });
  // Growing and shrinking the replication factor.
  assert.deepEqual(startChange(p, [1, 2, 3]), {
    replicas: [1, 2, 3],
    isr: [1, 2],
    addingReplicas: [3],
    removingReplicas: [],
  });
  assert.deepEqual(startChange(p, [2]), { replicas: [2, 1], isr: [1, 2], addingReplicas: [], removingReplicas: [1] });
  // The current replica set changes nothing.
  assert.equal(startChange(p, [1, 2]), undefined);
});

test('replace a running reassignment: origin stays; added replicas the new one drops leave (and the ISR)', () => {
  const running = reg([2, 3, 1], [1, 2, 3], 1, [3], [1]);
  assert.deepEqual(startChange(running, [2, 4]), {
    replicas: [2, 4, 1],
    isr: [1, 2],
    addingReplicas: [4],
    removingReplicas: [1],
  });
  // Back to the original replicas: nothing added or removed any more.
  assert.deepEqual(startChange(running, [1, 2]), {
    replicas: [1, 2],
    isr: [1, 2],
    addingReplicas: [],
    removingReplicas: [],
  });
  // The leader was one being added (failover) and is dropped: the first remaining ISR replica leads.
  const ledByAdded = reg([2, 3, 1], [3, 1], 3, [2, 3], [1]);
  assert.deepEqual(startChange(ledByAdded, [1, 4]), {
    replicas: [1, 4],
    isr: [1],
    addingReplicas: [4],
    removingReplicas: [],
    leader: 1,
  });
  // Every ISR member was being added and would leave: refused.
  const onlyAdded = reg([3, 1], [3], 3, [3], [1]);
  const e = startChange(onlyAdded, [1, 4]);
  assert.ok(e && 'code' in e);
  assert.equal(e.code, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
});

test('complete: once every adding replica is in the ISR; a removed leader hands over to a live target replica', () => {
  const live = new Set([1, 2, 3]);
  assert.equal(completionChange(reg([1, 2], [1, 2], 1), live), undefined, 'nothing running');
  assert.equal(completionChange(reg([2, 3, 1], [1, 2], 1, [3], [1]), live), undefined, '3 not in the ISR yet');
  assert.deepEqual(completionChange(reg([2, 3, 1], [1, 2, 3], 1, [3], [1]), live), {
    replicas: [2, 3],
    isr: [2, 3],
    addingReplicas: [],
    removingReplicas: [],
    leader: 2,
  });
  // Leader stays when it is kept; the target's order is kept.
  assert.deepEqual(completionChange(reg([3, 2, 1], [2, 1, 3], 2, [3], [1]), live), {
    replicas: [3, 2],
    isr: [2, 3],
    addingReplicas: [],
    removingReplicas: [],
  });
  // The first target replica is not live: the next one leads.
  assert.deepEqual(completionChange(reg([2, 3, 1], [1, 2, 3], 1, [3], [1]), new Set([1, 3]))?.leader, 3);
  // Only removing: completes at once.
  assert.deepEqual(completionChange(reg([2, 1], [1, 2], 2, [], [1]), live), {
    replicas: [2],
    isr: [2],
    addingReplicas: [],
    removingReplicas: [],
  });
  // Only removing, but only removed replicas are in the ISR: waits.
  assert.equal(completionChange(reg([2, 1], [1], 1, [], [1]), live), undefined);
});

test('cancel: back to the original replicas; none running or an unclean revert is refused', () => {
  const c = cancelChange(reg([2, 3, 1], [1, 2, 3], 1, [3], [1]));
  // As Kafka's revert: the replicas without the added ones, in their current order.
  assert.deepEqual(c, { replicas: [2, 1], isr: [1, 2], addingReplicas: [], removingReplicas: [] });
  assert.deepEqual(cancelChange(reg([2, 3, 1], [1, 3], 3, [3], [1])), {
    replicas: [2, 1],
    isr: [1],
    addingReplicas: [],
    removingReplicas: [],
    leader: 1,
  });
  const none = cancelChange(reg([1, 2], [1, 2], 1));
  assert.equal('code' in none && none.code, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
  const unclean = cancelChange(reg([3, 1], [3], 3, [3], [1]));
  assert.equal('code' in unclean && unclean.code, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
});

test('a full move [1,2] -> [2,3] through start, ISR expansion and completion', () => {
  let p = reg([1, 2], [1, 2], 1);
  p = applied(p, startChange(p, [2, 3]) as PartitionChange);
  assert.deepEqual([p.replicas, p.isr, p.addingReplicas, p.removingReplicas], [[2, 3, 1], [1, 2], [3], [1]]);
  p = applied(p, { isr: [1, 2, 3] }); // the leader's AlterPartition once 3 caught up
  p = applied(p, completionChange(p, new Set([1, 2, 3]))!);
  assert.deepEqual(
    [p.replicas, p.isr, p.leader, p.addingReplicas, p.removingReplicas],
    [[2, 3], [2, 3], 2, undefined, undefined],
  );
});

test('target validation as Kafka: empty, duplicate, unregistered broker, replication factor change (KIP-860)', () => {
  const image = new MetadataImage({ clusterId: 'c', controllerId: 1, brokers });
  const p = reg([1, 2], [1, 2], 1);
  const code = (t: number[], allowRf = true) => validateTarget(image, p, t, allowRf)?.code;
  assert.equal(code([]), ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.equal(code([2, 2]), ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.equal(code([2, 9]), ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.equal(code([2, 3, 4], false), ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.equal(code([2, 3, 4], true), undefined);
  assert.equal(code([3, 4], false), undefined);
  // While a reassignment runs, its target's size is the replication factor.
  assert.equal(validateTarget(image, reg([2, 3, 4, 1], [1, 2], 1, [3, 4], [1]), [1, 2, 3], false), undefined);
});

function storeOf(states: PartitionRegistration[]) {
  let image = new MetadataImage({
    clusterId: 'c',
    controllerId: 1,
    brokers,
    topics: [topicImage({ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', configs: {} }, states)],
  });
  const writes: PartitionChange[] = [];
  let raceOnce = false;
  return {
    writes,
    race: () => {
      raceOnce = true;
    },
    store: {
      get image() {
        return image;
      },
      async alterPartition(topic: string, partition: number, epoch: number, change: PartitionChange) {
        const cur = image.partition(topic, partition)!;
        if (raceOnce) {
          // A leader's ISR change lands first: epoch + 1, ISR [1].
          raceOnce = false;
          const moved = { ...cur, isr: [1], partitionEpoch: cur.partitionEpoch + 1 };
          image = image.withTopic(topicImage(image.topic(topic)!, [moved]));
        }
        const now = image.partition(topic, partition)!;
        if (now.partitionEpoch !== epoch) throw new StorageError('moved', ErrorCode.INVALID_UPDATE_VERSION);
        writes.push(change);
        const next = { ...applied(now, change), partition, partitionEpoch: now.partitionEpoch + 1 };
        image = image.withTopic(topicImage(image.topic(topic)!, [next]));
        return next;
      },
    },
  };
}

test('alterReassignment: a lost CAS is recomputed from the newer state; errors per partition', async () => {
  const s = storeOf([reg([1, 2], [1, 2], 1)]);
  s.race();
  assert.equal(await alterReassignment(s.store, 't', 0, [2, 3], false), undefined);
  assert.deepEqual(s.writes, [{ replicas: [2, 3, 1], isr: [1], addingReplicas: [3], removingReplicas: [1] }]);
  assert.deepEqual(listReassignments(s.store.image, null), [
    { name: 't', partitions: [{ partition: 0, replicas: [2, 3, 1], addingReplicas: [3], removingReplicas: [1] }] },
  ]);
  assert.deepEqual(listReassignments(s.store.image, [{ name: 'nope', partitionIndexes: [0] }]), []);
  assert.deepEqual(listReassignments(s.store.image, [{ name: 't', partitionIndexes: [1, 0] }])[0].partitions.length, 1);
  assert.equal((await alterReassignment(s.store, 'nope', 0, [2], true))?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal((await alterReassignment(s.store, 't', 3, [2], true))?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(await alterReassignment(s.store, 't', 0, null, true), undefined, 'cancel');
  // As Kafka's revert: the replicas without the added ones, in their current order.
  assert.deepEqual(s.store.image.partition('t', 0)!.replicas, [2, 1]);
  assert.equal(s.store.image.partition('t', 0)!.leader, 1);
  assert.deepEqual(listReassignments(s.store.image, null), []);
  assert.equal((await alterReassignment(s.store, 't', 0, null, true))?.code, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
  assert.equal(s.writes.length, 2);
});
