/**
 * Deleting a topic removes the groups' committed offsets for it, with tombstones in __consumer_offsets, as
 * Kafka does: offsets of other topics stay; a group left Empty without offsets is deleted; after a restart
 * on the same data directory (replay) the offsets are still gone. Both deletion paths: DeleteTopics over
 * the wire and the embedded `deleteTopic`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBroker, call } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { commit, fetchCommitted } from '../../helpers/group-client.js';
import { encodeDeleteTopicsRequest } from '../../../protocol/generated/delete-topics-request.js';
import { decodeDeleteTopicsResponse } from '../../../protocol/generated/delete-topics-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

async function simpleCommit(
  c: RawClient,
  groupId: string,
  topic: string,
  partition: number,
  offset: bigint,
): Promise<number> {
  const r = await commit(c, 8, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    topics: [
      {
        name: topic,
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [
          {
            partitionIndex: partition,
            committedOffset: offset,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: 'm',
          },
        ],
      },
    ],
  });
  return r.topics[0]!.partitions[0]!.errorCode;
}

async function committed(c: RawClient, groupId: string): Promise<string[]> {
  const r = await fetchCommitted(c, 8, { groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }] });
  assert.equal(r.groups[0]!.errorCode, ErrorCode.NONE);
  return r.groups[0]!.topics.flatMap((t) =>
    t.partitions.map((p) => `${t.name}/${p.partitionIndex}=${p.committedOffset}`),
  ).sort();
}

test('deleting a topic removes its committed offsets from every group, durably', { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-topic-del-'));
  try {
    let b = await testBroker({ dataDir, config: { 'offsets.topic.num.partitions': 3 } });
    let c = await RawClient.connect(b.port);
    try {
      for (const t of ['keep', 'gone', 'gone2']) await b.createTopic(t, 2);
      assert.equal(await simpleCommit(c, 'g-both', 'keep', 0, 5n), 0);
      assert.equal(await simpleCommit(c, 'g-both', 'gone', 1, 7n), 0);
      assert.equal(await simpleCommit(c, 'g-only', 'gone', 0, 3n), 0);
      assert.equal(await simpleCommit(c, 'g-two', 'gone2', 0, 4n), 0);
      assert.equal(await simpleCommit(c, 'g-two', 'keep', 1, 8n), 0);

      const del = await call(c, 20, 6, encodeDeleteTopicsRequest, decodeDeleteTopicsResponse, {
        topicNames: [],
        timeoutMs: 5000,
        topics: [{ name: 'gone', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
      });
      assert.equal(del.responses[0]!.errorCode, ErrorCode.NONE);
      assert.deepEqual(await committed(c, 'g-both'), ['keep/0=5']);
      assert.deepEqual(await committed(c, 'g-only'), []);
      assert.equal(b.broker.groups.groups.has('g-only'), false, 'a group left with nothing is deleted');
      assert.equal(await b.deleteTopic('gone2'), true);
      assert.deepEqual(await committed(c, 'g-two'), ['keep/1=8']);
    } finally {
      c.close();
      await b.stop();
    }
    // Replay: the tombstones keep the offsets deleted.
    b = await testBroker({ dataDir, config: { 'offsets.topic.num.partitions': 3 } });
    c = await RawClient.connect(b.port);
    try {
      assert.deepEqual(await committed(c, 'g-both'), ['keep/0=5']);
      assert.deepEqual(await committed(c, 'g-only'), []);
      assert.deepEqual(await committed(c, 'g-two'), ['keep/1=8']);
      assert.equal(b.broker.groups.groups.has('g-only'), false);
    } finally {
      c.close();
      await b.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
