import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BadArgumentError, CoordinationError } from '../../../protocol/errors.js';
import { clusterPrefix, connectEtcd, type EtcdConnection } from '../../../replication/etcd/connection.js';
import {
  createIfAbsent,
  deleteIfModRevision,
  get,
  prefixEnd,
  putIfModRevision,
  rangePrefix,
  txn,
} from '../../../replication/etcd/kv.js';
import { startEtcd, type EtcdProcess } from '../../helpers/etcd.js';

let etcd: EtcdProcess;
let conn: EtcdConnection;

before(async () => {
  etcd = await startEtcd();
  conn = connectEtcd({ endpoints: [etcd.endpoint], cluster: 'kv-test' });
});

after(async () => {
  conn?.close();
  await etcd?.cleanup();
});

test('clusterPrefix: /runnel/<cluster>/, names with a slash or empty are refused', () => {
  assert.equal(clusterPrefix('runnel'), '/runnel/runnel/');
  assert.equal(conn.key('brokers', 3), '/runnel/kv-test/brokers/3');
  for (const bad of ['', 'a/b', 'x y', 'a'.repeat(129)]) assert.throws(() => clusterPrefix(bad), BadArgumentError);
  assert.throws(() => connectEtcd({ endpoints: [] }), BadArgumentError);
  assert.deepEqual(prefixEnd('/a/'), Buffer.from('/a0'));
});

test('createIfAbsent creates once; the second create is a conflict showing the current key', async () => {
  const key = conn.key('topics', 'orders');
  const a = await createIfAbsent(conn, key, '{"id":1}');
  assert.equal(a.ok, true);
  const b = await createIfAbsent(conn, key, '{"id":2}');
  assert.equal(b.ok, false);
  assert.equal(b.current?.value.toString(), '{"id":1}');
  assert.equal(b.current?.modRevision, a.revision);
  assert.equal(b.current?.createRevision, a.revision);
});

test('putIfModRevision: the writer holding the latest modRevision wins, a stale one is refused', async () => {
  const key = conn.key('partitions', 'orders', 0);
  const created = await createIfAbsent(conn, key, 'v1');
  assert.ok(created.ok);
  const w1 = await putIfModRevision(conn, key, 'v2', created.revision);
  assert.equal(w1.ok, true);
  const stale = await putIfModRevision(conn, key, 'v2-other', created.revision);
  assert.equal(stale.ok, false);
  assert.equal(stale.current?.value.toString(), 'v2');
  assert.equal(stale.current?.modRevision, w1.revision);
  assert.equal((await get(conn, key))?.value.toString(), 'v2');
  const del1 = await deleteIfModRevision(conn, key, created.revision);
  assert.equal(del1.ok, false);
  const del2 = await deleteIfModRevision(conn, key, w1.revision);
  assert.equal(del2.ok, true);
  assert.equal(await get(conn, key), undefined);
  // modRevision 0 means "absent": a CAS against a deleted key with 0 recreates it.
  assert.equal((await putIfModRevision(conn, key, 'v3', 0)).ok, true);
});

test('txn: several keys change together or not at all; rangePrefix gives the revision to watch from', async () => {
  const p = conn.key('multi/');
  const a = `${p}a`;
  const b = `${p}b`;
  const ra = await createIfAbsent(conn, a, '1');
  const rb = await createIfAbsent(conn, b, '1');
  const ok = await txn(conn, {
    compare: [
      { key: a, modRevision: ra.revision },
      { key: b, modRevision: rb.revision },
    ],
    success: [
      { put: a, value: '2' },
      { put: b, value: '2' },
    ],
  });
  assert.equal(ok.succeeded, true);
  const bad = await txn(conn, {
    compare: [
      { key: a, modRevision: ok.revision },
      { key: b, modRevision: rb.revision },
    ],
    success: [
      { put: a, value: '3' },
      { put: b, value: '3' },
    ],
    failure: [{ get: p, prefix: true }],
  });
  assert.equal(bad.succeeded, false);
  assert.deepEqual(
    bad.results[0].map((kv) => [kv.key, kv.value.toString()]),
    [
      [a, '2'],
      [b, '2'],
    ],
  );
  const range = await rangePrefix(conn, p);
  assert.equal(range.revision, ok.revision);
  assert.deepEqual(
    range.kvs.map((kv) => kv.modRevision),
    [ok.revision, ok.revision],
  );
});

test('a call to an etcd that is not there fails with ERR_ETCD_UNAVAILABLE within the call timeout', async () => {
  const dead = connectEtcd({ endpoints: ['127.0.0.1:1'], callTimeoutMs: 500 });
  try {
    await assert.rejects(
      get(dead, '/x'),
      (e: unknown) => e instanceof CoordinationError && e.code === 'ERR_ETCD_UNAVAILABLE',
    );
  } finally {
    dead.close();
  }
});
