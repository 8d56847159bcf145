/**
 * AlterConfigs (key 33), versions 0-2 (v2 flexible): the legacy, non-incremental form.
 *
 * Topic resources: the given configs REPLACE the topic's whole set of overrides (names not given return
 * to the broker default), as Kafka's legacy AlterConfigs does. Validated first (unknown name, null or bad
 * value, conflicting compaction lags → INVALID_CONFIG with a message); the change applies at once to the
 * open partition logs and is persisted with the topic metadata. validateOnly validates only.
 * Broker resources ("" = cluster default or this node's id; another id → INVALID_REQUEST): the given
 * configs REPLACE that entity's dynamic broker configs (an empty set removes them all); only dynamic
 * configs, else INVALID_REQUEST (broker-configs.ts); persisted and applied at once. Other resource types →
 * INVALID_REQUEST. A resource named twice → INVALID_REQUEST "Duplicate resource.".
 * Authorization (Kafka's KafkaApis): ALTER_CONFIGS on the topic (before its existence is checked), or on the
 * CLUSTER for broker resources; denied → TOPIC_AUTHORIZATION_FAILED / CLUSTER_AUTHORIZATION_FAILED with no
 * message, and nothing changes.
 */
import {
  decodeAlterConfigsRequest,
  type AlterConfigsRequest,
  type AlterConfigsResource,
} from '../../protocol/generated/alter-configs-request.js';
import {
  defaultAlterConfigsResponse,
  encodeAlterConfigsResponse,
  type AlterConfigsResponse,
} from '../../protocol/generated/alter-configs-response.js';
import { alterConfigResources, type ConfigAlteration } from '../broker-configs.js';
import { AclOperation } from '../authorizer.js';
import { configResourceDenied } from '../security/authorize.js';
import { registerHandler } from './registry.js';

function given(r: AlterConfigsResource): Record<string, string | null> {
  const props: Record<string, string | null> = {};
  for (const c of r.configs) props[c.name] = c.value;
  return props;
}

/** Replace: the given configs are the topic's new overrides, or the broker entity's new dynamic configs. */
const REPLACE: ConfigAlteration<AlterConfigsResource> = {
  topicOverrides: (_broker, r) => given(r),
  brokerConfigs: (_broker, r) => given(r),
  logMessage: 'configs replaced by AlterConfigs',
};

export const alterConfigsHandler = registerHandler<AlterConfigsRequest, AlterConfigsResponse>({
  apiKey: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeAlterConfigsRequest,
  encode: encodeAlterConfigsResponse,
  async handle(req, ctx) {
    const res = defaultAlterConfigsResponse();
    res.responses = await alterConfigResources(ctx.services, req, REPLACE, (r) =>
      configResourceDenied(ctx, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName),
    );
    return res;
  },
});
