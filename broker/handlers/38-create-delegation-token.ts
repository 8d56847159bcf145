/**
 * CreateDelegationToken (key 38), versions 0-3 (v2+ flexible; v0 from Kafka 3.9.1's definition).
 *
 * Delegation tokens (KIP-48) are not enabled. Kafka refuses token requests on PLAINTEXT channels (and 1-way
 * SSL, and token-authenticated ones) with DELEGATION_TOKEN_REQUEST_NOT_ALLOWED before it looks at whether
 * tokens are enabled (KafkaApis/ControllerApis `allowTokenRequests`); every Runnel connection is PLAINTEXT
 * (no SASL yet), so that is the answer. On an authenticated channel the answer would be
 * DELEGATION_TOKEN_AUTH_DISABLED (no `delegation.token.secret.key`). The response names the owner (the
 * request's, or the requester's when empty) and the requester (User:ANONYMOUS), timestamps -1, no token.
 * Authorization (CREATE_TOKENS on the owner USER, DESCRIBE on DELEGATION_TOKEN for 41): Kafka answers both
 * refusals above before it authorizes anything, so while tokens are disabled (38-41) no ACL is consulted.
 */
import {
  type CreateDelegationTokenRequest,
  decodeCreateDelegationTokenRequest,
} from '../../protocol/generated/create-delegation-token-request.js';
import {
  type CreateDelegationTokenResponse,
  defaultCreateDelegationTokenResponse,
  encodeCreateDelegationTokenResponse,
} from '../../protocol/generated/create-delegation-token-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { RequestContext } from './registry.js';
import { registerHandler } from './registry.js';

/** The principal of an unauthenticated (PLAINTEXT) connection. */
export const ANONYMOUS = { type: 'User', name: 'ANONYMOUS' } as const;

/**
 * The error every delegation-token API answers with here: requests are not allowed on an unauthenticated
 * channel, and tokens are not enabled on any other.
 */
export function delegationTokenError(_ctx: RequestContext): number {
  const authenticated = false; // no SASL listener yet: every connection is PLAINTEXT, principal ANONYMOUS
  return authenticated ? ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED : ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED;
}

export const createDelegationTokenHandler = registerHandler<
  CreateDelegationTokenRequest,
  CreateDelegationTokenResponse
>({
  apiKey: 38,
  name: 'CreateDelegationToken',
  minVersion: 0,
  maxVersion: 3,
  decode: decodeCreateDelegationTokenRequest,
  encode: encodeCreateDelegationTokenResponse,
  handle(req, ctx) {
    const res = defaultCreateDelegationTokenResponse();
    const ownIsRequester = req.ownerPrincipalName === null || req.ownerPrincipalName === '';
    res.errorCode = delegationTokenError(ctx);
    res.principalType = ownIsRequester ? ANONYMOUS.type : (req.ownerPrincipalType ?? ANONYMOUS.type);
    res.principalName = ownIsRequester ? ANONYMOUS.name : (req.ownerPrincipalName ?? '');
    res.tokenRequesterPrincipalType = ANONYMOUS.type;
    res.tokenRequesterPrincipalName = ANONYMOUS.name;
    res.issueTimestampMs = -1n;
    res.expiryTimestampMs = -1n;
    res.maxTimestampMs = -1n;
    res.tokenId = '';
    res.hmac = Buffer.alloc(0);
    return res;
  },
});
