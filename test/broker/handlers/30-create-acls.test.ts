import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { encodeCreateAclsRequest } from '../../../protocol/generated/create-acls-request.js';
import { decodeCreateAclsResponse } from '../../../protocol/generated/create-acls-response.js';

const env = useBrokerAndClient();

const creation = (name: string) => ({
  resourceType: 2,
  resourceName: name,
  resourcePatternType: 3,
  principal: 'User:alice',
  host: '*',
  operation: 3,
  permissionType: 3,
});

test('v0-v3 without an authorizer: every creation gets SECURITY_DISABLED, in order; nothing is stored', async () => {
  for (let v = 0; v <= 3; v++) {
    const res = await call(env.client, 30, v, encodeCreateAclsRequest, decodeCreateAclsResponse, {
      creations: [creation('a'), creation('b')],
    });
    assert.deepEqual(
      res.results,
      [0, 1].map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' })),
      `v${v}`,
    );
  }
  const none = await call(env.client, 30, 3, encodeCreateAclsRequest, decodeCreateAclsResponse, { creations: [] });
  assert.deepEqual(none.results, []);
});

test('with an authorizer plugged in, each creation gets its result', async () => {
  env.broker.broker.authorizer = {
    authorize: (_c, actions) => actions.map(() => true),
    acls: () => [],
    createAcls: async (bindings) =>
      bindings.map((b) =>
        b.resourceName === 'bad' ? { code: ErrorCode.INVALID_REQUEST, message: 'bad' } : { code: 0, message: null },
      ),
    deleteAcls: async () => [],
  };
  try {
    const res = await call(env.client, 30, 2, encodeCreateAclsRequest, decodeCreateAclsResponse, {
      creations: [creation('ok'), creation('bad')],
    });
    assert.deepEqual(
      res.results.map((r) => r.errorCode),
      [0, ErrorCode.INVALID_REQUEST],
    );
  } finally {
    env.broker.broker.authorizer = undefined;
  }
});
