/**
 * Keyed-record sections (records.ts) through both metadata stores: a single node's data dir written by the
 * per-file stores of before (real files) opens unchanged and keeps its formats; on etcd, SCRAM credentials,
 * client quotas and dynamic configs altered on one node reach every node as `record-changed` changes, one key
 * per record, and racing updates of one record both land (compare-and-retry).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pbkdf2Sync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { LocalMetadataStore } from '../../../replication/metadata/local-store.js';
import type { MetadataChange } from '../../../replication/metadata/store.js';
import { ScramCredentialStore, scramKeys, scramMechanism } from '../../../replication/metadata/scram-credentials.js';
import { ClientQuotaStore, QUOTA_SECTION } from '../../../replication/metadata/client-quotas.js';
import { onRecordChanges } from '../../../replication/metadata/records.js';
import { DynamicConfigStore } from '../../../replication/metadata/dynamic-configs.js';
import { get } from '../../../replication/etcd/kv.js';
import { NodeFileSystem } from '../../../storage/fs.js';
import { tempDir } from '../../storage/helpers.js';
import { startEtcd, type EtcdProcess } from '../../helpers/etcd.js';
import { EtcdNodes, describeChange, waitFor } from '../../helpers/etcd-nodes.js';

const op = (key: string, value: number, remove = false) => ({ key, value, remove });
const upsertion = (name: string, mechanism: number, iterations = 4096) => {
  const salt = Buffer.from(`salt-${name}`);
  const saltedPassword = pbkdf2Sync(
    'pw',
    salt,
    iterations,
    mechanism === 2 ? 64 : 32,
    mechanism === 2 ? 'sha512' : 'sha256',
  );
  return { name, mechanism, iterations, salt, saltedPassword };
};
const recordChanges = (seen: MetadataChange[]) => seen.filter((c) => c.type === 'record-changed').map(describeChange);

test('a data dir written by the per-file stores of before opens unchanged and keeps their formats', async () => {
  const { dir, cleanup } = await tempDir('runnel-records-');
  try {
    const u = upsertion('alice', 1, 8192);
    const keys = scramKeys(scramMechanism(1)!, u.saltedPassword);
    const scram = {
      version: 1,
      credentials: [
        {
          user: 'alice',
          mechanism: 'SCRAM-SHA-256',
          salt: u.salt.toString('base64'),
          storedKey: keys.storedKey.toString('base64'),
          serverKey: keys.serverKey.toString('base64'),
          iterations: 8192,
        },
      ],
    };
    const quotas = { version: 1, entities: [{ entity: { user: 'alice' }, values: { producer_byte_rate: 1024 } }] };
    const configs = {
      version: 1,
      entities: { '': { 'log.retention.ms': '5000' }, '1': { 'log.segment.bytes': '2048' } },
    };
    const files = {
      'scram-credentials.json': `${JSON.stringify(scram)}\n`,
      'client-quotas.json': `${JSON.stringify(quotas)}\n`,
      'dynamic-configs.json': `${JSON.stringify(configs)}\n`,
    };
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    const store = await LocalMetadataStore.open(dir, { nodeId: 1, fs: new NodeFileSystem() });
    const seen: MetadataChange[] = [];
    store.subscribe((d) => void seen.push(...d.changes));
    const users = new ScramCredentialStore(store);
    const q = new ClientQuotaStore(store);
    const quotaEvents: unknown[] = [];
    onRecordChanges(store, QUOTA_SECTION, (key, record, previous) => void quotaEvents.push([key, record, previous]));
    const dyn = new DynamicConfigStore(store);
    assert.deepEqual(users.credential('alice', 'SCRAM-SHA-256'), { salt: u.salt, ...keys, iterations: 8192 });
    assert.deepEqual(q.quotas({ user: 'alice' }), { producer_byte_rate: 1024 });
    assert.deepEqual(dyn.snapshot(), { entities: configs.entities });
    for (const [name, text] of Object.entries(files))
      assert.equal(await readFile(path.join(dir, name), 'utf8'), text, `opening rewrites nothing (${name})`);

    // Changes rewrite each file in its format and go out as record-changed changes.
    assert.deepEqual(await users.alter([{ name: 'alice', mechanism: 1 }], [upsertion('bob', 2)]), [
      { user: 'alice', code: 0, message: null },
      { user: 'bob', code: 0, message: null },
    ]);
    await q.alter(
      [{ entity: [{ entityType: 'user', entityName: 'alice' }], ops: [op('producer_byte_rate', 0, true)] }],
      false,
    );
    assert.deepEqual(quotaEvents, [
      ['user="alice"', undefined, { entity: { user: 'alice' }, values: { producer_byte_rate: 1024 } }],
    ]);
    await dyn.set('', { 'log.retention.ms': '6000' });
    await dyn.set('', { 'log.retention.ms': '6000' }); // no change: nothing written, nothing published
    assert.deepEqual(recordChanges(seen), [
      'record-changed scram-credentials/alice/SCRAM-SHA-256 deleted',
      'record-changed scram-credentials/bob/SCRAM-SHA-512',
      'record-changed client-quotas/user="alice" deleted',
      'record-changed dynamic-configs/<default>',
    ]);
    const scramDoc = JSON.parse(await readFile(path.join(dir, 'scram-credentials.json'), 'utf8'));
    assert.deepEqual(
      scramDoc.credentials.map((c: { user: string; mechanism: string }) => [c.user, c.mechanism]),
      [['bob', 'SCRAM-SHA-512']],
    );
    assert.equal(scramDoc.version, 1);
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'client-quotas.json'), 'utf8')), {
      version: 1,
      entities: [],
    });
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'dynamic-configs.json'), 'utf8')), {
      version: 1,
      entities: { '': { 'log.retention.ms': '6000' }, '1': { 'log.segment.bytes': '2048' } },
    });
    await store.close();
    const again = await LocalMetadataStore.open(dir, { nodeId: 1, fs: new NodeFileSystem() });
    assert.deepEqual(
      new ScramCredentialStore(again).describe(null).map((d) => d.user),
      ['bob'],
    );
    assert.deepEqual(new DynamicConfigStore(again).get(''), { 'log.retention.ms': '6000' });
    await again.close();
  } finally {
    await cleanup();
  }
});

let etcd: EtcdProcess;
const clusters: EtcdNodes[] = [];

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  for (const c of clusters) await c.closeAll();
  await etcd?.cleanup();
});

test('etcd: records altered on one node reach every node, one key per record; a late node reads them', async () => {
  const c = new EtcdNodes(etcd, 'records');
  clusters.push(c);
  const n1 = await c.add(1);
  const n2 = await c.add(2);
  const users1 = new ScramCredentialStore(n1.store);
  const users2 = new ScramCredentialStore(n2.store);
  const u = upsertion('alice', 1);
  assert.deepEqual(await users1.alter([], [u]), [{ user: 'alice', code: 0, message: null }]);
  const expected = { salt: u.salt, ...scramKeys(scramMechanism(1)!, u.saltedPassword), iterations: 4096 };
  assert.deepEqual(users1.credential('alice', 'SCRAM-SHA-256'), expected, 'the writer sees its change at once');
  await waitFor(() => users2.credential('alice', 'SCRAM-SHA-256') !== undefined, 10_000, 'node 2 sees alice');
  assert.deepEqual(users2.credential('alice', 'SCRAM-SHA-256'), expected);
  assert.deepEqual(users2.describe(['alice']), [
    { user: 'alice', code: 0, message: null, credentials: [{ mechanism: 1, iterations: 4096 }] },
  ]);
  const kv = await get(n1.conn, n1.conn.key('scram-credentials/alice/SCRAM-SHA-256'));
  assert.equal(JSON.parse(kv!.value.toString()).iterations, 4096, 'one etcd key per user and mechanism');
  // Node 2 deletes what node 1 made (it validates against its own image: RESOURCE_NOT_FOUND for an unknown one).
  assert.deepEqual(
    await users2.alter(
      [
        { name: 'alice', mechanism: 1 },
        { name: 'zed', mechanism: 1 },
      ],
      [],
    ),
    [
      { user: 'alice', code: 0, message: null },
      { user: 'zed', code: 91, message: 'Attempt to delete a user credential that does not exist' },
    ],
  );
  await waitFor(() => users1.credential('alice', 'SCRAM-SHA-256') === undefined, 10_000, 'node 1 sees the delete');

  const quotas1 = new ClientQuotaStore(n1.store);
  const quotas2 = new ClientQuotaStore(n2.store);
  const entity = [{ entityType: 'user', entityName: 'carol' }];
  await quotas2.alter([{ entity, ops: [op('producer_byte_rate', 2048)] }], false);
  await waitFor(() => quotas1.quotas({ user: 'carol' }).producer_byte_rate === 2048, 10_000, 'node 1 sees quota');

  const configs1 = new DynamicConfigStore(n1.store);
  const configs2 = new DynamicConfigStore(n2.store);
  await configs1.set('', { 'log.retention.ms': '7000' });
  await waitFor(() => configs2.get('')['log.retention.ms'] === '7000', 10_000, 'node 2 sees the cluster default');
  await configs2.set('2', { 'log.segment.bytes': '4096' });
  await waitFor(() => configs1.get('2')['log.segment.bytes'] === '4096', 10_000, 'node 1 sees node 2 configs');

  const changes = [
    'record-changed scram-credentials/alice/SCRAM-SHA-256',
    'record-changed scram-credentials/alice/SCRAM-SHA-256 deleted',
    'record-changed client-quotas/user="carol"',
    'record-changed dynamic-configs/<default>',
    'record-changed dynamic-configs/2',
  ];
  for (const n of [n1, n2]) {
    await waitFor(() => recordChanges(n.seen).length === changes.length, 10_000, `node ${n.nodeId} sees 5 changes`);
    assert.deepEqual(recordChanges(n.seen), changes, `node ${n.nodeId}: the same changes in the same order`);
  }
  const late = await c.add(3);
  assert.deepEqual(new ClientQuotaStore(late.store).quotas({ user: 'carol' }), { producer_byte_rate: 2048 });
  assert.deepEqual(new DynamicConfigStore(late.store).snapshot(), configs1.snapshot());
  assert.deepEqual(new ScramCredentialStore(late.store).describe(null), []);
});

test('etcd: racing updates of one record from two nodes both land (compare, catch up, update again)', async () => {
  const c = new EtcdNodes(etcd, 'records-race');
  clusters.push(c);
  const n1 = await c.add(1);
  const n2 = await c.add(2);
  const entity = [{ entityType: 'client-id', entityName: 'app' }];
  const q1 = new ClientQuotaStore(n1.store);
  const q2 = new ClientQuotaStore(n2.store);
  for (let round = 1; round <= 5; round++) {
    const results = await Promise.all([
      q1.alter([{ entity, ops: [op('producer_byte_rate', round * 10)] }], false),
      q2.alter([{ entity, ops: [op('consumer_byte_rate', round * 20)] }], false),
    ]);
    assert.deepEqual(
      results.map((r) => r[0].code),
      [0, 0],
    );
    const want = { producer_byte_rate: round * 10, consumer_byte_rate: round * 20 };
    await waitFor(
      () => [q1, q2].every((q) => JSON.stringify(sorted(q.quotas({ 'client-id': 'app' }))) === JSON.stringify(want)),
      10_000,
      `round ${round}: both keys on both nodes`,
    );
  }
});

test('etcd: racing deletions of one credential: one deletes it, the other then finds it gone', async () => {
  const c = new EtcdNodes(etcd, 'records-delete');
  clusters.push(c);
  const n1 = await c.add(1);
  const n2 = await c.add(2);
  const u1 = new ScramCredentialStore(n1.store);
  const u2 = new ScramCredentialStore(n2.store);
  for (let round = 0; round < 5; round++) {
    await u1.alter([], [upsertion(`u${round}`, 2)]);
    await waitFor(() => u2.credential(`u${round}`, 'SCRAM-SHA-512') !== undefined, 10_000, 'node 2 sees the user');
    const results = await Promise.all([u1, u2].map((u) => u.alter([{ name: `u${round}`, mechanism: 2 }], [])));
    assert.deepEqual(results.map((r) => r[0].code).sort(), [0, 91], `round ${round}: one NONE, one RESOURCE_NOT_FOUND`);
    assert.equal(u1.credential(`u${round}`, 'SCRAM-SHA-512'), undefined);
    assert.equal(u2.credential(`u${round}`, 'SCRAM-SHA-512'), undefined);
  }
});

function sorted(values: Record<string, number>): Record<string, number> {
  return { producer_byte_rate: values.producer_byte_rate, consumer_byte_rate: values.consumer_byte_rate };
}
