import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { leadershipChange } from '../../replication/controller.js';
import { NO_LEADER, type PartitionRegistration } from '../../replication/metadata/image.js';
import { startEtcd, type EtcdProcess } from '../helpers/etcd.js';
import { EtcdNodes, waitFor, type TestNode } from '../helpers/etcd-nodes.js';

let etcd: EtcdProcess;
const clusters: EtcdNodes[] = [];

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  for (const c of clusters) await c.closeAll();
  await etcd?.cleanup();
});

async function cluster(name: string, n = 3, opts: { unclean?: boolean } = {}): Promise<EtcdNodes> {
  const c = new EtcdNodes(etcd, name);
  clusters.push(c);
  for (let i = 1; i <= n; i++) await c.add(i, { controller: true, unclean: opts.unclean });
  await waitFor(() => c.nodes.filter((x) => x.controller?.isActive).length === 1, 10_000, 'one controller');
  await waitFor(
    () => c.nodes.every((x) => x.store.image.liveBrokers().length === n && x.store.image.controllerId !== -1),
    10_000,
    'every node sees every broker and the controller',
  );
  return c;
}

const activeController = (c: EtcdNodes): TestNode | undefined => c.nodes.find((x) => x.controller?.isActive);

const reg = (replicas: number[], isr: number[], leader: number): PartitionRegistration => ({
  partition: 0,
  replicas,
  isr,
  leader,
  leaderEpoch: 4,
  partitionEpoch: 7,
});

test('leadership decisions: first live ISR replica in replica order; offline keeps the last leader; unclean', () => {
  const live = new Set([2, 3]);
  assert.equal(leadershipChange(reg([1, 2, 3], [1, 2, 3], 2), new Set([1, 2, 3]), false), undefined);
  assert.deepEqual(leadershipChange(reg([1, 2, 3], [1, 2, 3], 2), live, false), { isr: [2, 3] });
  assert.deepEqual(leadershipChange(reg([1, 3, 2], [1, 2, 3], 1), live, false), { leader: 3, isr: [2, 3] });
  assert.deepEqual(leadershipChange(reg([1, 2], [1], 1), live, false), { leader: NO_LEADER, isr: [1] });
  assert.deepEqual(leadershipChange(reg([1, 2], [1], 1), live, true), { leader: 2, isr: [2] });
  assert.equal(leadershipChange(reg([1, 4], [1], NO_LEADER), live, false), undefined);
  assert.deepEqual(leadershipChange(reg([2, 1], [1], NO_LEADER), new Set([1]), false), { leader: 1, isr: [1] });
});

test('broker lease revoked: the next ISR replica leads, epoch + 1; its return moves nothing', async () => {
  const c = await cluster('ctl-fail');
  const ctl = activeController(c)!;
  const victim = c.nodes.find((x) => x !== ctl)!;
  const t = await ctl.store.createTopic('t', { partitions: 6, replicationFactor: 3 });
  const led = t.partitionStates.filter((p) => p.leader === victim.nodeId);
  assert.equal(led.length, 2);
  const watcher = c.nodes.find((x) => x !== ctl && x !== victim)!;
  const deltas: number[][] = [];
  const off = watcher.store.subscribe((d) => {
    const parts = d.changes.flatMap((ch) => (ch.type === 'partition-changed' ? [ch.partition.partition] : []));
    if (parts.length) deltas.push(parts);
  });
  await victim.session.revokeLease();
  const moved = (x: TestNode) => led.every((p) => x.store.image.partition('t', p.partition)?.leader === p.replicas[1]);
  await waitFor(() => c.nodes.every(moved), 10_000, 'leadership moved on every node');
  const shrunk = () =>
    t.partitionStates.every((p) => !watcher.store.image.partition('t', p.partition)?.isr.includes(victim.nodeId));
  await waitFor(shrunk, 10_000, 'the victim left every ISR');
  off();
  // The fencing's leader moves and ISR shrinks are one controller write: one delta on every other node.
  assert.deepEqual(
    deltas.map((d) => [...d].sort((a, b) => a - b)),
    [[0, 1, 2, 3, 4, 5]],
  );
  for (const p of led) {
    const now = ctl.store.image.partition('t', p.partition)!;
    assert.equal(now.leaderEpoch, p.leaderEpoch + 1);
    assert.ok(now.partitionEpoch > p.partitionEpoch);
    assert.deepEqual(
      [...now.isr],
      p.replicas.filter((r) => r !== victim.nodeId),
    );
  }
  // Followers' partitions only lost the victim from their ISR; their leaders stay.
  for (const p of t.partitionStates.filter((x) => x.leader !== victim.nodeId)) {
    const now = ctl.store.image.partition('t', p.partition)!;
    assert.equal(now.leader, p.leader);
    assert.equal(now.leaderEpoch, 0);
    assert.ok(!now.isr.includes(victim.nodeId));
  }
  // The victim re-registers with its new lease: nothing moves back.
  await waitFor(() => ctl.store.image.broker(victim.nodeId)?.fenced === false, 10_000, 'victim back');
  await ctl.controller!.idle();
  const before = ctl.store.image.topic('t')!.partitionStates;
  await new Promise((r) => setTimeout(r, 300));
  await ctl.controller!.idle();
  assert.deepEqual(ctl.store.image.topic('t')!.partitionStates, before);
});

test("controller's lease lost: another node takes over, moves the old one's leadership, goes on", async () => {
  const c = await cluster('ctl-takeover');
  const first = activeController(c)!;
  const t = await first.store.createTopic('t', { partitions: 3, replicationFactor: 3 });
  const led = t.partitionStates.filter((p) => p.leader === first.nodeId);
  assert.equal(led.length, 1);
  await first.session.revokeLease();
  await waitFor(
    () => {
      const a = activeController(c);
      return a !== undefined && a !== first;
    },
    10_000,
    'another controller',
  );
  const second = activeController(c)!;
  await waitFor(
    () => second.store.image.partition('t', led[0].partition)?.leader === led[0].replicas[1],
    10_000,
    "the old controller's partition has a new leader",
  );
  await waitFor(() => c.nodes.every((x) => x.store.image.controllerId === second.nodeId), 10_000, 'all see it');
  // The new controller goes on: a third node's loss is handled too.
  const third = c.nodes.find((x) => x !== first && x !== second)!;
  await third.session.close(); // gone for good (revoked, not renewed)
  await waitFor(
    () =>
      second.store.image
        .topic('t')!
        .partitionStates.every((p) => p.leader !== third.nodeId && !p.isr.includes(third.nodeId)),
    10_000,
    'the third node is out of every ISR',
  );
});

test('no ISR member live: offline (ISR = last leader) until it returns; unclean elects a live replica', async () => {
  const c = await cluster('ctl-offline', 3);
  const ctl = activeController(c)!;
  const [x, y] = c.nodes.filter((n) => n !== ctl);
  await ctl.store.createTopic('clean', { partitions: 1, replicas: [[x.nodeId, ctl.nodeId]] });
  await ctl.store.createTopic('dirty', {
    partitions: 1,
    replicas: [[y.nodeId, ctl.nodeId]],
    configs: { 'unclean.leader.election.enable': 'true' },
  });
  // Only the leader in sync.
  await ctl.store.alterPartition('clean', 0, 0, { isr: [x.nodeId] });
  await ctl.store.alterPartition('dirty', 0, 0, { isr: [y.nodeId] });
  await x.session.close();
  await y.session.close();
  await waitFor(() => ctl.store.image.partition('clean', 0)?.leader === NO_LEADER, 10_000, 'clean goes offline');
  assert.deepEqual(ctl.store.image.partition('clean', 0)?.isr, [x.nodeId]);
  await waitFor(() => ctl.store.image.partition('dirty', 0)?.leader === ctl.nodeId, 10_000, 'dirty: unclean leader');
  assert.deepEqual(ctl.store.image.partition('dirty', 0)?.isr, [ctl.nodeId]);
  // The last leader comes back (a new process with its node id): it leads again, one epoch further.
  const offline = ctl.store.image.partition('clean', 0)!;
  await c.add(x.nodeId);
  await waitFor(() => ctl.store.image.partition('clean', 0)?.leader === x.nodeId, 10_000, 'clean back online');
  assert.equal(ctl.store.image.partition('clean', 0)?.leaderEpoch, offline.leaderEpoch + 1);
});
