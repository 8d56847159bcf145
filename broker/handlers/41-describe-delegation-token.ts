/**
 * DescribeDelegationToken (key 41), versions 0-3 (v2+ flexible; v0 from Kafka 3.9.1's definition).
 *
 * Delegation tokens are not enabled; on Runnel's PLAINTEXT connections Kafka answers
 * DELEGATION_TOKEN_REQUEST_NOT_ALLOWED with no tokens (see 38-create-delegation-token.ts).
 */
import {
  type DescribeDelegationTokenRequest,
  decodeDescribeDelegationTokenRequest,
} from '../../protocol/generated/describe-delegation-token-request.js';
import {
  type DescribeDelegationTokenResponse,
  defaultDescribeDelegationTokenResponse,
  encodeDescribeDelegationTokenResponse,
} from '../../protocol/generated/describe-delegation-token-response.js';
import { delegationTokenError } from './38-create-delegation-token.js';
import { registerHandler } from './registry.js';

export const describeDelegationTokenHandler = registerHandler<
  DescribeDelegationTokenRequest,
  DescribeDelegationTokenResponse
>({
  apiKey: 41,
  name: 'DescribeDelegationToken',
  minVersion: 0,
  maxVersion: 3,
  decode: decodeDescribeDelegationTokenRequest,
  encode: encodeDescribeDelegationTokenResponse,
  handle(_req, ctx) {
    const res = defaultDescribeDelegationTokenResponse();
    res.errorCode = delegationTokenError(ctx);
    res.tokens = [];
    return res;
  },
});
