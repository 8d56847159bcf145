/**
 * Dynamic broker configs (Kafka's KIP-226 configs set with AlterConfigs/IncrementalAlterConfigs on a BROKER
 * resource): typed state, and its durable copy in the data dir. Future home of the cluster metadata image's
 * config part; a later store interface gets local and etcd implementations.
 *
 * Entities, as Kafka names them: "" = the cluster-wide default, "<node id>" = one node's own configs. Values
 * are kept as the text the client sent (validated by the broker before they get here; re-validated when
 * loaded, since the table may change between versions), by broker config name.
 *
 * File `dynamic-configs.json` in the data dir: `{"version":1,"entities":{"":{name:value},"1":{...}}}`,
 * replaced atomically and durably (writeFileAtomically: tmp + fsync + rename + dir fsync) through the
 * injected FileSystem on every change, so a crash leaves the old or the new set. A missing file is an empty
 * set; a file that does not parse fails the load (StorageError) rather than silently dropping configs.
 * Writes run one at a time in call order.
 */
import path from 'node:path';
import { StorageError } from '../../protocol/errors.js';
import type { FileSystem } from '../../storage/fs.js';
import { parseJson, readOptionalText, SerialQueue, writeJsonFile } from './json-file.js';

export const DYNAMIC_CONFIGS_FILE = 'dynamic-configs.json';

/** The cluster-wide default entity. */
export const CLUSTER_DEFAULT = '';

export type ConfigMap = Readonly<Record<string, string>>;

export interface DynamicConfigState {
  /** By entity ("" = cluster default, else a node id): config name → value text. */
  readonly entities: Readonly<Record<string, ConfigMap>>;
}

function parseState(text: string, file: string): DynamicConfigState {
  const d = parseJson(text, (err) => new StorageError(`${file}: not JSON (${err.message})`)) as {
    version?: unknown;
    entities?: unknown;
  };
  if (typeof d !== 'object' || d === null || d.version !== 1 || typeof d.entities !== 'object' || !d.entities)
    throw new StorageError(`${file}: expected {"version":1,"entities":{...}}`);
  const entities: Record<string, Record<string, string>> = {};
  for (const [entity, configs] of Object.entries(d.entities as Record<string, unknown>)) {
    if (typeof configs !== 'object' || configs === null) throw new StorageError(`${file}: bad entity ${entity}`);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(configs as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new StorageError(`${file}: ${entity}/${k} is not a string`);
      out[k] = v;
    }
    entities[entity] = out;
  }
  return { entities };
}

export class DynamicConfigStore {
  private state: DynamicConfigState;
  private readonly writes = new SerialQueue();

  private constructor(
    private readonly fs: FileSystem,
    readonly file: string,
    state: DynamicConfigState,
  ) {
    this.state = state;
  }

  static async load(fs: FileSystem, dataDir: string): Promise<DynamicConfigStore> {
    const file = path.join(dataDir, DYNAMIC_CONFIGS_FILE);
    const text = await readOptionalText(fs, file);
    const state: DynamicConfigState = text === undefined ? { entities: {} } : parseState(text, file);
    return new DynamicConfigStore(fs, file, state);
  }

  /** The configs of one entity ("" = cluster default, else a node id); empty when none. */
  get(entity: string): ConfigMap {
    return this.state.entities[entity] ?? {};
  }

  snapshot(): DynamicConfigState {
    return this.state;
  }

  /** Replace the configs of one entity (empty = remove it) and persist; resolves once durable. */
  set(entity: string, configs: ConfigMap): Promise<void> {
    return this.writes.run(async () => {
      const entities: Record<string, ConfigMap> = { ...this.state.entities };
      if (Object.keys(configs).length === 0) delete entities[entity];
      else entities[entity] = { ...configs };
      const next: DynamicConfigState = { entities };
      await writeJsonFile(this.fs, this.file, { version: 1, entities });
      this.state = next;
    });
  }
}
