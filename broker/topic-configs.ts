/**
 * Config logic shared by CreateTopics, DescribeConfigs, AlterConfigs and IncrementalAlterConfigs: the
 * protocol's enums, topic resources, and the synonyms both resource kinds report (broker resources and the
 * alter flow: broker-configs.ts).
 *
 * Topic configs: every topic config of the config table (broker/config.ts) is described with the value in
 * force (Long.MAX_VALUE prints as 9223372036854775807, lists comma-joined). Source and synonyms, highest
 * precedence first, as Kafka lists them: the topic override (DYNAMIC_TOPIC_CONFIG), then the broker config
 * that supplies the default — this node's dynamic value (DYNAMIC_BROKER_CONFIG), the cluster-wide dynamic
 * default (DYNAMIC_DEFAULT_BROKER_CONFIG), the value set at start (STATIC_BROKER_CONFIG), the table default
 * (DEFAULT_CONFIG). The source is the first synonym's.
 *
 * Configs Kafka 4.0 removed (message.format.version, message.timestamp.difference.max.ms,
 * message.downconversion.enable) are accepted as Kafka 3.x did — validated, stored with the topic, logged,
 * and ignored (or, for the timestamp difference, mapped to the KIP-937 before/after bounds) — and described
 * only for a topic that sets them or when asked for by name, so a client that set one reads it back while
 * Kafka 4 clients see Kafka 4's list.
 *
 * Validation uses the resolver that applies the values (BrokerConfig.resolveLogConfig) plus Kafka's checks:
 * unknown names, null values, min.compaction.lag.ms <= max.compaction.lag.ms. Failures are INVALID_CONFIG.
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { RunnelError } from '../protocol/errors.js';
import { CONFIG_TABLE, formatConfigValue, parseConfigValue, topicConfigDef, type ConfigDef } from './config.js';
import { invalidTopicName, type TopicMetadata } from '../replication/metadata/image.js';
import type { BrokerServices } from './services.js';

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

const TYPE_CODE: Readonly<Record<string, number>> = {
  int: ConfigType.INT,
  long: ConfigType.LONG,
  double: ConfigType.DOUBLE,
  boolean: ConfigType.BOOLEAN,
  string: ConfigType.STRING,
  list: ConfigType.LIST,
};

/** The DescribeConfigs type code of a table row. */
export function configTypeCode(def: ConfigDef): number {
  return TYPE_CODE[def.type] ?? ConfigType.STRING;
}

/** One DescribeConfigs entry of a table row: its source is that of the first synonym (the one in force). */
export function describedConfig(
  name: string,
  def: ConfigDef,
  value: string | null,
  readOnly: boolean,
  synonyms: ConfigSynonym[],
): DescribedConfig {
  const hidden = def.sensitive === true;
  return {
    name,
    value: hidden ? null : value,
    readOnly,
    source: synonyms[0]!.source,
    isSensitive: hidden,
    synonyms: hidden ? synonyms.map((s) => ({ ...s, value: null })) : synonyms,
    type: configTypeCode(def),
    documentation: def.removed ? `${def.doc} ${def.removed}` : def.doc,
  };
}

export function isTopicConfigName(name: string): boolean {
  return topicConfigDef(name) !== undefined;
}

export function isListConfig(name: string): boolean {
  return topicConfigDef(name)?.type === 'list';
}

/** Synonyms of a broker config, highest precedence first: per-broker dynamic, cluster default, static, default. */
export function brokerSynonyms(services: Pick<BrokerServices, 'config'>, def: ConfigDef): ConfigSynonym[] {
  const out: ConfigSynonym[] = [];
  const c = services.config;
  const text = (v: Parameters<typeof formatConfigValue>[1]) => formatConfigValue(def, v);
  const b = c.dynamicValues('broker');
  const d = c.dynamicValues('default');
  if (b.has(def.name))
    out.push({ name: def.name, value: text(b.get(def.name)!), source: ConfigSource.DYNAMIC_BROKER_CONFIG });
  if (d.has(def.name))
    out.push({ name: def.name, value: text(d.get(def.name)!), source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
  if (c.sources.has(def.name))
    out.push({ name: def.name, value: text(c.staticValue(def.name)), source: ConfigSource.STATIC_BROKER_CONFIG });
  out.push({ name: def.name, value: text(def.default), source: ConfigSource.DEFAULT_CONFIG });
  return out;
}

/** Text of a topic override as the table renders it (so 9223372036854775807 and lists print canonically). */
function overrideText(def: ConfigDef, text: string): string {
  try {
    return formatConfigValue(def, parseConfigValue(def, text)) ?? text;
  } catch {
    return text;
  }
}

/**
 * Every topic config with the value in force for a topic with these overrides, sorted by name; removed
 * (Kafka 3.x) configs only when overridden or asked for by name.
 */
export function describeTopicConfigs(
  services: Pick<BrokerServices, 'config'>,
  overrides: Readonly<Record<string, string>>,
  keys: readonly string[] | null = null,
): DescribedConfig[] {
  const effective = CONFIG_TABLE.logConfigToProps(services.config.resolveLogConfig(overrides));
  const wanted = keys === null ? null : new Set(keys);
  const out: DescribedConfig[] = [];
  for (const def of CONFIG_TABLE.topicDefs()) {
    const name = def.topic!;
    const overridden = Object.hasOwn(overrides, name);
    if (wanted ? !wanted.has(name) : def.removed && !overridden) continue;
    const synonyms: ConfigSynonym[] = [];
    if (overridden)
      synonyms.push({ name, value: overrideText(def, overrides[name]!), source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    synonyms.push(...brokerSynonyms(services, def));
    out.push(describedConfig(name, def, effective[name] ?? synonyms[0]!.value, false, synonyms));
  }
  return out;
}

/** Resolve a topic resource for Describe/Alter: the topic, or the error Kafka answers with. */
export function checkTopicResource(services: Pick<BrokerServices, 'metadata'>, name: string): ApiErr | TopicMetadata {
  if (name === '') return { code: ErrorCode.INVALID_REQUEST, message: 'Default topic resources are not allowed.' };
  const bad = invalidTopicName(name);
  if (bad) return { code: ErrorCode.INVALID_TOPIC_EXCEPTION, message: bad };
  const t = services.metadata.image.topic(name);
  if (!t) return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `The topic '${name}' does not exist.` };
  return t;
}

export function isApiErr(x: unknown): x is ApiErr {
  return typeof x === 'object' && x !== null && 'code' in x && 'message' in x && typeof (x as ApiErr).code === 'number';
}

/** Validate a complete set of topic overrides; returns the INVALID_CONFIG error, or undefined. */
export function validateTopicConfigs(
  services: Pick<BrokerServices, 'config'>,
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
    const c = services.config.resolveLogConfig(clean);
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

/** Key for spotting a resource named twice in one request. */
export function resourceKey(type: number, name: string): string {
  return `${type}\u0000${name}`;
}

/** Keyed by the broker's config: one lock per broker, whichever services object a caller holds. */
const locks = new WeakMap<object, Promise<unknown>>();

/**
 * Run read-modify-write changes of topic overrides one at a time per broker, so two concurrent
 * IncrementalAlterConfigs on one topic cannot lose an update.
 */
export function withConfigLock<T>(services: Pick<BrokerServices, 'config'>, fn: () => Promise<T>): Promise<T> {
  const run = (locks.get(services.config) ?? Promise.resolve()).then(fn);
  locks.set(
    services.config,
    run.catch(() => undefined),
  );
  return run;
}

/**
 * Replace a topic's overrides (validated first). With validateOnly nothing changes. Applies to the open
 * partition logs (through the log applier) and persists (MetadataStore.alterTopicConfigs).
 */
export async function replaceTopicConfigs(
  services: Pick<BrokerServices, 'config' | 'metadata' | 'log'>,
  topic: string,
  props: Record<string, string | null>,
  validateOnly: boolean,
): Promise<ApiErr | undefined> {
  const invalid = validateTopicConfigs(services, props);
  if (invalid) return invalid;
  if (validateOnly) return undefined;
  try {
    await services.metadata.alterTopicConfigs(topic, props as Record<string, string>);
  } catch (err) {
    return errorOf(err);
  }
  logRemovedConfigs(services, topic, props);
  return undefined;
}

/** Log the configs Kafka 4.0 removed that a topic was given (accepted for older clients; see the header). */
export function logRemovedConfigs(
  services: Pick<BrokerServices, 'log'>,
  topic: string,
  props: Readonly<Record<string, unknown>>,
): void {
  for (const name of Object.keys(props)) {
    const def = topicConfigDef(name);
    if (def?.removed)
      services.log.info({ topic, config: name, value: props[name] }, `topic config ${name}: ${def.removed}`);
  }
}
