/**
 * A load that takes several reads of a partition: __consumer_offsets (one partition, 1 MiB segments) holds
 * over 3 MiB of commits whose metadata differs in every commit, so the replay reads it segment after
 * segment into one reused buffer (internal-topic.ts `reads(p, true)`) while LastValues borrows the values
 * of each read until its end (offsets-replay.ts `release`). One group stops committing early, so its last
 * values come from the second read (the first one into the reused buffer), which later reads overwrite.
 * After a restart every group fetches its last commit with its metadata intact: a value kept as a view of
 * the reused buffer would show a later read's bytes (the test fails without the release).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBroker } from '../../helpers/test-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { commitFour, fetchCommitted } from '../../helpers/group-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const TOPIC = 'reads-src';
const GROUPS = ['rg-0', 'rg-1', 'rg-2'];
const ROUNDS = 120;
/** rg-0 commits in rounds 1..EARLY only: its last values lie in the second read, the first into the reused buffer. */
const EARLY = 45;
const lastRound = (g: number): number => (g === 0 ? EARLY : ROUNDS);
const config = { 'offsets.topic.num.partitions': 1, 'log.cleaner.enable': false };

/** Metadata of 2,900 bytes, different for every group, round and partition. */
const meta = (g: number, round: number, p: number): string => `${g}:${round}:${p}:`.padEnd(2900, String(round % 10));

async function committed(c: RawClient, groupId: string): Promise<string[]> {
  const r = await fetchCommitted(c, 8, { groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }] });
  assert.equal(r.groups[0]!.errorCode, ErrorCode.NONE);
  return r.groups[0]!.topics.flatMap((t) =>
    t.partitions.map((p) => `${p.partitionIndex}=${p.committedOffset}:${p.metadata}`),
  ).sort();
}

test('a load of several reads keeps every last value intact', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-offsets-reads-'));
  const expected = (g: number): string[] =>
    [0, 1, 2, 3].map((p) => `${p}=${lastRound(g) * 10 + p}:${meta(g, lastRound(g), p)}`);
  try {
    let b = await testBroker({ dataDir, config });
    const c = await RawClient.connect(b.port);
    try {
      await b.createTopic(TOPIC, 4);
      for (let round = 1; round <= ROUNDS; round++) {
        for (const [g, groupId] of GROUPS.entries()) {
          if (round > lastRound(g)) continue;
          const codes = await commitFour(c, TOPIC, groupId, round, (p) => meta(g, round, p));
          assert.deepEqual(codes, [0, 0, 0, 0]);
        }
      }
    } finally {
      c.close();
      await b.stop();
    }
    b = await testBroker({ dataDir, config });
    const c2 = await RawClient.connect(b.port);
    try {
      const log = b.broker.services.partitions.getPartition('__consumer_offsets', 0);
      assert.ok(typeof log !== 'number' && log.logEndOffset === (EARLY + 2 * ROUNDS) * 4);
      for (const [g, groupId] of GROUPS.entries()) assert.deepEqual(await committed(c2, groupId), expected(g), groupId);
    } finally {
      c2.close();
      await b.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
