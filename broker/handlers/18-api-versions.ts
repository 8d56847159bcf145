/**
 * ApiVersions (key 18), versions 0-4; v3+ flexible, but the response header is always v0 (KIP-511).
 *
 * Answers with every API in the handler registry and its advertised range. A request above v4 is not
 * parsed: the answer is a v0 body with UNSUPPORTED_VERSION and only ApiVersions' own range, so the client
 * retries with a version both sides know. v3+ requests whose client software name or version do not match
 * Kafka's pattern get INVALID_REQUEST (librdkafka then retries with v0). Accepted before authentication.
 * No finalized features are advertised (in particular no transaction.version >= 2, so clients use the
 * classic transaction protocol).
 */
import { type ApiVersionsRequest, decodeApiVersionsRequest } from '../../protocol/generated/api-versions-request.js';
import {
  type ApiVersionsResponse,
  defaultApiVersionsResponse,
  encodeApiVersionsResponse,
} from '../../protocol/generated/api-versions-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { advertisedApis, registerHandler } from './registry.js';

const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;
const MAX_VERSION = 4;

export const apiVersionsHandler = registerHandler<ApiVersionsRequest, ApiVersionsResponse>({
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: MAX_VERSION,
  decode: decodeApiVersionsRequest,
  encode: encodeApiVersionsResponse,
  handle(req, ctx) {
    const res = defaultApiVersionsResponse();
    if (
      ctx.apiVersion >= 3 &&
      (!SOFTWARE_PATTERN.test(req.clientSoftwareName) || !SOFTWARE_PATTERN.test(req.clientSoftwareVersion))
    ) {
      res.errorCode = ErrorCode.INVALID_REQUEST;
      return res;
    }
    res.apiKeys = advertisedApis();
    return res;
  },
  unsupportedVersion() {
    const response = defaultApiVersionsResponse();
    response.errorCode = ErrorCode.UNSUPPORTED_VERSION;
    response.apiKeys = [{ apiKey: 18, minVersion: 0, maxVersion: MAX_VERSION }];
    return { version: 0, response };
  },
});
