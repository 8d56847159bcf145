import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFileSystem } from '../../../storage/memory-fs.js';
import { ensureDirDurable } from '../../../storage/fs.js';
import { writeFileAtomically } from '../../../storage/checkpoint.js';
import { ACL_SECTION, ACLS_FILE, AclStore, aclKey } from '../../../replication/metadata/acls.js';
import { LocalMetadataStore } from '../../../replication/metadata/local-store.js';
import { StorageError } from '../../../protocol/errors.js';
import type { AclBinding } from '../../../broker/authorizer.js';

const DIR = '/data';
const a: AclBinding = {
  resourceType: 2,
  resourceName: 'orders',
  patternType: 4,
  principal: 'User:alice',
  host: '*',
  operation: 3,
  permissionType: 3,
};
const b: AclBinding = { ...a, resourceType: 4, resourceName: 'kafka-cluster', patternType: 3, operation: 7 };

const open = (fs: MemoryFileSystem) => LocalMetadataStore.open(DIR, { nodeId: 1, fs });

test('ACLs are on disk, enums by name, when change() resolves; a reopened store has them in order', async () => {
  const fs = new MemoryFileSystem();
  const meta = await open(fs);
  const store = new AclStore(meta);
  const seen: Array<[string, boolean, boolean]> = [];
  store.follow((key, record, previous) => void seen.push([key, record !== undefined, previous !== undefined]));
  assert.equal(await store.change(() => ({ add: [a, b, { ...a }], remove: [], result: 'done' })), 'done');
  const doc = JSON.parse((await fs.readFile(`${DIR}/${ACLS_FILE}`)).toString());
  assert.deepEqual(doc, {
    version: 1,
    acls: [
      {
        resourceType: 'TOPIC',
        name: 'orders',
        patternType: 'PREFIXED',
        principal: 'User:alice',
        host: '*',
        operation: 'READ',
        permissionType: 'ALLOW',
      },
      {
        resourceType: 'CLUSTER',
        name: 'kafka-cluster',
        patternType: 'LITERAL',
        principal: 'User:alice',
        host: '*',
        operation: 'ALTER',
        permissionType: 'ALLOW',
      },
    ],
  });
  assert.deepEqual(new AclStore(await open(fs)).bindings(), [a, b]);
  await store.change(() => ({ add: [], remove: [{ ...a }, { ...a, host: 'h' }], result: undefined }));
  assert.deepEqual(new AclStore(await open(fs)).bindings(), [b]);
  // A change that changes nothing is not written or announced.
  await store.change(() => ({ add: [b], remove: [a], result: undefined }));
  assert.deepEqual(seen, [
    [aclKey(a), true, false],
    [aclKey(b), true, false],
    [aclKey(a), false, true],
  ]);
  assert.equal(aclKey(a), '["TOPIC","PREFIXED","orders","User:alice","*","READ","ALLOW"]');
  await meta.close();
});

test('an acls.json written before ACLs were a metadata section opens unchanged', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, DIR);
  const text =
    '{"version":1,"acls":[{"resourceType":"GROUP","name":"g","patternType":"LITERAL","principal":"User:bob",' +
    '"host":"10.0.0.1","operation":"READ","permissionType":"DENY"}]}';
  await writeFileAtomically(fs, `${DIR}/${ACLS_FILE}`, Buffer.from(text));
  const meta = await open(fs);
  assert.deepEqual(new AclStore(meta).bindings(), [
    {
      resourceType: 3,
      resourceName: 'g',
      patternType: 3,
      principal: 'User:bob',
      host: '10.0.0.1',
      operation: 3,
      permissionType: 2,
    },
  ]);
  assert.deepEqual(ACL_SECTION.file.write(meta.image.records(ACL_SECTION)), JSON.parse(text));
  await meta.close();
});

test('the etcd value of an ACL round-trips; an invalid one is not an ACL', () => {
  assert.deepEqual(ACL_SECTION.fromJson(ACL_SECTION.toJson(a)), a);
  assert.equal(ACL_SECTION.fromJson({ ...(ACL_SECTION.toJson(a) as object), operation: 'SING' }), undefined);
  assert.equal(ACL_SECTION.fromJson(null), undefined);
});

test('a file that is not an ACL file refuses to open (StorageError)', async () => {
  const bad = [
    'not json',
    '{"version":2,"acls":[]}',
    '{"version":1}',
    '{"version":1,"acls":[{"resourceType":"TOPIC","name":"t","patternType":"MATCH","principal":"User:a",' +
      '"host":"*","operation":"READ","permissionType":"ALLOW"}]}',
    '{"version":1,"acls":[{"resourceType":"TOPIC","name":"t","patternType":"LITERAL","principal":"User:a",' +
      '"host":"*","operation":"SING","permissionType":"ALLOW"}]}',
    '{"version":1,"acls":[null]}',
  ];
  for (const text of bad) {
    const fs = new MemoryFileSystem();
    await ensureDirDurable(fs, DIR);
    await writeFileAtomically(fs, `${DIR}/${ACLS_FILE}`, Buffer.from(text));
    await assert.rejects(open(fs), StorageError, text);
  }
});
