/**
 * What the config table (broker/config.ts) means, kept apart from the table itself: the row type; parsing,
 * validating and rendering values (config file, environment, --set, AlterConfigs, topic overrides);
 * ConfigTable, the lookups and the topic LogConfig built from the rows; and BrokerConfig, the effective
 * values (static under dynamic). Failures are ConfigError, an InvalidConfigError (Kafka INVALID_CONFIG =
 * 40), so storage and the handlers see one error class whichever layer parsed.
 */
import { readFileSync } from 'node:fs';
import { InvalidConfigError, LONG_MAX, type LogConfig } from '../storage/log-config.js';

export { LONG_MAX };

export type ConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list';
export type ConfigValue = number | boolean | string | string[] | null;
/**
 * Kafka's update modes (DynamicBrokerConfig): 'cluster-wide' configs may be set at run time for this node
 * (resource name = node id) or as the cluster default (resource name ""); 'per-broker' ones only per node.
 */
export type DynamicMode = 'cluster-wide' | 'per-broker';

export interface ConfigDef {
  readonly name: string;
  readonly type: ConfigType;
  readonly default: ConfigValue;
  readonly doc: string;
  /** The topic-level config this broker config supplies the default for. */
  readonly topic?: string;
  /** The LogConfig field (storage) the topic config sets. */
  readonly field?: keyof LogConfig;
  readonly min?: number;
  readonly max?: number;
  readonly oneOf?: readonly string[];
  /** Text values must match (string configs). */
  readonly pattern?: RegExp;
  /** Changeable at run time with AlterConfigs/IncrementalAlterConfigs on the BROKER resource. */
  readonly dynamic?: DynamicMode;
  /** Removed in Kafka 4.0 but still accepted for older clients: what Runnel does with it. */
  readonly removed?: string;
  /**
   * May be set per listener, as Kafka's `listener.name.<listener>.<name>` ('listener'), or per listener and
   * SASL mechanism, `listener.name.<listener>.<mechanism>.<name>` ('mechanism', e.g. plain.sasl.jaas.config).
   * The listener name in the prefix is lower case, as in Kafka. Read with `EffectiveConfig.listenerValue`.
   */
  readonly perListener?: 'listener' | 'mechanism';
  /** Kafka's PASSWORD type: DescribeConfigs marks it sensitive and never shows its value (or its synonyms'). */
  readonly sensitive?: boolean;
}

const LISTENER_PREFIX = 'listener.name.';

/**
 * A per-listener config name split into listener, mechanism (or null) and the row it overrides; undefined when
 * `name` is not of that form or names no row that may be set that way.
 */
export function parseListenerConfigName(
  table: ConfigTable,
  name: string,
): { listener: string; mechanism: string | null; def: ConfigDef } | undefined {
  if (!name.startsWith(LISTENER_PREFIX)) return undefined;
  const rest = name.slice(LISTENER_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0) return undefined;
  const listener = rest.slice(0, dot);
  const tail = rest.slice(dot + 1);
  const direct = table.def(tail);
  if (direct?.perListener === 'listener') return { listener, mechanism: null, def: direct };
  const mdot = tail.indexOf('.');
  if (mdot <= 0) return undefined;
  const viaMechanism = table.def(tail.slice(mdot + 1));
  if (viaMechanism?.perListener === 'mechanism') return { listener, mechanism: tail.slice(0, mdot), def: viaMechanism };
  return undefined;
}

const LONG_MAX_TEXT = '9223372036854775807';
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

export class ConfigError extends InvalidConfigError {
  constructor(message: string) {
    super(message, 'ERR_CONFIG');
  }
}

function invalid(name: string, text: string, why: string): ConfigError {
  return new ConfigError(`Invalid value ${JSON.stringify(text)} for configuration ${name}: ${why}`);
}

/** Parse and validate one value given as text (longs above 2^53 - 1 clamp to LONG_MAX, "never"). */
export function parseConfigValue(def: ConfigDef, text: string, name = def.name): ConfigValue {
  const t = text.trim();
  let v: ConfigValue;
  switch (def.type) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(t)) throw invalid(name, text, 'is not an integer');
      v = Number(t);
      if (def.type === 'int' && (v > INT_MAX || v < INT_MIN)) throw invalid(name, text, 'does not fit an int');
      if (v > LONG_MAX) v = LONG_MAX;
      break;
    }
    case 'double':
      v = Number(t);
      if (t === '' || !Number.isFinite(v)) throw invalid(name, text, 'is not a number');
      break;
    case 'boolean':
      if (t.toLowerCase() !== 'true' && t.toLowerCase() !== 'false') throw invalid(name, text, 'is not true or false');
      v = t.toLowerCase() === 'true';
      break;
    case 'list':
      v = [
        ...new Set(
          t
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
        ),
      ];
      break;
    default:
      v = def.oneOf || def.pattern ? t : text;
  }
  validateConfigValue(def, v, name);
  return v;
}

export function validateConfigValue(def: ConfigDef, v: ConfigValue, name = def.name): void {
  if (v === null) return;
  const text = Array.isArray(v) ? v.join(',') : String(v);
  if (typeof v === 'number') {
    if (def.min !== undefined && v < def.min) throw invalid(name, text, `is below the minimum ${def.min}`);
    if (def.max !== undefined && v > def.max) throw invalid(name, text, `is above the maximum ${def.max}`);
  }
  if (def.oneOf) {
    for (const x of Array.isArray(v) ? v : [String(v)]) {
      if (!def.oneOf.includes(x))
        throw invalid(name, text, `${JSON.stringify(x)} is not one of ${def.oneOf.join(', ')}`);
    }
  }
  if (def.pattern && typeof v === 'string' && !def.pattern.test(v)) throw invalid(name, text, 'is not a valid value');
}

/** Text form of a value, as DescribeConfigs shows it. */
export function formatConfigValue(def: ConfigDef, v: ConfigValue): string | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'number' && def.type === 'long' && v >= LONG_MAX) return LONG_MAX_TEXT;
  return String(v);
}

function listenerKey(listener: string, name: string, mechanism: string | null): string {
  const l = listener.toLowerCase();
  return mechanism === null
    ? `${LISTENER_PREFIX}${l}.${name}`
    : `${LISTENER_PREFIX}${l}.${mechanism.toLowerCase()}.${name}`;
}

export function envName(configName: string): string {
  return `RUNNEL_${configName.toUpperCase().replace(/[.-]/g, '_')}`;
}

/** Read a config file: JSON (an object of name → value) or Java properties (`name=value` lines). */
export function readConfigFile(path: string): Record<string, string> {
  const text = readFileSync(path, 'utf8');
  const out: Record<string, string> = {};
  if (path.endsWith('.json')) {
    const obj = JSON.parse(text) as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) out[k] = Array.isArray(v) ? v.join(',') : String(v);
    return out;
  }
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    if (l === '' || l.startsWith('#') || l.startsWith('!')) continue;
    const eq = l.search(/[=:]/);
    if (eq < 0) throw new ConfigError(`${path}: line ${JSON.stringify(l)} is not name=value`);
    out[l.slice(0, eq).trim()] = l.slice(eq + 1).trim();
  }
  return out;
}

const TIMESTAMP_DIFFERENCE = 'message.timestamp.difference.max.ms';
const TIMESTAMP_BOUNDS = ['message.timestamp.before.max.ms', 'message.timestamp.after.max.ms'] as const;

function setField(out: LogConfig, field: keyof LogConfig, v: ConfigValue): void {
  (out as unknown as Record<string, unknown>)[field] = Array.isArray(v) ? [...v] : v;
}

/** Lookups and derived forms of a list of rows (the config table). */
export class ConfigTable {
  private readonly byName: Map<string, ConfigDef>;
  private readonly byTopic: Map<string, ConfigDef>;

  constructor(readonly defs: readonly ConfigDef[]) {
    this.byName = new Map(defs.map((d) => [d.name, d]));
    this.byTopic = new Map(defs.filter((d) => d.topic).map((d) => [d.topic!, d]));
  }

  def(name: string): ConfigDef | undefined {
    return this.byName.get(name);
  }

  topicDef(topicName: string): ConfigDef | undefined {
    return this.byTopic.get(topicName);
  }

  /** Topic config rows (every row with a `topic`), sorted by topic name. */
  topicDefs(): ConfigDef[] {
    return [...this.byTopic.values()].sort((a, b) => (a.topic! < b.topic! ? -1 : 1));
  }

  /**
   * A topic's LogConfig: `base` (the broker-level defaults) with the topic's overrides parsed on top.
   * Unknown names are skipped (validation refuses them before they are stored); a bad value throws
   * ConfigError. message.timestamp.difference.max.ms (removed in Kafka 4.0) sets the before/after bounds
   * the topic does not set itself, as Kafka 3.6+ did (KIP-937); the other removed configs change nothing.
   */
  logConfigFromOverrides(overrides: Readonly<Record<string, string>>, base: LogConfig): LogConfig {
    const out: LogConfig = { ...base, cleanupPolicy: [...base.cleanupPolicy] };
    for (const [name, text] of Object.entries(overrides)) {
      const def = this.byTopic.get(name);
      if (!def) continue;
      const v = parseConfigValue(def, text, name);
      if (def.field) setField(out, def.field, v);
    }
    const diff = overrides[TIMESTAMP_DIFFERENCE];
    if (diff !== undefined && this.byTopic.has(TIMESTAMP_DIFFERENCE)) {
      const v = parseConfigValue(this.byTopic.get(TIMESTAMP_DIFFERENCE)!, diff);
      for (const bound of TIMESTAMP_BOUNDS) {
        const def = this.byTopic.get(bound);
        if (def?.field && !Object.hasOwn(overrides, bound)) setField(out, def.field, v);
      }
    }
    return out;
  }

  /** Every topic config of a LogConfig as Kafka-named text, as DescribeConfigs shows it (removed ones excluded). */
  logConfigToProps(config: Readonly<LogConfig>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const d of this.byTopic.values()) if (d.field) out[d.topic!] = formatConfigValue(d, config[d.field])!;
    return out;
  }

  /** Markdown table of every row, for README.md. */
  referenceMarkdown(): string {
    const rows = [
      '| broker config | topic config | type | default | dynamic | meaning |',
      '| --- | --- | --- | --- | --- | --- |',
    ];
    for (const d of this.defs) {
      const def = d.default === null ? '(see meaning)' : `\`${formatConfigValue(d, d.default)}\``;
      const range = d.oneOf ? ` One of: ${d.oneOf.join(', ')}.` : '';
      const removed = d.removed ? ` ${d.removed}` : '';
      const topic = d.topic ? `\`${d.topic}\`` : '';
      rows.push(`| \`${d.name}\` | ${topic} | ${d.type} | ${def} | ${d.dynamic ?? ''} | ${d.doc}${range}${removed} |`);
    }
    return rows.join('\n');
  }
}

export interface ConfigSources {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Highest precedence: CLI flags and --set, or embedded options. */
  overrides?: Record<string, string | number | boolean | null | undefined>;
}

/** Levels of dynamic broker configs: this node's own, and the cluster-wide default. */
export type DynamicLevel = 'broker' | 'default';

/** Effective configuration over a table: static values (default, file, env, overrides) under dynamic ones. */
export class EffectiveConfig {
  private readonly values = new Map<string, ConfigValue>();
  /** Names set explicitly at start (not defaults), with where they came from. */
  readonly sources = new Map<string, 'file' | 'env' | 'override'>();
  private readonly dynamic: Record<DynamicLevel, Map<string, ConfigValue>> = { broker: new Map(), default: new Map() };
  /** `listener.name.<listener>[.<mechanism>].<name>` values, by that full name (listener and mechanism lower case). */
  private readonly perListener = new Map<string, ConfigValue>();

  constructor(
    readonly table: ConfigTable,
    src: ConfigSources = {},
  ) {
    for (const d of table.defs) this.values.set(d.name, d.default);
    const apply = (name: string, raw: unknown, from: 'file' | 'env' | 'override'): void => {
      const scoped = parseListenerConfigName(table, name);
      if (scoped) {
        const key = listenerKey(scoped.listener, scoped.def.name, scoped.mechanism);
        this.perListener.set(key, raw === null ? null : parseConfigValue(scoped.def, String(raw), name));
        this.sources.set(key, from);
        return;
      }
      const def = table.def(name) ?? table.topicDef(name);
      if (!def) throw new ConfigError(`unknown config ${JSON.stringify(name)}`);
      const v = raw === null ? null : parseConfigValue(def, String(raw), name);
      this.values.set(def.name, v);
      this.sources.set(def.name, from);
    };
    if (src.file) for (const [k, v] of Object.entries(readConfigFile(src.file))) apply(k, v, 'file');
    const env = src.env ?? {};
    for (const d of table.defs) {
      const e = env[envName(d.name)];
      if (e !== undefined && e !== '') apply(d.name, e, 'env');
    }
    for (const [k, v] of Object.entries(src.overrides ?? {})) if (v !== undefined) apply(k, v, 'override');
  }

  /** The value in force: per-broker dynamic, else cluster-default dynamic, else static. */
  get(name: string): ConfigValue {
    if (!this.values.has(name)) throw new ConfigError(`unknown config ${JSON.stringify(name)}`);
    const b = this.dynamic.broker;
    const d = this.dynamic.default;
    return b.has(name) ? b.get(name)! : d.has(name) ? d.get(name)! : this.values.get(name)!;
  }

  /**
   * The value for one listener (and SASL mechanism): `listener.name.<listener>.<mechanism>.<name>`, else
   * `listener.name.<listener>.<name>`, else the broker-wide value, as Kafka resolves listener overrides.
   */
  listenerValue(listenerName: string, name: string, mechanism?: string): ConfigValue {
    if (mechanism !== undefined) {
      const k = listenerKey(listenerName, name, mechanism);
      if (this.perListener.has(k)) return this.perListener.get(k)!;
    }
    const k = listenerKey(listenerName, name, null);
    return this.perListener.has(k) ? this.perListener.get(k)! : this.get(name);
  }

  /** The static value (table default, file, env or override), ignoring dynamic ones. */
  staticValue(name: string): ConfigValue {
    return this.values.get(name) ?? null;
  }

  /** The dynamic values of one level (parsed), by broker config name. */
  dynamicValues(level: DynamicLevel): ReadonlyMap<string, ConfigValue> {
    return this.dynamic[level];
  }

  /** Replace the dynamic values of one level (already validated: dynamic names, parsed values). */
  setDynamic(level: DynamicLevel, values: ReadonlyMap<string, ConfigValue>): void {
    this.dynamic[level] = new Map(values);
  }

  /** Set anywhere but in the table default: statically or dynamically. */
  isSet(name: string): boolean {
    return this.sources.has(name) || this.dynamic.broker.has(name) || this.dynamic.default.has(name);
  }

  int(name: string): number {
    return this.get(name) as number;
  }

  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  str(name: string): string {
    return this.get(name) as string;
  }

  /** Broker-supplied default of a topic-level config. */
  topicDefault(topicName: string): ConfigValue {
    const d = this.table.topicDef(topicName);
    if (!d) throw new ConfigError(`unknown topic config ${JSON.stringify(topicName)}`);
    return this.get(d.name);
  }

  /**
   * The broker-level defaults of every topic config, as storage takes them. A set
   * log.message.timestamp.difference.max.ms (removed in Kafka 4.0) is the default of the before/after
   * bounds that are not set themselves.
   */
  logDefaults(): LogConfig {
    const out = {} as LogConfig;
    for (const d of this.table.defs) if (d.field) setField(out, d.field, this.get(d.name));
    const diff = this.table.topicDef(TIMESTAMP_DIFFERENCE);
    if (diff && this.isSet(diff.name)) {
      for (const bound of TIMESTAMP_BOUNDS) {
        const def = this.table.topicDef(bound);
        if (def?.field && !this.isSet(def.name)) setField(out, def.field, this.get(diff.name));
      }
    }
    return out;
  }

  /** A topic's LogConfig from its overrides on top of the current broker-level defaults (LogManager's resolver). */
  resolveLogConfig(overrides: Readonly<Record<string, string>>): LogConfig {
    return this.table.logConfigFromOverrides(overrides, this.logDefaults());
  }

  entries(): IterableIterator<[string, ConfigValue]> {
    return this.values.entries();
  }
}
