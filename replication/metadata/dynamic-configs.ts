/**
 * Dynamic broker configs (Kafka's KIP-226 configs set with AlterConfigs/IncrementalAlterConfigs on a BROKER
 * resource), as a keyed-record section of the metadata image (CONFIG_SECTION, records.ts): every node of a
 * cluster sees the cluster-wide defaults and each node's own set, and subscribers get a `record-changed`
 * change when one changes (the broker re-applies its dynamic layer on it, broker/broker.ts).
 *
 * Entities, as Kafka names them: "" = the cluster-wide default, "<node id>" = one node's own configs. Values
 * are kept as the text the client sent (validated by the broker before they get here; re-validated when
 * applied, since the table may change between versions), by broker config name. Record keys: the entity, with
 * "<default>" for "" (Kafka's name of the default entity in its config paths); etcd: `dynamic-configs/<key>`.
 *
 * Single node: file `dynamic-configs.json` in the data dir (the format of before):
 * `{"version":1,"entities":{"":{name:value},"1":{...}}}`, replaced atomically and durably on every change,
 * so a crash leaves the old or the new set. A missing file is an empty set; a file that does not parse fails
 * the load (StorageError) rather than silently dropping configs.
 */
import { StorageError } from '../../protocol/errors.js';
import { parseJson } from './json-file.js';
import type { RecordSection, RecordUpdate } from './records.js';
import type { MetadataStore } from './store.js';

export const DYNAMIC_CONFIGS_FILE = 'dynamic-configs.json';

/** The cluster-wide default entity. */
export const CLUSTER_DEFAULT = '';
const DEFAULT_KEY = '<default>';

export type ConfigMap = Readonly<Record<string, string>>;

export interface DynamicConfigState {
  /** By entity ("" = cluster default, else a node id): config name → value text. */
  readonly entities: Readonly<Record<string, ConfigMap>>;
}

/** The record key of an entity and back. */
export const configKey = (entity: string): string => (entity === CLUSTER_DEFAULT ? DEFAULT_KEY : entity);
export const configEntity = (key: string): string => (key === DEFAULT_KEY ? CLUSTER_DEFAULT : key);

function toConfigMap(v: unknown): ConfigMap | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') return undefined;
    out[k] = x;
  }
  return Object.freeze(out);
}

function parseState(text: string, file: string): Map<string, ConfigMap> {
  const d = parseJson(text, (err) => new StorageError(`${file}: not JSON (${err.message})`)) as {
    version?: unknown;
    entities?: unknown;
  };
  if (typeof d !== 'object' || d === null || d.version !== 1 || typeof d.entities !== 'object' || !d.entities)
    throw new StorageError(`${file}: expected {"version":1,"entities":{...}}`);
  const out = new Map<string, ConfigMap>();
  for (const [entity, configs] of Object.entries(d.entities as Record<string, unknown>)) {
    if (typeof configs !== 'object' || configs === null) throw new StorageError(`${file}: bad entity ${entity}`);
    const map = toConfigMap(configs);
    if (!map) throw new StorageError(`${file}: a value of ${entity} is not a string`);
    out.set(configKey(entity), map);
  }
  return out;
}

export const CONFIG_SECTION: RecordSection<ConfigMap> = {
  name: 'dynamic-configs',
  toJson: (r) => r,
  fromJson: toConfigMap,
  file: {
    name: DYNAMIC_CONFIGS_FILE,
    read: parseState,
    write: (records) => ({
      version: 1,
      entities: Object.fromEntries([...records].map(([k, v]) => [configEntity(k), v])),
    }),
  },
};

/** The dynamic configs of the metadata image, read synchronously, changed through the metadata store. */
export class DynamicConfigStore {
  constructor(private readonly store: Pick<MetadataStore, 'image' | 'updateRecords'>) {}

  /** The configs of one entity ("" = cluster default, else a node id); empty when none. */
  get(entity: string): ConfigMap {
    return this.store.image.record(CONFIG_SECTION, configKey(entity)) ?? {};
  }

  snapshot(): DynamicConfigState {
    const entities: Record<string, ConfigMap> = {};
    for (const [k, v] of this.store.image.records(CONFIG_SECTION)) entities[configEntity(k)] = v;
    return { entities };
  }

  /** Replace the configs of one entity (empty = remove it); resolves once durable and applied here. */
  set(entity: string, configs: ConfigMap): Promise<void> {
    return this.update(entity, () => ({ configs, result: undefined }));
  }

  /**
   * Replace the configs of one entity by what `make` makes of the current ones (no `configs`: no change); in a
   * cluster `make` runs again when another node changed the entity first. Resolves to `make`'s result.
   */
  update<R>(entity: string, make: (current: ConfigMap) => { configs?: ConfigMap; result: R }): Promise<R> {
    const key = configKey(entity);
    return this.store.updateRecords(CONFIG_SECTION, (records): RecordUpdate<ConfigMap, R> => {
      const { configs, result } = make(records.get(key) ?? {});
      const changes = new Map<string, ConfigMap | null>();
      if (configs) changes.set(key, Object.keys(configs).length === 0 ? null : { ...configs });
      return { changes, result };
    });
  }
}
