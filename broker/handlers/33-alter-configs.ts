/**
 * AlterConfigs (key 33), versions 0-2 (v2 flexible): the legacy, non-incremental form.
 *
 * Topic resources: the given configs REPLACE the topic's whole set of overrides (names not given return
 * to the broker default), as Kafka's legacy AlterConfigs does. Validated first (unknown name, null or bad
 * value, conflicting compaction lags → INVALID_CONFIG with a message); the change applies at once to the
 * open partition logs and is persisted with the topic metadata. validateOnly validates only.
 * Broker resources ("" or this node's id; another id → INVALID_REQUEST): Runnel has no dynamic broker
 * configs, so a non-empty change is refused with INVALID_REQUEST naming the startup alternatives; an empty
 * one (remove all dynamic broker configs: there are none) succeeds. Other resource types →
 * INVALID_REQUEST. A resource named twice → INVALID_REQUEST "Duplicate resource.".
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
import type { Broker } from '../broker.js';
import { alterConfigResources, type ConfigAlteration } from '../topic-configs.js';
import { registerHandler } from './registry.js';

/** Replace: the given configs are the topic's new overrides; every broker config given is a change. */
const REPLACE: ConfigAlteration<AlterConfigsResource> = {
  topicOverrides(_broker, r) {
    const props: Record<string, string | null> = {};
    for (const c of r.configs) props[c.name] = c.value;
    return props;
  },
  brokerChanges: (r) => r.configs.map((c) => c.name),
  logMessage: 'topic configs replaced by AlterConfigs',
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
    res.responses = await alterConfigResources(ctx.broker as Broker, req, REPLACE);
    return res;
  },
});
