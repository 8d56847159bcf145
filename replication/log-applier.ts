/**
 * LogApplier: makes the partition logs of this node follow the metadata image. The log manager keeps logs,
 * directories and checkpoints; which partitions exist and what their topics' overrides are is the image's.
 *
 * - `open` opens the log manager on the partitions the image places on this node (replicas include it),
 *   with each topic's overrides read from the image the applier last applied, then subscribes to the store.
 * - Each delta, in the store's order: a topic or partitions that appear with a replica here get a log
 *   (created empty; a stale directory of the same name is moved away); a deleted topic's logs are closed and
 *   deleted; a partition whose replicas no longer include this node loses its log, one that now includes
 *   it gains one; a topic's changed overrides are re-resolved onto its open logs.
 * - The applied image moves before the logs are touched, so a log created for a delta takes that delta's
 *   configs.
 */
import { LogManager, type LogManagerOptions, type TopicPartition } from '../storage/log-manager.js';
import type { MetadataImage, TopicImage } from './metadata/image.js';
import type { MetadataDelta, MetadataStore } from './metadata/store.js';

export class LogApplier {
  private image: MetadataImage;
  private unsubscribe: (() => void) | undefined;
  private logManager: LogManager | undefined;

  private constructor(
    private readonly nodeId: number,
    image: MetadataImage,
  ) {
    this.image = image;
  }

  /** Open the log manager on `store`'s current image and follow the store from there. */
  static async open(
    store: MetadataStore,
    dataDir: string,
    options: Omit<LogManagerOptions, 'partitions' | 'topicConfigs'>,
  ): Promise<LogApplier> {
    const applier = new LogApplier(store.nodeId, store.image);
    applier.logManager = await LogManager.open(dataDir, {
      ...options,
      partitions: hostedPartitions(applier.image, store.nodeId),
      topicConfigs: (topic) => applier.image.topic(topic)?.configs,
    });
    applier.unsubscribe = store.subscribe((delta) => applier.apply(delta));
    return applier;
  }

  get logs(): LogManager {
    return this.logManager!;
  }

  /** The image the logs follow (the last delta applied). */
  get applied(): MetadataImage {
    return this.image;
  }

  private hosts(topic: TopicImage, partition: number): boolean {
    return topic.partitionStates[partition]?.replicas.includes(this.nodeId) ?? false;
  }

  async apply(delta: MetadataDelta): Promise<void> {
    this.image = delta.image;
    const logs = this.logs;
    // New partitions of consecutive creations are created as one batch (a CreateTopics of many topics).
    let batch: TopicPartition[] = [];
    const createBatch = async (): Promise<void> => {
      if (batch.length > 0) await logs.createLogs(batch);
      batch = [];
    };
    for (const c of delta.changes) {
      if (c.type === 'topic-created' || c.type === 'partitions-created') {
        const parts = c.type === 'topic-created' ? c.topic.partitionStates : c.partitions;
        for (const p of parts)
          if (this.hosts(c.topic, p.partition)) batch.push({ topic: c.topic.name, partition: p.partition });
        continue;
      }
      await createBatch();
      switch (c.type) {
        case 'topic-deleted':
          await logs.deleteLogs(c.topic.partitionStates.map((p) => ({ topic: c.topic.name, partition: p.partition })));
          break;
        case 'topic-configs-changed':
          logs.refreshConfigs(c.topic.name);
          break;
        case 'partition-changed': {
          const here = c.partition.replicas.includes(this.nodeId);
          const open = logs.getLog(c.topic.name, c.partition.partition) !== undefined;
          if (here && !open) await logs.createLog(c.topic.name, c.partition.partition);
          if (!here && open) await logs.deleteLogs([{ topic: c.topic.name, partition: c.partition.partition }]);
          break;
        }
        default:
          break;
      }
    }
    await createBatch();
  }

  /** Stop following the store and close the logs (flushed, checkpoints written). */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.logManager?.closeAll();
  }
}

/** The partitions of `image` with a replica on `nodeId`. */
export function hostedPartitions(image: MetadataImage, nodeId: number): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const { topic, partition } of image.replicasOf(nodeId))
    out.push({ topic: topic.name, partition: partition.partition });
  return out;
}
