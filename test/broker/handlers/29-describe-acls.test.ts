import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { Admin } from '@platformatic/kafka';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { run } from '../../helpers/broker-process.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  defaultDescribeAclsRequest,
  encodeDescribeAclsRequest,
} from '../../../protocol/generated/describe-acls-request.js';
import { decodeDescribeAclsResponse } from '../../../protocol/generated/describe-acls-response.js';
import type { AclBinding, Authorizer } from '../../../broker/authorizer.js';
import { quietKafkajs } from '../../helpers/kafkajs.js';

const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;
const env = useBrokerAndClient();
const clients = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/helpers/clients'));

test('v0-v3 without an authorizer: SECURITY_DISABLED "No Authorizer is configured.", connection kept', async () => {
  for (let v = 0; v <= 3; v++) {
    const req = defaultDescribeAclsRequest();
    req.resourceTypeFilter = 1; // ANY
    req.operation = 1;
    req.permissionType = 1;
    req.patternTypeFilter = v === 0 ? 3 : 1; // v0 knows literal patterns only
    const res = await call(env.client, 29, v, encodeDescribeAclsRequest, decodeDescribeAclsResponse, req);
    assert.equal(res.errorCode, ErrorCode.SECURITY_DISABLED, `v${v}`);
    assert.equal(res.errorMessage, 'No Authorizer is configured.');
    assert.deepEqual(res.resources, []);
  }
});

test('with an authorizer plugged in, its ACLs are answered grouped by resource pattern', async () => {
  const acls: AclBinding[] = [
    {
      resourceType: 2,
      resourceName: 't',
      patternType: 3,
      principal: 'User:a',
      host: '*',
      operation: 3,
      permissionType: 3,
    },
    {
      resourceType: 2,
      resourceName: 't',
      patternType: 3,
      principal: 'User:b',
      host: '*',
      operation: 4,
      permissionType: 3,
    },
    {
      resourceType: 3,
      resourceName: 'g',
      patternType: 3,
      principal: 'User:a',
      host: '*',
      operation: 3,
      permissionType: 3,
    },
  ];
  const fake: Authorizer = {
    authorize: (_c, actions) => actions.map(() => true),
    acls: (f) => acls.filter((a) => f.resourceType === 1 || f.resourceType === a.resourceType),
    createAcls: async (b) => b.map(() => ({ code: 0, message: null })),
    deleteAcls: async (fs) => fs.map(() => ({ code: 0, message: null, deleted: [] })),
  };
  env.broker.broker.authorizer = fake;
  try {
    const req = defaultDescribeAclsRequest();
    req.resourceTypeFilter = 1;
    req.patternTypeFilter = 1;
    const res = await call(env.client, 29, 3, encodeDescribeAclsRequest, decodeDescribeAclsResponse, req);
    assert.equal(res.errorCode, 0);
    assert.deepEqual(
      res.resources.map((r) => [r.resourceType, r.resourceName, r.acls.map((a) => a.principal)]),
      [
        [2, 't', ['User:a', 'User:b']],
        [3, 'g', ['User:a']],
      ],
    );
  } finally {
    env.broker.broker.authorizer = undefined;
  }
});

test('kafka-python 2.0.2 describe/create/delete_acls get SECURITY_DISABLED as errors, not a disconnect', async () => {
  const r = await run('/usr/bin/python3', [join(clients, 'admin_acls.py'), env.broker.bootstrapServers], 60_000);
  assert.match(r.stdout, /^OK$/m, `${r.stdout}\n${r.stderr.slice(-1500)}`);
  assert.match(r.stdout, /^describe: SecurityDisabledError$/m);
  assert.match(r.stdout, /^create: 0 \['SecurityDisabledError'\]$/m);
  assert.match(r.stdout, /^delete: \[\(0, 'SecurityDisabledError'\)\]$/m);
});

test('kafkajs admin describeAcls / createAcls / deleteAcls reject with SECURITY_DISABLED', async () => {
  const kafka = quietKafkajs(env.broker);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const filter = {
      resourceType: AclResourceTypes.TOPIC,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    };
    await assert.rejects(admin.describeAcls(filter), { type: 'SECURITY_DISABLED' });
    const acl = {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: 't1',
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: 'User:alice',
      host: '*',
      operation: AclOperationTypes.READ,
      permissionType: AclPermissionTypes.ALLOW,
    };
    await assert.rejects(admin.createAcls({ acl: [acl] }), { type: 'SECURITY_DISABLED' });
    await assert.rejects(admin.deleteAcls({ filters: [filter] }), { type: 'SECURITY_DISABLED' });
    assert.ok(Array.isArray(await admin.listTopics()), 'the admin connection still works');
  } finally {
    await admin.disconnect();
  }
});

test('@platformatic/kafka admin describeAcls / createAcls / deleteAcls reject with SECURITY_DISABLED', async () => {
  const admin = new Admin({ clientId: 'acl-test', bootstrapBrokers: [env.broker.bootstrapServers], retries: 0 });
  try {
    const filter = {
      resourceType: 2 as const,
      resourceName: null,
      resourcePatternType: 3 as const,
      principal: null,
      host: null,
      operation: 1 as const,
      permissionType: 1 as const,
    };
    // Its error wraps the broker's: a ProtocolError with apiCode 54 and the server's message.
    const secDisabled = (err: unknown): boolean => hasApiCode(err, ErrorCode.SECURITY_DISABLED);
    await assert.rejects(admin.describeAcls({ filter }), secDisabled);
    await assert.rejects(
      admin.createAcls({
        creations: [
          {
            resourceType: 2,
            resourceName: 't1',
            resourcePatternType: 3,
            principal: 'User:alice',
            host: '*',
            operation: 3,
            permissionType: 3,
          },
        ],
      }),
      secDisabled,
    );
    await assert.rejects(admin.deleteAcls({ filters: [filter] }), secDisabled);
    assert.ok(Array.isArray(await admin.listTopics()));
  } finally {
    await admin.close();
  }
});

/** Whether a (nested) error of @platformatic/kafka carries this Kafka error code as its apiCode. */
function hasApiCode(err: unknown, code: number): boolean {
  const seen = new Set<unknown>();
  const walk = (o: unknown, depth: number): boolean => {
    if (!o || typeof o !== 'object' || depth > 6 || seen.has(o)) return false;
    seen.add(o);
    const r = o as Record<string, unknown>;
    if (r.apiCode === code) return true;
    return Object.getOwnPropertyNames(o).some((k) => walk(r[k], depth + 1));
  };
  return walk(err, 0);
}
