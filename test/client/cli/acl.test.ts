/**
 * `runnel acl add|list|remove` as child processes against an in-process broker running the StandardAuthorizer
 * (User:ANONYMOUS, the CLI's principal on PLAINTEXT, is a super user), checked through the authorizer's own
 * ACLs; usage errors exit 2.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testBroker } from '../../helpers/test-broker.js';
import type { RunningBroker } from '../../../broker/index.js';
import { cliAt, type CliResult } from './run-cli.js';

let b: RunningBroker;
let cli: ReturnType<typeof cliAt>;
before(async () => {
  b = await testBroker({
    config: {
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:ANONYMOUS',
    },
  });
  cli = cliAt(b.bootstrapServers);
});
after(async () => {
  await b.stop();
});

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

const all = {
  resourceType: 1,
  resourceName: null,
  patternType: 1,
  principal: null,
  host: null,
  operation: 1,
  permissionType: 1,
};
async function acls(): Promise<string[]> {
  const list = await b.broker.authorizer!.acls(all);
  return list
    .map(
      (a) =>
        `${a.resourceType}:${a.patternType}:${a.resourceName}:${a.principal}:${a.host}:` +
        `${a.operation}:${a.permissionType}`,
    )
    .sort();
}

test('acl add / list / remove with kafka-acls options', async () => {
  const added = ok(
    await cli([
      'acl',
      'add',
      '--allow-principal',
      'User:alice',
      '--allow-principal',
      'User:bob',
      '--operation',
      'Read',
      '--operation',
      'describe',
      '--topic',
      'orders',
    ]),
  );
  assert.match(
    added.stdout,
    /Adding ACLs for resource `ResourcePattern\(resourceType=TOPIC, name=orders, patternType=LITERAL\)`/,
  );
  assert.deepEqual(await acls(), [
    '2:3:orders:User:alice:*:3:3',
    '2:3:orders:User:alice:*:8:3',
    '2:3:orders:User:bob:*:3:3',
    '2:3:orders:User:bob:*:8:3',
  ]);
  ok(
    await cli([
      'acl',
      'add',
      '--deny-principal',
      'User:eve',
      '--deny-host',
      '10.0.0.1',
      '--topic',
      'pay.',
      '--resource-pattern-type',
      'prefixed',
    ]),
  );
  ok(await cli(['acl', 'add', '--allow-principal', 'User:c', '--consumer', '--topic', 't', '--group', 'g']));
  ok(
    await cli(['acl', 'add', '--allow-principal', 'User:p', '--producer', '--idempotent', '--transactional-id', 'tx']),
  );
  const after = await acls();
  for (const want of [
    '2:4:pay.:User:eve:10.0.0.1:2:2',
    '2:3:t:User:c:*:3:3',
    '2:3:t:User:c:*:8:3',
    '3:3:g:User:c:*:3:3',
    '5:3:tx:User:p:*:4:3',
    '5:3:tx:User:p:*:8:3',
    '4:3:kafka-cluster:User:p:*:12:3',
  ])
    assert.ok(after.includes(want), `${want} in ${after.join(' ')}`);

  const listed = ok(await cli(['acl', 'list', '--topic', 'pay.x', '--resource-pattern-type', 'match']));
  assert.equal(
    listed.stdout,
    'Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=pay., patternType=PREFIXED)`: \n' +
      ' \t(principal=User:eve, host=10.0.0.1, operation=ALL, permissionType=DENY) \n\n',
  );
  const everything = ok(await cli(['acl', 'list']));
  assert.match(everything.stdout, /operation=IDEMPOTENT_WRITE, permissionType=ALLOW/);
  const bob = ok(await cli(['acl', 'list', '--principal', 'User:bob']));
  assert.equal((bob.stdout.match(/principal=User:bob/g) ?? []).length, 2);

  const removed = ok(
    await cli(['acl', 'remove', '--allow-principal', 'User:bob', '--operation', 'Read', '--topic', 'orders']),
  );
  assert.match(removed.stdout, /principal=User:bob, host=\*, operation=READ/);
  ok(await cli(['acl', 'remove', '--topic', 'orders', '--force']));
  const left = await acls();
  assert.equal(left.filter((a) => a.includes(':orders:')).length, 0);
  assert.ok(left.includes('2:4:pay.:User:eve:10.0.0.1:2:2'));
});

test('acl usage errors exit 2', async () => {
  const noPrincipal = await cli(['acl', 'add', '--topic', 't']);
  assert.equal(noPrincipal.code, 2, noPrincipal.stderr);
  const badOp = await cli(['acl', 'add', '--allow-principal', 'User:a', '--group', 'g', '--operation', 'Write']);
  assert.equal(badOp.code, 2);
  assert.match(badOp.stderr, /ResourceType GROUP only supports operations Read,Describe,Delete,All/);
  const match = await cli([
    'acl',
    'add',
    '--allow-principal',
    'User:a',
    '--topic',
    't',
    '--resource-pattern-type',
    'match',
  ]);
  assert.equal(match.code, 2);
});
