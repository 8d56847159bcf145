import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { fetchCommitted, joinAndSync } from '../../helpers/group-client.js';
import { addOffsets, committedOffsets, endTxn, initTxn, txnCommit } from '../../helpers/txn-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { iterateBatches } from '../../../protocol/records/batch.js';
import { decodeOffsetValue, offsetKey, offsetsPartitionFor } from '../../../broker/groups/records.js';

const env = useBrokerAndClient({
  config: { 'group.initial.rebalance.delay.ms': 0 },
  topics: [{ name: 'in', partitions: 2 }],
});

/** EndTxn answers once the decision is durable; the markers (and the offsets they release) follow. */
const markersWritten = (): Promise<void> => env.broker.broker.transactions.idle();

test('v0-v4: offsets become visible only when the transaction commits; an abort drops them', async () => {
  for (const v of [0, 1, 2, 3, 4]) {
    const group = `tg-${v}`;
    const p = await initTxn(env.broker, `toc-${v}`);
    assert.deepEqual(
      await txnCommit(env.client, v, p, group, 'in', [[0, 5]]),
      [ErrorCode.INVALID_TXN_STATE],
      'AddOffsetsToTxn first',
    );
    assert.equal(await addOffsets(env.client, 3, p, group), 0);
    assert.deepEqual(
      await txnCommit(env.client, v, p, group, 'in', [
        [0, 5],
        [1, 7],
        [9, 1],
      ]),
      [0, 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    );
    assert.deepEqual(await txnCommit(env.client, v, { ...p, epoch: p.epoch + 1 }, group, 'in', [[0, 6]]), [
      ErrorCode.INVALID_PRODUCER_EPOCH,
    ]);
    assert.deepEqual(await txnCommit(env.client, v, { ...p, pid: p.pid + 3n }, group, 'in', [[0, 6]]), [
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    ]);
    assert.deepEqual(await committedOffsets(env.client, group, 'in', [0, 1]), new Map(), 'invisible before the commit');
    assert.equal(await endTxn(env.client, 3, p, true), 0);
    await markersWritten();
    assert.deepEqual(
      await committedOffsets(env.client, group, 'in', [0, 1]),
      new Map([
        [0, 5],
        [1, 7],
      ]),
    );

    const q = await initTxn(env.broker, `toc-${v}`);
    assert.equal(await addOffsets(env.client, 3, q, group), 0);
    assert.deepEqual(await txnCommit(env.client, v, q, group, 'in', [[0, 50]]), [0]);
    assert.equal(await endTxn(env.client, 3, q, false), 0);
    await markersWritten();
    assert.deepEqual(
      await committedOffsets(env.client, group, 'in', [0, 1]),
      new Map([
        [0, 5],
        [1, 7],
      ]),
      'abort drops them',
    );
    assert.deepEqual(
      await lastRecordOf(group, 0),
      { transactional: false, offset: 5 },
      'the committed value is the latest record again',
    );
  }
});

/** The latest __consumer_offsets record of (group, 'in', partition): its batch kind and offset value. */
async function lastRecordOf(
  group: string,
  partition: number,
): Promise<{ transactional: boolean; offset: number | null }> {
  const key = offsetKey(group, 'in', partition);
  const log = env.broker.broker.logs.getLog(
    '__consumer_offsets',
    offsetsPartitionFor(group, env.broker.broker.metadata.image.topic('__consumer_offsets')!.partitions),
  )!;
  const res = await log.read(0, 1 << 22, { maxOffset: log.logEndOffset });
  let last: { transactional: boolean; offset: number | null } | undefined;
  for (const batch of iterateBatches(res.records)) {
    if (batch.isControl) continue;
    for (const rec of await batch.recordsArray()) {
      if (rec.key?.equals(key))
        last = { transactional: batch.isTransactional, offset: rec.value ? decodeOffsetValue(rec.value).offset : null };
    }
  }
  return last!;
}

test('v3+: member and generation of a live group are checked', async () => {
  const group = 'members';
  const { memberId, generationId } = await joinAndSync(env.client, { join: 5, sync: 3 }, group);
  const p = await initTxn(env.broker, 'toc-members');
  assert.equal(await addOffsets(env.client, 3, p, group), 0);
  assert.deepEqual(await txnCommit(env.client, 3, p, group, 'in', [[0, 1]], { memberId: 'stranger', generationId }), [
    ErrorCode.UNKNOWN_MEMBER_ID,
  ]);
  assert.deepEqual(
    await txnCommit(env.client, 3, p, group, 'in', [[0, 1]], { memberId, generationId: generationId + 5 }),
    [ErrorCode.ILLEGAL_GENERATION],
  );
  assert.deepEqual(await txnCommit(env.client, 3, p, group, 'in', [[0, 9]], { memberId, generationId }), [0]);
  assert.equal(await endTxn(env.client, 3, p, true), 0);
  await markersWritten();
  assert.deepEqual(await committedOffsets(env.client, group, 'in', [0]), new Map([[0, 9]]));
});

test('OffsetFetch requireStable: an offset staged by an open transaction is UNSTABLE_OFFSET_COMMIT', async () => {
  const group = 'stable';
  const p = await initTxn(env.broker, 'toc-stable');
  assert.equal(await addOffsets(env.client, 3, p, group), 0);
  assert.deepEqual(await txnCommit(env.client, 3, p, group, 'in', [[0, 4]]), [0]);
  const ask = async (v: number, requireStable: boolean) => {
    const res = await fetchCommitted(
      env.client,
      v,
      v >= 8
        ? {
            groups: [
              {
                groupId: group,
                memberId: null,
                memberEpoch: -1,
                topics: [{ name: 'in', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionIndexes: [0, 1] }],
              },
            ],
            requireStable,
          }
        : { groupId: group, topics: [{ name: 'in', partitionIndexes: [0, 1] }], requireStable },
    );
    const parts = v >= 8 ? res.groups[0]!.topics[0]!.partitions : res.topics[0]!.partitions;
    return parts.map((x) => [x.partitionIndex, x.errorCode, Number(x.committedOffset)]);
  };
  for (const v of [7, 8]) {
    assert.deepEqual(
      await ask(v, true),
      [
        [0, ErrorCode.UNSTABLE_OFFSET_COMMIT, -1],
        [1, 0, -1],
      ],
      `v${v} stable`,
    );
    assert.deepEqual(
      await ask(v, false),
      [
        [0, 0, -1],
        [1, 0, -1],
      ],
      `v${v} not stable: the last committed (none)`,
    );
  }
  assert.equal(await endTxn(env.client, 3, p, true), 0);
  await markersWritten();
  assert.deepEqual(await ask(8, true), [
    [0, 0, 4],
    [1, 0, -1],
  ]);
});
