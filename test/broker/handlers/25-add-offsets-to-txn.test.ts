import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient } from '../../helpers/test-broker.js';
import { addOffsets, describeTxns, initTxn } from '../../helpers/txn-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { offsetsPartitionFor } from '../../../broker/groups/records.js';

const env = useBrokerAndClient({ config: { 'offsets.topic.num.partitions': 5 } });

test("v0-v4: the group's __consumer_offsets partition joins the transaction", async () => {
  for (const v of [0, 1, 2, 3, 4]) {
    const p = await initTxn(env.broker, `aot-${v}`);
    const group = `group-${v}`;
    assert.equal(await addOffsets(env.client, v, p, group), 0);
    const d = (await describeTxns(env.client, [p.id])).transactionStates[0]!;
    assert.equal(d.transactionState, 'Ongoing');
    assert.deepEqual(d.topics, [{ topic: '__consumer_offsets', partitions: [offsetsPartitionFor(group, 5)] }]);
    assert.equal(
      await addOffsets(env.client, v, { ...p, epoch: p.epoch + 1 }, group),
      v < 2 ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.PRODUCER_FENCED,
    );
    assert.equal(
      await addOffsets(env.client, v, { ...p, id: 'unknown-id' }, group),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    assert.equal(await addOffsets(env.client, v, p, ''), ErrorCode.INVALID_GROUP_ID);
  }
  assert.equal(env.broker.broker.metadata.image.topic('__consumer_offsets')?.partitions, 5);
});
