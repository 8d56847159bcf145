import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrokerAndClient, call } from '../../helpers/test-broker.js';
import { ErrorCode } from '../../../protocol/generated/error-codes.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  encodeDescribeUserScramCredentialsRequest,
} from '../../../protocol/generated/describe-user-scram-credentials-request.js';
// biome-ignore format: a one-name import Biome would keep on one line over 120 characters
import {
  decodeDescribeUserScramCredentialsResponse,
} from '../../../protocol/generated/describe-user-scram-credentials-response.js';

const env = useBrokerAndClient();

const describe = (users: string[] | null) =>
  call(env.client, 50, 0, encodeDescribeUserScramCredentialsRequest, decodeDescribeUserScramCredentialsResponse, {
    users: users === null ? null : users.map((name) => ({ name })),
  });

test('v0 with no credentials: all users: none; a named user RESOURCE_NOT_FOUND, twice DUPLICATE_RESOURCE', async () => {
  const all = await describe(null);
  assert.deepEqual([all.errorCode, all.results], [0, []]);
  const res = await describe(['zed', 'amy', 'amy']);
  assert.deepEqual(
    res.results.map((r) => [r.user, r.errorCode, r.credentialInfos]),
    [
      ['zed', ErrorCode.RESOURCE_NOT_FOUND, []],
      ['amy', ErrorCode.DUPLICATE_RESOURCE, []],
    ],
  );
  assert.equal(
    res.results[1]!.errorMessage,
    'Cannot describe SCRAM credentials for the same user twice in a single request: amy',
  );
});
