import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectEtcd, type EtcdConnection } from '../../../replication/etcd/connection.js';
import { Election, type LeaderInfo } from '../../../replication/etcd/election.js';
import { createIfAbsent, get, txn } from '../../../replication/etcd/kv.js';
import { EtcdSession } from '../../../replication/etcd/session.js';
import { startEtcd, type EtcdProcess } from '../../helpers/etcd.js';

let etcd: EtcdProcess;
const conns: EtcdConnection[] = [];
const sessions: EtcdSession[] = [];
const CAMPAIGNER = join(dirname(fileURLToPath(import.meta.url)), '../../helpers/etcd-campaigner.js');

async function session(cluster: string): Promise<EtcdSession> {
  const c = connectEtcd({ endpoints: [etcd.endpoint], cluster, callTimeoutMs: 1000 });
  conns.push(c);
  const s = new EtcdSession(c, { ttlMs: 2000, retryMs: 100 });
  sessions.push(s);
  await s.start();
  return s;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    t = setTimeout(() => rej(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  for (const s of sessions) await s.close({ revoke: false });
  for (const c of conns) c.close();
  await etcd?.cleanup();
});

test('two campaigners: one leads; the other takes over, higher epoch, when the first lease is revoked', async () => {
  const s1 = await session('elect-a');
  const s2 = await session('elect-a');
  const e1 = new Election(s1, 1);
  const e2 = new Election(s2, 2);
  const seen: (LeaderInfo | undefined)[] = [];
  const stop = await e1.observe((l) => seen.push(l));
  const l1 = await e1.campaign();
  assert.equal(l1.isLeader, true);
  const ac = new AbortController();
  let second: Awaited<ReturnType<Election['campaign']>> | undefined;
  const p2 = e2.campaign(ac.signal).then((l) => (second = l));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(second, undefined, 'the second campaigner waits while the first leads');
  assert.equal((await e2.leader())?.nodeId, 1);

  // The leader's guarded writes pass; a stale leader's are refused.
  const key = s1.conn.key('partitions', 't', 0);
  const w1 = await txn(s1.conn, { compare: [l1.guard()], success: [{ put: key, value: 'by 1' }] });
  assert.equal(w1.succeeded, true);

  const lost = new Promise((r) => l1.onLost(r));
  await s1.revokeLease();
  const l2 = await within(p2, 10_000, 'takeover');
  await within(lost, 10_000, 'first leader sees its loss');
  assert.equal(l1.isLeader, false);
  assert.equal(l2.nodeId, 2);
  assert.ok(l2.epoch > l1.epoch);
  const stale = await txn(s1.conn, { compare: [l1.guard()], success: [{ put: key, value: 'stale 1' }] });
  assert.equal(stale.succeeded, false);
  assert.equal((await get(s1.conn, key))?.value.toString(), 'by 1');
  const w2 = await txn(s2.conn, { compare: [l2.guard()], success: [{ put: key, value: 'by 2' }] });
  assert.equal(w2.succeeded, true);

  await new Promise((r) => setTimeout(r, 200));
  stop();
  assert.deepEqual(
    seen.filter((l) => l !== undefined).map((l) => l!.nodeId),
    [1, 2],
  );

  // Resign hands the key back; a campaigner waiting on it gets in.
  const e3 = new Election(await session('elect-a'), 3);
  const p3 = e3.campaign();
  await l2.resign();
  assert.equal(l2.isLeader, false);
  const l3 = await within(p3, 10_000, 'after resign');
  assert.ok(l3.epoch > l2.epoch);
});

test('a SIGKILLed campaigner process loses leadership when its lease expires; the waiter takes over', async () => {
  const child = spawn(process.execPath, [CAMPAIGNER, etcd.endpoint, '10', '2000', 'elect-b'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const s = await session('elect-b');
    const e = new Election(s, 11);
    const deadline = Date.now() + 15_000;
    while (!/LEADER \d+/.test(out)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `child campaigner not elected: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const childEpoch = Number(/LEADER (\d+)/.exec(out)![1]);
    assert.equal((await e.leader())?.nodeId, 10);
    // A plain create of the controller key is refused while the child holds it.
    assert.equal((await createIfAbsent(s.conn, e.key, 'x')).ok, false);
    const p = e.campaign();
    child.kill('SIGKILL');
    const l = await within(p, 15_000, 'takeover after SIGKILL');
    assert.equal(l.nodeId, 11);
    assert.ok(l.epoch > childEpoch);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
