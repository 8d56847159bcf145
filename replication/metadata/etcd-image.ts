/**
 * The etcd store's key layout and how its keys become a MetadataImage (etcd-store.ts uses both).
 *
 * Keys, relative to the cluster prefix `/runnel/<cluster.name>/` (values JSON unless said):
 * - `cluster-id`: the cluster id (plain string), created once by the first node (create-if-absent).
 * - `topics/<name>`: `{ topicId, partitions, configs }`.
 * - `partitions/<name>/<p>`: `{ replicas, isr, leader, leaderEpoch, partitionEpoch }`, plus `addingReplicas` /
 *   `removingReplicas` while a reassignment runs (written only when non-empty; records without them read as none).
 *   A topic is created and deleted together with all its partition keys in one transaction.
 * - `brokers/<nodeId>`: `{ nodeId, listeners, rack, inControlledShutdown? }`, bound to the broker's lease
 *   (registration.ts); `inControlledShutdown: true` is a stopping broker's request to move its leaderships.
 * - `controller`: `{ nodeId }`, bound to the controller's lease (election.ts).
 * - `producer-ids`: the last producer-id block handed out, `{ brokerId, firstProducerId, size }`.
 * - `<section>/<key>`: one record of a keyed-record section (records.ts, record-sections.ts), e.g.
 *   `scram-credentials/<user>/<mechanism>`, `client-quotas/<entity>`, `dynamic-configs/<default>`; the value is the
 *   section's JSON of the record (a value the section does not decode is no record).
 * Other keys under the prefix are ignored here.
 *
 * `EtcdKeys` holds the keys as etcd last showed them (values and revisions: writers compare mod revisions).
 * `buildImage` rebuilds the parts of an image a set of touched keys affects and names the changes, so a batch
 * of watch events and a full re-read (after a compacted watch) go through the same code.
 */
import type { KeyValue } from '../etcd/kv.js';
import {
  type MetadataImage,
  NO_LEADER,
  topicImage,
  type BrokerEndpoint,
  type BrokerRegistration,
  type PartitionRegistration,
  type TopicImage,
} from './image.js';
import type { MetadataChange, ProducerIdBlock } from './store.js';
import { recordSection } from './record-sections.js';
import { recordChange, recordKey, sameRecord } from './records.js';

export interface TopicRecord {
  topicId: string;
  partitions: number;
  configs: Record<string, string>;
}

export interface PartitionRecord {
  replicas: number[];
  isr: number[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
  addingReplicas?: number[];
  removingReplicas?: number[];
}

export const CLUSTER_ID_KEY = 'cluster-id';
export const CONTROLLER_KEY = 'controller';
export const PRODUCER_IDS_KEY = 'producer-ids';
export const topicKey = (name: string): string => `topics/${name}`;
export const partitionsPrefix = (name: string): string => `partitions/${name}/`;
export const partitionKey = (name: string, p: number): string => `partitions/${name}/${p}`;
export const brokerKeyOf = (nodeId: number): string => `brokers/${nodeId}`;

export function partitionRecord(p: PartitionRegistration): PartitionRecord {
  const rec: PartitionRecord = {
    replicas: [...p.replicas],
    isr: [...p.isr],
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
  };
  if (p.addingReplicas?.length) rec.addingReplicas = [...p.addingReplicas];
  if (p.removingReplicas?.length) rec.removingReplicas = [...p.removingReplicas];
  return rec;
}

function parse(kv: KeyValue | undefined): unknown {
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value.toString());
  } catch {
    return undefined;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ints = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x)) : []);
const int = (v: unknown, d: number): number => (Number.isInteger(v) ? (v as number) : d);

/** What a changed key touches. */
export interface Touched {
  topics: Set<string>;
  brokers: Set<number>;
  controller: boolean;
  producerIds: boolean;
  /** Keyed-record section name -> record keys. */
  records: Map<string, Set<string>>;
}

export const nothingTouched = (): Touched => ({
  topics: new Set(),
  brokers: new Set(),
  controller: false,
  producerIds: false,
  records: new Map(),
});

/** The keys under the prefix (relative names), with their values and revisions. */
export class EtcdKeys {
  readonly kvs = new Map<string, KeyValue>();

  constructor(readonly prefix: string) {}

  rel(key: string): string | undefined {
    return key.startsWith(this.prefix) ? key.slice(this.prefix.length) : undefined;
  }

  /** Records a key as read or as a watch event showed it; notes what it touches. */
  apply(kv: KeyValue, deleted: boolean, touched: Touched): void {
    const rel = this.rel(kv.key);
    if (rel === undefined) return;
    if (deleted) this.kvs.delete(rel);
    else this.kvs.set(rel, kv);
    const [kind, a] = rel.split('/');
    if ((kind === 'topics' || kind === 'partitions') && a) touched.topics.add(a);
    else if (kind === 'brokers' && /^\d+$/.test(a ?? '')) touched.brokers.add(Number(a));
    else if (rel === CONTROLLER_KEY) touched.controller = true;
    else if (rel === PRODUCER_IDS_KEY) touched.producerIds = true;
    else if (rel.length > kind.length + 1 && recordSection(kind)) {
      const keys = touched.records.get(kind) ?? new Set<string>();
      touched.records.set(kind, keys);
      keys.add(rel.slice(kind.length + 1));
    }
  }

  /** Every key's touch (for a full re-read). */
  touchAll(into: Touched): void {
    for (const rel of this.kvs.keys()) this.apply(this.kvs.get(rel)!, false, into);
  }

  modRevision(rel: string): number {
    return this.kvs.get(rel)?.modRevision ?? 0;
  }

  createRevision(rel: string): number {
    return this.kvs.get(rel)?.createRevision ?? 0;
  }

  topic(name: string): TopicRecord | undefined {
    const v = parse(this.kvs.get(topicKey(name)));
    if (!isObj(v) || typeof v.topicId !== 'string') return undefined;
    const configs: Record<string, string> = {};
    if (isObj(v.configs)) for (const [k, x] of Object.entries(v.configs)) if (typeof x === 'string') configs[k] = x;
    return { topicId: v.topicId, partitions: Math.max(0, int(v.partitions, 0)), configs };
  }

  partition(name: string, p: number): PartitionRegistration {
    const v = parse(this.kvs.get(partitionKey(name, p)));
    const r = isObj(v) ? v : {};
    const adding = ints(r.addingReplicas);
    const removing = ints(r.removingReplicas);
    return Object.freeze({
      partition: p,
      replicas: Object.freeze(ints(r.replicas)),
      isr: Object.freeze(ints(r.isr)),
      leader: int(r.leader, NO_LEADER),
      leaderEpoch: int(r.leaderEpoch, 0),
      partitionEpoch: int(r.partitionEpoch, 0),
      ...(adding.length ? { addingReplicas: Object.freeze(adding) } : {}),
      ...(removing.length ? { removingReplicas: Object.freeze(removing) } : {}),
    });
  }

  topicImage(name: string): TopicImage | undefined {
    const t = this.topic(name);
    if (!t) return undefined;
    const states = Array.from({ length: t.partitions }, (_, p) => this.partition(name, p));
    return topicImage({ name, topicId: t.topicId, configs: t.configs }, states);
  }

  broker(nodeId: number): BrokerRegistration | undefined {
    const v = parse(this.kvs.get(brokerKeyOf(nodeId)));
    if (!isObj(v)) return undefined;
    const listeners: BrokerEndpoint[] = [];
    for (const l of Array.isArray(v.listeners) ? v.listeners : []) {
      if (isObj(l) && typeof l.name === 'string' && typeof l.host === 'string' && Number.isInteger(l.port))
        listeners.push({
          name: l.name,
          host: l.host,
          port: l.port as number,
          securityProtocol: typeof l.securityProtocol === 'string' ? l.securityProtocol : 'PLAINTEXT',
        });
    }
    const rack = typeof v.rack === 'string' ? v.rack : null;
    if (v.inControlledShutdown === true) return { nodeId, rack, listeners, fenced: false, inControlledShutdown: true };
    return { nodeId, rack, listeners, fenced: false };
  }

  controllerId(): number {
    const v = parse(this.kvs.get(CONTROLLER_KEY));
    return isObj(v) ? int(v.nodeId, NO_LEADER) : NO_LEADER;
  }

  producerIdBlock(): ProducerIdBlock | undefined {
    const v = parse(this.kvs.get(PRODUCER_IDS_KEY));
    if (!isObj(v)) return undefined;
    return { brokerId: int(v.brokerId, -1), firstProducerId: int(v.firstProducerId, 0), size: int(v.size, 0) };
  }

  /** A record of a keyed-record section as etcd holds it (undefined: none, or not decodable). */
  record(section: string, key: string): unknown {
    const v = parse(this.kvs.get(recordKey(section, key)));
    return v === undefined ? undefined : recordSection(section)?.fromJson(v);
  }

  clusterId(): string | undefined {
    return this.kvs.get(CLUSTER_ID_KEY)?.value.toString();
  }
}

const sameIds = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const samePartition = (a: PartitionRegistration, b: PartitionRegistration): boolean =>
  sameIds(a.replicas, b.replicas) &&
  sameIds(a.isr, b.isr) &&
  a.leader === b.leader &&
  a.leaderEpoch === b.leaderEpoch &&
  a.partitionEpoch === b.partitionEpoch &&
  sameIds(a.addingReplicas ?? [], b.addingReplicas ?? []) &&
  sameIds(a.removingReplicas ?? [], b.removingReplicas ?? []);

const sameConfigs = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

const sameBroker = (a: BrokerRegistration, b: BrokerRegistration): boolean =>
  a.fenced === b.fenced &&
  a.rack === b.rack &&
  (a.inControlledShutdown ?? false) === (b.inControlledShutdown ?? false) &&
  JSON.stringify(a.listeners) === JSON.stringify(b.listeners);

function topicChanges(before: TopicImage | undefined, after: TopicImage | undefined, out: MetadataChange[]): void {
  if (before && (!after || after.topicId !== before.topicId)) out.push({ type: 'topic-deleted', topic: before });
  if (!after) return;
  if (!before || after.topicId !== before.topicId) {
    out.push({ type: 'topic-created', topic: after });
    return;
  }
  for (let p = 0; p < Math.min(before.partitions, after.partitions); p++) {
    if (!samePartition(before.partitionStates[p], after.partitionStates[p]))
      out.push({ type: 'partition-changed', topic: after, partition: after.partitionStates[p] });
  }
  if (after.partitions > before.partitions)
    out.push({ type: 'partitions-created', topic: after, partitions: after.partitionStates.slice(before.partitions) });
  if (!sameConfigs(before.configs, after.configs)) out.push({ type: 'topic-configs-changed', topic: after });
}

/** The image after the touched keys changed, one offset past `prev`, and what changed (empty: nothing did). */
export function buildImage(
  prev: MetadataImage,
  keys: EtcdKeys,
  touched: Touched,
): { image: MetadataImage; changes: MetadataChange[] } {
  const changes: MetadataChange[] = [];
  let topics: Map<string, TopicImage> | undefined;
  const created: TopicImage[] = [];
  for (const name of touched.topics) {
    const before = prev.topic(name);
    const after = keys.topicImage(name);
    const n = changes.length;
    topicChanges(before, after, changes);
    if (changes.length === n) continue;
    topics ??= new Map(prev.topics().map((t) => [t.name, t]));
    if (after && before) topics.set(name, after);
    else if (after) created.push(after);
    else topics.delete(name);
  }
  if (created.length) {
    // New topics in creation order (one txn per topic: its create revision).
    created.sort((a, b) => keys.createRevision(topicKey(a.name)) - keys.createRevision(topicKey(b.name)));
    for (const t of created) topics!.set(t.name, t);
  }
  let brokers: Map<number, BrokerRegistration> | undefined;
  for (const id of [...touched.brokers].sort((a, b) => a - b)) {
    const before = prev.broker(id);
    const live = keys.broker(id);
    if (live) {
      if (before && sameBroker(before, live)) continue;
      changes.push({ type: 'broker-registered', broker: live });
      brokers ??= new Map(prev.brokers().map((b) => [b.nodeId, b]));
      brokers.set(id, live);
    } else if (before && !before.fenced) {
      const fenced: BrokerRegistration = { ...before, fenced: true };
      changes.push({ type: 'broker-fenced', broker: fenced });
      brokers ??= new Map(prev.brokers().map((b) => [b.nodeId, b]));
      brokers.set(id, fenced);
    }
  }
  let controllerId = prev.controllerId;
  if (touched.controller && keys.controllerId() !== prev.controllerId) {
    controllerId = keys.controllerId();
    changes.push({ type: 'controller-changed', controllerId });
  }
  let nextProducerId = prev.nextProducerId;
  const block = touched.producerIds ? keys.producerIdBlock() : undefined;
  if (block && block.firstProducerId + block.size !== prev.nextProducerId) {
    nextProducerId = block.firstProducerId + block.size;
    changes.push({ type: 'producer-ids-allocated', block });
  }
  const records = buildRecords(prev, keys, touched, changes);
  if (changes.length === 0) return { image: prev, changes };
  const image = prev.next({
    controllerId,
    nextProducerId,
    ...(records ? { records } : {}),
    ...(topics ? { topics: topics.values() } : {}),
    ...(brokers ? { brokers: brokers.values() } : {}),
  });
  return { image, changes };
}

/** The keyed-record sections after the touched record keys changed (undefined: none did); adds the changes. */
function buildRecords(
  prev: MetadataImage,
  keys: EtcdKeys,
  touched: Touched,
  changes: MetadataChange[],
): Map<string, ReadonlyMap<string, unknown>> | undefined {
  let sections: Map<string, ReadonlyMap<string, unknown>> | undefined;
  for (const [name, touchedKeys] of touched.records) {
    const section = recordSection(name);
    if (!section) continue;
    const before = prev.records(section);
    let after: Map<string, unknown> | undefined;
    for (const key of [...touchedKeys].sort()) {
      const was = before.get(key);
      const now = keys.record(name, key);
      if (sameRecord(section, was, now)) continue;
      changes.push(recordChange(name, key, was, now));
      after ??= new Map(before);
      if (now === undefined) after.delete(key);
      else after.set(key, now);
    }
    if (!after) continue;
    sections ??= new Map(prev.recordSections);
    sections.set(name, after);
  }
  return sections;
}
