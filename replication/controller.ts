/**
 * The controller of a replicated cluster: one node at a time, elected through etcd (Election on the
 * `controller` key), decides partition leadership, as Kafka's controller does on broker loss.
 *
 * - Every node runs a Controller; it campaigns and, once elected, follows its metadata store (an
 *   EtcdMetadataStore over the same etcd session). On election and after every published change it checks
 *   every partition against the live brokers (registered, not fenced):
 *   - leader live, some ISR members gone: the ISR shrinks to its live members (the leader stays);
 *   - leader gone (lease lost) or none: the new leader is the first replica, in replica order, that is a live
 *     ISR member; the ISR shrinks to the live members. With none, and `unclean.leader.election.enable`
 *     (the topic's override, else the cluster default) true, the first live replica leads with ISR = [it]
 *     (records may be lost, as in Kafka); otherwise the partition goes offline: leader -1, the ISR kept as
 *     [last leader] (Kafka never empties the ISR), so that replica leads again cleanly when it returns.
 *   A pass's changes go out as one batch (`alterPartitionsGuarded`: one etcd transaction comparing every
 *   partition key's mod revision plus the leadership guard, all or nothing; on a lost compare each change is
 *   retried on its own), so a deposed controller writes nothing and brokers apply a broker's fencing as one
 *   image change, as Kafka's controller publishes it as one batch; a leader change bumps the leader epoch,
 *   every change the partition epoch (the store does both).
 * - A running partition reassignment is completed (reassignment.ts `completionChange`) once its adding
 *   replicas are all in the ISR and no leadership change is due, through the same guarded write.
 * - A broker that comes back moves nothing at once, except that an offline partition is given a leader again as
 *   soon as a clean (or, if allowed, unclean) candidate is live; leadership returns to preferred replicas through
 *   the periodic preferred leader election (preferred-leader.ts, `autoLeaderRebalance`).
 * - A broker marked in controlled shutdown (controlled-shutdown.ts) has its leaderships moved to other active ISR
 *   members and leaves the ISRs, before the liveness rules above apply.
 * - ISR changes from partition leaders (shrink/expand) go straight to the store's alterPartition, a CAS on
 *   the partition epoch; the controller only acts on liveness.
 * - Losing the lease (or the key) ends the term; the node campaigns again and a new term starts with a full
 *   check, so a controller that dies half-way through is finished by the next one.
 */
import { CoordinationError, type RunnelError } from '../protocol/errors.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { noLog, type EtcdLog } from './etcd/connection.js';
import { Election, type Leadership } from './etcd/election.js';
import type { EtcdSession } from './etcd/session.js';
import type { EtcdMetadataStore } from './metadata/etcd-store.js';
import { NO_LEADER, type PartitionRegistration } from './metadata/image.js';
import type { PartitionChange } from './metadata/store.js';
import type { PartitionWrite } from './metadata/partition-change.js';
import { completionChange } from './reassignment.js';
import type { Clock } from '../storage/clock.js';
import { SystemClock } from '../storage/clock.js';
import { controlledShutdownChange, shuttingDownBrokers } from './controlled-shutdown.js';
import { PreferredLeaderBalancer } from './preferred-leader.js';

export interface ControllerOptions {
  store: EtcdMetadataStore;
  /** The node's session (the same one its store and registration use). */
  session: EtcdSession;
  nodeId: number;
  /** `unclean.leader.election.enable` for topics without an override. Default false. */
  uncleanLeaderElection?: boolean;
  /** Periodic preferred leader election (auto.leader.rebalance.enable); off when absent. */
  autoLeaderRebalance?: { intervalMs: number; imbalancePercentage: number };
  clock?: Clock;
  log?: EtcdLog;
}

const UNCLEAN = 'unclean.leader.election.enable';

/** The change a partition needs given the live brokers, or undefined. */
export function leadershipChange(
  p: PartitionRegistration,
  live: ReadonlySet<number>,
  unclean: boolean,
): PartitionChange | undefined {
  const isr = p.isr.filter((id) => live.has(id));
  if (p.leader !== NO_LEADER && live.has(p.leader)) return isr.length === p.isr.length ? undefined : { isr };
  const clean = p.replicas.find((id) => isr.includes(id));
  if (clean !== undefined) return { leader: clean, isr };
  const anyLive = unclean ? p.replicas.find((id) => live.has(id)) : undefined;
  if (anyLive !== undefined) return { leader: anyLive, isr: [anyLive] };
  if (p.leader === NO_LEADER) return undefined;
  return { leader: NO_LEADER, isr: p.isr.includes(p.leader) ? [p.leader] : [...p.isr] };
}

export class Controller {
  private leadership: Leadership | undefined;
  private readonly abort = new AbortController();
  private closed = false;
  private dirty = false;
  private passes: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private offStore: (() => void) | undefined;
  private readonly log: EtcdLog;
  /** The periodic preferred leader election, when enabled. */
  readonly balancer: PreferredLeaderBalancer | undefined;

  constructor(private readonly o: ControllerOptions) {
    this.log = o.log ?? noLog;
    const r = o.autoLeaderRebalance;
    if (r)
      this.balancer = new PreferredLeaderBalancer({
        clock: o.clock ?? new SystemClock(),
        intervalMs: r.intervalMs,
        imbalancePercentage: r.imbalancePercentage,
        image: () => o.store.image,
        isActive: () => this.isActive,
        write: (writes) => this.alterPartitions(writes),
        log: this.log,
      });
  }

  /** Writes of the current term as one batch guarded by its leadership (other duties: preferred-leader.ts). */
  alterPartitions(writes: PartitionWrite[]) {
    const term = this.leadership;
    if (!term?.isLeader)
      return Promise.reject(new CoordinationError('ERR_NOT_CONTROLLER', 'this node is not the controller', 41));
    return this.o.store.alterPartitionsGuarded(writes, term.guard());
  }

  /** True while this node is the elected controller. */
  get isActive(): boolean {
    return this.leadership?.isLeader ?? false;
  }

  /** The controller epoch of the current term (the controller key's create revision). */
  get epoch(): number | undefined {
    return this.isActive ? this.leadership?.epoch : undefined;
  }

  start(): void {
    if (this.loop) return;
    this.offStore = this.o.store.subscribe(() => this.kick());
    this.loop = this.run();
    this.balancer?.start();
  }

  private async run(): Promise<void> {
    const election = new Election(this.o.session, this.o.nodeId);
    while (!this.closed) {
      let term: Leadership;
      try {
        term = await election.campaign(this.abort.signal);
      } catch (err) {
        if (this.closed) return;
        this.log.warn({ err: (err as Error).message }, 'controller campaign failed; retrying');
        await this.o.session.sleep();
        continue;
      }
      if (this.closed) {
        await term.resign().catch(() => undefined);
        return;
      }
      this.leadership = term;
      this.log.info({ nodeId: this.o.nodeId, epoch: term.epoch }, 'elected controller');
      const ended = new Promise<void>((r) => {
        term.onLost(() => r());
        this.abort.signal.addEventListener('abort', () => r());
      });
      this.kick();
      await ended;
      this.leadership = undefined;
      if (!this.closed) this.log.warn({ nodeId: this.o.nodeId, epoch: term.epoch }, 'controller term ended');
    }
  }

  /** Schedules a check of every partition (coalesced). */
  private kick(): void {
    this.dirty = true;
    this.passes ??= this.runPasses().finally(() => {
      this.passes = undefined;
    });
  }

  private async runPasses(): Promise<void> {
    while (this.dirty && !this.closed) {
      const term = this.leadership;
      if (!term?.isLeader) return;
      this.dirty = false;
      if (!(await this.pass(term))) await this.o.session.sleep();
    }
  }

  /**
   * One check of every partition; false when some write failed and the pass must run again. The pass's changes
   * (a broker's loss or controlled shutdown moves many partitions) are written as one batch, one etcd transaction,
   * so that brokers never answer Metadata from a mix of moved and unmoved partitions of one pass.
   */
  private async pass(term: Leadership): Promise<boolean> {
    const image = this.o.store.image;
    const live = new Set(image.liveBrokers().map((b) => b.nodeId));
    const shutting = shuttingDownBrokers(image);
    const writes: PartitionWrite[] = [];
    for (const topic of image.topics()) {
      const unclean = (topic.configs[UNCLEAN] ?? String(this.o.uncleanLeaderElection ?? false)) === 'true';
      for (const p of topic.partitionStates) {
        const change =
          controlledShutdownChange(p, live, shutting) ??
          leadershipChange(p, live, unclean) ??
          completionChange(p, live);
        if (change)
          writes.push({ topic: topic.name, partition: p.partition, partitionEpoch: p.partitionEpoch, change });
      }
    }
    if (!writes.length) return true;
    let results: PromiseSettledResult<PartitionRegistration>[];
    try {
      results = await this.o.store.alterPartitionsGuarded(writes, term.guard());
    } catch (err) {
      this.dirty = true;
      this.log.warn({ err: (err as Error).message, partitions: writes.length }, 'partition states not written');
      return false;
    }
    let ok = true;
    results.forEach((r, i) => {
      if (!this.settled(writes[i], r)) ok = false;
    });
    return ok;
  }

  /** Logs one partition's outcome; false when the pass must run again after a pause. */
  private settled(w: PartitionWrite, r: PromiseSettledResult<PartitionRegistration>): boolean {
    if (r.status === 'fulfilled') {
      const after = r.value;
      this.log.info(
        {
          topic: w.topic,
          partition: w.partition,
          leader: after.leader,
          leaderEpoch: after.leaderEpoch,
          isr: after.isr,
        },
        'partition leadership changed',
      );
      return true;
    }
    const e = r.reason as RunnelError;
    if (e.code === 'ERR_NOT_CONTROLLER') return true; // the term is over; the next controller re-checks
    if (e.kafkaCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return true;
    // INVALID_UPDATE_VERSION: the partition moved meanwhile; its change triggers another pass.
    this.dirty = true;
    if (e.kafkaCode === ErrorCode.INVALID_UPDATE_VERSION) return true;
    this.log.warn({ err: e.message, topic: w.topic, partition: w.partition }, 'partition state not written');
    return false;
  }

  /** Waits until no check is running or pending (tests, orderly shutdown). */
  async idle(): Promise<void> {
    while (this.passes) await this.passes;
  }

  /** Stops campaigning; resigns if elected (another node takes over at once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.offStore?.();
    await this.balancer?.close();
    const term = this.leadership;
    this.abort.abort();
    await this.passes?.catch(() => undefined);
    if (term?.isLeader) await term.resign().catch(() => undefined);
    await this.loop;
  }
}
