/**
 * ExpireDelegationToken (key 40), versions 0-2 (v2+ flexible; v0 from Kafka 3.9.1's definition).
 *
 * Delegation tokens are not enabled; on Runnel's PLAINTEXT connections Kafka answers
 * DELEGATION_TOKEN_REQUEST_NOT_ALLOWED with expiry timestamp -1 (see 38-create-delegation-token.ts).
 */
import {
  decodeExpireDelegationTokenRequest,
  type ExpireDelegationTokenRequest,
} from '../../protocol/generated/expire-delegation-token-request.js';
import {
  defaultExpireDelegationTokenResponse,
  encodeExpireDelegationTokenResponse,
  type ExpireDelegationTokenResponse,
} from '../../protocol/generated/expire-delegation-token-response.js';
import { delegationTokenError } from './38-create-delegation-token.js';
import { registerHandler } from './registry.js';

export const expireDelegationTokenHandler = registerHandler<
  ExpireDelegationTokenRequest,
  ExpireDelegationTokenResponse
>({
  apiKey: 40,
  name: 'ExpireDelegationToken',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeExpireDelegationTokenRequest,
  encode: encodeExpireDelegationTokenResponse,
  handle(_req, ctx) {
    const res = defaultExpireDelegationTokenResponse();
    res.errorCode = delegationTokenError(ctx);
    res.expiryTimestampMs = -1n;
    return res;
  },
});
