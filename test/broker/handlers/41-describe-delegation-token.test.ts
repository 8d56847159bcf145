import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
import { encodeDescribeDelegationTokenRequest } from '../../../protocol/generated/describe-delegation-token-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeDescribeDelegationTokenResponse,
} from '../../../protocol/generated/describe-delegation-token-response.js';

const env = useBrokerAndClient();

test('v0-v3 on a PLAINTEXT connection: DELEGATION_TOKEN_REQUEST_NOT_ALLOWED and no tokens', async () => {
  for (let v = 0; v <= 3; v++) {
    for (const owners of [null, [{ principalType: 'User', principalName: 'alice' }]]) {
      const res = await call(
        env.client,
        41,
        v,
        encodeDescribeDelegationTokenRequest,
        decodeDescribeDelegationTokenResponse,
        {
          owners,
        },
      );
      assert.deepEqual([res.errorCode, res.tokens], [ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, []], `v${v}`);
    }
  }
});
