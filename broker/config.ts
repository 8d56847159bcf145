/**
 * Broker and topic configuration, defined once in one declarative table (name, type, default, doc, scope,
 * dynamic or not, validation), built here from its rows by area in ./config/ (server.ts: node and listeners;
 * listeners.ts: Kafka's listeners; tls.ts: TLS keystores, truststores, client auth; sasl.ts: SASL
 * authentication; cluster.ts: etcd, controller, replication; log.ts: topics and their logs;
 * groups.ts; txn.ts; oauth.ts: SASL/OAUTHBEARER; quotas.ts: client quota windows;
 * authorizer.ts: ACL authorizer), concatenated in
 * the order README's reference lists them. The same table parses `--set`/env/config-file values, resolves and
 * validates topic configs (each topic-config row names its storage LogConfig field; LogManager gets a
 * resolver built from here, so storage keeps no config names or defaults of its own), answers
 * DescribeConfigs, validates AlterConfigs, and generates README's configuration reference.
 *
 * Broker-level names follow Kafka's server.properties; a broker config that supplies the default of a topic
 * config names it in `topic` (log.retention.ms → retention.ms), as Kafka does. `dynamic` rows can change at
 * run time (Kafka's DynamicBrokerConfig: the log.* defaults of topic configs, message.max.bytes, ...);
 * `removed` rows are configs Kafka 4.0 dropped that Runnel still accepts from older clients. Precedence,
 * lowest first: table default < config file < RUNNEL_* env < --set / flags (together: static) < dynamic
 * cluster default < dynamic per-broker value. What the rows mean (parsing, BrokerConfig): config-model.ts.
 */
import { ConfigTable, EffectiveConfig, type ConfigDef, type ConfigSources } from './config-model.js';
import type { LogConfig } from '../storage/log-config.js';
import { CLUSTER_CONFIGS } from './config/cluster.js';
import { GROUP_CONFIGS } from './config/groups.js';
import { LOG_CONFIGS } from './config/log.js';
import { NODE_CONFIGS, SERVER_CONFIGS } from './config/server.js';
import { LISTENER_CONFIGS } from './config/listeners.js';
import { TLS_CONFIGS } from './config/tls.js';
import { SASL_CONFIGS } from './config/sasl.js';
import { TXN_CONFIGS } from './config/txn.js';
import { OAUTH_CONFIGS } from './config/oauth.js';
import { QUOTA_CONFIGS } from './config/quotas.js';
import { AUTHORIZER_CONFIGS } from './config/authorizer.js';

export * from './config-model.js';

/** The one table, in reference order. */
export const CONFIG_DEFS: readonly ConfigDef[] = [
  ...NODE_CONFIGS,
  ...LISTENER_CONFIGS,
  ...TLS_CONFIGS,
  ...SASL_CONFIGS,
  ...OAUTH_CONFIGS,
  ...CLUSTER_CONFIGS,
  ...SERVER_CONFIGS,
  ...LOG_CONFIGS,
  ...GROUP_CONFIGS,
  ...TXN_CONFIGS,
  ...QUOTA_CONFIGS,
  ...AUTHORIZER_CONFIGS,
];

export const CONFIG_TABLE = new ConfigTable(CONFIG_DEFS);

export function configDef(name: string): ConfigDef | undefined {
  return CONFIG_TABLE.def(name);
}

export function topicConfigDef(name: string): ConfigDef | undefined {
  return CONFIG_TABLE.topicDef(name);
}

/** The effective broker configuration (config-model.ts's EffectiveConfig over this table). */
export class BrokerConfig extends EffectiveConfig {
  constructor(src: ConfigSources = {}) {
    super(CONFIG_TABLE, src);
  }

  /** `etcd.endpoints`: non-empty for a node of a replicated cluster. */
  get etcdEndpoints(): string[] {
    return (this.get('etcd.endpoints') as string[] | null) ?? [];
  }
}

/** The LogConfig of a topic with these overrides under the table defaults alone (tests, tools). */
export function defaultLogConfig(overrides: Readonly<Record<string, string>> = {}): LogConfig {
  return new BrokerConfig().resolveLogConfig(overrides);
}

/** Markdown table of every config, for README.md (kept in sync by a test). */
export function configReferenceMarkdown(): string {
  return CONFIG_TABLE.referenceMarkdown();
}
