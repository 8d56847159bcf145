/**
 * SaslHandshake (key 17), versions 0-1 (never flexible).
 *
 * Picks the SASL mechanism of the connection's exchange (broker/security/sasl/authenticator.ts). A mechanism not
 * in the listener's `sasl.enabled.mechanisms` → UNSUPPORTED_SASL_MECHANISM with the enabled list, then the
 * connection closes. v0: the client's next frames are raw SASL tokens; v1: tokens come in SaslAuthenticate. On
 * an authenticated connection a v1 handshake begins re-authentication (KIP-368). On a listener without SASL:
 * ILLEGAL_SASL_STATE, as Kafka answers it.
 */
import {
  decodeSaslHandshakeRequest,
  type SaslHandshakeRequest,
} from '../../protocol/generated/sasl-handshake-request.js';
import {
  defaultSaslHandshakeResponse,
  encodeSaslHandshakeResponse,
  type SaslHandshakeResponse,
} from '../../protocol/generated/sasl-handshake-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { registerHandler } from './registry.js';

export const saslHandshakeHandler = registerHandler<SaslHandshakeRequest, SaslHandshakeResponse>({
  apiKey: 17,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  decode: decodeSaslHandshakeRequest,
  encode: encodeSaslHandshakeResponse,
  handle(req, ctx) {
    const res = defaultSaslHandshakeResponse();
    if (!ctx.sasl) {
      res.errorCode = ErrorCode.ILLEGAL_SASL_STATE;
      return res;
    }
    const r = ctx.sasl.handshake(req.mechanism, ctx.apiVersion);
    res.errorCode = r.errorCode;
    res.mechanisms = r.mechanisms;
    return res;
  },
});
