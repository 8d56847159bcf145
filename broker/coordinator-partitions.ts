/**
 * Which partitions of a coordinator's internal topic (`__consumer_offsets`, `__transaction_state`) this node
 * coordinates, as Kafka's coordinators follow partition leadership:
 *
 * - `start` subscribes to the replica manager's leadership events of the topic. "Leader at epoch E" loads the
 *   partition (the coordinator replays its records; COORDINATOR_LOAD_IN_PROGRESS meanwhile), then the node
 *   owns the keys (group ids, transactional ids) of that partition; an empty partition is owned at once.
 *   "Not leader" unloads it at once (the coordinator drops its keys and fails what waits on them with
 *   NOT_COORDINATOR). Loads and unloads of one partition run one after the other; a load that finishes after
 *   its partition was lost (or re-elected meanwhile) is unloaded again, so nothing it replayed stays.
 * - `status(key)`: NONE, COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR; a key maps to its partition by
 *   Kafka's hash (abs(Java String.hashCode) % partitions). Before the topic exists no node coordinates
 *   (NOT_COORDINATOR), except a single node (`leadsAll`), which leads everything and owns every key not
 *   loading, as before the cluster existed.
 * - `epochOf(key)`: the leader epoch of the key's partition (Kafka's coordinator epoch; 0 on a single node).
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { LeadershipChange, ReplicaManager } from '../replication/replica-manager.js';
import { offsetsPartitionFor } from './groups/records.js';
import type { Logger } from './logger.js';

export interface CoordinatorPartitionsOptions {
  topic: string;
  /** Whose leadership events are followed. */
  replicas: Pick<ReplicaManager, 'onLeadershipChange'>;
  /** The topic's partition count, undefined while it does not exist. */
  partitionCount(): number | undefined;
  /** A single node: owns every key whose partition is not loading. */
  leadsAll: boolean;
  /** Whether the partition has records to replay (false: owned at once). */
  needsLoad(partition: number): boolean;
  /** Replay the partition into the coordinator; `current()` turns false once the load is superseded. */
  load(partition: number, current: () => boolean): Promise<void>;
  /** Drop the partition's keys from the coordinator (fail their waiters with NOT_COORDINATOR). */
  unload(partition: number): void;
  /** Runs once a partition's replay finished and it is owned (not for an empty partition). */
  loaded?(partition: number): void;
  log?: Logger;
}

/**
 * Partitions replayed at a time: loading all fifty at once holds every one's read buffers and batches at
 * once (garbage-collector work) and finishes none early; a few at a time finish the first ones first.
 */
const MAX_CONCURRENT_LOADS = 2;

interface OwnedPartition {
  state: 'loading' | 'loaded';
  epoch: number;
}

export class CoordinatorPartitions {
  private readonly owned = new Map<number, OwnedPartition>();
  private readonly chains = new Map<number, Promise<void>>();
  private loadsRunning = 0;
  private readonly loadWaiters: (() => void)[] = [];
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: CoordinatorPartitionsOptions) {}

  /** Follow the leadership of the topic's partitions (hears at once of those led now). */
  start(): void {
    this.unsubscribe ??= this.o.replicas.onLeadershipChange(this.o.topic, (c) => this.onChange(c));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private onChange(c: LeadershipChange): void {
    if (c.leader) this.elect(c.partition, c.leaderEpoch);
    else this.resign(c.partition);
  }

  /** This node leads `partition` at `epoch`: load it (unless it is owned or loading already). */
  elect(partition: number, epoch: number): void {
    const cur = this.owned.get(partition);
    if (cur) {
      // Still the leader (a new epoch without a change of leader): the state in memory is current.
      cur.epoch = Math.max(cur.epoch, epoch);
      return;
    }
    const st: OwnedPartition = { state: 'loading', epoch };
    this.owned.set(partition, st);
    if (!this.chains.has(partition) && !this.o.needsLoad(partition)) {
      // Nothing to replay: owned at once (a new topic's partitions on a single node: no window at all).
      st.state = 'loaded';
      return;
    }
    const current = (): boolean => this.owned.get(partition) === st;
    this.enqueue(partition, async () => {
      if (!current()) return;
      await this.loadSlot();
      const started = Date.now();
      try {
        if (current()) await this.o.load(partition, current);
      } catch (err) {
        this.o.log?.error({ topic: this.o.topic, partition, err: (err as Error).message }, 'loading failed');
        if (current()) this.owned.delete(partition);
        this.o.unload(partition);
        return;
      } finally {
        this.freeSlot();
      }
      if (!current()) {
        this.o.unload(partition);
        return;
      }
      st.state = 'loaded';
      this.o.log?.info({ topic: this.o.topic, partition, epoch, ms: Date.now() - started }, 'partition loaded');
      this.o.loaded?.(partition);
    });
  }

  /** This node no longer leads `partition`: unload it now. */
  resign(partition: number): void {
    if (!this.owned.delete(partition)) return;
    this.o.unload(partition);
    this.o.log?.info({ topic: this.o.topic, partition }, 'partition unloaded');
  }

  /** Waits for one of MAX_CONCURRENT_LOADS load slots (freeSlot gives it back). */
  private loadSlot(): Promise<void> {
    if (this.loadsRunning < MAX_CONCURRENT_LOADS) {
      this.loadsRunning++;
      return Promise.resolve();
    }
    return new Promise((r) => this.loadWaiters.push(r));
  }

  private freeSlot(): void {
    const next = this.loadWaiters.shift();
    if (next)
      next(); // the slot passes on
    else this.loadsRunning--;
  }

  private enqueue(partition: number, fn: () => Promise<void>): void {
    const next = (this.chains.get(partition) ?? Promise.resolve()).then(fn);
    this.chains.set(partition, next);
    void next.finally(() => {
      if (this.chains.get(partition) === next) this.chains.delete(partition);
    });
  }

  /** Wait for the loads in flight (start-up). */
  async settled(): Promise<void> {
    for (let i = 0; i < 1000 && this.chains.size > 0; i++) await Promise.all([...this.chains.values()]);
  }

  /** The partition of `key`, undefined while the topic does not exist. */
  partitionFor(key: string): number | undefined {
    const n = this.o.partitionCount();
    return n === undefined ? undefined : offsetsPartitionFor(key, n);
  }

  /** NONE, COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR for `key`. */
  status(key: string): number {
    const p = this.partitionFor(key);
    const st = p === undefined ? undefined : this.owned.get(p);
    if (st?.state === 'loading') return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (st || this.o.leadsAll) return ErrorCode.NONE;
    return ErrorCode.NOT_COORDINATOR;
  }

  /** Whether `key` is coordinated here (its partition owned and loaded). */
  owns(key: string): boolean {
    return this.status(key) === ErrorCode.NONE;
  }

  /** Whether `key` belongs to `partition` (false while the topic does not exist). */
  inPartition(key: string, partition: number): boolean {
    return this.partitionFor(key) === partition;
  }

  /** Some partition is loading (ListGroups / ListTransactions answer COORDINATOR_LOAD_IN_PROGRESS). */
  get anyLoading(): boolean {
    for (const st of this.owned.values()) if (st.state === 'loading') return true;
    return false;
  }

  /** The leader epoch of `key`'s partition: Kafka's coordinator epoch (0 when not led here). */
  epochOf(key: string): number {
    const p = this.partitionFor(key);
    return (p === undefined ? undefined : this.owned.get(p)?.epoch) ?? 0;
  }

  /** The partitions owned (loaded or loading). */
  get partitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }
}
