/**
 * An in-memory metadata store shared by several in-process nodes (replication tests): one image, one
 * change stream, every node's view (`view(nodeId)`) a MetadataStore with its own node id and subscribers.
 * Writes run one at a time and resolve after every subscriber of every view settled, as the store contract
 * says; alterPartition is a CAS on the partition epoch (INVALID_UPDATE_VERSION otherwise).
 */
import { StorageError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import {
  MetadataImage,
  NO_LEADER,
  newPartition,
  newTopicId,
  topicImage,
  type BrokerRegistration,
  type PartitionRegistration,
  type TopicImage,
} from '../../replication/metadata/image.js';
import type {
  CreateTopicOptions,
  MetadataChange,
  MetadataListener,
  MetadataStore,
  PartitionChange,
  ProducerIdBlock,
} from '../../replication/metadata/store.js';

export class MemoryCluster {
  image: MetadataImage;
  private readonly listeners: Array<{ nodeId: number; listener: MetadataListener }> = [];
  private queue: Promise<unknown> = Promise.resolve();
  /** alterPartition calls, in order (who proposed what). */
  readonly alterCalls: Array<{ topic: string; partition: number; change: PartitionChange }> = [];

  constructor(nodeIds: number[]) {
    this.image = new MetadataImage({
      clusterId: 'memory-cluster',
      controllerId: nodeIds[0] ?? -1,
      brokers: nodeIds.map((nodeId) => ({ nodeId, rack: null, listeners: [], fenced: false })),
    });
  }

  private write<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async publish(image: MetadataImage, changes: MetadataChange[]): Promise<void> {
    const delta = { previous: this.image, image, changes };
    this.image = image;
    for (const { listener } of [...this.listeners]) await listener(delta);
  }

  private known(name: string): TopicImage {
    const t = this.image.topic(name);
    if (!t) throw new StorageError(`unknown topic ${name}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    return t;
  }

  createTopic(name: string, options: CreateTopicOptions): Promise<TopicImage> {
    return this.write(async () => {
      if (this.image.topic(name)) throw new StorageError(`${name} exists`, ErrorCode.TOPIC_ALREADY_EXISTS);
      const parts = Array.from({ length: options.partitions }, (_, i) =>
        newPartition(i, options.replicas?.[i] ?? [this.image.controllerId]),
      );
      const topic = topicImage(
        { name, topicId: options.topicId ?? newTopicId(), configs: options.configs ?? {} },
        parts,
      );
      await this.publish(this.image.withTopic(topic), [{ type: 'topic-created', topic }]);
      return topic;
    });
  }

  alterPartition(
    name: string,
    partition: number,
    expectedPartitionEpoch: number,
    change: PartitionChange,
  ): Promise<PartitionRegistration> {
    return this.write(async () => {
      this.alterCalls.push({ topic: name, partition, change });
      const t = this.known(name);
      const cur = t.partitionStates[partition];
      if (!cur) throw new StorageError('unknown partition', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (cur.partitionEpoch !== expectedPartitionEpoch)
        throw new StorageError('stale partition epoch', ErrorCode.INVALID_UPDATE_VERSION);
      const isr = change.isr ?? cur.isr;
      const leader = change.leader ?? cur.leader;
      if (leader !== NO_LEADER && !isr.includes(leader)) throw new StorageError('leader not in ISR', 42);
      const updated: PartitionRegistration = Object.freeze({
        partition,
        replicas: Object.freeze([...(change.replicas ?? cur.replicas)]),
        isr: Object.freeze([...isr]),
        leader,
        leaderEpoch: leader !== cur.leader ? cur.leaderEpoch + 1 : cur.leaderEpoch,
        partitionEpoch: cur.partitionEpoch + 1,
      });
      const states = [...t.partitionStates];
      states[partition] = updated;
      const topic = topicImage(t, states);
      await this.publish(this.image.withTopic(topic), [{ type: 'partition-changed', topic, partition: updated }]);
      return updated;
    });
  }

  /** The store as node `nodeId` sees it. */
  view(nodeId: number): MetadataStore {
    const unsupported = (): Promise<never> => Promise.reject(new StorageError('not in the memory cluster'));
    const self = this;
    return {
      nodeId,
      get image() {
        return self.image;
      },
      subscribe: (listener) => {
        const entry = { nodeId, listener };
        this.listeners.push(entry);
        return () => {
          const i = this.listeners.indexOf(entry);
          if (i >= 0) this.listeners.splice(i, 1);
        };
      },
      createTopic: (name, o) => this.createTopic(name, o),
      deleteTopic: unsupported,
      createPartitions: unsupported,
      alterTopicConfigs: unsupported,
      alterPartition: (t, p, e, c) => this.alterPartition(t, p, e, c),
      alterPartitions: unsupported,
      registerBroker: (_r: BrokerRegistration) => Promise.resolve(),
      allocateProducerIdBlock: (): Promise<ProducerIdBlock> => unsupported(),
      updateRecords: unsupported,
      close: () => Promise.resolve(),
    };
  }
}
