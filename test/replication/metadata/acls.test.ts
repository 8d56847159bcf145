import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFileSystem } from '../../../storage/memory-fs.js';
import { ensureDirDurable } from '../../../storage/fs.js';
import { writeFileAtomically } from '../../../storage/checkpoint.js';
import { ACLS_FILE, AclStore } from '../../../replication/metadata/acls.js';
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

test('ACLs are on disk, enums by name, when change() resolves; a reopened store has them in order', async () => {
  const fs = new MemoryFileSystem();
  await ensureDirDurable(fs, DIR);
  const store = await AclStore.open(fs, DIR);
  const seen: Array<[number, number]> = [];
  store.onChange = (added, removed) => seen.push([added.length, removed.length]);
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
  assert.deepEqual((await AclStore.open(fs, DIR)).bindings(), [a, b]);
  await store.change(() => ({ add: [], remove: [{ ...a }, { ...a, host: 'h' }], result: undefined }));
  assert.deepEqual((await AclStore.open(fs, DIR)).bindings(), [b]);
  // A change that changes nothing is not written or announced.
  await store.change(() => ({ add: [b], remove: [a], result: undefined }));
  assert.deepEqual(seen, [
    [2, 0],
    [0, 1],
  ]);
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
    await assert.rejects(AclStore.open(fs, DIR), StorageError, text);
  }
});
