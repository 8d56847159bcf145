import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { MemoryFileSystem } from '../../../../storage/memory-fs.js';
import { AclStore } from '../../../../replication/metadata/acls.js';
import { LocalMetadataStore } from '../../../../replication/metadata/local-store.js';
import { StandardAuthorizer } from '../../../../broker/security/authorizer/standard-authorizer.js';
import {
  type AclBinding,
  type AuthorizableRequestContext,
  AclOperation as Op,
  AclPatternType as Pat,
  AclPermissionType as Perm,
  AclResourceType as Res,
} from '../../../../broker/authorizer.js';
import { ErrorCode } from '../../../../protocol/generated/error-codes.js';
import '../../../../broker/handlers/index.js';

const DIR = '/data';

async function authorizer(
  acls: AclBinding[],
  opts: { superUsers?: string; allowEveryone?: boolean; lines?: string[] } = {},
): Promise<StandardAuthorizer> {
  const fs = new MemoryFileSystem();
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) opts.lines?.push(l);
      cb();
    },
  });
  const a = new StandardAuthorizer({
    store: new AclStore(await LocalMetadataStore.open(DIR, { nodeId: 1, fs })),
    superUsers: opts.superUsers ?? '',
    allowEveryoneIfNoAclFound: opts.allowEveryone ?? false,
    log: pino({ level: opts.lines ? 'trace' : 'silent' }, sink),
  });
  const results = await a.createAcls(acls);
  assert.deepEqual(
    results.filter((r) => r.code !== 0),
    [],
  );
  return a;
}

function acl(
  resourceName: string,
  operation: number,
  permissionType: number = Perm.ALLOW,
  more: Partial<AclBinding> = {},
): AclBinding {
  return {
    resourceType: Res.TOPIC,
    resourceName,
    patternType: Pat.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation,
    permissionType,
    ...more,
  };
}

function ctx(principal = 'User:alice', clientHost = '10.0.0.1'): AuthorizableRequestContext {
  return { principal, clientHost, listenerName: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', clientId: 'c', apiKey: 3 };
}

function allowed(a: StandardAuthorizer, op: number, name: string, c = ctx(), type: number = Res.TOPIC): boolean {
  return a.authorize(c, [{ operation: op, resourceType: type, resourceName: name }])[0];
}

test('literal ACLs: the principal, the operation and the resource must match', async () => {
  const a = await authorizer([acl('orders', Op.READ)]);
  assert.equal(allowed(a, Op.READ, 'orders'), true);
  assert.equal(allowed(a, Op.WRITE, 'orders'), false, 'another operation');
  assert.equal(allowed(a, Op.READ, 'orders2'), false, 'another topic (no ACL: denied by default)');
  assert.equal(allowed(a, Op.READ, 'order'), false);
  assert.equal(allowed(a, Op.READ, 'orders', ctx('User:bob')), false, 'another principal');
  assert.equal(allowed(a, Op.READ, 'orders', ctx(), Res.GROUP), false, 'a group of the same name');
});

test('DENY wins over ALLOW, whichever pattern either comes from', async () => {
  const a = await authorizer([
    acl('*', Op.ALL),
    acl('pay', Op.WRITE, Perm.DENY, { patternType: Pat.PREFIXED }),
    acl('secret', Op.ALL, Perm.DENY, { principal: 'User:*' }),
  ]);
  assert.equal(allowed(a, Op.WRITE, 'orders'), true);
  assert.equal(allowed(a, Op.WRITE, 'payments'), false, 'prefixed DENY beats wildcard ALLOW ALL');
  assert.equal(allowed(a, Op.READ, 'payments'), true, 'the DENY is for WRITE only');
  assert.equal(allowed(a, Op.DESCRIBE, 'secret'), false, 'DENY ALL for User:* beats ALLOW ALL');
});

test('implied: DESCRIBE by READ, WRITE, DELETE, ALTER; DESCRIBE_CONFIGS by ALTER_CONFIGS; not by DENY', async () => {
  for (const op of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) {
    const a = await authorizer([acl('t', op)]);
    assert.equal(allowed(a, Op.DESCRIBE, 't'), true, `DESCRIBE implied by ${op}`);
    assert.equal(allowed(a, Op.DESCRIBE_CONFIGS, 't'), false);
  }
  for (const op of [Op.CREATE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS]) {
    const a = await authorizer([acl('t', op)]);
    assert.equal(allowed(a, Op.DESCRIBE, 't'), false, `DESCRIBE not implied by ${op}`);
  }
  const b = await authorizer([acl('t', Op.ALTER_CONFIGS)]);
  assert.equal(allowed(b, Op.DESCRIBE_CONFIGS, 't'), true);
  assert.equal(allowed(b, Op.ALTER, 't'), false);
  const c = await authorizer([acl('t', Op.DESCRIBE), acl('t', Op.READ, Perm.DENY)]);
  assert.equal(allowed(c, Op.DESCRIBE, 't'), true, 'a DENY READ does not deny DESCRIBE');
  assert.equal(allowed(c, Op.READ, 't'), false);
});

test('ALL matches every operation; principals User:* and hosts * match anyone', async () => {
  const a = await authorizer([
    acl('t', Op.ALL, Perm.ALLOW, { principal: 'User:*', host: '10.0.0.1' }),
    acl('u', Op.READ, Perm.ALLOW, { host: '10.0.0.2' }),
  ]);
  for (const op of [Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE, Op.ALTER_CONFIGS])
    assert.equal(allowed(a, op, 't', ctx('User:bob')), true);
  assert.equal(allowed(a, Op.READ, 't', ctx('User:bob', '10.0.0.9')), false, 'another host');
  assert.equal(allowed(a, Op.READ, 'u', ctx('User:alice', '10.0.0.2')), true);
  assert.equal(allowed(a, Op.READ, 'u', ctx('User:alice', '::ffff:10.0.0.2')), true, 'IPv4-mapped address');
  assert.equal(allowed(a, Op.READ, 'u'), false);
});

test('prefixed and wildcard patterns', async () => {
  const a = await authorizer([
    acl('app.', Op.READ, Perm.ALLOW, { patternType: Pat.PREFIXED }),
    acl('app.billing.', Op.WRITE, Perm.ALLOW, { patternType: Pat.PREFIXED }),
    acl('*', Op.DESCRIBE, Perm.ALLOW, { resourceType: Res.GROUP }),
  ]);
  assert.equal(allowed(a, Op.READ, 'app.orders'), true);
  assert.equal(allowed(a, Op.READ, 'app.'), true, 'the prefix itself');
  assert.equal(allowed(a, Op.READ, 'app'), false);
  assert.equal(allowed(a, Op.WRITE, 'app.billing.x'), true);
  assert.equal(allowed(a, Op.WRITE, 'app.orders'), false);
  assert.equal(allowed(a, Op.DESCRIBE, 'any-group', ctx(), Res.GROUP), true);
  assert.equal(allowed(a, Op.READ, 'any-group', ctx(), Res.GROUP), false);
  const p = await authorizer([acl('*', Op.READ, Perm.ALLOW, { patternType: Pat.PREFIXED })]);
  assert.equal(allowed(p, Op.READ, 'x'), false, 'a prefixed "*" is a literal prefix, not a wildcard');
  assert.equal(allowed(p, Op.READ, '*x'), true);
});

test('super.users may do anything; allow.everyone.if.no.acl.found applies only where no ACL exists', async () => {
  const a = await authorizer([acl('t', Op.READ, Perm.DENY, { principal: 'User:*' })], {
    superUsers: 'User:admin; User:ops',
  });
  assert.equal(allowed(a, Op.READ, 't', ctx('User:admin')), true);
  assert.equal(allowed(a, Op.ALTER, 'kafka-cluster', ctx('User:ops'), Res.CLUSTER), true);
  assert.equal(allowed(a, Op.READ, 't', ctx('User:adm')), false);
  assert.equal(allowed(a, Op.READ, 'nothing'), false, 'no ACL: denied by default');

  const b = await authorizer([acl('t', Op.READ, Perm.ALLOW, { principal: 'User:bob' })], { allowEveryone: true });
  assert.equal(allowed(b, Op.WRITE, 'other'), true, 'no ACL on the resource: allowed');
  assert.equal(allowed(b, Op.READ, 't'), false, 'the resource has ACLs (for someone else): denied');
  assert.equal(allowed(b, Op.READ, 't', ctx('User:bob')), true);
});

test('ACL changes apply at once; delete removes them from the index', async () => {
  const a = await authorizer([]);
  assert.equal(allowed(a, Op.READ, 't'), false);
  await a.createAcls([acl('t', Op.READ), acl('t', Op.READ)]);
  assert.equal(allowed(a, Op.READ, 't'), true);
  assert.equal(a.acls(filter({})).length, 1, 'an equal ACL is one ACL');
  const [del] = await a.deleteAcls([filter({ resourceName: 't' })]);
  assert.equal(del.deleted.length, 1);
  assert.equal(allowed(a, Op.READ, 't'), false);
});

function filter(f: Partial<import('../../../../broker/authorizer.js').AclBindingFilter>) {
  return {
    resourceType: Res.ANY,
    resourceName: null,
    patternType: Pat.ANY,
    principal: null,
    host: null,
    operation: Op.ANY,
    permissionType: Perm.ANY,
    ...f,
  };
}

test('filters: ANY, exact pattern types and MATCH, as Kafka', async () => {
  const a = await authorizer([
    acl('app.orders', Op.READ),
    acl('*', Op.READ),
    acl('app.', Op.WRITE, Perm.ALLOW, { patternType: Pat.PREFIXED }),
    acl('ap', Op.WRITE, Perm.DENY, { patternType: Pat.PREFIXED, principal: 'User:bob' }),
    acl('app.orders', Op.READ, Perm.ALLOW, { resourceType: Res.GROUP }),
  ]);
  const names = (f: Parameters<typeof filter>[0]) =>
    a
      .acls(filter(f))
      .map((b) => `${b.resourceType}:${b.patternType}:${b.resourceName}:${b.principal}`)
      .sort();
  assert.equal(names({}).length, 5);
  assert.deepEqual(names({ resourceType: Res.TOPIC, resourceName: 'app.orders' }), ['2:3:app.orders:User:alice']);
  assert.deepEqual(names({ resourceType: Res.TOPIC, resourceName: 'app.orders', patternType: Pat.MATCH }), [
    '2:3:*:User:alice',
    '2:3:app.orders:User:alice',
    '2:4:ap:User:bob',
    '2:4:app.:User:alice',
  ]);
  assert.deepEqual(names({ patternType: Pat.PREFIXED }), ['2:4:ap:User:bob', '2:4:app.:User:alice']);
  assert.deepEqual(names({ patternType: Pat.LITERAL, resourceName: 'app.' }), []);
  assert.deepEqual(names({ principal: 'User:bob' }), ['2:4:ap:User:bob']);
  assert.deepEqual(names({ permissionType: Perm.DENY }), ['2:4:ap:User:bob']);
  assert.deepEqual(names({ operation: Op.WRITE, resourceType: Res.TOPIC }), ['2:4:ap:User:bob', '2:4:app.:User:alice']);
  assert.throws(() => a.acls(filter({ resourceType: Res.UNKNOWN })), { kafkaCode: ErrorCode.INVALID_REQUEST });
  assert.throws(() => a.acls(filter({ operation: 99 })), { message: 'Unknown entryFilter.' });

  const [match, any] = await a.deleteAcls([
    filter({ resourceType: Res.TOPIC, resourceName: 'app.x', patternType: Pat.MATCH, principal: 'User:alice' }),
    filter({ resourceType: Res.GROUP, patternType: Pat.ANY }),
  ]);
  assert.deepEqual(match.deleted.map((d) => d.binding.resourceName).sort(), ['*', 'app.']);
  assert.deepEqual(
    any.deleted.map((d) => [d.binding.resourceType, d.error.code]),
    [[Res.GROUP, 0]],
  );
  assert.equal(names({}).length, 2);
});

test('createAcls validation: one INVALID_REQUEST per bad ACL with Kafka messages, the others created', async () => {
  const a = await authorizer([]);
  const results = await a.createAcls([
    acl('ok', Op.READ),
    acl('x', Op.READ, Perm.ALLOW, { resourceType: Res.ANY }),
    acl('x', Op.READ, Perm.ALLOW, { resourceType: 42 }),
    acl('x', Op.READ, Perm.ALLOW, { patternType: Pat.MATCH }),
    acl('x', Op.READ, Perm.ALLOW, { patternType: Pat.ANY }),
    acl('x', Op.ANY),
    acl('x', Op.READ, Perm.ANY),
    acl('', Op.READ),
    acl('x', Op.READ, Perm.ALLOW, { principal: 'alice' }),
    acl('my-cluster', Op.ALTER, Perm.ALLOW, { resourceType: Res.CLUSTER }),
  ]);
  assert.deepEqual(
    results.map((r) => [r.code, r.message]),
    [
      [0, null],
      [ErrorCode.INVALID_REQUEST, 'Invalid resourceType ANY'],
      [ErrorCode.INVALID_REQUEST, 'Invalid resourceType UNKNOWN'],
      [ErrorCode.INVALID_REQUEST, 'Invalid patternType MATCH'],
      [ErrorCode.INVALID_REQUEST, 'Invalid patternType ANY'],
      [ErrorCode.INVALID_REQUEST, 'Invalid operation ANY'],
      [ErrorCode.INVALID_REQUEST, 'Invalid permissionType ANY'],
      [ErrorCode.INVALID_REQUEST, 'Resource name should not be empty'],
      [
        ErrorCode.INVALID_REQUEST,
        'Could not parse principal from `alice` (no colon is present separating the principal type from the ' +
          'principal name)',
      ],
      [ErrorCode.INVALID_REQUEST, 'The only valid name for the CLUSTER resource is kafka-cluster'],
    ],
  );
  assert.deepEqual(
    a.acls(filter({})).map((b) => b.resourceName),
    ['ok'],
  );
});

test("Kafka's authorizer log lines: denied at info, allowed at debug only when asked", async () => {
  const lines: string[] = [];
  const a = await authorizer([acl('t', Op.READ)], { lines });
  lines.length = 0;
  a.authorize(ctx('User:alice', '::ffff:127.0.0.1'), [
    { operation: Op.WRITE, resourceType: Res.TOPIC, resourceName: 't' },
    { operation: Op.READ, resourceType: Res.TOPIC, resourceName: 't', logIfAllowed: true },
    { operation: Op.DESCRIBE, resourceType: Res.TOPIC, resourceName: 'x', logIfDenied: false },
  ]);
  const parsed = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
  assert.deepEqual(parsed[0], {
    ...parsed[0],
    level: 30,
    msg:
      'Principal = User:alice is Denied operation = WRITE from host = 127.0.0.1 on resource = Topic:LITERAL:t ' +
      'for request = Metadata with resourceRefCount = 1 based on rule DefaultRule(DENIED)',
  });
  assert.equal(parsed[1].level, 20);
  assert.match(
    parsed[1].msg,
    new RegExp(
      '^Principal = User:alice is Allowed operation = READ .* based on rule MatchingAcl\\(acl=StandardAcl\\(' +
        'resourceType=TOPIC, resourceName=t, patternType=LITERAL, principal=User:alice, host=\\*, ' +
        'operation=READ, permissionType=ALLOW\\), result=ALLOWED\\)$',
    ),
  );
  assert.equal(parsed[2].level, 10, 'a denial the caller does not want logged is at trace');
  assert.equal(parsed.length, 3);
});

test('10k ACLs: authorizing stays a few lookups (100k decisions, every answer checked)', async () => {
  const acls: AclBinding[] = [];
  for (let i = 0; i < 5000; i++) acls.push(acl(`topic-${i}`, Op.READ, Perm.ALLOW, { principal: `User:u${i % 50}` }));
  for (let i = 0; i < 5000; i++)
    acls.push(acl(`pre-${i}-`, Op.WRITE, Perm.ALLOW, { patternType: Pat.PREFIXED, principal: `User:u${i % 50}` }));
  const a = await authorizer(acls);
  assert.equal(a.acls(filter({})).length, 10_000);
  let yes = 0;
  for (let n = 0; n < 100_000; n++) {
    const i = n % 5000;
    const u = `User:u${n % 50}`;
    if (allowed(a, Op.READ, `topic-${i}`, ctx(u))) yes++;
    if (allowed(a, Op.WRITE, `pre-${i}-suffix`, ctx(u))) yes++;
  }
  // ACL i is for principal u(i % 50); n % 50 === (n % 5000) % 50, so every decision is an allow.
  assert.equal(yes, 200_000);
  assert.equal(allowed(a, Op.READ, 'topic-1', ctx('User:u2')), false);
});

test('authorizeByResourceType (KIP-679): some ALLOW of that type not covered by a DENY', async () => {
  const W = Op.WRITE;
  const byType = (a: StandardAuthorizer, c = ctx(), op: number = W, type: number = Res.TOPIC) =>
    a.authorizeByResourceType(c, op, type);
  assert.equal(byType(await authorizer([])), false, 'no ACL at all, allow.everyone off');
  assert.equal(byType(await authorizer([], { allowEveryone: true })), true, 'no ACL applies, allow.everyone on');
  assert.equal(byType(await authorizer([acl('t', Op.READ)], { superUsers: 'User:alice' })), true, 'super user');
  assert.equal(byType(await authorizer([acl('no-such-topic', W)])), true, 'a literal ALLOW, resource or not');
  assert.equal(byType(await authorizer([acl('t', Op.ALL)])), true, 'ALL counts');
  assert.equal(byType(await authorizer([acl('t', Op.READ)])), false, 'another operation');
  assert.equal(byType(await authorizer([acl('t', W)]), ctx(), Op.DESCRIBE), false, 'no implied operations');
  assert.equal(byType(await authorizer([acl('t', W)]), ctx('User:bob')), false, 'another principal');
  assert.equal(byType(await authorizer([acl('t', W, Perm.ALLOW, { principal: 'User:*' })]), ctx('User:bob')), true);
  assert.equal(byType(await authorizer([acl('t', W, Perm.ALLOW, { host: '10.9.9.9' })])), false, 'another host');
  assert.equal(byType(await authorizer([acl('t', W)]), ctx(), W, Res.GROUP), false, 'another resource type');
  assert.equal(byType(await authorizer([acl('t', W), acl('t', W, Perm.DENY)])), false, 'literal DENY of it');
  const prefixDeny = acl('t', W, Perm.DENY, { patternType: Pat.PREFIXED });
  assert.equal(byType(await authorizer([acl('tx', W), prefixDeny])), false, 'prefixed DENY of a prefix');
  assert.equal(byType(await authorizer([acl('tx', W), acl('u', W), prefixDeny])), true, 'u is not covered');
  const prefixAllow = acl('ab', W, Perm.ALLOW, { patternType: Pat.PREFIXED });
  assert.equal(byType(await authorizer([prefixAllow, acl('ab', W, Perm.DENY)])), true, 'a literal DENY of ab');
  const longerDeny = acl('abc', W, Perm.DENY, { patternType: Pat.PREFIXED });
  assert.equal(byType(await authorizer([prefixAllow, longerDeny])), true, 'a longer prefixed DENY does not cover');
  assert.equal(byType(await authorizer([acl('*', W)])), true, 'wildcard ALLOW');
  assert.equal(byType(await authorizer([acl('*', W), acl('*', W, Perm.DENY)])), false, 'wildcard DENY');
  assert.equal(byType(await authorizer([acl('t', W), acl('*', Op.ALL, Perm.DENY)])), false, 'wildcard DENY ALL');
  const bobDeny = acl('*', W, Perm.DENY, { principal: 'User:bob' });
  assert.equal(byType(await authorizer([acl('t', W), bobDeny])), true, "another principal's DENY");
});
