import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../storage/partition-log.js';
import { MemoryFileSystem } from '../../storage/memory-fs.js';
import { FakeClock } from '../../storage/clock.js';
import { HighWatermarkCheckpoint, REPLICATION_OFFSET_CHECKPOINT } from '../../replication/hw-checkpoint.js';
import type { Partition } from '../../replication/partition.js';
import { ReplicaManager, type LogSource } from '../../replication/replica-manager.js';
import { DEFAULT_LOG_CONFIG } from '../helpers/log-config.js';
import { MemoryCluster } from '../helpers/memory-cluster.js';
import { batchOf } from '../storage/helpers.js';

const FILE = `/data/${REPLICATION_OFFSET_CHECKPOINT}`;

class Logs implements LogSource {
  readonly map = new Map<string, PartitionLog>();
  constructor(
    private readonly fs: MemoryFileSystem,
    private readonly clock: FakeClock,
  ) {}
  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.map.get(`${topic}-${partition}`);
  }
  allLogs(): PartitionLog[] {
    return [...this.map.values()];
  }
  async add(topic: string, partition: number): Promise<PartitionLog> {
    const log = await PartitionLog.open(
      `/data/${topic}-${partition}`,
      { ...DEFAULT_LOG_CONFIG, cleanupPolicy: ['delete'] },
      { fs: this.fs, clock: this.clock, autoAdvanceHighWatermark: false },
    );
    this.map.set(`${topic}-${partition}`, log);
    return log;
  }
  /** Close and open every log again, as a restart does (the HW starts at the log end). */
  async reopen(): Promise<void> {
    for (const [k, log] of [...this.map]) {
      await log.close();
      await this.add(log.topic, log.partition);
      assert.equal(this.map.get(k)!.highWatermark, this.map.get(k)!.logEndOffset);
    }
  }
}

async function text(fs: MemoryFileSystem): Promise<string | undefined> {
  try {
    return (await fs.readFile(FILE)).toString('utf8');
  } catch {
    return undefined;
  }
}

test('written every interval on the clock and on close, in the offset-checkpoint format', async () => {
  const clock = new FakeClock(0);
  const fs = new MemoryFileSystem();
  await fs.mkdirp('/data');
  const logs = new Logs(fs, clock);
  await logs.add('a', 0);
  await logs.add('b', 3);
  const rm = new ReplicaManager(logs, { clock });
  await rm.appendRecords('a', 0, batchOf(5));
  const cp = new HighWatermarkCheckpoint({
    fs,
    dataDir: '/data',
    clock,
    intervalMs: 5000,
    partitions: () => rm.allPartitions(),
  });
  cp.start();
  await clock.advanceAndSettle(4999);
  assert.equal(await text(fs), undefined, 'nothing before the first interval');
  await clock.advanceAndSettle(1);
  assert.equal(await text(fs), '0\n2\na 0 5\nb 3 0\n');
  await rm.appendRecords('b', 3, batchOf(2));
  await clock.advanceAndSettle(4999);
  assert.equal(await text(fs), '0\n2\na 0 5\nb 3 0\n');
  await clock.advanceAndSettle(1);
  assert.equal(await text(fs), '0\n2\na 0 5\nb 3 2\n');
  await rm.appendRecords('a', 0, batchOf(1));
  await cp.close();
  assert.equal(await text(fs), '0\n2\na 0 6\nb 3 2\n', 'a clean stop writes the latest');
  assert.equal(clock.pendingTimers, 0, 'no timer left after close');
  assert.deepEqual(
    await HighWatermarkCheckpoint.load(fs, '/data'),
    new Map([
      ['a-0', 6],
      ['b-3', 2],
    ]),
  );
  assert.equal((await fs.readdir('/data')).includes(`${REPLICATION_OFFSET_CHECKPOINT}.tmp`), false);
  for (const l of logs.allLogs()) await l.close();
});

test('a missing or unreadable file loads as empty (with a warning)', async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp('/data');
  assert.equal((await HighWatermarkCheckpoint.load(fs, '/data')).size, 0);
  await fs.writeFile(FILE, Buffer.from('0\n3\nx 0 1\n'));
  const warnings: string[] = [];
  const got = await HighWatermarkCheckpoint.load(fs, '/data', { warn: (_o, m) => warnings.push(m) });
  assert.equal(got.size, 0);
  assert.equal(warnings.length, 1);
});

test('in a cluster a restarted replica starts from the checkpointed HW, not its log end', async () => {
  const clock = new FakeClock(0);
  const fs = new MemoryFileSystem();
  const logs = new Logs(fs, clock);
  // Logs as a restart finds them: 10 records in t-0, 6 in t-1, 3 in t-2 (HW at the log end when opened).
  for (const [p, n] of [
    [0, 10],
    [1, 6],
    [2, 3],
  ]) {
    const log = await logs.add('t', p);
    for (let i = 0; i < n; i++) await log.append(batchOf(1), { leaderEpoch: 0 });
  }
  await logs.reopen();
  const cluster = new MemoryCluster([1, 2]);
  await cluster.createTopic('t', {
    partitions: 3,
    replicas: [
      [1, 2],
      [2, 1],
      [1, 2],
    ],
  });
  // Node 2 follows t-0 and t-2 and leads t-1 (its ISR [2, 1] waits for node 1 before the HW moves).
  const rm = new ReplicaManager(logs, {
    clock,
    store: cluster.view(2),
    initialHighWatermarks: new Map([
      ['t-0', 4],
      ['t-1', 2],
      ['t-2', 99],
    ]),
  });
  rm.start();
  const p0 = rm.getPartition('t', 0) as Partition;
  const p1 = rm.getPartition('t', 1) as Partition;
  const p2 = rm.getPartition('t', 2) as Partition;
  assert.equal(p0.isLeader, false);
  assert.equal(p0.highWatermark, 4, 'follower: the checkpointed HW');
  assert.equal(p0.logEndOffset, 10);
  assert.equal(p1.isLeader, true);
  assert.equal(p1.highWatermark, 2, 'leader: the checkpointed HW until the ISR confirms more');
  assert.equal(p2.highWatermark, 3, 'clamped to the log end');
  // A consumer read on the follower stops at the HW.
  const r = await p0.read(0, 1 << 20);
  const offsets: bigint[] = [];
  for (let pos = 0; pos + 12 <= r.records.length; pos += 12 + r.records.readInt32BE(pos + 8)) {
    offsets.push(r.records.readBigInt64BE(pos));
  }
  assert.deepEqual(offsets, [0n, 1n, 2n, 3n], 'records below the HW only');
  const past = await p0.read(4, 1 << 20);
  assert.equal(past.records.length, 0, 'nothing at or above the HW');
  // The leader's HW moves once the follower confirms its end.
  p1.recordFollowerFetch(1, 6, clock.now());
  assert.equal(p1.highWatermark, 6);
  rm.shutdown();
  for (const l of logs.allLogs()) await l.close();
});

test('without a store (single node) the HW is the log end whatever the checkpoint says', async () => {
  const clock = new FakeClock(0);
  const logs = new Logs(new MemoryFileSystem(), clock);
  const log = await logs.add('t', 0);
  await log.append(batchOf(7), { leaderEpoch: 0 });
  await logs.reopen();
  const rm = new ReplicaManager(logs, { clock, initialHighWatermarks: new Map([['t-0', 2]]) });
  assert.equal((rm.getPartition('t', 0) as Partition).highWatermark, 7);
  for (const l of logs.allLogs()) await l.close();
});
