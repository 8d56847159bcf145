/**
 * LogConfigs for storage tests, from the broker's one config table (storage keeps no defaults of its own):
 * DEFAULT_LOG_CONFIG is a topic without overrides under the table defaults; logConfigResolver gives
 * LogManager the resolver the broker would, over those defaults changed by `base`.
 */
import { CONFIG_TABLE, defaultLogConfig } from '../../broker/config.js';
import type { LogConfig, LogConfigResolver } from '../../storage/log-config.js';

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze(defaultLogConfig());

export function logConfigResolver(base: Partial<LogConfig> = {}): LogConfigResolver {
  return (overrides) => CONFIG_TABLE.logConfigFromOverrides(overrides, { ...DEFAULT_LOG_CONFIG, ...base });
}

/** The resolver over the table defaults. */
export const resolveLogConfig: LogConfigResolver = logConfigResolver();

/** A compacted topic's LogConfig as the cleaner tests use it: no delete delay, any dirt cleanable; `o` on top. */
export function compactLogConfig(o: Partial<LogConfig> = {}): LogConfig {
  return {
    ...DEFAULT_LOG_CONFIG,
    cleanupPolicy: ['compact'],
    fileDeleteDelayMs: 0,
    minCleanableDirtyRatio: 0.01,
    ...o,
  };
}
