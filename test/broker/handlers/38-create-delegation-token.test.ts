import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  defaultCreateDelegationTokenRequest,
  encodeCreateDelegationTokenRequest,
} from '../../../protocol/generated/create-delegation-token-request.js';
import { decodeCreateDelegationTokenResponse } from '../../../protocol/generated/create-delegation-token-response.js';

const env = useBrokerAndClient();

test('v0-v3 on a PLAINTEXT connection: DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, no token, owner named', async () => {
  for (let v = 0; v <= 3; v++) {
    const req = defaultCreateDelegationTokenRequest();
    req.renewers = [{ principalType: 'User', principalName: 'bob' }];
    req.maxLifetimeMs = 3600_000n;
    const res = await call(
      env.client,
      38,
      v,
      encodeCreateDelegationTokenRequest,
      decodeCreateDelegationTokenResponse,
      req,
    );
    assert.equal(res.errorCode, ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, `v${v}`);
    assert.deepEqual([res.principalType, res.principalName], ['User', 'ANONYMOUS']);
    assert.deepEqual([res.issueTimestampMs, res.expiryTimestampMs, res.maxTimestampMs], [-1n, -1n, -1n]);
    assert.deepEqual([res.tokenId, res.hmac.length], ['', 0]);
    if (v >= 3)
      assert.deepEqual([res.tokenRequesterPrincipalType, res.tokenRequesterPrincipalName], ['User', 'ANONYMOUS']);
  }
  const req = defaultCreateDelegationTokenRequest();
  req.ownerPrincipalType = 'User';
  req.ownerPrincipalName = 'alice';
  const res = await call(
    env.client,
    38,
    3,
    encodeCreateDelegationTokenRequest,
    decodeCreateDelegationTokenResponse,
    req,
  );
  assert.deepEqual([res.errorCode, res.principalName], [ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, 'alice']);
});
