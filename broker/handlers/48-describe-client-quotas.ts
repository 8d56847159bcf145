/**
 * DescribeClientQuotas (key 48), versions 0-1 (v1+ flexible).
 *
 * The entities matching the filter with their quota values, from the stored client quotas
 * (replication/metadata/client-quotas.ts), as Kafka's ClientQuotasImage.describe answers. Filter components:
 * match type 0 = that exact name, 1 = the default entity (null name), 2 = any name (default included);
 * `strict` also requires the entity to have no other types. A bad filter fails the whole request with entries
 * null: an empty or repeated entity type, a match string where none belongs or a missing one → INVALID_REQUEST;
 * an entity type other than user / client-id / ip → UNSUPPORTED_VERSION; ip combined with user or client-id →
 * INVALID_REQUEST.
 * Authorization (Kafka's KafkaApis): DESCRIBE_CONFIGS on the CLUSTER, else a top-level
 * CLUSTER_AUTHORIZATION_FAILED and no entries.
 */
import {
  type DescribeClientQuotasRequest,
  decodeDescribeClientQuotasRequest,
} from '../../protocol/generated/describe-client-quotas-request.js';
import {
  type DescribeClientQuotasResponse,
  defaultDescribeClientQuotasResponse,
  encodeDescribeClientQuotasResponse,
} from '../../protocol/generated/describe-client-quotas-response.js';
import { QuotaFilterError } from '../../replication/metadata/client-quotas.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const describeClientQuotasHandler = registerHandler<DescribeClientQuotasRequest, DescribeClientQuotasResponse>({
  apiKey: 48,
  name: 'DescribeClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  decode: decodeDescribeClientQuotasRequest,
  encode: encodeDescribeClientQuotasResponse,
  handle(req, ctx) {
    const { clientQuotas } = ctx.services;
    const res = defaultDescribeClientQuotasResponse();
    if (!authorizedCluster(ctx, AclOperation.DESCRIBE_CONFIGS)) {
      res.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      res.errorMessage = deniedMessage(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      res.entries = null;
      return res;
    }
    try {
      const found = clientQuotas.describe(req.components, req.strict);
      res.entries = found.map((e) => ({
        entity: Object.entries(e.entity).map(([entityType, entityName]) => ({ entityType, entityName })),
        values: Object.entries(e.values).map(([key, value]) => ({ key, value })),
      }));
    } catch (err) {
      if (!(err instanceof QuotaFilterError)) throw err;
      res.errorCode = err.kafkaCode;
      res.errorMessage = err.message;
      res.entries = null;
    }
    return res;
  },
});
