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
import { decodeAlterConfigsRequest, type AlterConfigsRequest, type AlterConfigsResource } from '../../protocol/generated/alter-configs-request.js';
import { defaultAlterConfigsResponse, encodeAlterConfigsResponse, type AlterConfigsResponse } from '../../protocol/generated/alter-configs-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { Broker } from '../broker.js';
import {
  checkBrokerResource,
  checkTopicResource,
  isApiErr,
  noDynamicBrokerConfigs,
  replaceTopicConfigs,
  alterEachResource,
  ResourceType,
  withConfigLock,
  type ApiErr,
} from '../topic-configs.js';
import { registerHandler } from './registry.js';

async function alterOne(broker: Broker, r: AlterConfigsResource, validateOnly: boolean): Promise<ApiErr | undefined> {
  if (r.resourceType === ResourceType.TOPIC) {
    const t = checkTopicResource(broker, r.resourceName);
    if (isApiErr(t)) return t;
    const props: Record<string, string | null> = {};
    for (const c of r.configs) props[c.name] = c.value;
    return withConfigLock(broker, async () => {
      const again = checkTopicResource(broker, r.resourceName);
      if (isApiErr(again)) return again;
      const e = await replaceTopicConfigs(broker, t.name, props, validateOnly);
      if (!e && !validateOnly) broker.log.info({ topic: t.name, configs: props }, 'topic configs replaced by AlterConfigs');
      return e;
    });
  }
  if (r.resourceType === ResourceType.BROKER) {
    const b = checkBrokerResource(broker, r.resourceName);
    if (isApiErr(b)) return b;
    if (r.configs.length > 0) return noDynamicBrokerConfigs(r.configs.map((c) => c.name));
    return undefined;
  }
  return { code: ErrorCode.INVALID_REQUEST, message: `Unexpected resource type ${r.resourceType}.` };
}

export const alterConfigsHandler = registerHandler<AlterConfigsRequest, AlterConfigsResponse>({
  apiKey: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  decode: decodeAlterConfigsRequest,
  encode: encodeAlterConfigsResponse,
  async handle(req, ctx) {
    const broker = ctx.broker as Broker;
    const res = defaultAlterConfigsResponse();
    res.responses = await alterEachResource(req.resources, (r) => alterOne(broker, r, req.validateOnly));
    return res;
  },
});
