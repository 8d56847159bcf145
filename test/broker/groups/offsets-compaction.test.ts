/**
 * __consumer_offsets is compacted like any compacted topic, and a load replays the compacted log right:
 * groups (simple consumers and a member of a classic group) commit 4 partitions concurrently, 40 times each,
 * one group is deleted (tombstones); with a small offsets.topic.segment.bytes the segments roll and the
 * cleaner (every 100 ms) shrinks the partition to about one record per key; after a restart on the same
 * data directory every group fetches its last commit (offset and metadata), the deleted group nothing, and
 * the classic group is loaded with its member.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBroker, call } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { commitFour, fetchCommitted, joinAndSync } from '../../helpers/group-client.js';
import { encodeDeleteGroupsRequest } from '../../../protocol/generated/delete-groups-request.js';
import { decodeDeleteGroupsResponse } from '../../../protocol/generated/delete-groups-response.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { OFFSETS_TOPIC, OffsetsTopicLog } from '../../../broker/groups/offsets-log.js';
import type { RunningBroker } from '../../../broker/index.js';

const TOPIC = 'compact-src';
const ROUNDS = 40;
const GROUPS = ['cg-member', 'cg-1', 'cg-2', 'cg-3', 'cg-gone'];
const config = {
  'offsets.topic.num.partitions': 1,
  'offsets.topic.segment.bytes': 4096,
  'log.cleaner.backoff.ms': 100,
  'group.initial.rebalance.delay.ms': 0,
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Commit offset round*10+p with metadata `m<round>` for partitions 0-3; returns the error codes. */
const commitRound = (
  c: RawClient,
  groupId: string,
  round: number,
  member: { memberId: string; generationId: number } | null,
): Promise<number[]> => commitFour(c, TOPIC, groupId, round, () => `m${round}`, member);

async function committed(c: RawClient, groupId: string): Promise<string[]> {
  const r = await fetchCommitted(c, 8, { groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }] });
  assert.equal(r.groups[0]!.errorCode, ErrorCode.NONE);
  return r.groups[0]!.topics.flatMap((t) =>
    t.partitions.map((p) => `${t.name}/${p.partitionIndex}=${p.committedOffset}:${p.metadata}`),
  ).sort();
}

/** Records now stored in __consumer_offsets-0 (what a load reads). */
async function storedRecords(b: RunningBroker): Promise<number> {
  const r = await new OffsetsTopicLog(b.broker.services).replayPartition(0, () => undefined);
  return r.count;
}

test('__consumer_offsets is compacted and its compacted log loads the last commits', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-offsets-compaction-'));
  const expected = [0, 1, 2, 3].map((p) => `${TOPIC}/${p}=${ROUNDS * 10 + p}:m${ROUNDS}`);
  try {
    let b = await testBroker({ dataDir, config });
    const clients = await Promise.all(GROUPS.map(() => RawClient.connect(b.port)));
    let member: { memberId: string; generationId: number };
    try {
      await b.createTopic(TOPIC, 4);
      member = await joinAndSync(clients[0]!, { join: 5, sync: 3 }, GROUPS[0]!);
      for (let round = 1; round <= ROUNDS; round++) {
        // Every group at once: their writes share batches (group commit) and roll segments.
        const codes = await Promise.all(
          GROUPS.map((g, i) => commitRound(clients[i]!, g, round, i === 0 ? member : null)),
        );
        assert.deepEqual(codes.flat(), Array(GROUPS.length * 4).fill(ErrorCode.NONE), `round ${round}`);
      }
      const del = await call(clients[1]!, 42, 2, encodeDeleteGroupsRequest, decodeDeleteGroupsResponse, {
        groupsNames: ['cg-gone'],
      });
      assert.equal(del.results[0]!.errorCode, ErrorCode.NONE);
      const written = GROUPS.length * 4 * ROUNDS;
      // The cleaner compacts the closed segments: bounded wait until at most a quarter is left.
      let stored = await storedRecords(b);
      for (let i = 0; i < 300 && stored > written / 4; i++) {
        await sleep(100);
        stored = await storedRecords(b);
      }
      assert.ok(stored <= written / 4, `${stored} of ${written} records left after compaction`);
      for (const g of GROUPS.slice(0, 4)) assert.deepEqual(await committed(clients[1]!, g), expected, g);
      assert.deepEqual(await committed(clients[1]!, 'cg-gone'), []);
    } finally {
      for (const c of clients) c.close();
      await b.stop();
    }
    // Load of the compacted log.
    b = await testBroker({ dataDir, config });
    const c = await RawClient.connect(b.port);
    try {
      for (const g of GROUPS.slice(0, 4)) assert.deepEqual(await committed(c, g), expected, `${g} after restart`);
      assert.deepEqual(await committed(c, 'cg-gone'), []);
      assert.equal(b.broker.groups.groups.has('cg-gone'), false);
      const loaded = b.broker.groups.groups.get(GROUPS[0]!);
      assert.equal(loaded?.state, 'Stable');
      assert.equal(loaded?.generation, member.generationId);
      assert.deepEqual([...loaded.members.keys()], [member.memberId]);
    } finally {
      c.close();
      await b.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the topic is created compacted, with offsets.topic.segment.bytes', { timeout: 60_000 }, async () => {
  const b = await testBroker({ config });
  const c = await RawClient.connect(b.port);
  try {
    await b.createTopic(TOPIC, 4);
    assert.deepEqual(await commitRound(c, 'cg-config', 1, null), [0, 0, 0, 0]);
    const t = b.broker.services.metadata.image.topic(OFFSETS_TOPIC);
    assert.equal(t?.partitions, 1);
    assert.equal(t?.configs['cleanup.policy'], 'compact');
    assert.equal(t?.configs['segment.bytes'], '4096');
  } finally {
    c.close();
    await b.stop();
  }
});
