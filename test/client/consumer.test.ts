/**
 * Runnel's Consumer against an in-process broker: two group members splitting partitions (range and
 * roundrobin, as Java's assignors lay them out), commit and resume from the committed offset, auto-commit on
 * close, leaving the group, pause/resume, seek (offset, earliest, latest, timestamp), out-of-range reset,
 * and the async iterator.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Consumer, Producer, type ConsumerRecord } from '../../client/index.js';
import { rangeAssignor, roundRobinAssignor } from '../../client/group-protocol.js';
import { testBroker } from '../helpers/test-broker.js';
import type { RunningBroker } from '../../broker/index.js';

let b: RunningBroker;
let producer: Producer;
const T0 = 1_700_000_000_000;
before(async () => {
  b = await testBroker({
    topics: [
      { name: 'c-group', partitions: 4 },
      { name: 'c-commit', partitions: 2 },
      { name: 'c-pause', partitions: 2 },
      { name: 'c-seek', partitions: 1 },
      { name: 'c-grow', partitions: 2 },
      { name: 'c-rr1', partitions: 3 },
      { name: 'c-rr2', partitions: 3 },
    ],
  });
  producer = new Producer({ bootstrap: b.bootstrapServers, lingerMs: 1 });
});
after(async () => {
  await producer.close();
  await b.stop();
});

const fast = { heartbeatIntervalMs: 100, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 10_000 };

async function pollUntil(
  c: Consumer,
  cond: (got: ConsumerRecord[]) => boolean,
  timeoutMs = 15_000,
): Promise<ConsumerRecord[]> {
  const got: ConsumerRecord[] = [];
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 1000 && !cond(got) && Date.now() < end; i++) got.push(...(await c.poll(200)));
  return got;
}

const tp = (parts: Array<{ topic: string; partition: number }>): string[] =>
  parts.map((p) => `${p.topic}-${p.partition}`).sort();

test("assignors lay partitions out as Java's RangeAssignor and RoundRobinAssignor", () => {
  const members = [
    { memberId: 'C1', groupInstanceId: null, topics: ['t0', 't1'] },
    { memberId: 'C0', groupInstanceId: null, topics: ['t0', 't1'] },
  ];
  const counts = new Map([
    ['t0', 3],
    ['t1', 3],
  ]);
  const flat = (a: Map<string, Map<string, number[]>>, m: string) =>
    [...a.get(m)!].flatMap(([t, ps]) => ps.map((p) => `${t}p${p}`)).sort();
  const range = rangeAssignor(members, counts);
  assert.deepEqual(flat(range, 'C0'), ['t0p0', 't0p1', 't1p0', 't1p1']);
  assert.deepEqual(flat(range, 'C1'), ['t0p2', 't1p2']);
  const rr = roundRobinAssignor(members, counts);
  assert.deepEqual(flat(rr, 'C0'), ['t0p0', 't0p2', 't1p1']);
  assert.deepEqual(flat(rr, 'C1'), ['t0p1', 't1p0', 't1p2']);
});

test('two consumers in a group split the partitions and read every record once; the survivor takes over on leave', {
  timeout: 60_000,
}, async () => {
  await producer.sendBatch(Array.from({ length: 80 }, (_, i) => ({ topic: 'c-group', key: `k${i}`, value: `v${i}` })));
  const c1 = new Consumer({ bootstrap: b.bootstrapServers, groupId: 'g-split', fromBeginning: true, ...fast });
  const c2 = new Consumer({ bootstrap: b.bootstrapServers, groupId: 'g-split', fromBeginning: true, ...fast });
  await c1.subscribe(['c-group']);
  assert.equal(c1.assignment().length, 4);
  const seen: string[] = [];
  let joined = false;
  const join2 = c2.subscribe(['c-group']).then(() => {
    joined = true;
  });
  const end = Date.now() + 30_000;
  while (Date.now() < end && !(joined && c1.assignment().length === 2 && seen.length >= 80)) {
    for (const r of await c1.poll(100)) seen.push(`${r.partition}@${r.offset}`);
    if (joined) for (const r of await c2.poll(100)) seen.push(`${r.partition}@${r.offset}`);
  }
  await join2;
  const a1 = tp(c1.assignment());
  const a2 = tp(c2.assignment());
  assert.equal(a1.length, 2);
  assert.equal(a2.length, 2);
  assert.deepEqual([...a1, ...a2].sort(), ['c-group-0', 'c-group-1', 'c-group-2', 'c-group-3']);
  assert.equal(seen.length, 80, 'every record once');
  assert.equal(new Set(seen).size, 80);

  // c1 leaves: c2 is given all four partitions and reads what is produced next on all of them.
  await c1.close();
  await producer.sendBatch([0, 1, 2, 3].map((partition) => ({ topic: 'c-group', partition, value: 'after' })));
  const got = await pollUntil(c2, (g) => g.filter((r) => r.value?.toString() === 'after').length >= 4);
  assert.equal(c2.assignment().length, 4);
  assert.deepEqual(
    got
      .filter((r) => r.value?.toString() === 'after')
      .map((r) => r.partition)
      .sort(),
    [0, 1, 2, 3],
  );
  await c2.close();
});

test('roundrobin assignor when every member prefers it', { timeout: 60_000 }, async () => {
  const opts = { bootstrap: b.bootstrapServers, groupId: 'g-rr', assignors: ['roundrobin' as const], ...fast };
  const c1 = new Consumer(opts);
  const c2 = new Consumer(opts);
  await c1.subscribe(['c-rr1', 'c-rr2']);
  let joined = false;
  const j = c2.subscribe(['c-rr1', 'c-rr2']).then(() => {
    joined = true;
  });
  const end = Date.now() + 30_000;
  while (Date.now() < end && !(joined && c1.assignment().length === 3)) {
    await c1.poll(100);
    if (joined) await c2.poll(50);
  }
  await j;
  assert.equal(c1.assignment().length, 3);
  assert.equal(c2.assignment().length, 3);
  const admin = new Admin({ bootstrap: b.bootstrapServers });
  const [d] = await admin.describeGroups(['g-rr']);
  assert.equal(d.protocol, 'roundrobin');
  await admin.close();
  await c1.close();
  await c2.close();
});

test('commit, then a new consumer of the group resumes from the committed offset; autoCommit commits on close', {
  timeout: 30_000,
}, async () => {
  await producer.sendBatch(
    Array.from({ length: 20 }, (_, i) => ({ topic: 'c-commit', partition: i % 2, value: `r${i}` })),
  );
  const c = new Consumer({
    bootstrap: b.bootstrapServers,
    groupId: 'g-commit',
    fromBeginning: true,
    autoCommit: false,
    ...fast,
  });
  await c.subscribe(['c-commit']);
  const all = await pollUntil(c, (g) => g.length >= 20);
  assert.equal(all.length, 20);
  await c.commit([
    { topic: 'c-commit', partition: 0, offset: 4 },
    { topic: 'c-commit', partition: 1, offset: 9 },
  ]);
  await c.close();
  const admin = new Admin({ bootstrap: b.bootstrapServers });
  assert.deepEqual(
    (await admin.fetchOffsets('g-commit')).map((o) => [o.partition, o.offset]),
    [
      [0, 4],
      [1, 9],
    ],
  );

  const d = new Consumer({ bootstrap: b.bootstrapServers, groupId: 'g-commit', fromBeginning: true, ...fast });
  await d.subscribe(['c-commit']);
  const rest = await pollUntil(d, (g) => g.length >= 7);
  assert.deepEqual(rest.map((r) => `${r.partition}@${r.offset}`).sort(), [
    '0@4',
    '0@5',
    '0@6',
    '0@7',
    '0@8',
    '0@9',
    '1@9',
  ]);
  await d.close(); // autoCommit: positions committed on close
  assert.deepEqual(
    (await admin.fetchOffsets('g-commit')).map((o) => [o.partition, o.offset]),
    [
      [0, 10],
      [1, 10],
    ],
  );

  // assign() with a group: starts from the committed offsets too, and commits without a generation.
  await producer.send({ topic: 'c-commit', partition: 1, value: 'new' });
  const e = new Consumer({ bootstrap: b.bootstrapServers, groupId: 'g-commit', autoCommit: false });
  e.assign([{ topic: 'c-commit', partition: 1 }]);
  const got = await pollUntil(e, (g) => g.length >= 1);
  assert.deepEqual(
    got.map((r) => [r.offset, r.value?.toString()]),
    [[10, 'new']],
  );
  await e.commit();
  assert.deepEqual(
    (await admin.fetchOffsets('g-commit')).map((o) => [o.partition, o.offset]),
    [
      [0, 10],
      [1, 11],
    ],
  );
  await e.close();
  await admin.close();
});

test('pause stops a partition being returned; resume brings it back from where it stopped', {
  timeout: 30_000,
}, async () => {
  const c = new Consumer({ bootstrap: b.bootstrapServers, fromBeginning: true });
  c.assign([
    { topic: 'c-pause', partition: 0 },
    { topic: 'c-pause', partition: 1 },
  ]);
  c.pause([{ topic: 'c-pause', partition: 0 }]);
  await producer.sendBatch([0, 1, 0, 1].map((partition, i) => ({ topic: 'c-pause', partition, value: `p${i}` })));
  const got = await pollUntil(c, (g) => g.length >= 2);
  // Paused partition 0 stays quiet for a few more polls.
  for (let i = 0; i < 3; i++) got.push(...(await c.poll(100)));
  assert.deepEqual(
    got.map((r) => `${r.partition}@${r.offset}`),
    ['1@0', '1@1'],
  );
  c.resume([{ topic: 'c-pause', partition: 0 }]);
  const later = await pollUntil(c, (g) => g.length >= 2);
  assert.deepEqual(
    later.map((r) => `${r.partition}@${r.offset}:${r.value}`),
    ['0@0:p0', '0@1:p2'],
  );
  await c.close();
});

test('seek to an offset, earliest, latest and a timestamp; an out-of-range position resets', {
  timeout: 30_000,
}, async () => {
  await producer.sendBatch(
    Array.from({ length: 10 }, (_, i) => ({ topic: 'c-seek', partition: 0, value: `s${i}`, timestamp: T0 + i * 1000 })),
  );
  const c = new Consumer({ bootstrap: b.bootstrapServers, fromBeginning: true });
  c.assign([{ topic: 'c-seek', partition: 0, offset: 3 }]);
  let got = await pollUntil(c, (g) => g.length >= 7);
  assert.deepEqual(
    got.map((r) => r.offset),
    [3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(
    got.map((r) => r.timestamp),
    [3, 4, 5, 6, 7, 8, 9].map((i) => T0 + i * 1000),
  );

  c.seek('c-seek', 0, { timestamp: T0 + 5500 });
  got = await pollUntil(c, (g) => g.length >= 4);
  assert.deepEqual(
    got.map((r) => r.offset),
    [6, 7, 8, 9],
  );

  c.seek('c-seek', 0, 'earliest');
  got = await pollUntil(c, (g) => g.length >= 10);
  assert.equal(got[0].offset, 0);
  assert.equal(got.length, 10);

  c.seek('c-seek', 0, 'latest');
  assert.deepEqual(await c.poll(200), []);
  await producer.send({ topic: 'c-seek', partition: 0, value: 'tail', timestamp: T0 + 99_000 });
  got = await pollUntil(c, (g) => g.length >= 1);
  assert.deepEqual(
    got.map((r) => [r.offset, r.value?.toString()]),
    [[10, 'tail']],
  );

  c.seek('c-seek', 0, 5);
  got = await pollUntil(c, (g) => g.length >= 6);
  assert.equal(got[0].offset, 5);

  c.seek('c-seek', 0, 1000); // past the end: OFFSET_OUT_OF_RANGE → earliest (fromBeginning)
  got = await pollUntil(c, (g) => g.length >= 11);
  assert.equal(got[0].offset, 0);
  assert.throws(() => c.seek('c-seek', 7, 0), /not assigned/);
  await c.close();
});

test('the async iterator yields records in order until the loop stops', { timeout: 30_000 }, async () => {
  const c = new Consumer({ bootstrap: b.bootstrapServers, fromBeginning: true });
  c.assign([{ topic: 'c-seek', partition: 0 }]);
  const offsets: number[] = [];
  for await (const r of c) {
    offsets.push(r.offset);
    if (offsets.length === 5) break;
  }
  assert.deepEqual(offsets, [0, 1, 2, 3, 4]);
  await c.close();
});

test('the group leader rejoins when a subscribed topic gains partitions, and the new one is consumed', {
  timeout: 30_000,
}, async () => {
  const c = new Consumer({
    bootstrap: b.bootstrapServers,
    groupId: 'g-grow',
    fromBeginning: true,
    metadataMaxAgeMs: 200,
    ...fast,
  });
  await c.subscribe(['c-grow']);
  assert.deepEqual(tp(c.assignment()), ['c-grow-0', 'c-grow-1']);
  const admin = new Admin({ bootstrap: b.bootstrapServers });
  await admin.createPartitions('c-grow', 3);
  await admin.close();
  await producer.send({ topic: 'c-grow', partition: 2, value: 'in-new-partition' });
  const got = await pollUntil(c, (g) => g.length >= 1);
  assert.deepEqual(tp(c.assignment()), ['c-grow-0', 'c-grow-1', 'c-grow-2']);
  assert.deepEqual(
    got.map((r) => [r.partition, r.value?.toString()]),
    [[2, 'in-new-partition']],
  );
  await c.close();
});
