import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectEtcd, type EtcdConnection } from '../../../replication/etcd/connection.js';
import { createIfAbsent, rangePrefix, txn } from '../../../replication/etcd/kv.js';
import { BrokerRegistration } from '../../../replication/etcd/registration.js';
import { EtcdSession } from '../../../replication/etcd/session.js';
import { watch, type WatchEvent } from '../../../replication/etcd/watch.js';
import { startEtcd, type EtcdProcess } from '../../helpers/etcd.js';

let etcd: EtcdProcess;
const conns: EtcdConnection[] = [];

function conn(): EtcdConnection {
  const c = connectEtcd({ endpoints: [etcd.endpoint], cluster: 'watch-test', callTimeoutMs: 1000 });
  conns.push(c);
  return c;
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  for (const c of conns) c.close();
  await etcd?.cleanup();
});

test('a prefix watch from a range read sees every later change once, in order, a txn in one batch', async () => {
  const c = conn();
  const p = c.key('topics/');
  await createIfAbsent(c, `${p}before`, 'x');
  const r = await rangePrefix(c, p);
  assert.deepEqual(
    r.kvs.map((kv) => kv.key),
    [`${p}before`],
  );
  const batches: WatchEvent[][] = [];
  const w = watch(c, { key: p, prefix: true, fromRevision: r.revision + 1, onEvents: (e) => batches.push(e) });
  try {
    await createIfAbsent(c, `${p}a`, '1');
    await createIfAbsent(c, c.key('elsewhere'), 'not watched');
    await txn(c, { compare: [], success: [{ put: `${p}b`, value: '2' }, { delete: `${p}before` }] });
    await until('3 events', () => batches.flat().length === 3);
    assert.deepEqual(
      batches.flat().map((e) => `${e.type} ${e.kv.key.slice(p.length)}`),
      ['put a', 'put b', 'delete before'],
    );
    // The txn's two events share a revision and arrive in the same batch (a batch holds whole revisions).
    const txnBatch = batches.find((b) => b.some((e) => e.type === 'delete'))!;
    assert.deepEqual(
      txnBatch.slice(-2).map((e) => e.kv.modRevision),
      [txnBatch.at(-1)!.kv.modRevision, txnBatch.at(-1)!.kv.modRevision],
    );
    assert.equal(txnBatch.at(-1)!.prevKv?.value.toString(), 'x');
    assert.equal(w.nextRevision, txnBatch.at(-1)!.kv.modRevision + 1);
  } finally {
    w.close();
  }
});

test('etcd killed, restarted on its data dir: the watch resumes from its revision (no loss, no repeat)', async () => {
  const writer = conn();
  const watcher = conn();
  const p = writer.key('partitions/');
  const sessionConn = conn();
  const session = new EtcdSession(sessionConn, { ttlMs: 2000, retryMs: 100 });
  await session.start();
  const reg = await BrokerRegistration.register(session, {
    nodeId: 7,
    listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9097, securityProtocol: 'PLAINTEXT' }],
    rack: 'r1',
  });
  const start = await rangePrefix(writer, p);
  const seen: string[] = [];
  const states: boolean[] = [];
  const w = watch(watcher, {
    key: p,
    prefix: true,
    fromRevision: start.revision + 1,
    retryMs: 100,
    onEvents: (events) => {
      for (const e of events) seen.push(e.kv.value.toString());
    },
    onConnected: (up) => states.push(up),
  });
  try {
    for (let i = 0; i < 5; i++) await createIfAbsent(writer, `${p}${i}`, `v${i}`);
    await until('first 5 events', () => seen.length === 5);
    await etcd.kill();
    await until('watch disconnected', () => states.includes(false));
    // Down for longer than the session's TTL: the session is lost (a broker fences itself here).
    await until('session lost', () => session.state === 'lost', 10_000);
    assert.equal(reg.registered, false);
    await etcd.restart();
    // Written while the watcher may still be reconnecting: it must get these from its revision, once.
    for (let i = 5; i < 10; i++) {
      for (let tries = 0; ; tries++) {
        try {
          await createIfAbsent(writer, `${p}${i}`, `v${i}`);
          break;
        } catch (err) {
          if (tries > 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    await until('all 10 events', () => seen.length >= 10);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      seen,
      Array.from({ length: 10 }, (_, i) => `v${i}`),
    );
    assert.equal(w.connected, true);
    await until('re-registered', () => reg.registered);
    assert.equal(session.state, 'alive');
  } finally {
    w.close();
    reg.close();
    await session.close();
  }
});
