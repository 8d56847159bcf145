/**
 * A restart serves while __consumer_offsets is replayed (as Kafka): the listener opens before the group
 * load, a group of the partition being loaded gets COORDINATOR_LOAD_IN_PROGRESS meanwhile, other requests
 * are answered, and start() resolves once the load is done, after which the group fetches its commit. The
 * replay's reads of the offsets log are held by a gate in the (in-memory) file system until the test opens it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../broker/broker.js';
import { BrokerConfig } from '../../../broker/config.js';
import { MemoryFileSystem } from '../../../storage/memory-fs.js';
import type { FileHandle, FileSystem } from '../../../storage/fs.js';
import { RawClient } from '../../helpers/raw-client.js';
import { commit, fetchCommitted } from '../../helpers/group-client.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';

const config = (): BrokerConfig =>
  new BrokerConfig({
    overrides: {
      'admin.port': -1,
      port: 0,
      host: '127.0.0.1',
      'data.dir': '/data',
      'offsets.topic.num.partitions': 1,
    },
  });

/** `fs`, except that reads of __consumer_offsets log segments wait for `open()` while `armed`. */
function gatedFs(fs: MemoryFileSystem): { fs: FileSystem; arm: () => void; open: () => void; held: () => number } {
  let armed = false;
  let held = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const wrap = (h: FileHandle): FileHandle =>
    new Proxy(h, {
      get(target, prop, receiver) {
        if (prop !== 'read') return Reflect.get(target, prop, receiver);
        return async (buffer: Buffer, offset: number, length: number, position: number): Promise<number> => {
          if (armed) {
            held++;
            await gate;
          }
          return target.read(buffer, offset, length, position);
        };
      },
    });
  const gated = new Proxy(fs, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== 'open') return typeof v === 'function' ? v.bind(target) : v;
      return async (path: string, options?: unknown) => {
        const h = await target.open(path, options as never);
        return /__consumer_offsets-\d+\/\d+\.log$/.test(path) ? wrap(h) : h;
      };
    },
  }) as FileSystem;
  return { fs: gated, arm: () => (armed = true), open: release, held: () => held };
}

async function fetchOne(c: RawClient): Promise<{ errorCode: number; offsets: string[] }> {
  const r = await fetchCommitted(c, 8, { groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: null }] });
  const g = r.groups[0]!;
  return { errorCode: g.errorCode, offsets: g.topics.flatMap((t) => t.partitions.map((p) => `${p.committedOffset}`)) };
}

test('the listener serves while the groups load; their groups wait with LOAD_IN_PROGRESS', {
  timeout: 60_000,
}, async () => {
  const memory = new MemoryFileSystem();
  const first = new Broker(config(), { fs: memory });
  const info = await first.start();
  await first.metadata.createTopic('t', { partitions: 1 });
  const c = await RawClient.connect(info.port);
  try {
    const r = await commit(c, 8, {
      groupId: 'g',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [
        {
          name: 't',
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 7n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: '',
            },
          ],
        },
      ],
    });
    assert.equal(r.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  } finally {
    c.close();
    await first.stop();
  }
  const g = gatedFs(memory);
  const second = new Broker(config(), { fs: g.fs });
  g.arm();
  // The bound listeners before start() resolves: Broker's private `info` (set once they listen).
  const listening = (): { port: number } | undefined => (second as unknown as { info?: { port: number } }).info;
  let started = false;
  const starting = second.start().then((i) => {
    started = true;
    return i;
  });
  try {
    // The listener opens while the replay waits at the gate (bounded wait).
    for (let i = 0; i < 2000 && (listening() === undefined || g.held() === 0); i++)
      await new Promise((r) => setTimeout(r, 5));
    assert.ok(listening(), 'listening while the offsets load');
    assert.ok(g.held() > 0, 'the replay is held');
    const c2 = await RawClient.connect(listening()!.port);
    try {
      assert.deepEqual(await fetchOne(c2), { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, offsets: [] });
      assert.equal(started, false, 'start() waits for the load');
      g.open();
      await starting;
      assert.deepEqual(await fetchOne(c2), { errorCode: ErrorCode.NONE, offsets: ['7'] });
    } finally {
      c2.close();
    }
  } finally {
    g.open();
    await starting.catch(() => undefined);
    await second.stop();
  }
});
