/**
 * MetadataImage: one immutable snapshot of the cluster metadata, as a metadata store (store.ts) publishes it.
 *
 * - Brokers (node id, listeners, rack, fenced), the controller id and the cluster id.
 * - Topics with their ids, config overrides and, per partition, replicas / leader / leader epoch / ISR /
 *   partition epoch (the partition epoch grows on every change of a partition's registration; the leader
 *   epoch on every leader change, as in Kafka's PartitionRegistration) and, while a reassignment runs, the
 *   adding / removing replicas.
 * - The next producer id no block has claimed yet (producer-id blocks, as Kafka's ProducerIdsImage).
 * - Keyed-record sections (records.ts: SCRAM credentials, client quotas, dynamic configs, ...): per section
 *   name, key -> record, in insertion order.
 * - `offset`: the position of this image in the store's change stream (0 = as loaded), growing by one
 *   with every published change.
 *
 * Images are never mutated: a change builds a new image (`with*` / `without*`) sharing what did not change.
 * Lookups by name and by id are O(1). Topic names follow Kafka's rules (`invalidTopicName`); topic ids are
 * 16 random bytes as unpadded base64url (Kafka's Uuid.toString), never starting with '-'.
 */
import { randomUUID } from 'node:crypto';
import type { RecordSection } from './records.js';

/** Kafka's "no leader" (-1). */
export const NO_LEADER = -1;

export interface BrokerEndpoint {
  /** Listener name (PLAINTEXT, ...). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: string;
}

export interface BrokerRegistration {
  readonly nodeId: number;
  readonly rack: string | null;
  readonly listeners: readonly BrokerEndpoint[];
  /** A fenced broker is registered but not live (leads nothing, is not in Metadata responses). */
  readonly fenced: boolean;
  /**
   * Set by a broker that is stopping (controlled shutdown): still live and serving, but the controller moves
   * its leaderships away and takes it out of ISRs, and it is no candidate for leadership or ISR expansion.
   */
  readonly inControlledShutdown?: boolean;
}

export interface PartitionRegistration {
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** NO_LEADER (-1) when no replica leads. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  /**
   * A reassignment in progress (KIP-455): the replicas it adds (in `replicas`, not yet caught up) and the ones
   * it removes once they are. Absent (or empty) when none is in progress.
   */
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
}

/** What a topic is by name: its id, partition count and config overrides (the shape of `topics.msgpack`). */
export interface TopicMetadata {
  readonly name: string;
  /** 16-byte UUID as base64url (22 characters). */
  readonly topicId: string;
  /** The partition count. */
  readonly partitions: number;
  /** Per-topic overrides, Kafka property names to string values. */
  readonly configs: Readonly<Record<string, string>>;
}

/** A topic of the image: its metadata plus one registration per partition (index = partition). */
export interface TopicImage extends TopicMetadata {
  readonly partitionStates: readonly PartitionRegistration[];
}

export function newTopicId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Why `name` is not a legal Kafka topic name, or undefined. */
export function invalidTopicName(name: string): string | undefined {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > 249) return 'topic name is longer than 249 characters';
  if (!/^[a-zA-Z0-9._-]+$/.test(name))
    return `topic name "${name}" contains characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return undefined;
}

/** A fresh partition led by the first replica, everything in sync, epochs 0 (a new topic or partition). */
export function newPartition(partition: number, replicas: readonly number[]): PartitionRegistration {
  return Object.freeze({
    partition,
    replicas: Object.freeze([...replicas]),
    isr: Object.freeze([...replicas]),
    leader: replicas[0] ?? NO_LEADER,
    leaderEpoch: 0,
    partitionEpoch: 0,
  });
}

/** A frozen TopicImage (configs and partition states copied). */
export function topicImage(
  t: Omit<TopicMetadata, 'partitions'>,
  partitionStates: readonly PartitionRegistration[],
): TopicImage {
  return Object.freeze({
    name: t.name,
    topicId: t.topicId,
    partitions: partitionStates.length,
    configs: Object.freeze({ ...t.configs }),
    partitionStates: Object.freeze([...partitionStates]),
  });
}

export interface MetadataImageFields {
  clusterId: string;
  controllerId: number;
  brokers?: Iterable<BrokerRegistration>;
  topics?: Iterable<TopicImage>;
  nextProducerId?: number;
  /** Keyed-record sections by name (records.ts). */
  records?: ReadonlyMap<string, ReadonlyMap<string, unknown>>;
  offset?: number;
}

const NO_RECORDS: ReadonlyMap<string, unknown> = new Map();

export class MetadataImage {
  readonly clusterId: string;
  /** The node acting as controller; -1 when none is known. */
  readonly controllerId: number;
  readonly nextProducerId: number;
  readonly offset: number;
  private readonly brokersById: ReadonlyMap<number, BrokerRegistration>;
  private readonly byName: ReadonlyMap<string, TopicImage>;
  private readonly byId: ReadonlyMap<string, TopicImage>;
  private readonly sections: ReadonlyMap<string, ReadonlyMap<string, unknown>>;

  constructor(f: MetadataImageFields) {
    this.clusterId = f.clusterId;
    this.controllerId = f.controllerId;
    this.nextProducerId = f.nextProducerId ?? 0;
    this.offset = f.offset ?? 0;
    this.brokersById = new Map([...(f.brokers ?? [])].map((b) => [b.nodeId, Object.freeze(b)]));
    const byName = new Map<string, TopicImage>();
    const byId = new Map<string, TopicImage>();
    for (const t of f.topics ?? []) {
      byName.set(t.name, t);
      byId.set(t.topicId, t);
    }
    this.byName = byName;
    this.byId = byId;
    this.sections = f.records ?? new Map();
    Object.freeze(this);
  }

  private fields(): MetadataImageFields {
    return {
      clusterId: this.clusterId,
      controllerId: this.controllerId,
      brokers: this.brokersById.values(),
      topics: this.byName.values(),
      nextProducerId: this.nextProducerId,
      records: this.sections,
      offset: this.offset,
    };
  }

  // ---- lookups -----------------------------------------------------------------------------------

  topic(name: string): TopicImage | undefined {
    return this.byName.get(name);
  }

  topicById(topicId: string): TopicImage | undefined {
    return this.byId.get(topicId);
  }

  /** Every topic, in creation order (the order `topics.msgpack` lists them). */
  topics(): TopicImage[] {
    return [...this.byName.values()];
  }

  /** The partition registrations of a topic (empty when unknown). */
  partitions(topic: string): readonly PartitionRegistration[] {
    return this.byName.get(topic)?.partitionStates ?? [];
  }

  partition(topic: string, partition: number): PartitionRegistration | undefined {
    return this.byName.get(topic)?.partitionStates[partition];
  }

  broker(nodeId: number): BrokerRegistration | undefined {
    return this.brokersById.get(nodeId);
  }

  /**
   * Where `nodeId` is reached on the listener named `listener` (undefined when it has no such listener, as
   * Kafka's metadata cache per listener name); without `listener`, its first one.
   */
  endpoint(nodeId: number, listener?: string): BrokerEndpoint | undefined {
    const ls = this.brokersById.get(nodeId)?.listeners ?? [];
    return listener !== undefined ? ls.find((l) => l.name === listener) : ls[0];
  }

  /** Every registered broker, fenced ones included, by node id. */
  brokers(): BrokerRegistration[] {
    return [...this.brokersById.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  /** Registered, unfenced brokers by node id. */
  liveBrokers(): BrokerRegistration[] {
    return this.brokers().filter((b) => !b.fenced);
  }

  /** Live brokers not in controlled shutdown: the ones that may lead or join an ISR (Kafka's "active"). */
  activeBrokerIds(): Set<number> {
    return new Set(
      this.liveBrokers()
        .filter((b) => !b.inControlledShutdown)
        .map((b) => b.nodeId),
    );
  }

  /** The partitions `nodeId` holds a replica of. */
  *replicasOf(nodeId: number): Generator<{ topic: TopicImage; partition: PartitionRegistration }> {
    for (const topic of this.byName.values()) {
      for (const partition of topic.partitionStates)
        if (partition.replicas.includes(nodeId)) yield { topic, partition };
    }
  }

  /** The records of a keyed-record section (records.ts), key -> record; empty when it has none. */
  records<T>(section: RecordSection<T>): ReadonlyMap<string, T> {
    return (this.sections.get(section.name) ?? NO_RECORDS) as ReadonlyMap<string, T>;
  }

  /** Every keyed-record section by name (the stores build the next image's from it). */
  get recordSections(): ReadonlyMap<string, ReadonlyMap<string, unknown>> {
    return this.sections;
  }

  record<T>(section: RecordSection<T>, key: string): T | undefined {
    return this.records(section).get(key);
  }

  // ---- derived images ----------------------------------------------------------------------------

  /** The same image one step further in the change stream. */
  next(change: Partial<Omit<MetadataImageFields, 'offset'>>): MetadataImage {
    return new MetadataImage({ ...this.fields(), ...change, offset: this.offset + 1 });
  }

  /** `topic` added or replaced (by name; a replaced topic keeps its position). */
  withTopic(topic: TopicImage): MetadataImage {
    return this.withTopics([topic]);
  }

  /** Every one of `added` added or replaced, as withTopic, in one step. */
  withTopics(added: readonly TopicImage[]): MetadataImage {
    const topics = new Map(this.byName);
    for (const t of added) topics.set(t.name, t);
    return this.next({ topics: topics.values() });
  }

  withoutTopic(name: string): MetadataImage {
    const topics = new Map(this.byName);
    topics.delete(name);
    return this.next({ topics: topics.values() });
  }

  /** The records of `section` replaced by `records`. */
  withRecords<T>(section: RecordSection<T>, records: ReadonlyMap<string, T>): MetadataImage {
    const sections = new Map(this.sections);
    sections.set(section.name, records);
    return this.next({ records: sections });
  }

  withBroker(broker: BrokerRegistration): MetadataImage {
    const brokers = new Map(this.brokersById);
    brokers.set(broker.nodeId, broker);
    return this.next({ brokers: brokers.values() });
  }
}
