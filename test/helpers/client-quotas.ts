/**
 * Sets or removes one client quota over AlterClientQuotas v1 (raw protocol), asserting the broker accepted it.
 * `entity`: [entityType, entityName] pairs (a null name is the default entity); `value` null removes `key`.
 */
import assert from 'node:assert/strict';
import { encodeAlterClientQuotasRequest } from '../../protocol/generated/alter-client-quotas-request.js';
import { decodeAlterClientQuotasResponse } from '../../protocol/generated/alter-client-quotas-response.js';
import type { RawClient } from './raw-client.js';
import { call } from './test-broker.js';

export type EntityPairs = Array<[string, string | null]>;

export async function setClientQuota(
  client: RawClient,
  entity: EntityPairs,
  key: string,
  value: number | null,
): Promise<void> {
  const res = await call(client, 49, 1, encodeAlterClientQuotasRequest, decodeAlterClientQuotasResponse, {
    entries: [
      {
        entity: entity.map(([entityType, entityName]) => ({ entityType, entityName })),
        ops: [{ key, value: value ?? 0, remove: value === null }],
      },
    ],
    validateOnly: false,
  });
  assert.equal(res.entries[0].errorCode, 0, res.entries[0].errorMessage ?? '');
}
