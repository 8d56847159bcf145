/**
 * BROKER config resources (Kafka's KIP-226 dynamic broker configs) and the per-resource flow of
 * AlterConfigs / IncrementalAlterConfigs for every resource type.
 *
 * Resource name "" = the cluster-wide default entity, this node's id = this node; another id or a
 * non-integer → INVALID_REQUEST. Only rows of the config table marked `dynamic` may be set (Kafka's
 * DynamicBrokerConfig list: the log.* defaults of topic configs, message.max.bytes, ...); like Kafka's
 * ConfigAdminManager, every refusal is INVALID_REQUEST: a null value ("Null value not supported for : x"),
 * a static config ("Cannot update these configs dynamically: Set(x)"), a per-broker config at the cluster
 * level, a value that does not parse. Kafka accepts unknown names as custom configs; Runnel has none, so it
 * refuses them the same way. validateOnly checks and changes nothing.
 *
 * A change is written to the metadata store (replication/metadata/dynamic-configs.ts: the data dir's file on a
 * single node, etcd in a cluster), computed from the entity's current set inside the store's update (so two
 * nodes changing the cluster default cannot lose one another's change). Every node follows the store
 * (followDynamicConfigs): when the cluster default or its own set changes, on this node or another, the
 * BrokerConfig's dynamic layer is replaced and every open log re-resolves its config, so e.g. a new
 * log.retention.ms applies to topics without a retention.ms override and message.max.bytes to the next produce;
 * the write resolves once this node applied it. At start the stored sets are loaded; an entry that no longer
 * validates is skipped with an error logged (as Kafka's fromPersistentProps does).
 *
 * DescribeConfigs: this node's id = every config (removed Kafka 3.x ones only when set or asked for), with
 * its source and synonyms (topic-configs.ts's brokerSynonyms), read-only unless dynamic; "" = only the
 * cluster-wide dynamic defaults, with that one synonym.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import {
  CLUSTER_DEFAULT,
  CONFIG_SECTION,
  configKey,
  DynamicConfigStore,
  type ConfigMap,
} from '../replication/metadata/dynamic-configs.js';
import type { MetadataStore } from '../replication/metadata/store.js';
import type { LogManager } from '../storage/log-manager.js';
import type { Logger } from './logger.js';
import type { BrokerServices } from './services.js';
import {
  CONFIG_DEFS,
  configDef,
  formatConfigValue,
  parseConfigValue,
  type BrokerConfig,
  type ConfigValue,
  type DynamicLevel,
} from './config.js';
import {
  brokerSynonyms,
  checkTopicResource,
  ConfigSource,
  describedConfig,
  isApiErr,
  replaceTopicConfigs,
  resourceKey,
  ResourceType,
  withConfigLock,
  type ApiErr,
  type DescribedConfig,
} from './topic-configs.js';

/** What altering topic and broker configs reads and changes. */
export type ConfigServices = Pick<BrokerServices, 'nodeId' | 'config' | 'metadata' | 'log' | 'dynamicConfigs' | 'logs'>;

export interface BrokerResource {
  level: DynamicLevel;
  /** The stored entity: "" or this node's id. */
  entity: string;
}

/** Check a broker resource name: "" (cluster-wide defaults) or this node's id. */
export function checkBrokerResource(services: Pick<BrokerServices, 'nodeId'>, name: string): ApiErr | BrokerResource {
  if (name === '') return { level: 'default', entity: CLUSTER_DEFAULT };
  if (!/^-?\d+$/.test(name))
    return { code: ErrorCode.INVALID_REQUEST, message: `Broker id must be an integer, but it is: ${name}` };
  const nodeId = services.nodeId;
  if (Number(name) !== nodeId) {
    return {
      code: ErrorCode.INVALID_REQUEST,
      message: `Unexpected broker id, expected ${nodeId} or empty string, but received ${name}`,
    };
  }
  return { level: 'broker', entity: String(nodeId) };
}

/** The configs of a broker resource, in table order (see the header). */
export function describeBrokerConfigs(
  services: Pick<BrokerServices, 'config'>,
  level: DynamicLevel,
  keys: readonly string[] | null = null,
): DescribedConfig[] {
  const wanted = keys === null ? null : new Set(keys);
  const out: DescribedConfig[] = [];
  const defaults = services.config.dynamicValues('default');
  for (const def of CONFIG_DEFS) {
    if (wanted ? !wanted.has(def.name) : def.removed && !services.config.isSet(def.name)) continue;
    let synonyms = brokerSynonyms(services, def);
    let value = formatConfigValue(def, services.config.get(def.name));
    if (level === 'default') {
      if (!defaults.has(def.name)) continue;
      synonyms = synonyms.filter((s) => s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
      value = synonyms[0]!.value;
    }
    out.push(describedConfig(def.name, def, value, def.dynamic === undefined, synonyms));
  }
  return out;
}

const scalaSet = (names: readonly string[]) => `Set(${names.join(', ')})`;

/** Validate the complete new set of dynamic configs of one level; returns the parsed values or the error. */
export function validateBrokerConfigs(
  level: DynamicLevel,
  props: Readonly<Record<string, string | null>>,
): ApiErr | Map<string, ConfigValue> {
  const names = Object.keys(props);
  const nulls = names.filter((n) => props[n] === null);
  if (nulls.length > 0)
    return { code: ErrorCode.INVALID_REQUEST, message: `Null value not supported for : ${nulls.join(', ')}` };
  const unknown = names.filter((n) => !configDef(n));
  if (unknown.length > 0)
    return { code: ErrorCode.INVALID_REQUEST, message: `Unknown broker configs: ${scalaSet(unknown)}` };
  const fixed = names.filter((n) => configDef(n)!.dynamic === undefined);
  if (fixed.length > 0)
    return { code: ErrorCode.INVALID_REQUEST, message: `Cannot update these configs dynamically: ${scalaSet(fixed)}` };
  const perBroker = names.filter((n) => configDef(n)!.dynamic === 'per-broker');
  if (level === 'default' && perBroker.length > 0) {
    const list = scalaSet(perBroker);
    return {
      code: ErrorCode.INVALID_REQUEST,
      message: `Cannot update these configs at default cluster level, broker id must be specified: ${list}`,
    };
  }
  const parsed = new Map<string, ConfigValue>();
  try {
    for (const n of names) parsed.set(n, parseConfigValue(configDef(n)!, props[n]!));
  } catch (err) {
    return { code: ErrorCode.INVALID_REQUEST, message: (err as Error).message };
  }
  return parsed;
}

/** Load the stored dynamic configs of the cluster default and of this node into `config` (at start). */
export function loadDynamicConfigs(config: BrokerConfig, store: DynamicConfigStore, nodeId: number, log: Logger): void {
  for (const [level, entity] of [
    ['default', CLUSTER_DEFAULT],
    ['broker', String(nodeId)],
  ] as const) {
    const parsed = new Map<string, ConfigValue>();
    for (const [name, value] of Object.entries(store.get(entity))) {
      const v = validateBrokerConfigs(level, { [name]: value });
      if (isApiErr(v)) log.error({ entity, config: name, value, error: v.message }, 'ignoring stored dynamic config');
      else parsed.set(name, v.get(name)!);
    }
    config.setDynamic(level, parsed);
  }
}

/**
 * Load the dynamic configs of the cluster default and of this node from the metadata store now, and again
 * (then re-resolving every open log's config) whenever either changes; returns the unsubscribe function.
 */
export function followDynamicConfigs(
  config: BrokerConfig,
  metadata: MetadataStore,
  nodeId: number,
  log: Logger,
  logs: () => LogManager | undefined,
): () => void {
  const store = new DynamicConfigStore(metadata);
  const mine = new Set([configKey(CLUSTER_DEFAULT), configKey(String(nodeId))]);
  loadDynamicConfigs(config, store, nodeId, log);
  return metadata.subscribe((delta) => {
    const changed = delta.changes.some(
      (c) => c.type === 'record-changed' && c.section === CONFIG_SECTION.name && mine.has(c.key),
    );
    if (!changed) return;
    loadDynamicConfigs(config, store, nodeId, log);
    logs()?.refreshConfigs();
  });
}

/** Log the Kafka 3.x configs among a new set that Kafka 4 removed (once a change applied). */
function logRemovedConfigs(services: ConfigServices, props: ConfigMap): void {
  for (const name of Object.keys(props)) {
    const removed = configDef(name)?.removed;
    if (removed) services.log.info({ config: name, value: props[name] }, `broker config ${name}: ${removed}`);
  }
}

export interface AlterResourceResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/**
 * Alter each resource of an AlterConfigs/IncrementalAlterConfigs request with `alter`, in request order;
 * a resource named more than once gets one INVALID_REQUEST answer and is not altered.
 */
export async function alterEachResource<R extends { resourceType: number; resourceName: string }>(
  resources: readonly R[],
  alter: (r: R) => Promise<ApiErr | undefined>,
): Promise<AlterResourceResult[]> {
  const counts = new Map<string, number>();
  for (const r of resources) {
    const key = resourceKey(r.resourceType, r.resourceName);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const reported = new Set<string>();
  const out: AlterResourceResult[] = [];
  for (const r of resources) {
    const key = resourceKey(r.resourceType, r.resourceName);
    let e: ApiErr | undefined;
    if (counts.get(key)! > 1) {
      if (reported.has(key)) continue;
      reported.add(key);
      e = { code: ErrorCode.INVALID_REQUEST, message: 'Duplicate resource.' };
    } else {
      e = await alter(r);
    }
    out.push({
      errorCode: e ? e.code : ErrorCode.NONE,
      errorMessage: e ? e.message : null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    });
  }
  return out;
}

/** What differs between AlterConfigs and IncrementalAlterConfigs; alterConfigResources does the rest. */
export interface ConfigAlteration<R> {
  /** Checks of the resource's entries once its name resolved (before any change), or undefined. */
  check?: (r: R) => ApiErr | undefined;
  /** The topic's complete new overrides from its current ones, or the error (runs under the config lock). */
  topicOverrides: (
    services: ConfigServices,
    r: R,
    current: Readonly<Record<string, string>>,
  ) => Record<string, string | null> | ApiErr;
  /** A broker entity's complete new dynamic configs from its current ones, or the error (under the lock). */
  brokerConfigs: (
    services: ConfigServices,
    r: R,
    current: Readonly<Record<string, string>>,
  ) => Record<string, string | null> | ApiErr;
  /** Logged (info) with the topic or broker entity and its new configs once they applied. */
  logMessage: string;
}

async function alterConfigResource<R extends { resourceType: number; resourceName: string }>(
  services: ConfigServices,
  r: R,
  validateOnly: boolean,
  how: ConfigAlteration<R>,
): Promise<ApiErr | undefined> {
  if (r.resourceType === ResourceType.TOPIC) {
    const t = checkTopicResource(services, r.resourceName);
    if (isApiErr(t)) return t;
    const bad = how.check?.(r);
    if (bad) return bad;
    return withConfigLock(services, async () => {
      const meta = checkTopicResource(services, r.resourceName);
      if (isApiErr(meta)) return meta;
      const next = how.topicOverrides(services, r, meta.configs);
      if (isApiErr(next)) return next;
      const e = await replaceTopicConfigs(services, meta.name, next, validateOnly);
      if (!e && !validateOnly) services.log.info({ topic: meta.name, configs: next }, how.logMessage);
      return e;
    });
  }
  if (r.resourceType === ResourceType.BROKER) {
    const b = checkBrokerResource(services, r.resourceName);
    if (isApiErr(b)) return b;
    const bad = how.check?.(r);
    if (bad) return bad;
    return withConfigLock(services, async () => {
      // Computed from the entity's current set inside the store's update (run again if another node won).
      type Outcome = { error?: ApiErr; applied?: ConfigMap };
      const outcome = await services.dynamicConfigs.update<Outcome>(b.entity, (current) => {
        const next = how.brokerConfigs(services, r, current);
        if (isApiErr(next)) return { result: { error: next } };
        const parsed = validateBrokerConfigs(b.level, next);
        if (isApiErr(parsed)) return { result: { error: parsed } };
        if (validateOnly) return { result: {} };
        const configs = next as Record<string, string>;
        return { configs, result: { applied: configs } };
      });
      if (outcome.applied) {
        logRemovedConfigs(services, outcome.applied);
        services.log.info({ broker: b.entity, configs: outcome.applied }, how.logMessage);
      }
      return outcome.error;
    });
  }
  return { code: ErrorCode.INVALID_REQUEST, message: `Unexpected resource type ${r.resourceType}.` };
}

/**
 * The resources of an AlterConfigs/IncrementalAlterConfigs request, altered in order (alterEachResource):
 * a topic resolves (checkTopicResource), passes `how.check`, then under the config lock resolves again and
 * its overrides are replaced by `how.topicOverrides` (validated; validateOnly changes nothing); a broker
 * resource resolves (checkBrokerResource), passes `how.check`, then under the same lock its dynamic configs
 * are replaced by `how.brokerConfigs` (validated, persisted, applied); other types are INVALID_REQUEST.
 * A resource for which `denied` answers an error code (authorization) answers it with no message, as Kafka,
 * and changes nothing.
 */
export function alterConfigResources<R extends { resourceType: number; resourceName: string }>(
  services: ConfigServices,
  req: { resources: readonly R[]; validateOnly: boolean },
  how: ConfigAlteration<R>,
  denied: (r: R) => number | undefined = () => undefined,
): Promise<AlterResourceResult[]> {
  return alterEachResource(req.resources, async (r) => {
    const code = denied(r);
    if (code !== undefined) return { code, message: null };
    return alterConfigResource(services, r, req.validateOnly, how);
  });
}
