/**
 * SaslAuthenticate (key 36), versions 0-2 (v2+ flexible; v1+ answers session_lifetime_ms, KIP-368).
 *
 * Feeds one SASL token of the exchange a v1 SaslHandshake started to the connection's authenticator
 * (broker/security/sasl/authenticator.ts) and answers the mechanism's next token. A failed exchange answers
 * SASL_AUTHENTICATION_FAILED with the mechanism's message after `connection.failed.authentication.delay.ms`,
 * and the connection then closes. On a listener without SASL: ILLEGAL_SASL_STATE, as Kafka answers it.
 */
import {
  decodeSaslAuthenticateRequest,
  type SaslAuthenticateRequest,
} from '../../protocol/generated/sasl-authenticate-request.js';
import {
  defaultSaslAuthenticateResponse,
  encodeSaslAuthenticateResponse,
  type SaslAuthenticateResponse,
} from '../../protocol/generated/sasl-authenticate-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { registerHandler } from './registry.js';

export const saslAuthenticateHandler = registerHandler<SaslAuthenticateRequest, SaslAuthenticateResponse>({
  apiKey: 36,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeSaslAuthenticateRequest,
  encode: encodeSaslAuthenticateResponse,
  async handle(req, ctx) {
    const res = defaultSaslAuthenticateResponse();
    if (!ctx.sasl) {
      res.errorCode = ErrorCode.ILLEGAL_SASL_STATE;
      res.errorMessage = 'SaslAuthenticate request received on a listener without SASL';
      return res;
    }
    const r = await ctx.sasl.authenticate(req.authBytes);
    res.errorCode = r.errorCode;
    res.errorMessage = r.errorMessage;
    res.authBytes = r.authBytes;
    res.sessionLifetimeMs = r.sessionLifetimeMs;
    return res;
  },
});
