/**
 * GroupCoordinatorState: what the classic group coordinator owns besides the membership protocol (rebalance.ts
 * extends it, coordinator.ts extends that): the groups of this node, whether it coordinates a group now
 * (`status`: loading, stopped, or the `__consumer_offsets` partition led elsewhere), writing a group's metadata
 * record, replaying records at load, unloading a partition lost, shutdown and the periodic offset-expiry task.
 *
 * Invariants: a group's state changes in memory only through the coordinator (replay here, membership in
 * rebalance.ts and coordinator.ts, offsets in offsets.ts); unloading or shutdown clears every timer of the groups
 * concerned and answers each pending Join/Sync with NOT_COORDINATOR; loaded members get a session timer once
 * loading ends.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { Clock, TimerHandle } from '../../storage/clock.js';
import type { Logger } from '../logger.js';
import { joinError, syncError, type Group, type GroupCoordinatorConfig, type Member } from './group.js';
import type { GroupLog } from './offsets-log.js';
import { groupKey } from './records.js';
import { applyGroupRecord, groupRecordValue } from './group-records.js';
import type { ConsumerGroupManager } from './consumer-group.js';
import { decodeCgKey } from './consumer-group-records.js';
import type { CoordinatorPartitions } from '../coordinator-partitions.js';

export abstract class GroupCoordinatorState {
  readonly groups = new Map<string, Group>();
  /** True while __consumer_offsets is being replayed: coordinator APIs answer COORDINATOR_LOAD_IN_PROGRESS. */
  loading = false;
  protected stopped = false;
  private expiryTimer: TimerHandle | undefined;
  /** KIP-848 consumer groups (consumer-group.ts), when wired; a group id is classic or consumer, not both. */
  consumer: ConsumerGroupManager | undefined;
  /** The `__consumer_offsets` partitions this node coordinates (none: every group, as in unit tests). */
  ownership: CoordinatorPartitions | undefined;
  private periodic = false;

  constructor(
    readonly config: GroupCoordinatorConfig,
    readonly clock: Clock,
    readonly store: GroupLog,
    readonly log?: Logger,
  ) {}

  /** NONE when this node coordinates `groupId` now, else COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR. */
  status(groupId: string): number {
    if (this.loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (this.stopped) return ErrorCode.NOT_COORDINATOR;
    return this.ownership?.status(groupId) ?? ErrorCode.NONE;
  }

  /** (Re)start a member's session timer (rebalance.ts). */
  abstract scheduleSession(group: Group, member: Member): void;

  // ------------------------------------------------------------------------------------------ persistence

  /** Write the group's metadata record (with `assignments` in place of the current ones, if given). */
  persistGroup(group: Group, assignments?: Map<string, Buffer>): Promise<void> {
    return this.store.write(
      group.groupId,
      [{ key: groupKey(group.groupId), value: groupRecordValue(group, assignments) }],
      this.clock.now(),
    );
  }

  /** Apply one replayed `__consumer_offsets` record (later records win; null value = tombstone). */
  applyRecord(key: Buffer, value: Buffer | null): void {
    const cg = decodeCgKey(key);
    try {
      if (cg) this.consumer?.store?.applyRecord(cg, key, value);
      else applyGroupRecord(this.groups, key, value, this.clock.now());
    } catch (err) {
      this.log?.warn(
        { err: (err as Error).message, key: key.toString('hex') },
        'skipping an unreadable __consumer_offsets record',
      );
    }
  }

  /** After replay: loaded members (of the groups `which` selects) must heartbeat within their session timeout. */
  finishLoading(which: (groupId: string) => boolean = () => true): void {
    for (const g of this.groups.values())
      if (which(g.groupId)) for (const m of g.members.values()) this.scheduleSession(g, m);
    this.consumer?.store?.finishLoading(which);
    this.loading = false;
  }

  /** This node no longer coordinates `partition`: its groups leave memory, their waiters get NOT_COORDINATOR. */
  unloadPartition(partition: number): void {
    const own = this.ownership;
    if (!own) return;
    const here = (groupId: string): boolean => own.inPartition(groupId, partition);
    for (const g of [...this.groups.values()]) {
      if (!here(g.groupId)) continue;
      this.dropGroup(g);
      this.groups.delete(g.groupId);
    }
    this.consumer?.unload(here);
  }

  /** Clear a group's timers and answer its waiters with NOT_COORDINATOR. */
  private dropGroup(g: Group): void {
    this.clock.clearTimeout(g.joinTimer);
    this.clock.clearTimeout(g.syncTimer);
    for (const t of g.pendingMembers.values()) this.clock.clearTimeout(t);
    for (const m of g.members.values()) {
      this.clock.clearTimeout(m.sessionTimer);
      m.sessionTimer = undefined;
      m.joinWaiter?.(joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
      m.syncWaiter?.(syncError(ErrorCode.NOT_COORDINATOR));
      m.joinWaiter = undefined;
      m.syncWaiter = undefined;
    }
  }

  /** Answer every pending Join/Sync with NOT_COORDINATOR and clear all timers (broker stopping). */
  shutdown(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.expiryTimer);
    this.consumer?.shutdown();
    this.ownership?.stop();
    for (const g of this.groups.values()) this.dropGroup(g);
  }

  /** Arm the periodic offset-expiry task (`run` is offsets.ts's expireOffsets). */
  startPeriodic(run: () => Promise<unknown>): void {
    if (this.periodic) return;
    this.periodic = true;
    const tick = (): void => {
      if (this.stopped) return;
      void run()
        .catch((err: unknown) => this.log?.warn({ err: (err as Error).message }, 'offset expiry failed'))
        .finally(() => {
          if (!this.stopped)
            this.expiryTimer = this.clock.setTimeout(tick, this.config.offsetsRetentionCheckIntervalMs);
        });
    };
    this.expiryTimer = this.clock.setTimeout(tick, this.config.offsetsRetentionCheckIntervalMs);
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}
