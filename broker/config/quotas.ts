/**
 * Config rows of client quota enforcement (broker/quotas/): the windows client rates are measured over, as
 * Kafka's quota.window.* and controller.quota.window.* configs. Part of the one config table (../config.ts).
 */
import type { ConfigDef } from '../config-model.js';

export const QUOTA_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'quota.window.num',
    type: 'int',
    default: 11,
    min: 1,
    doc: 'Number of samples kept to measure client byte rates and request time against their quotas.',
  },
  {
    name: 'quota.window.size.seconds',
    type: 'int',
    default: 1,
    min: 1,
    doc: 'Time span of each client quota sample; also the longest one request_percentage throttle lasts.',
  },
  {
    name: 'controller.quota.window.num',
    type: 'int',
    default: 11,
    min: 1,
    doc: 'Number of samples for controller mutation quotas (the token bucket holds quota * num * size mutations).',
  },
  {
    name: 'controller.quota.window.size.seconds',
    type: 'int',
    default: 1,
    min: 1,
    doc: 'Time span of each controller mutation quota sample.',
  },
];
