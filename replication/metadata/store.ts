/**
 * MetadataStore: the one owner of the cluster metadata (image.ts). Readers take `store.image`, an immutable
 * snapshot; writers call the operations below; whoever acts on changes (the log applier opening and
 * deleting partition logs, later the replica manager's leader/follower transitions) subscribes.
 *
 * Contract, shared by every implementation:
 * - Writes are asynchronous and resolve once the change is durable (local: the file is fsynced and renamed;
 *   etcd: the transaction is committed) and has been delivered to every subscriber; they reject with a
 *   StorageError carrying the Kafka error code (TOPIC_ALREADY_EXISTS, UNKNOWN_TOPIC_OR_PARTITION,
 *   INVALID_PARTITIONS, INVALID_TOPIC_EXCEPTION, INVALID_REPLICA_ASSIGNMENT, INVALID_UPDATE_VERSION, ...)
 *   and change nothing when the change is refused. A subscriber that fails makes the write reject with its
 *   error, though the change itself stays durable (as a broker that fails to create a log after the
 *   controller committed the topic).
 * - Changes are published in one order: each MetadataDelta carries the image before and after and what
 *   changed, its `image.offset` one past the previous one. A subscriber sees every delta after it
 *   subscribed, one at a time (the next waits until its listeners settled), never a delta twice.
 * - `alterPartition` is a conditional update: it applies only when the partition's current partition epoch
 *   is `expectedPartitionEpoch` (a compare-and-swap in etcd), else INVALID_UPDATE_VERSION. A change that
 *   changes nothing writes and publishes nothing (resolves to the partition as it is).
 * - `alterPartitions` is the batched form: each write checked as alterPartition checks it; those refused
 *   (unknown partition, stale epoch, invalid, a partition twice) settle rejected on their own, the others are
 *   written together as one atomic change published as one delta (etcd: one transaction; a lost race retries
 *   each as alterPartition). Results in the order of the writes.
 *
 * - `updateRecords` changes one keyed-record section (records.ts: SCRAM credentials, client quotas, dynamic
 *   broker configs; later ACLs): `update` runs against the section as it is now and returns the records to put
 *   or delete and a result; they are written atomically (local: the section's file; etcd: one transaction
 *   comparing the mod revisions of the keys it changes, `update` re-run against the newer image when another
 *   node changed one of them first) and published as one `record-changed` per record that changed. An update
 *   that changes nothing writes and publishes nothing. `update` may throw (the write rejects, nothing changes).
 *
 * Implementations: `local-store.ts` (one node; the data dir's files) and `etcd-store.ts` (the image from a
 * key prefix, changes from a watch, writes as transactions comparing mod revisions).
 */
import type { RecordSection, RecordUpdate } from './records.js';
import type { PartitionWrite } from './partition-change.js';
import type { BrokerRegistration, MetadataImage, PartitionRegistration, TopicImage } from './image.js';

export interface CreateTopicOptions {
  partitions: number;
  configs?: Readonly<Record<string, string>>;
  /** A chosen topic id (tests, restores); default a new random one. */
  topicId?: string;
  /** Replicas per partition (index = partition); default every partition on this node. */
  replicas?: ReadonlyArray<readonly number[]>;
  /**
   * Without `replicas`: how many replicas the store assigns per partition over the live brokers (the etcd
   * store; INVALID_REPLICATION_FACTOR when more than the live brokers). Default 1. The local store ignores it.
   */
  replicationFactor?: number;
}

/** One topic of a createTopics batch. */
export interface NewTopic {
  name: string;
  options: CreateTopicOptions;
}

/** `store.createTopics` when it has one, else createTopic for each topic in turn (same answers). */
export async function createTopicsOf(
  store: Pick<MetadataStore, 'createTopic' | 'createTopics'>,
  topics: readonly NewTopic[],
): Promise<Array<TopicImage | Error>> {
  if (store.createTopics) return store.createTopics(topics);
  const out: Array<TopicImage | Error> = [];
  for (const t of topics) out.push(await store.createTopic(t.name, t.options).catch((err: unknown) => err as Error));
  return out;
}

export interface PartitionChange {
  replicas?: readonly number[];
  isr?: readonly number[];
  /** A new leader bumps the leader epoch. */
  leader?: number;
  /** A reassignment's adding / removing replicas (subsets of `replicas`, disjoint; [] clears). */
  addingReplicas?: readonly number[];
  removingReplicas?: readonly number[];
}

/** A range of producer ids reserved for one broker: [firstProducerId, firstProducerId + size). */
export interface ProducerIdBlock {
  brokerId: number;
  firstProducerId: number;
  size: number;
}

export type MetadataChange =
  | { type: 'topic-created'; topic: TopicImage }
  | { type: 'topic-deleted'; topic: TopicImage }
  | { type: 'partitions-created'; topic: TopicImage; partitions: readonly PartitionRegistration[] }
  | { type: 'topic-configs-changed'; topic: TopicImage }
  | { type: 'partition-changed'; topic: TopicImage; partition: PartitionRegistration }
  | { type: 'broker-registered'; broker: BrokerRegistration }
  /** A broker's registration lapsed (its lease is gone): still known, no longer live. */
  | { type: 'broker-fenced'; broker: BrokerRegistration }
  /** A new controller was elected (or none holds the role: -1). */
  | { type: 'controller-changed'; controllerId: number }
  | { type: 'producer-ids-allocated'; block: ProducerIdBlock }
  /** A record of a keyed-record section (records.ts) was put (`record`) or deleted (no `record`). */
  | { type: 'record-changed'; section: string; key: string; record?: unknown; previous?: unknown };

export interface MetadataDelta {
  readonly previous: MetadataImage;
  readonly image: MetadataImage;
  readonly changes: readonly MetadataChange[];
}

export type MetadataListener = (delta: MetadataDelta) => void | Promise<void>;

export interface MetadataStore {
  /** The newest published image. */
  readonly image: MetadataImage;
  /** This node's id. */
  readonly nodeId: number;
  /** Deliver every later delta to `listener`, in order; returns the unsubscribe function. */
  subscribe(listener: MetadataListener): () => void;
  createTopic(name: string, options: CreateTopicOptions): Promise<TopicImage>;
  /**
   * Several topics in one write (CreateTopics with many topics): each is validated as by createTopic and
   * answered on its own (its TopicImage, or the StorageError that refused it); the valid ones are made durable
   * together and published as one delta of `topic-created` changes, in the order given. Optional: callers
   * without it (createTopicsOf) create one topic at a time.
   */
  createTopics?(topics: readonly NewTopic[]): Promise<Array<TopicImage | Error>>;
  /** false when no such topic. */
  deleteTopic(name: string): Promise<boolean>;
  /** Grow a topic to `total` partitions (`replicas` for the new ones, default this node). */
  createPartitions(name: string, total: number, replicas?: ReadonlyArray<readonly number[]>): Promise<TopicImage>;
  /** Replace a topic's config overrides (IncrementalAlterConfigs merges before calling this). */
  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<TopicImage>;
  /** Conditional on the partition epoch (see the header). */
  alterPartition(
    topic: string,
    partition: number,
    expectedPartitionEpoch: number,
    change: PartitionChange,
  ): Promise<PartitionRegistration>;
  /** Many partitions' conditional changes as one atomic change (see the header). */
  alterPartitions(writes: readonly PartitionWrite[]): Promise<PromiseSettledResult<PartitionRegistration>[]>;
  /** Register (or re-register, e.g. with the listener's bound port) a broker. */
  registerBroker(registration: BrokerRegistration): Promise<void>;
  /** Reserve the next `size` producer ids for `brokerId`; never the same id twice, across restarts. */
  allocateProducerIdBlock(brokerId: number, size: number): Promise<ProducerIdBlock>;
  /** Change records of one keyed-record section (see the header); resolves to `update`'s result. */
  updateRecords<T, R>(
    section: RecordSection<T>,
    update: (records: ReadonlyMap<string, T>) => RecordUpdate<T, R>,
  ): Promise<R>;
  /**
   * Resolves once this node has applied topic `name` as the cluster has it now (delivered to every
   * subscriber: its logs here exist); rejects when that cannot be learned or is not delivered in time.
   * Absent where there is nothing to catch up with (a single node's store is always current).
   */
  catchUpTopic?(name: string): Promise<void>;
  /**
   * Undefined while this node's image is as current as it knows; after its etcd session lost the lease, a
   * promise (never rejecting, bounded) that settles once the image caught up with etcd, so that requests
   * handled next do not answer from leaderships moved away meanwhile. Absent on a single node.
   */
  catchUpIfStale?(): Promise<void> | undefined;
  /** Wait for running writes; later writes reject. */
  close(): Promise<void>;
}
