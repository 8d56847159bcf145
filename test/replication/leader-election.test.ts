import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { electLeader, PREFERRED_ELECTION, UNCLEAN_ELECTION } from '../../replication/leader-election.js';
import { NO_LEADER, type PartitionRegistration } from '../../replication/metadata/image.js';

const reg = (replicas: number[], isr: number[], leader: number): PartitionRegistration => ({
  partition: 0,
  replicas,
  isr,
  leader,
  leaderEpoch: 1,
  partitionEpoch: 2,
});
const ids = (...x: number[]): Set<number> => new Set(x);
const errorOf = (e: ReturnType<typeof electLeader>): number | undefined => ('error' in e ? e.error : undefined);

test('PREFERRED: not needed when the first replica leads; elected when active and in sync; else not available', () => {
  const all = ids(1, 2, 3);
  assert.equal(errorOf(electLeader(reg([1, 2, 3], [1, 2, 3], 1), PREFERRED_ELECTION, all, all)), 84);
  assert.deepEqual(electLeader(reg([1, 2, 3], [1, 2, 3], 2), PREFERRED_ELECTION, all, all), { change: { leader: 1 } });
  assert.equal(
    errorOf(electLeader(reg([1, 2, 3], [2, 3], 2), PREFERRED_ELECTION, all, all)),
    ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
  );
  assert.equal(
    errorOf(electLeader(reg([1, 2, 3], [1, 2, 3], 2), PREFERRED_ELECTION, ids(2, 3), all)),
    ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
  );
  assert.deepEqual(electLeader(reg([1, 2], [1], NO_LEADER), PREFERRED_ELECTION, all, all), {
    change: { leader: 1 },
  });
});

test('UNCLEAN: not needed with a live leader; clean ISR candidate first; else any active replica; else none', () => {
  const all = ids(1, 2, 3);
  assert.equal(
    errorOf(electLeader(reg([1, 2, 3], [1, 2, 3], 2), UNCLEAN_ELECTION, all, all)),
    ErrorCode.ELECTION_NOT_NEEDED,
  );
  assert.deepEqual(electLeader(reg([1, 2, 3], [1, 3], NO_LEADER), UNCLEAN_ELECTION, ids(2, 3), ids(2, 3)), {
    change: { leader: 3, isr: [3] },
  });
  assert.deepEqual(electLeader(reg([1, 2, 3], [1], NO_LEADER), UNCLEAN_ELECTION, ids(2, 3), ids(2, 3)), {
    change: { leader: 2, isr: [2] },
  });
  // The leader's broker is gone (not live): an election is needed.
  assert.deepEqual(electLeader(reg([1, 2, 3], [1], 1), UNCLEAN_ELECTION, ids(3), ids(3)), {
    change: { leader: 3, isr: [3] },
  });
  assert.equal(
    errorOf(electLeader(reg([1, 2], [1], NO_LEADER), UNCLEAN_ELECTION, ids(3), ids(3))),
    ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
  );
});
