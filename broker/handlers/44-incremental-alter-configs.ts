/**
 * IncrementalAlterConfigs (key 44), versions 0-1 (v1 flexible).
 *
 * Topic resources: operations apply in order to the topic's current overrides — SET (0) sets one,
 * DELETE (1) removes one (the broker default applies again; deleting an absent one is a no-op), APPEND (2)
 * and SUBTRACT (3) add or remove comma-separated items of a LIST config (cleanup.policy); the list they
 * start from is the override, or the value in force when there is none. APPEND/SUBTRACT on a non-list
 * config, an unknown name, a null value or a bad resulting value → INVALID_CONFIG with a message; a name
 * given twice in one resource or an unknown operation → INVALID_REQUEST. The resulting overrides are
 * validated as a whole, applied at once to the open partition logs and persisted; validateOnly changes
 * nothing. Read-modify-write runs under a per-broker lock so concurrent requests cannot lose updates.
 * Broker resources and other types: as AlterConfigs (no dynamic broker configs: SET/APPEND/SUBTRACT are
 * refused with INVALID_REQUEST, DELETE is a no-op).
 */
import {
  decodeIncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestAlterConfigsResource,
} from '../../protocol/generated/incremental-alter-configs-request.js';
import {
  defaultIncrementalAlterConfigsResponse,
  encodeIncrementalAlterConfigsResponse,
  type IncrementalAlterConfigsResponse,
} from '../../protocol/generated/incremental-alter-configs-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { Broker } from '../broker.js';
import {
  AlterOp,
  alterConfigResources,
  describeTopicConfigs,
  isListConfig,
  isTopicConfigName,
  type ApiErr,
  type ConfigAlteration,
} from '../topic-configs.js';
import { registerHandler } from './registry.js';

const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

function items(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The overrides after applying the operations, or the error. */
function applyOps(
  broker: Broker,
  current: Readonly<Record<string, string>>,
  r: IncrementalAlterConfigsRequestAlterConfigsResource,
): Record<string, string> | ApiErr {
  const next: Record<string, string> = { ...current };
  for (const c of r.configs) {
    if (c.configOperation === AlterOp.DELETE) {
      delete next[c.name];
      continue;
    }
    if (!isTopicConfigName(c.name))
      return { code: ErrorCode.INVALID_CONFIG, message: `Unknown topic config name: ${c.name}` };
    if (c.value === null)
      return {
        code: ErrorCode.INVALID_CONFIG,
        message: `Null value not supported for ${OP_NAMES[c.configOperation]} of topic config ${c.name}`,
      };
    if (c.configOperation === AlterOp.SET) {
      next[c.name] = c.value;
      continue;
    }
    if (!isListConfig(c.name)) {
      return {
        code: ErrorCode.INVALID_CONFIG,
        message: `Can't ${OP_NAMES[c.configOperation]} to key ${c.name} because its type is not LIST.`,
      };
    }
    const base = next[c.name] ?? describeTopicConfigs(broker, next, [c.name])[0]?.value ?? '';
    let list = items(base);
    if (c.configOperation === AlterOp.APPEND) {
      for (const x of items(c.value)) if (!list.includes(x)) list.push(x);
    } else {
      const drop = new Set(items(c.value));
      list = list.filter((x) => !drop.has(x));
    }
    next[c.name] = list.join(',');
  }
  return next;
}

function checkOps(r: IncrementalAlterConfigsRequestAlterConfigsResource): ApiErr | undefined {
  const seen = new Set<string>();
  for (const c of r.configs) {
    if (seen.has(c.name)) return { code: ErrorCode.INVALID_REQUEST, message: 'Error due to duplicate config keys' };
    seen.add(c.name);
    if (c.configOperation < AlterOp.SET || c.configOperation > AlterOp.SUBTRACT) {
      return {
        code: ErrorCode.INVALID_REQUEST,
        message: `Unknown alter config operation ${c.configOperation} for ${c.name}`,
      };
    }
  }
  return undefined;
}

/** Operations: applied in order to the topic's current overrides; a broker config is changed by all but DELETE. */
const OPERATIONS: ConfigAlteration<IncrementalAlterConfigsRequestAlterConfigsResource> = {
  check: checkOps,
  topicOverrides: (broker, r, current) => applyOps(broker, current, r),
  brokerChanges: (r) => r.configs.filter((c) => c.configOperation !== AlterOp.DELETE).map((c) => c.name),
  logMessage: 'topic configs changed by IncrementalAlterConfigs',
};

export const incrementalAlterConfigsHandler = registerHandler<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse
>({
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  decode: decodeIncrementalAlterConfigsRequest,
  encode: encodeIncrementalAlterConfigsResponse,
  async handle(req, ctx) {
    const res = defaultIncrementalAlterConfigsResponse();
    res.responses = await alterConfigResources(ctx.broker as Broker, req, OPERATIONS);
    return res;
  },
});
