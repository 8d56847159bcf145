import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import {
  encodeListOffsetsRequest,
  defaultListOffsetsRequest,
  type ListOffsetsRequest,
} from '../../../protocol/generated/list-offsets-request.js';
import { decodeListOffsetsResponse } from '../../../protocol/generated/list-offsets-response.js';
import { buildRecordBatch } from '../../../protocol/records/builder.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { partitionOf } from '../../helpers/partitions.js';

const T0 = 1_700_000_000_000;
const env = useBrokerAndClient({
  topics: [{ name: 't', partitions: 1 }],
  setup: async (b) => {
    const log = partitionOf(b.broker, 't', 0);
    // 10 records one second apart, two per batch; the largest timestamp is at offset 7.
    for (let i = 0; i < 10; i += 2) {
      const ts = (k: number) => (k === 7 ? T0 + 100_000 : T0 + k * 1000);
      await log.appendAsLeader(
        await buildRecordBatch([
          { value: `${i}`, timestamp: ts(i) },
          { value: `${i + 1}`, timestamp: ts(i + 1) },
        ]),
      );
    }
  },
});

function req(ts: number, partition = 0): ListOffsetsRequest {
  const r = defaultListOffsetsRequest();
  r.replicaId = -1;
  r.topics = [
    {
      name: 't',
      partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: BigInt(ts), maxNumOffsets: 1 }],
    },
  ];
  return r;
}
const list = (v: number, ts: number, partition = 0) =>
  call(env.client, 2, v, encodeListOffsetsRequest, decodeListOffsetsResponse, req(ts, partition)).then(
    (r) => r.topics[0].partitions[0],
  );

test('earliest, latest and by time through the time index, versions 1-10', async () => {
  for (let v = 1; v <= 10; v++) {
    assert.equal((await list(v, -2)).offset, 0n, `earliest v${v}`);
    assert.equal((await list(v, -1)).offset, 10n, `latest v${v}`);
    const at = await list(v, T0 + 4500);
    assert.equal(at.offset, 5n, `by time v${v}`);
    assert.equal(at.timestamp, BigInt(T0 + 5000));
    assert.equal((await list(v, T0 - 5000)).offset, 0n);
    assert.equal((await list(v, T0 + 10_000_000)).offset, -1n, 'after the last record');
  }
});

test('max timestamp (v7+) and v0 old-style offsets', async () => {
  const m = await list(7, -3);
  assert.equal(m.offset, 7n);
  assert.equal(m.timestamp, BigInt(T0 + 100_000));
  const v0 = await list(0, -1);
  assert.deepEqual(v0.oldStyleOffsets, [10n]);
});

test('unknown partition', async () => {
  assert.equal((await list(5, -1, 3)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

test('the current leader epoch is checked against the partition: newer → UNKNOWN, older → FENCED', async () => {
  await env.broker.broker.metadata.createTopic('le', { partitions: 1 });
  const p = partitionOf(env.broker.broker, 'le', 0);
  await p.appendAsLeader(await buildRecordBatch([{ value: 'x' }]));
  p.makeLeader(3); // what a leadership change will do
  const ask = (currentLeaderEpoch: number) => {
    const r = defaultListOffsetsRequest();
    r.replicaId = -1;
    r.topics = [
      { name: 'le', partitions: [{ partitionIndex: 0, currentLeaderEpoch, timestamp: -1n, maxNumOffsets: 1 }] },
    ];
    return call(env.client, 2, 10, encodeListOffsetsRequest, decodeListOffsetsResponse, r).then(
      (res) => res.topics[0].partitions[0],
    );
  };
  const current = await ask(3);
  assert.equal(current.errorCode, ErrorCode.NONE);
  assert.equal(current.offset, 1n);
  assert.equal((await ask(-1)).errorCode, ErrorCode.NONE, '-1: not checked');
  assert.equal((await ask(2)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal((await ask(0)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal((await ask(4)).errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
});
