/**
 * AlterClientQuotas (key 49), versions 0-1 (v1+ flexible).
 *
 * Sets or removes quota values per entity in the stored client quotas (replication/metadata/client-quotas.ts;
 * durable before the response is sent; enforced at once by broker/quotas/), with Kafka's validation
 * (ClientQuotaControlManager),
 * one result per entry: an empty entity, an unknown or repeated entity type, an empty name, ip combined with
 * user/client-id, an ip that is not an IP address, an invalid key for the entity, a value <= 0, a fractional
 * value for a long/int key, a key named twice, or an entity named twice → INVALID_REQUEST. Removing a key
 * that is not set is accepted. validateOnly checks and changes nothing. A storage failure answers
 * KAFKA_STORAGE_ERROR for every entry.
 * Authorization (Kafka's ControllerApis): ALTER_CONFIGS on the CLUSTER; denied → CLUSTER_AUTHORIZATION_FAILED
 * for every entry and nothing is stored.
 */
import {
  type AlterClientQuotasRequest,
  decodeAlterClientQuotasRequest,
} from '../../protocol/generated/alter-client-quotas-request.js';
import {
  type AlterClientQuotasResponse,
  defaultAlterClientQuotasResponse,
  encodeAlterClientQuotasResponse,
} from '../../protocol/generated/alter-client-quotas-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { AclOperation } from '../authorizer.js';
import { authorizedCluster, deniedMessage } from '../security/authorize.js';
import { registerHandler } from './registry.js';

export const alterClientQuotasHandler = registerHandler<AlterClientQuotasRequest, AlterClientQuotasResponse>({
  apiKey: 49,
  name: 'AlterClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  decode: decodeAlterClientQuotasRequest,
  encode: encodeAlterClientQuotasResponse,
  async handle(req, ctx) {
    const { clientQuotas } = ctx.services;
    const res = defaultAlterClientQuotasResponse();
    let results: Array<{ code: number; message: string | null }>;
    if (!authorizedCluster(ctx, AclOperation.ALTER_CONFIGS)) {
      const denied = { code: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, message: deniedMessage(31) };
      results = req.entries.map(() => denied);
    } else {
      try {
        results = await clientQuotas.alter(req.entries, req.validateOnly);
      } catch (err) {
        ctx.log.error({ err }, 'storing client quotas failed');
        const message = `Failed to store client quotas: ${(err as Error).message}`;
        results = req.entries.map(() => ({ code: ErrorCode.KAFKA_STORAGE_ERROR, message }));
      }
    }
    res.entries = req.entries.map((e, i) => ({
      errorCode: results[i]!.code,
      errorMessage: results[i]!.message,
      entity: e.entity.map((x) => ({ entityType: x.entityType, entityName: x.entityName })),
    }));
    return res;
  },
});
