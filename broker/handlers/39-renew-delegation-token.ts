/**
 * RenewDelegationToken (key 39), versions 0-2 (v2+ flexible; v0 from Kafka 3.9.1's definition).
 *
 * Delegation tokens are not enabled; on Runnel's PLAINTEXT connections Kafka answers
 * DELEGATION_TOKEN_REQUEST_NOT_ALLOWED with expiry timestamp -1 (see 38-create-delegation-token.ts).
 */
import {
  decodeRenewDelegationTokenRequest,
  type RenewDelegationTokenRequest,
} from '../../protocol/generated/renew-delegation-token-request.js';
import {
  defaultRenewDelegationTokenResponse,
  encodeRenewDelegationTokenResponse,
  type RenewDelegationTokenResponse,
} from '../../protocol/generated/renew-delegation-token-response.js';
import { delegationTokenError } from './38-create-delegation-token.js';
import { registerHandler } from './registry.js';

export const renewDelegationTokenHandler = registerHandler<RenewDelegationTokenRequest, RenewDelegationTokenResponse>({
  apiKey: 39,
  name: 'RenewDelegationToken',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeRenewDelegationTokenRequest,
  encode: encodeRenewDelegationTokenResponse,
  handle(_req, ctx) {
    const res = defaultRenewDelegationTokenResponse();
    res.errorCode = delegationTokenError(ctx);
    res.expiryTimestampMs = -1n;
    return res;
  },
});
