import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { encodeDeleteAclsRequest } from '../../../protocol/generated/delete-acls-request.js';
import { decodeDeleteAclsResponse } from '../../../protocol/generated/delete-acls-response.js';

const env = useBrokerAndClient();

const filter = {
  resourceTypeFilter: 1,
  resourceNameFilter: null,
  patternTypeFilter: 3,
  principalFilter: null,
  hostFilter: null,
  operation: 1,
  permissionType: 1,
};

test('v0-v3 without an authorizer: every filter gets SECURITY_DISABLED and no matching ACLs', async () => {
  for (let v = 0; v <= 3; v++) {
    const res = await call(env.client, 31, v, encodeDeleteAclsRequest, decodeDeleteAclsResponse, {
      filters: [filter, { ...filter, resourceTypeFilter: 2, resourceNameFilter: 't' }],
    });
    assert.deepEqual(
      res.filterResults,
      [0, 1].map(() => ({
        errorCode: ErrorCode.SECURITY_DISABLED,
        errorMessage: 'No Authorizer is configured.',
        matchingAcls: [],
      })),
      `v${v}`,
    );
  }
});

test('with an authorizer plugged in, each filter lists the ACLs it deleted', async () => {
  const binding = {
    resourceType: 2,
    resourceName: 't',
    patternType: 3,
    principal: 'User:a',
    host: '*',
    operation: 3,
    permissionType: 3,
  };
  env.broker.broker.authorizer = {
    authorize: (_c, actions) => actions.map(() => true),
    acls: () => [],
    createAcls: async () => [],
    deleteAcls: async (filters) =>
      filters.map(() => ({ code: 0, message: null, deleted: [{ binding, error: { code: 0, message: null } }] })),
  };
  try {
    const res = await call(env.client, 31, 3, encodeDeleteAclsRequest, decodeDeleteAclsResponse, { filters: [filter] });
    assert.equal(res.filterResults[0]!.errorCode, 0);
    assert.deepEqual(res.filterResults[0]!.matchingAcls, [{ errorCode: 0, errorMessage: null, ...binding }]);
  } finally {
    env.broker.broker.authorizer = undefined;
  }
});
