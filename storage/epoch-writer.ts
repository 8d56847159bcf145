/**
 * EpochWriter: the log manager's background writes of recorded leader epochs.
 *
 * Leaders record their epochs without writing them (PartitionLog.assignLeaderEpoch), so that creating 10,000
 * partitions does not write 10,000 checkpoints on the request path. `schedule()` (each recording calls it) arms a
 * debounced timer on the injected clock: a second after the last recording (at most ten seconds after the first),
 * every log with recorded epochs writes them and flushes (PartitionLog.persistEpochs: a new log's directory
 * entries too), a few logs at a time, so that neither the creation nor the shutdown after it pays for them all.
 * Failures are logged and left to the later writes (recovery-point checkpoint, close). `stop()` cancels the timer
 * and waits for a run in progress; a run stops taking logs once `isClosed()`.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from './clock.js';
import type { PartitionLog } from './partition-log.js';
import { forEachLimit } from './for-each-limit.js';

const DELAY_MS = 1000;
const MAX_DELAY_MS = 10_000;
const CONCURRENCY = 4;

export class EpochWriter {
  private timer: TimerHandle | undefined;
  private pendingSince = 0;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    private readonly logs: () => PartitionLog[],
    private readonly isClosed: () => boolean,
    private readonly logger: Logger | undefined,
  ) {}

  schedule(): void {
    if (this.isClosed()) return;
    const now = this.clock.now();
    if (this.timer !== undefined) {
      if (now - this.pendingSince >= MAX_DELAY_MS) return;
      this.clock.clearTimeout(this.timer);
    } else this.pendingSince = now;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.run());
    }, DELAY_MS);
  }

  private async run(): Promise<void> {
    const due = this.logs().filter((l) => l.leaderEpochCache.unflushedBelow(Number.POSITIVE_INFINITY));
    await forEachLimit(due, CONCURRENCY, async (l) => {
      if (this.isClosed()) return;
      await l
        .persistEpochs()
        .catch((err: unknown) => this.logger?.debug({ err, dir: l.dir }, 'background epoch write failed'));
    });
  }

  async stop(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
