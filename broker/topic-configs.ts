/**
 * Config logic shared by CreateTopics, DescribeConfigs, AlterConfigs and IncrementalAlterConfigs.
 *
 * Topic configs: every topic-level name the storage layer knows (LOG_CONFIG_SPECS) is described with the
 * value in force (storage's own rendering, so Long.MAX_VALUE prints as 9223372036854775807 and lists are
 * comma-joined). Source: the topic override (DYNAMIC_TOPIC_CONFIG) if any, else the broker config that
 * supplies the default — STATIC_BROKER_CONFIG when it was set at start (file, env or flag), else
 * DEFAULT_CONFIG. Synonyms, as Kafka lists them: override, static broker value, broker default. The four
 * topic configs with no broker config in our table (segment.jitter.ms, file.delete.delay.ms,
 * unclean.leader.election.enable, preallocate) name Kafka's broker config in their default synonym.
 *
 * Broker configs: every entry of CONFIG_DEFS, STATIC_BROKER_CONFIG or DEFAULT_CONFIG. There are no dynamic
 * broker configs yet, so every broker config is reported read-only and altering one is refused with
 * INVALID_REQUEST (deleting one, a no-op, succeeds).
 *
 * Validation follows storage (logConfigFromProps, the parser that applies the values) plus Kafka's checks:
 * unknown names, null values, min.compaction.lag.ms <= max.compaction.lag.ms. Failures are INVALID_CONFIG.
 *
 * AlterConfigs and IncrementalAlterConfigs share the whole per-resource flow (alterConfigResources); each
 * supplies only how it computes the new topic overrides and which broker configs it would change.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { RunnelError } from '../protocol/errors.js';
import { CONFIG_DEFS, formatConfigValue, topicConfigDef, type ConfigDef } from './config.js';
import { DEFAULT_LOG_CONFIG, LOG_CONFIG_SPECS, logConfigFromProps, logConfigToProps } from '../storage/log-config.js';
import { invalidTopicName, type TopicMetadata } from '../storage/topic-store.js';
import type { Broker } from './broker.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;
export const ConfigType = {
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;
/** IncrementalAlterConfigs operations. */
export const AlterOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface ApiErr {
  code: number;
  message: string | null;
}

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  isSensitive: boolean;
  /** Every synonym, highest precedence first (callers drop them unless asked). */
  synonyms: ConfigSynonym[];
  type: number;
  documentation: string | null;
}

/** Kafka's broker config for the topic configs our broker table lacks, with documentation. */
const EXTRA_TOPIC_CONFIGS: Readonly<Record<string, { broker: string; doc: string }>> = {
  'segment.jitter.ms': {
    broker: 'log.roll.jitter.ms',
    doc: 'Maximum random jitter subtracted from segment.ms (accepted, not applied yet).',
  },
  'file.delete.delay.ms': {
    broker: 'log.segment.delete.delay.ms',
    doc: 'Time to wait before deleting a file from the filesystem.',
  },
  'unclean.leader.election.enable': {
    broker: 'unclean.leader.election.enable',
    doc: 'Allow out-of-sync replicas to become leader (single node: no effect).',
  },
  preallocate: { broker: 'log.preallocate', doc: 'Preallocate segment files (accepted, ignored).' },
};

const KIND_TYPE: Readonly<Record<string, number>> = {
  int: ConfigType.INT,
  long: ConfigType.LONG,
  double: ConfigType.DOUBLE,
  bool: ConfigType.BOOLEAN,
  boolean: ConfigType.BOOLEAN,
  enum: ConfigType.STRING,
  string: ConfigType.STRING,
  list: ConfigType.LIST,
};

export function isTopicConfigName(name: string): boolean {
  return Object.hasOwn(LOG_CONFIG_SPECS, name);
}

export function isListConfig(name: string): boolean {
  return isTopicConfigName(name) && LOG_CONFIG_SPECS[name]!.kind.t === 'list';
}

function brokerSynonyms(broker: Broker, def: ConfigDef): ConfigSynonym[] {
  const out: ConfigSynonym[] = [];
  if (broker.config.sources.has(def.name)) {
    out.push({
      name: def.name,
      value: formatConfigValue(def, broker.config.get(def.name)),
      source: ConfigSource.STATIC_BROKER_CONFIG,
    });
  }
  out.push({ name: def.name, value: formatConfigValue(def, def.default), source: ConfigSource.DEFAULT_CONFIG });
  return out;
}

/** Every topic config with the value in force for a topic with these overrides, sorted by name. */
export function describeTopicConfigs(
  broker: Broker,
  overrides: Readonly<Record<string, string>>,
  keys: readonly string[] | null = null,
): DescribedConfig[] {
  const effective = logConfigToProps(logConfigFromProps(overrides, broker.defaultLogConfig()));
  const defaults = logConfigToProps(DEFAULT_LOG_CONFIG);
  const wanted = keys === null ? null : new Set(keys);
  const out: DescribedConfig[] = [];
  for (const name of Object.keys(LOG_CONFIG_SPECS).sort()) {
    if (wanted && !wanted.has(name)) continue;
    const def = topicConfigDef(name);
    const synonyms: ConfigSynonym[] = [];
    if (Object.hasOwn(overrides, name)) {
      synonyms.push({ name, value: effective[name]!, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    }
    if (def) synonyms.push(...brokerSynonyms(broker, def));
    else
      synonyms.push({
        name: EXTRA_TOPIC_CONFIGS[name]?.broker ?? name,
        value: defaults[name]!,
        source: ConfigSource.DEFAULT_CONFIG,
      });
    out.push({
      name,
      value: effective[name]!,
      readOnly: false,
      source: synonyms[0]!.source,
      isSensitive: false,
      synonyms,
      type: KIND_TYPE[LOG_CONFIG_SPECS[name]!.kind.t] ?? ConfigType.STRING,
      documentation: def?.doc ?? EXTRA_TOPIC_CONFIGS[name]?.doc ?? null,
    });
  }
  return out;
}

/** Every broker config (all static: read-only until dynamic broker configs exist), in table order. */
export function describeBrokerConfigs(broker: Broker, keys: readonly string[] | null = null): DescribedConfig[] {
  const wanted = keys === null ? null : new Set(keys);
  const out: DescribedConfig[] = [];
  for (const def of CONFIG_DEFS) {
    if (wanted && !wanted.has(def.name)) continue;
    const synonyms = brokerSynonyms(broker, def);
    out.push({
      name: def.name,
      value: formatConfigValue(def, broker.config.get(def.name)),
      readOnly: true,
      source: synonyms[0]!.source,
      isSensitive: false,
      synonyms,
      type: KIND_TYPE[def.type] ?? ConfigType.STRING,
      documentation: def.doc,
    });
  }
  return out;
}

/**
 * Check a broker resource name: "" (cluster-wide defaults) or this node's id. Returns an error, or
 * `{ all }` — all: true for this node, false for the (empty) set of dynamic cluster defaults.
 */
export function checkBrokerResource(broker: Broker, name: string): ApiErr | { all: boolean } {
  if (name === '') return { all: false };
  if (!/^-?\d+$/.test(name))
    return { code: ErrorCode.INVALID_REQUEST, message: `Broker id must be an integer, but it is: ${name}` };
  const nodeId = broker.started.nodeId;
  if (Number(name) !== nodeId) {
    return {
      code: ErrorCode.INVALID_REQUEST,
      message: `Unexpected broker id, expected ${nodeId} or empty string, but received ${name}`,
    };
  }
  return { all: true };
}

/** Resolve a topic resource for Describe/Alter: the topic, or the error Kafka answers with. */
export function checkTopicResource(broker: Broker, name: string): ApiErr | TopicMetadata {
  if (name === '') return { code: ErrorCode.INVALID_REQUEST, message: 'Default topic resources are not allowed.' };
  const bad = invalidTopicName(name);
  if (bad) return { code: ErrorCode.INVALID_TOPIC_EXCEPTION, message: bad };
  const t = broker.logs.topic(name);
  if (!t) return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `The topic '${name}' does not exist.` };
  return t;
}

export function isApiErr(x: unknown): x is ApiErr {
  return typeof x === 'object' && x !== null && 'code' in x && 'message' in x && typeof (x as ApiErr).code === 'number';
}

/** Validate a complete set of topic overrides; returns the INVALID_CONFIG error, or undefined. */
export function validateTopicConfigs(
  broker: Broker,
  props: Readonly<Record<string, string | null>>,
): ApiErr | undefined {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(props)) {
    if (!isTopicConfigName(name))
      return { code: ErrorCode.INVALID_CONFIG, message: `Unknown topic config name: ${name}` };
    if (value === null)
      return { code: ErrorCode.INVALID_CONFIG, message: `Null value not supported for topic configs: ${name}` };
    clean[name] = value;
  }
  try {
    const c = logConfigFromProps(clean, broker.defaultLogConfig());
    if (c.minCompactionLagMs > c.maxCompactionLagMs) {
      return {
        code: ErrorCode.INVALID_CONFIG,
        message:
          `conflict topic config setting min.compaction.lag.ms (${c.minCompactionLagMs}) > ` +
          `max.compaction.lag.ms (${c.maxCompactionLagMs})`,
      };
    }
  } catch (err) {
    return { code: ErrorCode.INVALID_CONFIG, message: (err as Error).message };
  }
  return undefined;
}

/** The error a thrown admin failure maps to (StorageError/RunnelError carry a Kafka code). */
export function errorOf(err: unknown): ApiErr {
  if (err instanceof RunnelError && err.kafkaCode >= 0) return { code: err.kafkaCode, message: err.message };
  return { code: ErrorCode.UNKNOWN_SERVER_ERROR, message: (err as Error)?.message ?? String(err) };
}

export function noDynamicBrokerConfigs(names: readonly string[]): ApiErr {
  return {
    code: ErrorCode.INVALID_REQUEST,
    message:
      `Cannot update these configs dynamically: ${names.join(', ')}. ` +
      'Runnel has no dynamic broker configs: set them at startup (config file, RUNNEL_* environment variables or ' +
      '--set) and restart. Topic configs can be changed per topic.',
  };
}

/** Key for spotting a resource named twice in one request. */
export function resourceKey(type: number, name: string): string {
  return `${type}\u0000${name}`;
}

const locks = new WeakMap<Broker, Promise<unknown>>();

/**
 * Run read-modify-write changes of topic overrides one at a time per broker, so two concurrent
 * IncrementalAlterConfigs on one topic cannot lose an update.
 */
export function withConfigLock<T>(broker: Broker, fn: () => Promise<T>): Promise<T> {
  const run = (locks.get(broker) ?? Promise.resolve()).then(fn);
  locks.set(
    broker,
    run.catch(() => undefined),
  );
  return run;
}

/**
 * Replace a topic's overrides (validated first). With validateOnly nothing changes. Applies to the open
 * partition logs and persists (LogManager.alterTopicConfigs).
 */
export async function replaceTopicConfigs(
  broker: Broker,
  topic: string,
  props: Record<string, string | null>,
  validateOnly: boolean,
): Promise<ApiErr | undefined> {
  const invalid = validateTopicConfigs(broker, props);
  if (invalid) return invalid;
  if (validateOnly) return undefined;
  try {
    await broker.logs.alterTopicConfigs(topic, props as Record<string, string>);
  } catch (err) {
    return errorOf(err);
  }
  return undefined;
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
    broker: Broker,
    r: R,
    current: Readonly<Record<string, string>>,
  ) => Record<string, string | null> | ApiErr;
  /** Names of the broker configs the resource changes (refused: there are no dynamic broker configs). */
  brokerChanges: (r: R) => string[];
  /** Logged (info) with the topic and its new overrides once they applied. */
  logMessage: string;
}

async function alterConfigResource<R extends { resourceType: number; resourceName: string }>(
  broker: Broker,
  r: R,
  validateOnly: boolean,
  how: ConfigAlteration<R>,
): Promise<ApiErr | undefined> {
  if (r.resourceType === ResourceType.TOPIC) {
    const t = checkTopicResource(broker, r.resourceName);
    if (isApiErr(t)) return t;
    const bad = how.check?.(r);
    if (bad) return bad;
    return withConfigLock(broker, async () => {
      const meta = checkTopicResource(broker, r.resourceName);
      if (isApiErr(meta)) return meta;
      const next = how.topicOverrides(broker, r, meta.configs);
      if (isApiErr(next)) return next;
      const e = await replaceTopicConfigs(broker, meta.name, next, validateOnly);
      if (!e && !validateOnly) broker.log.info({ topic: meta.name, configs: next }, how.logMessage);
      return e;
    });
  }
  if (r.resourceType === ResourceType.BROKER) {
    const b = checkBrokerResource(broker, r.resourceName);
    if (isApiErr(b)) return b;
    const bad = how.check?.(r);
    if (bad) return bad;
    const changed = how.brokerChanges(r);
    return changed.length > 0 ? noDynamicBrokerConfigs(changed) : undefined;
  }
  return { code: ErrorCode.INVALID_REQUEST, message: `Unexpected resource type ${r.resourceType}.` };
}

/**
 * The resources of an AlterConfigs/IncrementalAlterConfigs request, altered in order (alterEachResource):
 * a topic resolves (checkTopicResource), passes `how.check`, then under the config lock resolves again and
 * its overrides are replaced by `how.topicOverrides` (validated; validateOnly changes nothing); a broker
 * resource resolves (checkBrokerResource), passes `how.check`, and any change is refused; other types are
 * INVALID_REQUEST.
 */
export function alterConfigResources<R extends { resourceType: number; resourceName: string }>(
  broker: Broker,
  req: { resources: readonly R[]; validateOnly: boolean },
  how: ConfigAlteration<R>,
): Promise<AlterResourceResult[]> {
  return alterEachResource(req.resources, (r) => alterConfigResource(broker, r, req.validateOnly, how));
}
