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
 * Broker resources ("" = cluster default, or this node's id): the same operations on that entity's dynamic
 * broker configs (APPEND/SUBTRACT start from its dynamic value, else the value in force); a null value →
 * INVALID_REQUEST, and the result is validated as AlterConfigs validates it (broker-configs.ts), then
 * persisted and applied at once. Other types (BROKER_LOGGER included) → INVALID_REQUEST.
 * Authorization (Kafka's KafkaApis): ALTER_CONFIGS on the topic (before its existence is checked), or on the
 * CLUSTER for broker resources; denied → TOPIC_AUTHORIZATION_FAILED / CLUSTER_AUTHORIZATION_FAILED with no
 * message, and nothing changes.
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
import { alterConfigResources, type ConfigAlteration } from '../broker-configs.js';
import { configDef, formatConfigValue } from '../config.js';
import { AlterOp, describeTopicConfigs, isListConfig, isTopicConfigName, type ApiErr } from '../topic-configs.js';
import type { BrokerServices } from '../services.js';
import { AclOperation } from '../authorizer.js';
import { configResourceDenied } from '../security/authorize.js';
import { registerHandler } from './registry.js';

const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

function items(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** How the operations see one kind of resource. */
interface OpTarget {
  /** The error for a name this resource cannot have (checked for all but DELETE), or undefined. */
  unknown(name: string): ApiErr | undefined;
  /** The error for a null SET/APPEND/SUBTRACT value. */
  nullValue(name: string, op: number): ApiErr;
  isList(name: string): boolean;
  /** The list APPEND/SUBTRACT start from when `next` does not set the name. */
  valueInForce(name: string, next: Readonly<Record<string, string>>): string;
}

function topicTarget(services: Pick<BrokerServices, 'config'>): OpTarget {
  return {
    unknown: (name) =>
      isTopicConfigName(name)
        ? undefined
        : { code: ErrorCode.INVALID_CONFIG, message: `Unknown topic config name: ${name}` },
    nullValue: (name, op) => ({
      code: ErrorCode.INVALID_CONFIG,
      message: `Null value not supported for ${OP_NAMES[op]} of topic config ${name}`,
    }),
    isList: isListConfig,
    valueInForce: (name, next) => describeTopicConfigs(services, next, [name])[0]?.value ?? '',
  };
}

/** Unknown and static names are left to the validation of the whole result (broker-configs.ts). */
function brokerTarget({ config }: Pick<BrokerServices, 'config'>): OpTarget {
  return {
    unknown: () => undefined,
    nullValue: (name) => ({ code: ErrorCode.INVALID_REQUEST, message: `Null value not supported for : ${name}` }),
    isList: (name) => configDef(name)?.type === 'list',
    valueInForce: (name) => formatConfigValue(configDef(name)!, config.get(name)) ?? '',
  };
}

/** The configs after applying the operations to `current`, or the error. */
function applyOps(
  target: OpTarget,
  current: Readonly<Record<string, string>>,
  r: IncrementalAlterConfigsRequestAlterConfigsResource,
): Record<string, string> | ApiErr {
  const next: Record<string, string> = { ...current };
  for (const c of r.configs) {
    if (c.configOperation === AlterOp.DELETE) {
      delete next[c.name];
      continue;
    }
    const unknown = target.unknown(c.name);
    if (unknown) return unknown;
    if (c.value === null) return target.nullValue(c.name, c.configOperation);
    if (c.configOperation === AlterOp.SET) {
      next[c.name] = c.value;
      continue;
    }
    if (!target.isList(c.name)) {
      return {
        code: ErrorCode.INVALID_CONFIG,
        message: `Can't ${OP_NAMES[c.configOperation]} to key ${c.name} because its type is not LIST.`,
      };
    }
    let list = items(next[c.name] ?? target.valueInForce(c.name, next));
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

/** Operations: applied in order to the topic's current overrides or the broker entity's dynamic configs. */
const OPERATIONS: ConfigAlteration<IncrementalAlterConfigsRequestAlterConfigsResource> = {
  check: checkOps,
  topicOverrides: (services, r, current) => applyOps(topicTarget(services), current, r),
  brokerConfigs: (services, r, current) => applyOps(brokerTarget(services), current, r),
  logMessage: 'configs changed by IncrementalAlterConfigs',
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
    res.responses = await alterConfigResources(ctx.services, req, OPERATIONS, (r) =>
      configResourceDenied(ctx, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName),
    );
    return res;
  },
});
