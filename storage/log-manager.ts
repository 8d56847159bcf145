/**
 * LogManager: all partition logs of one data directory, plus the directory-level state.
 *
 * Data directory layout:
 *   recovery-point-offset-checkpoint     `topic partition offset` lines (checkpoint.ts): offsets below
 *                                        are fsynced; written every log.flush.offset.checkpoint.interval.ms,
 *                                        after open (not awaited by it) and on close
 *   log-start-offset-checkpoint          same format; written on every DeleteRecords (coalesced, awaited
 *                                        by the request), periodically and on close
 *   .runnel_cleanshutdown                written last by a clean closeAll, taken (read, removed) at open:
 *                                        the leader epochs and producer snapshots of every partition
 *                                        (clean-shutdown.ts), so a clean start reads one file, not 2 a log
 *   cleaner-offset-checkpoint            same format: per compacted partition, the offset below which the
 *                                        log is clean (log-cleaner.ts); written after each cleaner run that
 *                                        cleaned something and on close (absent until then)
 *   <topic>-<partition>/                 partition logs (partition-log.ts)
 *   <topic>-<partition>.<uuid>-delete/   partitions being deleted (removed at open if left over)
 *
 * The log manager holds no topic metadata: which partitions exist is the caller's (the metadata image,
 * applied by replication/log-applier.ts): `open` opens the partitions it is given, `createLog` and
 * `deleteLogs` follow the image's changes, and a topic's config overrides come from `topicConfigs`.
 *
 * Invariants:
 * - Log creation and deletion run one at a time.
 * - The metadata is written before partition directories are created, and removed before they are
 *   deleted. A directory of no partition given to `open` (crash in between) is left alone and reported in
 *   `orphanDirs`; creating a log of that partition first moves the stale directory away for deletion.
 * - New logs (createLogs) are made without an fsync each: one data-dir fsync per batch; their leaders' epochs are
 *   written in the background (epoch-writer.ts), before any recovery point checkpoint that passes them, or at close.
 * - Periodic work (retention every log.retention.check.interval.ms, the log cleaner every
 *   log.cleaner.backoff.ms over topics whose cleanup.policy contains `compact`, checkpoints) runs on the
 *   injected clock and stops at `closeAll`. Cleaner runs never overlap; `closeAll` stops a running clean
 *   at its next step and waits for it before closing the logs.
 */

import { TopicPartitionMap } from './topic-partition-map.js';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { SystemClock } from './clock.js';
import type { Clock, TimerHandle } from './clock.js';
import { NodeFileSystem, ensureDirDurable } from './fs.js';
import type { FileSystem } from './fs.js';
import { OffsetCheckpointFile, tpKey } from './checkpoint.js';
import type { TopicPartitionOffset } from './checkpoint.js';
import { Coalescer } from './coalescer.js';
import { takeCleanShutdown, writeCleanShutdown } from './clean-shutdown.js';
import type { CleanShutdownState } from './clean-shutdown.js';
import type { LogConfig } from './log-config.js';
import { PartitionLog, parseTopicPartition } from './partition-log.js';
import type { RecoverySummary } from './partition-log.js';
import { StorageError } from '../protocol/errors.js';
import { CleanerAbortedError, LogCleaner } from './log-cleaner.js';
import type { LogManagerOptions, TopicPartition } from './log-manager-types.js';
import { EpochWriter } from './epoch-writer.js';
import { forEachLimit } from './for-each-limit.js';
import type { CleanResult } from './log-cleaner.js';

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';

/**
 * Partitions opened at a time at start-up: loading is mostly small reads and stats waiting on the I/O thread
 * pool, so more than its 4 threads keep it busy; bounded, so that read buffers and descriptors stay bounded.
 */
const RECOVERY_CONCURRENCY = 16;
/** Logs created at a time by createLogs (mkdir and file creations waiting on the I/O thread pool). */
const CREATE_CONCURRENCY = 16;
/** Logs closed at a time by closeAll (at least recoveryConcurrency). */
const CLOSE_CONCURRENCY = 16;

export type { LogManagerOptions, TopicPartition } from './log-manager-types.js';

export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  /** The same logs by topic and partition number: getLog builds no string key (it runs per produced partition). */
  private readonly logIndex = new TopicPartitionMap<PartitionLog>();
  private adminQueue: Promise<unknown> = Promise.resolve();
  private timers: TimerHandle[] = [];
  private closed = false;
  private readonly recoveryPointFile: OffsetCheckpointFile;
  private readonly logStartFile: OffsetCheckpointFile;
  private readonly recoveryPointWriter: Coalescer;
  private readonly logStartWriter: Coalescer;
  private readonly cleanerFile: OffsetCheckpointFile;
  private readonly cleanerWriter: Coalescer;
  private cleanerQueue: Promise<unknown> = Promise.resolve();
  private readonly epochWriter: EpochWriter;
  /** The log cleaner (compacted topics). */
  readonly cleaner: LogCleaner;
  /** What loading each partition found and did. */
  readonly recoverySummaries: RecoverySummary[] = [];
  /** Wall-clock time open() spent loading and recovering every partition, in ms. */
  recoveryMs = 0;
  /** Per partition: wall-clock ms its load and recovery took at open(). */
  readonly partitionRecoveryMs = new Map<string, { topic: string; partition: number; ms: number }>();
  /** Partition-like directories of no partition given to `open` (left in place). */
  readonly orphanDirs: string[] = [];

  private constructor(
    readonly dataDir: string,
    private readonly fs: FileSystem,
    private readonly clock: Clock,
    private readonly logger: Logger | undefined,
    private readonly opts: LogManagerOptions,
  ) {
    this.recoveryPointFile = new OffsetCheckpointFile(fs, path.join(dataDir, RECOVERY_POINT_CHECKPOINT));
    this.logStartFile = new OffsetCheckpointFile(fs, path.join(dataDir, LOG_START_OFFSET_CHECKPOINT));
    this.recoveryPointWriter = new Coalescer(() => this.writeRecoveryPoints());
    this.logStartWriter = new Coalescer(() => this.logStartFile.write(this.entries((l) => l.logStartOffset)));
    this.cleaner = new LogCleaner({
      ...(opts.cleaner ?? {}),
      clock,
      ...(logger ? { logger: logger.child({ component: 'log-cleaner' }) } : {}),
    });
    this.cleanerFile = new OffsetCheckpointFile(fs, path.join(dataDir, CLEANER_OFFSET_CHECKPOINT));
    this.cleanerWriter = new Coalescer(() => this.cleanerFile.write(this.cleanerEntries()));
    this.epochWriter = new EpochWriter(
      clock,
      () => this.allLogs(),
      () => this.closed,
      logger,
    );
  }

  static async open(dataDir: string, opts: LogManagerOptions): Promise<LogManager> {
    const fs = opts.fs ?? new NodeFileSystem();
    const clock = opts.clock ?? new SystemClock();
    await ensureDirDurable(fs, dataDir);
    const mgr = new LogManager(dataDir, fs, clock, opts.logger, opts);
    await mgr.load();
    return mgr;
  }

  private async readCheckpoint(file: OffsetCheckpointFile): Promise<Map<string, number>> {
    try {
      return await file.read();
    } catch (err) {
      this.logger?.warn({ err, path: file.path }, 'ignoring unreadable checkpoint');
      return new Map();
    }
  }

  private async load(): Promise<void> {
    this.fs.setStartupMode?.(true);
    try {
      await this.loadLogs();
    } finally {
      this.fs.setStartupMode?.(false);
    }
    // The load made every log durable up to its end: checkpoint that, off the start-up path. Until it lands the
    // old checkpoints stand, and they are still correct (a lower recovery point only means more to recover).
    Promise.all([this.checkpointRecoveryPoints(), this.checkpointLogStartOffsets()]).catch((err: unknown) =>
      this.logger?.warn({ err }, 'checkpoints after load failed (the periodic ones retry)'),
    );
    this.scheduleTasks();
  }

  /** Every partition's log (in start-up mode: see FileSystem.setStartupMode). */
  private async loadLogs(): Promise<void> {
    const names = await this.fs.readdir(this.dataDir);
    for (const n of names) {
      if (n.endsWith('-delete') || n.endsWith('.tmp')) await this.fs.rmrf(path.join(this.dataDir, n));
    }
    // Taken (read and removed) before any log is opened: see clean-shutdown.ts.
    const clean = await takeCleanShutdown(this.fs, this.dataDir, this.logger);
    const recoveryPoints = await this.readCheckpoint(this.recoveryPointFile);
    const logStarts = await this.readCheckpoint(this.logStartFile);
    for (const [tp, offset] of await this.readCheckpoint(this.cleanerFile)) this.cleaner.setCheckpoint(tp, offset);
    const wanted = new Map<string, TopicPartition>();
    for (const tp of this.opts.partitions ?? []) wanted.set(tpKey(tp.topic, tp.partition), tp);
    for (const n of names) {
      const tp = parseTopicPartition(n);
      if (!tp || n.endsWith('-delete')) continue;
      if (!wanted.has(tpKey(tp.topic, tp.partition))) this.orphanDirs.push(n);
    }
    if (this.orphanDirs.length)
      this.logger?.warn({ orphanDirs: this.orphanDirs }, 'partition directories without topic metadata');
    const toOpen = [...wanted.values()];
    // One config resolution per topic, not per partition.
    const configs = new Map<string, LogConfig>();
    const configOf = (topic: string): LogConfig => {
      let c = configs.get(topic);
      if (!c) {
        c = this.logConfigFor(topic);
        configs.set(topic, c);
      }
      return c;
    };
    const recoveryStart = performance.now();
    await forEachLimit(toOpen, this.opts.recoveryConcurrency ?? RECOVERY_CONCURRENCY, async ({ topic, partition }) => {
      const key = tpKey(topic, partition);
      const t0 = performance.now();
      const log = await this.openLog(
        topic,
        partition,
        recoveryPoints.get(key) ?? 0,
        logStarts.get(key) ?? 0,
        clean?.get(key),
        configOf(topic),
      );
      this.partitionRecoveryMs.set(key, { topic, partition, ms: performance.now() - t0 });
      this.recoverySummaries.push(log.recoverySummary);
    });
    this.recoveryMs = performance.now() - recoveryStart;
    const recovered = this.recoverySummaries.filter((r) => r.recovered.length > 0).length;
    this.logger?.info(
      { logs: toOpen.length, ms: Math.round(this.recoveryMs), cleanShutdown: clean !== undefined, recovered },
      'loaded logs',
    );
  }

  private scheduleTasks(): void {
    this.schedule(this.opts.retentionCheckIntervalMs ?? 300000, () => this.runRetention().then(() => undefined));
    this.schedule(this.opts.recoveryPointCheckpointIntervalMs ?? 60000, () => this.checkpointRecoveryPoints());
    this.schedule(this.opts.logStartOffsetCheckpointIntervalMs ?? 60000, () => this.checkpointLogStartOffsets());
    if (this.opts.cleanerEnabled ?? true)
      this.schedule(this.opts.cleanerBackoffMs ?? 15000, () => this.runCleaner().then(() => undefined));
    this.schedule(this.opts.producerIdExpirationCheckIntervalMs ?? 600000, async () => {
      for (const log of this.allLogs()) log.removeExpiredProducers();
    });
  }

  private schedule(intervalMs: number, task: () => Promise<void>): void {
    const slot = this.timers.length;
    const arm = (): void => {
      this.timers[slot] = this.clock.setTimeout(() => {
        task()
          .catch((err: unknown) => this.logger?.error({ err }, 'periodic storage task failed'))
          .finally(() => {
            if (!this.closed) arm();
          });
      }, intervalMs);
    };
    arm();
  }

  private async openLog(
    topic: string,
    partition: number,
    recoveryPoint: number,
    logStartOffset: number,
    cleanShutdown?: CleanShutdownState,
    config: LogConfig = this.logConfigFor(topic),
    fresh = false,
  ): Promise<PartitionLog> {
    const dir = path.join(this.dataDir, tpKey(topic, partition));
    const log = await PartitionLog.open(dir, config, {
      fs: this.fs,
      clock: this.clock,
      ...(this.logger ? { logger: this.logger.child({ topic, partition }) } : {}),
      recoveryPoint,
      logStartOffset,
      cleanShutdown,
      ...(fresh ? { fresh } : {}),
      topic,
      partition,
      persistLogStartOffset: () => this.logStartWriter.request(),
      onEpochRecorded: () => this.epochWriter.schedule(),
      ...(this.opts.producerIdExpirationMs !== undefined
        ? { producerIdExpirationMs: this.opts.producerIdExpirationMs }
        : {}),
      ...(this.opts.onFlush ? { onFlush: this.opts.onFlush } : {}),
      ...(this.opts.autoAdvanceHighWatermark === false ? { autoAdvanceHighWatermark: false } : {}),
    });
    this.logs.set(tpKey(topic, partition), log);
    this.logIndex.set(topic, partition, log);
    return log;
  }

  /**
   * The recovery-point checkpoint, after the leader epochs assigned below each log's recovery point (not
   * checkpointed when assigned, see PartitionLog.assignLeaderEpoch): an epoch is durable before the recovery
   * point passes its start, so a crash never leaves batches below the recovery point with an unrecorded epoch.
   */
  private async writeRecoveryPoints(): Promise<void> {
    const entries = this.entries((l) => l.recoveryPoint);
    const due = this.allLogs().filter((l, i) => l.leaderEpochCache.unflushedBelow(entries[i]!.offset));
    await forEachLimit(due, CREATE_CONCURRENCY, async (l) => {
      await l.leaderEpochCache.flush();
    });
    await this.recoveryPointFile.write(entries);
  }

  private entries(pick: (log: PartitionLog) => number): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const log of this.logs.values()) out.push({ topic: log.topic, partition: log.partition, offset: pick(log) });
    return out;
  }

  /** Cleaner checkpoints of the partitions that exist now. */
  private cleanerEntries(): TopicPartitionOffset[] {
    const cps = this.cleaner.checkpoints();
    const out: TopicPartitionOffset[] = [];
    for (const log of this.logs.values()) {
      const cp = cps.get(tpKey(log.topic, log.partition));
      if (cp !== undefined) out.push({ topic: log.topic, partition: log.partition, offset: cp });
    }
    return out;
  }

  private admin<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.adminQueue.then(() => {
      if (this.closed) throw new StorageError('log manager is closed');
      return fn();
    });
    this.adminQueue = run.catch(() => undefined);
    return run;
  }

  // ---- logs -----------------------------------------------------------------------------------

  /** Effective log config of a topic: broker defaults plus its overrides. */
  logConfigFor(topic: string): LogConfig {
    return this.opts.resolveConfig(this.opts.topicConfigs?.(topic) ?? {});
  }

  /**
   * Re-resolve the config of every open log (the broker-level defaults changed at run time), or of one
   * topic's logs (its overrides changed): topics without an override of a changed default take the new
   * value at once. A topic whose overrides no longer resolve keeps its config, with an error logged.
   */
  refreshConfigs(topic?: string): void {
    const byTopic = new Map<string, LogConfig | undefined>();
    for (const log of this.logs.values()) {
      if (topic !== undefined && log.topic !== topic) continue;
      if (!byTopic.has(log.topic)) {
        try {
          byTopic.set(log.topic, this.logConfigFor(log.topic));
        } catch (err) {
          this.logger?.error({ err, topic: log.topic }, 'topic config does not resolve; keeping the old one');
          byTopic.set(log.topic, undefined);
        }
      }
      const config = byTopic.get(log.topic);
      if (config) log.updateConfig(config);
    }
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logIndex.get(topic, partition);
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()];
  }

  /** Number of open partition logs. */
  get logCount(): number {
    return this.logs.size;
  }

  /**
   * Create (or return, when open) the log of a partition that appeared in the metadata. A directory left
   * from an earlier topic of that name is moved away first, so the log starts empty.
   */
  async createLog(topic: string, partition: number): Promise<PartitionLog> {
    return (await this.createLogs([{ topic, partition }]))[0]!;
  }

  /**
   * createLog for many partitions as one batch (a CreateTopics of many topics), in the order given. New logs
   * are created without an fsync each (see log-loader.ts, `fresh`): their directories' entries in the data
   * directory are made durable by one directory fsync for the batch, the segment files' entries by each log's
   * first flush, before its recovery point moves (an empty log has nothing to lose; a crash before that leaves a
   * directory the next load completes).
   */
  createLogs(partitions: readonly TopicPartition[]): Promise<PartitionLog[]> {
    return this.admin(async () => {
      const byKey = new Map<string, TopicPartition>();
      for (const tp of partitions) byKey.set(tpKey(tp.topic, tp.partition), tp);
      let created = false;
      await forEachLimit([...byKey], CREATE_CONCURRENCY, async ([key, { topic, partition }]) => {
        if (this.logs.has(key)) return;
        const dir = path.join(this.dataDir, key);
        if (await this.fs.exists(dir)) {
          await this.removeDir(dir);
          const i = this.orphanDirs.indexOf(key);
          if (i >= 0) this.orphanDirs.splice(i, 1);
        }
        this.cleaner.forget(key);
        await this.openLog(topic, partition, 0, 0, undefined, undefined, true);
        created = true;
      });
      if (created) await this.fs.syncDir(this.dataDir);
      return partitions.map((tp) => this.logs.get(tpKey(tp.topic, tp.partition))!);
    });
  }

  /** Rename to `<dir>.<uuid>-delete`, make that durable, then remove it. */
  private async removeDir(dir: string): Promise<void> {
    const doomed = `${dir}.${randomUUID().replace(/-/g, '')}-delete`;
    await this.fs.rename(dir, doomed);
    await this.fs.syncDir(this.dataDir);
    await this.fs.rmrf(doomed);
  }

  /** Close and delete the logs (and directories) of partitions gone from the metadata. */
  deleteLogs(partitions: Iterable<TopicPartition>): Promise<void> {
    return this.admin(async () => {
      for (const { topic, partition } of partitions) {
        const key = tpKey(topic, partition);
        const log = this.logs.get(key);
        this.logs.delete(key);
        this.logIndex.delete(topic, partition);
        this.cleaner.forget(key);
        await log?.closeWithoutFlush();
        const dir = path.join(this.dataDir, key);
        if (await this.fs.exists(dir)) await this.removeDir(dir);
      }
      await this.checkpointRecoveryPoints();
      await this.checkpointLogStartOffsets();
    });
  }

  // ---- housekeeping ----------------------------------------------------------------------------

  /** Apply retention to every log; returns the number of segments deleted. */
  async runRetention(now = this.clock.now()): Promise<number> {
    let deleted = 0;
    for (const log of this.allLogs()) {
      try {
        deleted += await log.deleteOldSegments(now);
      } catch (err) {
        this.logger?.error({ err, dir: log.dir }, 'retention failed');
      }
    }
    return deleted;
  }

  /**
   * Run the log cleaner once over every log whose cleanup.policy contains `compact` (one log at a time;
   * runs never overlap), then persist the cleaner checkpoints if anything was cleaned. Returns the
   * result of each log that was examined. A failing log is logged and skipped.
   */
  runCleaner(now?: number): Promise<Array<{ topic: string; partition: number; result: CleanResult }>> {
    const run = this.cleanerQueue.then(async () => {
      const results: Array<{ topic: string; partition: number; result: CleanResult }> = [];
      let changed = false;
      for (const log of this.allLogs()) {
        if (this.closed) break;
        if (!log.logConfig.cleanupPolicy.includes('compact')) continue;
        try {
          const result = await this.cleaner.cleanLog(log, now ?? this.clock.now());
          results.push({ topic: log.topic, partition: log.partition, result });
          if (result.cleaned) changed = true;
        } catch (err) {
          if (err instanceof CleanerAbortedError) break;
          this.logger?.error({ err, dir: log.dir }, 'log cleaning failed');
        }
      }
      if (changed && !this.closed) await this.cleanerWriter.request();
      return results;
    });
    this.cleanerQueue = run.catch(() => undefined);
    return run;
  }

  checkpointRecoveryPoints(): Promise<void> {
    return this.recoveryPointWriter.request();
  }

  checkpointLogStartOffsets(): Promise<void> {
    return this.logStartWriter.request();
  }

  /** fsync every log, then checkpoint the recovery points. */
  async flushAll(): Promise<void> {
    await Promise.all(this.allLogs().map((l) => l.flush()));
    await this.checkpointRecoveryPoints();
  }

  /** Clean shutdown: stop periodic tasks, close (flush) every log, write final checkpoints. */
  async closeAll(): Promise<void> {
    if (this.closed) return;
    await this.admin(async () => {
      this.closed = true;
    });
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers = [];
    await this.epochWriter.stop();
    this.cleaner.stop();
    await this.cleanerQueue;
    // Closing is mostly fsyncs and closes waiting on the I/O thread pool: more logs at a time than at
    // recovery (which also parses) keep it busy; still bounded, so descriptors and memory stay bounded.
    await forEachLimit(
      this.allLogs(),
      Math.max(CLOSE_CONCURRENCY, this.opts.recoveryConcurrency ?? RECOVERY_CONCURRENCY),
      (l) => l.close(),
    );
    await this.recoveryPointWriter.request();
    await this.logStartWriter.request();
    // Like Kafka, the cleaner checkpoint exists only once something was cleaned.
    if (this.cleaner.checkpoints().size > 0) await this.cleanerWriter.request();
    // Last: its presence says every log above closed cleanly and every checkpoint is written.
    const states = new Map<string, CleanShutdownState>();
    for (const [key, log] of this.logs) states.set(key, log.cleanShutdownState());
    await writeCleanShutdown(this.fs, this.dataDir, states);
  }
}
