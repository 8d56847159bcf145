/**
 * Client quotas (KIP-546): the quota values set per entity with AlterClientQuotas and read back with
 * DescribeClientQuotas, as Kafka's controller (ClientQuotaControlManager) and metadata image
 * (ClientQuotasImage) keep them; broker/quotas/ enforces them (read at each request, so changes apply at once).
 *
 * An entity maps entity types to names: `user`, `client-id` (alone or together) or `ip` (alone); a null
 * name is the default entity of that type. Valid keys: producer_byte_rate and consumer_byte_rate (longs),
 * request_percentage and controller_mutation_rate (doubles) for user/client-id entities;
 * connection_creation_rate (int) for ip entities. Values must be > 0, integral for long/int keys.
 *
 * Durable state of a single node: `<data dir>/client-quotas.json`, replaced atomically (tmp, fsync, rename,
 * dir fsync) after every change: `{"version":1,"entities":[{"entity":{"user":"alice"},"values":{"producer_byte_rate":
 * 1024}}]}`. A file that does not parse refuses start-up (StorageError). A cluster: etcd keys (QUOTA_SECTION).
 */
import { isIP } from 'node:net';
import { StorageError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { parseJson } from './json-file.js';
import type { RecordSection, RecordUpdate } from './records.js';
import type { MetadataStore } from './store.js';

export const CLIENT_QUOTAS_FILE = 'client-quotas.json';

export const USER = 'user';
export const CLIENT_ID = 'client-id';
export const IP = 'ip';

/** Entity type -> name (null: the default entity of that type). */
export type QuotaEntity = Record<string, string | null>;

/** A Kafka error code with its message; code 0 is success. */
export interface QuotaError {
  code: number;
  message: string | null;
}

const OK: QuotaError = { code: ErrorCode.NONE, message: null };
const invalid = (message: string): QuotaError => ({ code: ErrorCode.INVALID_REQUEST, message });

type KeyType = 'long' | 'int' | 'double';
const CLIENT_KEYS: Record<string, KeyType> = {
  producer_byte_rate: 'long',
  consumer_byte_rate: 'long',
  request_percentage: 'double',
  controller_mutation_rate: 'double',
};
const IP_KEYS: Record<string, KeyType> = { connection_creation_rate: 'int' };

/** One entity's alteration: key -> new value, or null to remove the key. */
export interface QuotaAlteration {
  entity: Array<{ entityType: string; entityName: string | null }>;
  ops: Array<{ key: string; value: number; remove: boolean }>;
}

/** DescribeClientQuotas filter component; matchType 0 = exact name, 1 = default entity, 2 = any name. */
export interface QuotaFilterComponent {
  entityType: string;
  matchType: number;
  match: string | null;
}

export const MATCH_EXACT = 0;
export const MATCH_DEFAULT = 1;
export const MATCH_SPECIFIED = 2;

export interface DescribedQuotas {
  entity: QuotaEntity;
  values: Record<string, number>;
}

/** Thrown by describe() for a bad filter; the whole response carries the code. */
export class QuotaFilterError extends Error {
  constructor(
    readonly kafkaCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Canonical map key of an entity (types sorted), e.g. `client-id=null,user="alice"`. */
function entityKey(e: QuotaEntity): string {
  return Object.keys(e)
    .sort()
    .map((t) => `${t}=${JSON.stringify(e[t])}`)
    .join(',');
}

function describeEntity(e: QuotaEntity): string {
  return `ClientQuotaEntity(entries=${JSON.stringify(e)})`;
}

function validateEntity(parts: QuotaAlteration['entity']): { entity?: QuotaEntity; error: QuotaError } {
  if (parts.length === 0) return { error: invalid('Invalid empty client quota entity') };
  const entity: QuotaEntity = {};
  for (const { entityType, entityName } of parts) {
    if (Object.hasOwn(entity, entityType)) {
      return { error: invalid(`Invalid empty client quota entity, duplicate entity entry ${entityType}`) };
    }
    if (entityType !== USER && entityType !== CLIENT_ID && entityType !== IP) {
      return { error: invalid(`Unhandled client quota entity type: ${entityType}`) };
    }
    if (entityName !== null && entityName === '') return { error: invalid(`Empty ${entityType} not supported`) };
    entity[entityType] = entityName;
  }
  return { entity, error: OK };
}

function keysFor(entity: QuotaEntity): { keys?: Record<string, KeyType>; error: QuotaError } {
  const hasIp = Object.hasOwn(entity, IP);
  if (hasIp) {
    if (Object.hasOwn(entity, USER) || Object.hasOwn(entity, CLIENT_ID)) {
      return {
        error: invalid('Invalid quota entity combination, IP entity should not be combined with User or ClientId'),
      };
    }
    const ip = entity[IP] ?? null;
    // Kafka also accepts a host name that resolves; only IP literals (and the default) are accepted here.
    if (ip !== null && isIP(ip) === 0) return { error: invalid(`${ip} is not a valid IP or resolvable host.`) };
    return { keys: IP_KEYS, error: OK };
  }
  return { keys: CLIENT_KEYS, error: OK };
}

function validateValue(keys: Record<string, KeyType>, key: string, value: number): QuotaError {
  const type = keys[key];
  if (type === undefined) return invalid(`Invalid configuration key ${key}`);
  if (!(value > 0)) return invalid(`Quota ${key} must be greater than 0`);
  if (type === 'double') return OK;
  if (type === 'int' && value > 2147483647) return invalid(`Proposed value for ${key} is too large for an INT.`);
  if (type === 'long' && value >= 2 ** 63) {
    return invalid(`Proposed value for ${key} is too large for a LONG.`);
  }
  if (Math.abs(value % 1) > 1e-6) return invalid(`${key} cannot be a fractional value.`);
  return OK;
}

function toRecord(item: unknown): DescribedQuotas | undefined {
  const i = item as DescribedQuotas | null;
  if (typeof i?.entity !== 'object' || typeof i.values !== 'object' || !i.entity || !i.values) return undefined;
  return Object.freeze({ entity: Object.freeze({ ...i.entity }), values: Object.freeze({ ...i.values }) });
}

/**
 * The client quota section of the metadata image (records.ts), one record `{entity, values}` per entity, keyed
 * by the canonical entity key. Etcd: `client-quotas/<entity key>`. Local: the `client-quotas.json` file.
 */
export const QUOTA_SECTION: RecordSection<DescribedQuotas> = {
  name: 'client-quotas',
  toJson: (r) => ({ entity: r.entity, values: r.values }),
  fromJson: toRecord,
  file: {
    name: CLIENT_QUOTAS_FILE,
    read(text, file) {
      const bad = (): StorageError => new StorageError(`${file} is not a client quotas file`);
      const d = parseJson(text, bad) as { version?: unknown; entities?: unknown };
      if (d?.version !== 1 || !Array.isArray(d.entities)) throw bad();
      const out = new Map<string, DescribedQuotas>();
      for (const item of d.entities) {
        const r = toRecord(item);
        if (!r) throw bad();
        out.set(entityKey(r.entity), r);
      }
      return out;
    },
    write: (records) => ({ version: 1, entities: [...records.values()] }),
  },
};

/**
 * Client quotas as handlers (and enforcement) use them, over the metadata store's quota section: reads from the
 * image (synchronous; on every node of a cluster), changes through `updateRecords`.
 */
export class ClientQuotaStore {
  constructor(private readonly store: Pick<MetadataStore, 'image' | 'updateRecords'>) {}

  private get entities(): ReadonlyMap<string, DescribedQuotas> {
    return this.store.image.records(QUOTA_SECTION);
  }

  /** The quotas of one entity (empty when none is set). */
  quotas(entity: QuotaEntity): Record<string, number> {
    return { ...(this.entities.get(entityKey(entity))?.values ?? {}) };
  }

  /** Whether any entity has a quota set. */
  hasQuotas(): boolean {
    return this.entities.size > 0;
  }

  /** One quota value of one entity, undefined when not set (the quota manager's lookup; no copy). */
  quotaValue(entity: QuotaEntity, key: string): number | undefined {
    return this.entities.get(entityKey(entity))?.values[key];
  }

  /** Entities matching a DescribeClientQuotas filter; throws QuotaFilterError for a bad filter. */
  describe(components: readonly QuotaFilterComponent[], strict: boolean): DescribedQuotas[] {
    const exact = new Map<string, string | null>();
    const any = new Set<string>();
    for (const c of components) {
      if (c.entityType === '') throw new QuotaFilterError(ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.');
      if (exact.has(c.entityType) || any.has(c.entityType)) {
        throw new QuotaFilterError(
          ErrorCode.INVALID_REQUEST,
          `Entity type ${c.entityType} cannot appear more than once in the filter.`,
        );
      }
      if (c.entityType !== USER && c.entityType !== CLIENT_ID && c.entityType !== IP) {
        throw new QuotaFilterError(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`);
      }
      if (c.matchType === MATCH_EXACT) {
        if (c.match === null) {
          throw new QuotaFilterError(
            ErrorCode.INVALID_REQUEST,
            'Request specified MATCH_TYPE_EXACT, but set match string to null.',
          );
        }
        exact.set(c.entityType, c.match);
      } else if (c.matchType === MATCH_DEFAULT || c.matchType === MATCH_SPECIFIED) {
        if (c.match !== null) {
          const name = c.matchType === MATCH_DEFAULT ? 'MATCH_TYPE_DEFAULT' : 'MATCH_TYPE_SPECIFIED';
          throw new QuotaFilterError(
            ErrorCode.INVALID_REQUEST,
            `Request specified ${name}, but also specified a match string.`,
          );
        }
        if (c.matchType === MATCH_DEFAULT) exact.set(c.entityType, null);
        else any.add(c.entityType);
      } else {
        throw new QuotaFilterError(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
      }
    }
    const has = (t: string): boolean => exact.has(t) || any.has(t);
    if (has(IP) && (has(USER) || has(CLIENT_ID))) {
      throw new QuotaFilterError(
        ErrorCode.INVALID_REQUEST,
        'Invalid entity filter component combination. IP filter component should not be used with user or ' +
          'clientId filter component.',
      );
    }
    const out: DescribedQuotas[] = [];
    for (const { entity, values } of this.entities.values()) {
      const types = Object.keys(entity);
      if (strict && types.length !== exact.size + any.size) continue;
      let ok = true;
      for (const [t, name] of exact) if (!Object.hasOwn(entity, t) || entity[t] !== name) ok = false;
      for (const t of any) if (!Object.hasOwn(entity, t)) ok = false;
      if (ok) out.push({ entity: { ...entity }, values: { ...values } });
    }
    return out;
  }

  /**
   * Apply AlterClientQuotas entries: each entity is validated on its own; valid ones are applied (unless
   * validateOnly) and written to disk before this resolves. Returns one result per request entry, in order.
   */
  alter(alterations: readonly QuotaAlteration[], validateOnly: boolean): Promise<QuotaError[]> {
    return this.store.updateRecords(QUOTA_SECTION, (current) => this.alterNow(current, alterations, validateOnly));
  }

  private alterNow(
    current: ReadonlyMap<string, DescribedQuotas>,
    alterations: readonly QuotaAlteration[],
    validateOnly: boolean,
  ): RecordUpdate<DescribedQuotas, QuotaError[]> {
    const results: QuotaError[] = [];
    const seen = new Set<string>();
    const changes: Array<{ key: string; entity: QuotaEntity; values: Map<string, number | null> }> = [];
    for (const a of alterations) {
      const { entity, error } = validateEntity(a.entity);
      if (!entity) {
        results.push(error);
        continue;
      }
      const k = entityKey(entity);
      if (seen.has(k)) {
        results.push(invalid(`Ignoring duplicate entity ${describeEntity(entity)}`));
        continue;
      }
      seen.add(k);
      const r = this.validateOps(entity, a.ops);
      results.push(r.error);
      if (r.values) changes.push({ key: k, entity, values: r.values });
    }
    const records = new Map<string, DescribedQuotas | null>();
    if (validateOnly) return { changes: records, result: results };
    for (const c of changes) {
      const values = { ...(current.get(c.key)?.values ?? {}) };
      for (const [key, v] of c.values) {
        if (v === null) delete values[key];
        else values[key] = v;
      }
      records.set(c.key, Object.keys(values).length === 0 ? null : { entity: c.entity, values });
    }
    return { changes: records, result: results };
  }

  private validateOps(
    entity: QuotaEntity,
    ops: QuotaAlteration['ops'],
  ): { values?: Map<string, number | null>; error: QuotaError } {
    const values = new Map<string, number | null>();
    for (const op of ops) {
      if (values.has(op.key)) {
        return {
          error: invalid(`Duplicate quota key ${op.key} not updating quota for this entity ${describeEntity(entity)}`),
        };
      }
      values.set(op.key, op.remove ? null : op.value);
    }
    const { keys, error } = keysFor(entity);
    if (!keys) return { error };
    for (const [key, v] of values) {
      if (v === null) continue;
      const e = validateValue(keys, key, v);
      if (e.code !== ErrorCode.NONE) return { error: e };
    }
    return { values, error: OK };
  }
}
