/**
 * `replication-offset-checkpoint` in the data dir: the high watermark of every partition this node hosts
 * (Kafka's highwatermark checkpoint, same format as the other offset checkpoints: `0`, the entry count, then
 * `topic partition offset` lines; storage/checkpoint.ts replaces it atomically: tmp, fsync, rename, dir fsync).
 *
 * - Written every `replica.high.watermark.checkpoint.interval.ms` (5000) on the injected clock, and once more
 *   on a clean stop (`close`, after the fetchers and the listener stopped, before the logs close). Writes are
 *   coalesced: they never overlap.
 * - Read once at start (`load`): in a cluster the ReplicaManager starts each partition's HW from it (a
 *   partition without an entry from its log start), clamped to the log, so a restarted leader or follower
 *   exposes nothing it did not know committed (the log end may hold records the ISR never had). On a single
 *   node the sole replica's HW is its log end anyway. An unreadable file is logged and ignored (as Kafka
 *   would start from 0: nothing beyond the log start is exposed until the leader's HW comes back).
 */
import path from 'node:path';
import { OffsetCheckpointFile, type TopicPartitionOffset } from '../storage/checkpoint.js';
import type { Clock, TimerHandle } from '../storage/clock.js';
import { Coalescer } from '../storage/coalescer.js';
import type { FileSystem } from '../storage/fs.js';
import type { Partition } from './partition.js';

export const REPLICATION_OFFSET_CHECKPOINT = 'replication-offset-checkpoint';

export interface HighWatermarkCheckpointOptions {
  fs: FileSystem;
  dataDir: string;
  clock: Clock;
  /** replica.high.watermark.checkpoint.interval.ms. */
  intervalMs: number;
  /** The hosted partitions at the time of a write. */
  partitions: () => readonly Partition[];
  log?: { warn(o: object, msg: string): void };
}

export class HighWatermarkCheckpoint {
  private readonly file: OffsetCheckpointFile;
  private readonly writer: Coalescer;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly o: HighWatermarkCheckpointOptions) {
    this.file = new OffsetCheckpointFile(o.fs, path.join(o.dataDir, REPLICATION_OFFSET_CHECKPOINT));
    this.writer = new Coalescer(() => this.file.write(this.entries()));
  }

  /** The checkpointed high watermarks by `topic-partition` (checkpoint.ts's tpKey); empty when none. */
  static async load(
    fs: FileSystem,
    dataDir: string,
    log?: { warn(o: object, msg: string): void },
  ): Promise<Map<string, number>> {
    const file = new OffsetCheckpointFile(fs, path.join(dataDir, REPLICATION_OFFSET_CHECKPOINT));
    try {
      return await file.read();
    } catch (err) {
      log?.warn({ err, path: file.path }, 'ignoring unreadable high watermark checkpoint');
      return new Map();
    }
  }

  get path(): string {
    return this.file.path;
  }

  private entries(): TopicPartitionOffset[] {
    return this.o.partitions().map((p) => ({ topic: p.topic, partition: p.partition, offset: p.highWatermark }));
  }

  /** Write the current high watermarks now. */
  write(): Promise<void> {
    return this.writer.request();
  }

  /** Write every interval until `close`. */
  start(): void {
    if (this.timer || this.closed) return;
    const arm = (): void => {
      this.timer = this.o.clock.setTimeout(() => {
        this.write()
          .catch((err: unknown) => this.o.log?.warn({ err }, 'high watermark checkpoint failed'))
          .finally(() => {
            if (!this.closed) arm();
          });
      }, this.o.intervalMs);
    };
    arm();
  }

  /** Stop the timer and write a last time (clean stop). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.write();
  }
}
