/**
 * Preferred leader election: leadership goes back to each partition's preferred replica (the first of its
 * replicas) when that replica is active (live, not in controlled shutdown) and in the ISR, as Kafka's controller
 * does with `auto.leader.rebalance.enable` (default true).
 *
 * - Every `leader.imbalance.check.interval.seconds` (300) the active controller groups partitions by preferred
 *   replica; for a broker whose share of partitions led by someone else exceeds
 *   `leader.imbalance.per.broker.percentage` (10) %, every such partition whose preferred replica can lead is
 *   moved back (`rebalanceCandidates`, Kafka's checkAndTriggerAutoLeaderRebalance).
 * - One check's moves are one batched controller write (one etcd transaction: a CAS on each partition plus the
 *   controller's leadership guard), each bumping the leader epoch; the ISR is unchanged. A lost race or a deposed
 *   controller just skips the partition: the next check sees the new state.
 * - `preferredLeaderChange` is also the PREFERRED election of ElectLeaders (leader-election.ts).
 */
import type { Clock, TimerHandle } from '../storage/clock.js';
import type { EtcdLog } from './etcd/connection.js';
import type { MetadataImage, PartitionRegistration } from './metadata/image.js';
import type { PartitionChange } from './metadata/store.js';
import type { PartitionWrite } from './metadata/partition-change.js';

/** `{ leader: preferred }` when the preferred replica does not lead and may (active, in the ISR); else undefined. */
export function preferredLeaderChange(
  p: PartitionRegistration,
  active: ReadonlySet<number>,
): PartitionChange | undefined {
  const preferred = p.replicas[0];
  if (preferred === undefined || p.leader === preferred) return undefined;
  if (!active.has(preferred) || !p.isr.includes(preferred)) return undefined;
  return { leader: preferred };
}

export interface RebalanceCandidate {
  topic: string;
  partition: PartitionRegistration;
  change: PartitionChange;
}

/**
 * The partitions to move back to their preferred replica: for each active preferred broker, when more than
 * `imbalancePercentage` % of the partitions it prefers are led by another broker, those of them it can lead.
 */
export function rebalanceCandidates(image: MetadataImage, imbalancePercentage: number): RebalanceCandidate[] {
  const active = image.activeBrokerIds();
  const byPreferred = new Map<number, { topic: string; partition: PartitionRegistration }[]>();
  for (const topic of image.topics()) {
    for (const partition of topic.partitionStates) {
      const preferred = partition.replicas[0];
      if (preferred === undefined) continue;
      const list = byPreferred.get(preferred) ?? [];
      list.push({ topic: topic.name, partition });
      byPreferred.set(preferred, list);
    }
  }
  const out: RebalanceCandidate[] = [];
  for (const [broker, partitions] of [...byPreferred].sort((a, b) => a[0] - b[0])) {
    if (!active.has(broker)) continue;
    const notLed = partitions.filter((x) => x.partition.leader !== broker);
    if (notLed.length / partitions.length <= imbalancePercentage / 100) continue;
    for (const x of notLed) {
      const change = preferredLeaderChange(x.partition, active);
      if (change) out.push({ ...x, change });
    }
  }
  return out;
}

export interface PreferredLeaderBalancerOptions {
  clock: Clock;
  /** leader.imbalance.check.interval.seconds, in ms. */
  intervalMs: number;
  /** leader.imbalance.per.broker.percentage. */
  imbalancePercentage: number;
  image: () => MetadataImage;
  /** True while this node is the elected controller. */
  isActive: () => boolean;
  /** A batched controller write (guarded by its leadership): each write's outcome, in order. */
  write: (writes: PartitionWrite[]) => Promise<PromiseSettledResult<unknown>[]>;
  log: EtcdLog;
}

/** Runs `rebalanceCandidates` every interval while this node is the controller. */
export class PreferredLeaderBalancer {
  private timer: TimerHandle | undefined;
  private running: Promise<number> | undefined;
  private closed = false;

  constructor(private readonly o: PreferredLeaderBalancerOptions) {}

  start(): void {
    if (this.timer || this.closed) return;
    const tick = (): void => {
      this.timer = undefined;
      if (this.closed) return;
      void this.check().finally(() => {
        if (!this.closed) this.timer = this.o.clock.setTimeout(tick, this.o.intervalMs);
      });
    };
    this.timer = this.o.clock.setTimeout(tick, this.o.intervalMs);
  }

  /** One check (when this node is the controller); resolves with the number of leaders moved. */
  check(): Promise<number> {
    this.running ??= this.checkOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async checkOnce(): Promise<number> {
    if (!this.o.isActive()) return 0;
    const candidates = rebalanceCandidates(this.o.image(), this.o.imbalancePercentage);
    if (!candidates.length || this.closed) return 0;
    const writes = candidates.map((c) => ({
      topic: c.topic,
      partition: c.partition.partition,
      partitionEpoch: c.partition.partitionEpoch,
      change: c.change,
    }));
    let moved = 0;
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await this.o.write(writes);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'preferred leader election skipped');
      return 0;
    }
    results.forEach((r, i) => {
      const w = writes[i];
      if (r.status === 'fulfilled') {
        moved++;
        this.o.log.info(
          { topic: w.topic, partition: w.partition, leader: w.change.leader },
          'preferred replica elected leader',
        );
      } else
        this.o.log.warn(
          { topic: w.topic, partition: w.partition, err: (r.reason as Error).message },
          'preferred leader election skipped',
        );
    });
    return moved;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
