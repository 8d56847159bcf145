/**
 * LocalMetadataStore: the MetadataStore (store.ts) of a single node, on the data directory's files
 * (local-files.ts: `topics.msgpack`, `meta.properties`, `producer-id-block`, the formats Runnel has always
 * written, so existing data dirs open unchanged).
 *
 * - This node is the only broker and the controller. It is registered at open with no listeners and
 *   re-registered by the broker once its listener is bound (registrations are not persisted: a node
 *   registers on every start, as a Kafka broker does with its controller).
 * - Partitions are created with replicas = ISR = [this node], leader = this node, leader and partition
 *   epochs 0; only `alterPartition(s)` moves them (persisted in `topics.msgpack`'s optional `states`), checked
 *   as the etcd store checks them (partition-change.ts): `alterPartitions` writes every accepted change of a
 *   batch in one file write and publishes them as one delta, refused ones settle rejected on their own.
 * - Writes run one at a time: validate against the current image, write the file (atomically, fsynced),
 *   publish the new image, deliver the delta to every subscriber in subscription order (awaiting each), then
 *   resolve. A failed file write leaves the image as it was. `createTopics` makes a batch of topics one write:
 *   one file replacement and one delta for all of them (CreateTopics of 1,000 topics: 1 fsync'd write, not 1,000).
 * - Keyed-record sections (records.ts, record-sections.ts: SCRAM credentials, client quotas, dynamic configs):
 *   each section's own file in the data dir (`scram-credentials.json`, `client-quotas.json`,
 *   `dynamic-configs.json`, the formats of before), read at open (a file that does not parse refuses it) and
 *   replaced atomically by `updateRecords` before the change is published.
 * - Topic configs are validated by `validateConfigs` (the broker's config resolver) before anything is
 *   written; it throws (InvalidConfigError) for overrides that do not resolve.
 */
import { ensureDirDurable, NodeFileSystem, type FileSystem } from '../../storage/fs.js';
import { StorageError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import {
  MetadataImage,
  invalidTopicName,
  newPartition,
  newTopicId,
  topicImage,
  type BrokerRegistration,
  type PartitionRegistration,
  type TopicImage,
} from './image.js';
import {
  loadClusterId,
  readProducerIdBlock,
  readTopicsFile,
  writeProducerIdBlock,
  writeTopicsFile,
  type TopicRecord,
} from './local-files.js';
import type {
  CreateTopicOptions,
  MetadataChange,
  MetadataListener,
  MetadataStore,
  NewTopic,
  PartitionChange,
  ProducerIdBlock,
} from './store.js';
import { ImagePublisher } from './publisher.js';
import { planBatch, type PartitionWrite } from './partition-change.js';
import path from 'node:path';
import { readOptionalText, writeJsonFile } from './json-file.js';
import { RECORD_SECTIONS } from './record-sections.js';
import { applyChanges, effectiveChanges, recordChange, type RecordSection, type RecordUpdate } from './records.js';

export interface LocalMetadataStoreOptions {
  /** This node's id (node.id); the data dir's meta.properties must name the same one. */
  nodeId: number;
  fs?: FileSystem;
  /** Throws for topic config overrides that must not be stored (default: accept all). */
  validateConfigs?: (configs: Readonly<Record<string, string>>) => void;
}

const isDefault = (s: PartitionRegistration, nodeId: number): boolean =>
  s.replicas.length === 1 &&
  s.replicas[0] === nodeId &&
  s.isr.length === 1 &&
  s.isr[0] === nodeId &&
  s.leader === nodeId &&
  s.leaderEpoch === 0 &&
  s.partitionEpoch === 0;

const freezePartition = (p: PartitionRegistration): PartitionRegistration =>
  Object.freeze({
    ...p,
    replicas: Object.freeze([...p.replicas]),
    isr: Object.freeze([...p.isr]),
    ...(p.addingReplicas ? { addingReplicas: Object.freeze([...p.addingReplicas]) } : {}),
    ...(p.removingReplicas ? { removingReplicas: Object.freeze([...p.removingReplicas]) } : {}),
  });

export class LocalMetadataStore implements MetadataStore {
  private readonly published: ImagePublisher;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly nodeId: number,
    private readonly dataDir: string,
    private readonly fs: FileSystem,
    private readonly validateConfigs: (configs: Readonly<Record<string, string>>) => void,
    image: MetadataImage,
  ) {
    this.published = new ImagePublisher(image);
  }

  static async open(dataDir: string, options: LocalMetadataStoreOptions): Promise<LocalMetadataStore> {
    const fs = options.fs ?? new NodeFileSystem();
    const { nodeId } = options;
    await ensureDirDurable(fs, dataDir);
    const clusterId = await loadClusterId(fs, dataDir, nodeId);
    const topics = (await readTopicsFile(fs, dataDir)).map((t) => {
      const states = Array.from({ length: t.partitions }, (_, p) => newPartition(p, [nodeId]));
      for (const s of t.states ?? []) if (s.partition >= 0 && s.partition < t.partitions) states[s.partition] = s;
      return topicImage(t, states);
    });
    const records = new Map<string, ReadonlyMap<string, unknown>>();
    for (const section of RECORD_SECTIONS) {
      const file = path.join(dataDir, section.file.name);
      const text = await readOptionalText(fs, file);
      if (text !== undefined) records.set(section.name, section.file.read(text, file));
    }
    const image = new MetadataImage({
      clusterId,
      records,
      controllerId: nodeId,
      brokers: [{ nodeId, rack: null, listeners: [], fenced: false }],
      topics,
      nextProducerId: await readProducerIdBlock(fs, dataDir),
    });
    return new LocalMetadataStore(nodeId, dataDir, fs, options.validateConfigs ?? (() => undefined), image);
  }

  get image(): MetadataImage {
    return this.published.image;
  }

  subscribe(listener: MetadataListener): () => void {
    return this.published.subscribe(listener);
  }

  private get current(): MetadataImage {
    return this.published.image;
  }

  /** Run `fn` after every earlier write (writes never interleave, so deltas go out in order). */
  private write<T>(fn: (image: MetadataImage) => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new StorageError('metadata store is closed');
      return fn(this.current);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Publish `image` and hand the delta to every subscriber; the first listener error is rethrown. */
  private async publish(image: MetadataImage, changes: MetadataChange[]): Promise<void> {
    const failure = await this.published.publish(image, changes);
    if (failure !== undefined) throw failure;
  }

  private persistTopics(image: MetadataImage): Promise<void> {
    const records = image.topics().map((t): TopicRecord => {
      const rec: TopicRecord = {
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions,
        configs: { ...t.configs },
      };
      const states = t.partitionStates.filter((s) => !isDefault(s, this.nodeId));
      if (states.length > 0) rec.states = states.map((s) => ({ ...s, replicas: [...s.replicas], isr: [...s.isr] }));
      return rec;
    });
    return writeTopicsFile(this.fs, this.dataDir, records);
  }

  private assignment(
    first: number,
    count: number,
    replicas: ReadonlyArray<readonly number[]> | undefined,
  ): PartitionRegistration[] {
    if (replicas && replicas.length !== count)
      throw new StorageError(
        `${replicas.length} replica assignments for ${count} partitions`,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      );
    return Array.from({ length: count }, (_, i) => {
      const r = replicas?.[i] ?? [this.nodeId];
      if (r.length === 0 || new Set(r).size !== r.length || r.some((id) => !this.current.broker(id)))
        throw new StorageError(`invalid replica assignment [${r.join(',')}]`, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
      return newPartition(first + i, r);
    });
  }

  private known(image: MetadataImage, name: string): TopicImage {
    const t = image.topic(name);
    if (!t) throw new StorageError(`unknown topic ${name}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    return t;
  }

  /** The topic `name` would be in `image`, or the StorageError refusing it. */
  private newTopic(image: MetadataImage, name: string, options: CreateTopicOptions): TopicImage {
    const bad = invalidTopicName(name);
    if (bad) throw new StorageError(bad, ErrorCode.INVALID_TOPIC_EXCEPTION);
    if (image.topic(name)) throw new StorageError(`topic ${name} already exists`, ErrorCode.TOPIC_ALREADY_EXISTS);
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new StorageError(`invalid partition count ${options.partitions}`, ErrorCode.INVALID_PARTITIONS);
    }
    const configs = { ...(options.configs ?? {}) };
    this.validateConfigs(configs);
    const topicId = options.topicId ?? newTopicId();
    if (image.topicById(topicId))
      throw new StorageError(`topic id ${topicId} already in use`, ErrorCode.TOPIC_ALREADY_EXISTS);
    return topicImage({ name, topicId, configs }, this.assignment(0, options.partitions, options.replicas));
  }

  createTopic(name: string, options: CreateTopicOptions): Promise<TopicImage> {
    return this.write(async (image) => {
      const topic = this.newTopic(image, name, options);
      const next = image.withTopic(topic);
      await this.persistTopics(next);
      await this.publish(next, [{ type: 'topic-created', topic }]);
      return topic;
    });
  }

  /** One file write and one delta for every valid topic of the batch (store.ts). */
  createTopics(topics: readonly NewTopic[]): Promise<Array<TopicImage | Error>> {
    return this.write(async (image) => {
      const out: Array<TopicImage | Error> = [];
      const created: TopicImage[] = [];
      const names = new Set<string>();
      const ids = new Set<string>();
      for (const { name, options } of topics) {
        try {
          if (names.has(name)) throw new StorageError(`topic ${name} already exists`, ErrorCode.TOPIC_ALREADY_EXISTS);
          const topic = this.newTopic(image, name, options);
          if (ids.has(topic.topicId))
            throw new StorageError(`topic id ${topic.topicId} already in use`, ErrorCode.TOPIC_ALREADY_EXISTS);
          names.add(name);
          ids.add(topic.topicId);
          created.push(topic);
          out.push(topic);
        } catch (err) {
          out.push(err as Error);
        }
      }
      if (created.length === 0) return out;
      const next = image.withTopics(created);
      await this.persistTopics(next);
      // As createTopic: a subscriber's failure rejects (the topics stay created, as in createTopic).
      await this.publish(
        next,
        created.map((topic) => ({ type: 'topic-created', topic })),
      );
      return out;
    });
  }

  deleteTopic(name: string): Promise<boolean> {
    return this.write(async (image) => {
      const topic = image.topic(name);
      if (!topic) return false;
      const next = image.withoutTopic(name);
      await this.persistTopics(next);
      await this.publish(next, [{ type: 'topic-deleted', topic }]);
      return true;
    });
  }

  createPartitions(name: string, total: number, replicas?: ReadonlyArray<readonly number[]>): Promise<TopicImage> {
    return this.write(async (image) => {
      const t = this.known(image, name);
      if (!Number.isInteger(total) || total <= t.partitions) {
        throw new StorageError(
          `topic ${name} has ${t.partitions} partitions; cannot change to ${total}`,
          ErrorCode.INVALID_PARTITIONS,
        );
      }
      const added = this.assignment(t.partitions, total - t.partitions, replicas);
      const topic = topicImage(t, [...t.partitionStates, ...added]);
      const next = image.withTopic(topic);
      await this.persistTopics(next);
      await this.publish(next, [{ type: 'partitions-created', topic, partitions: added }]);
      return topic;
    });
  }

  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<TopicImage> {
    return this.write(async (image) => {
      const t = this.known(image, name);
      this.validateConfigs(configs);
      const topic = topicImage({ ...t, configs }, t.partitionStates);
      const next = image.withTopic(topic);
      await this.persistTopics(next);
      await this.publish(next, [{ type: 'topic-configs-changed', topic }]);
      return topic;
    });
  }

  async alterPartition(
    topic: string,
    partition: number,
    expectedPartitionEpoch: number,
    change: PartitionChange,
  ): Promise<PartitionRegistration> {
    const [r] = await this.alterPartitions([{ topic, partition, partitionEpoch: expectedPartitionEpoch, change }]);
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  }

  alterPartitions(writes: readonly PartitionWrite[]): Promise<PromiseSettledResult<PartitionRegistration>[]> {
    return this.write(async (image) => {
      const { out, changed } = planBatch(writes, image);
      if (changed.length === 0) return out;
      let next = image;
      const changes: MetadataChange[] = [];
      const byTopic = new Map<string, PartitionRegistration[]>();
      for (const { i, updated } of changed) {
        const list = byTopic.get(writes[i].topic) ?? [];
        list.push(freezePartition(updated));
        byTopic.set(writes[i].topic, list);
      }
      for (const [name, updates] of byTopic) {
        const t = this.known(next, name);
        const states = [...t.partitionStates];
        for (const u of updates) states[u.partition] = u;
        const topic = topicImage(t, states);
        next = next.withTopic(topic);
        for (const u of updates) changes.push({ type: 'partition-changed', topic, partition: u });
      }
      await this.persistTopics(next);
      await this.publish(next, changes);
      for (const { i, updated } of changed)
        out[i] = { status: 'fulfilled', value: next.partition(writes[i].topic, updated.partition) ?? updated };
      return out;
    });
  }

  registerBroker(registration: BrokerRegistration): Promise<void> {
    return this.write(async (image) => {
      if (registration.nodeId !== this.nodeId)
        throw new StorageError(
          `node ${registration.nodeId} cannot join a single-node store`,
          ErrorCode.INVALID_REQUEST,
        );
      const broker: BrokerRegistration = { ...registration, listeners: registration.listeners.map((l) => ({ ...l })) };
      await this.publish(image.withBroker(broker), [{ type: 'broker-registered', broker }]);
    });
  }

  allocateProducerIdBlock(brokerId: number, size: number): Promise<ProducerIdBlock> {
    return this.write(async (image) => {
      if (!Number.isInteger(size) || size < 1)
        throw new StorageError(`invalid producer id block size ${size}`, ErrorCode.INVALID_REQUEST);
      const block: ProducerIdBlock = { brokerId, firstProducerId: image.nextProducerId, size };
      const end = block.firstProducerId + size;
      await writeProducerIdBlock(this.fs, this.dataDir, end);
      await this.publish(image.next({ nextProducerId: end }), [{ type: 'producer-ids-allocated', block }]);
      return block;
    });
  }

  updateRecords<T, R>(
    section: RecordSection<T>,
    update: (records: ReadonlyMap<string, T>) => RecordUpdate<T, R>,
  ): Promise<R> {
    return this.write(async (image) => {
      const current = image.records(section);
      const { changes, result } = update(current);
      const effective = effectiveChanges(section, current, changes);
      if (effective.size === 0) return result;
      const next = applyChanges(current, effective);
      await writeJsonFile(this.fs, path.join(this.dataDir, section.file.name), section.file.write(next));
      await this.publish(
        image.withRecords(section, next),
        [...effective].map(([key, record]) => recordChange(section.name, key, current.get(key), record)),
      );
      return result;
    });
  }

  async close(): Promise<void> {
    await this.write(async () => {
      this.closed = true;
    }).catch(() => undefined);
  }
}
