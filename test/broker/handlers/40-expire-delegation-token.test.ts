import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import {
  defaultExpireDelegationTokenRequest,
  encodeExpireDelegationTokenRequest,
} from '../../../protocol/generated/expire-delegation-token-request.js';
import { decodeExpireDelegationTokenResponse } from '../../../protocol/generated/expire-delegation-token-response.js';

const env = useBrokerAndClient();

test('v0-v2 on a PLAINTEXT connection: DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, expiry -1', async () => {
  for (let v = 0; v <= 2; v++) {
    const req = defaultExpireDelegationTokenRequest();
    req.hmac = Buffer.from('not-a-token');
    const res = await call(
      env.client,
      40,
      v,
      encodeExpireDelegationTokenRequest,
      decodeExpireDelegationTokenResponse,
      req,
    );
    assert.deepEqual(
      [res.errorCode, res.expiryTimestampMs],
      [ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, -1n],
      `v${v}`,
    );
  }
});
