/**
 * The transaction coordinator (KIP-98, Kafka's classic "transaction.version 1" protocol; KIP-890 part 2
 * is not offered). One owner of every transactional id's TxnMetadata; its state lives in the compacted
 * `__transaction_state` topic (state-log.ts) and is replayed on start.
 *
 * Flow: InitProducerId (new producer id or epoch bump → Empty) → AddPartitionsToTxn / AddOffsetsToTxn
 * (→ Ongoing, partitions recorded) → EndTxn: PrepareCommit/PrepareAbort is written (acks=all) and EndTxn
 * answers, as Kafka; markers and CompleteCommit/CompleteAbort follow in the background (completion.ts), the
 * id's requests getting CONCURRENT_TRANSACTIONS meanwhile (clients retry).
 *
 * Rules (Kafka's):
 * - InitProducerId: timeout ≤ 0 or > transaction.max.timeout.ms → INVALID_TRANSACTION_TIMEOUT; an Ongoing
 *   transaction is fenced (epoch bump, PrepareEpochFence) and aborted, the caller gets CONCURRENT_TRANSACTIONS;
 *   an exhausted epoch (32766) gives a new producer id with epoch 0; with a producer id/epoch in the request
 *   (KIP-360) the current pair is bumped (any pair while the id has no epoch yet: some clients send 0/0), a
 *   retry of the last bump gets the same answer, others PRODUCER_FENCED.
 * - Every call: Prepare* or a transition/completion in flight → CONCURRENT_TRANSACTIONS (so is a retried EndTxn
 *   of the same kind); unknown id or other producer id → INVALID_PRODUCER_ID_MAPPING; other epoch →
 *   PRODUCER_FENCED; EndTxn of the wrong kind or from Empty → INVALID_TXN_STATE, a retried EndTxn of a
 *   completed transaction → NONE, one whose Prepare* was written as the id's partition moved → NOT_COORDINATOR.
 * - Periodically, Ongoing transactions older than their timeout are fenced and aborted, and ids idle
 *   (Empty/Complete*) longer than transactional.id.expiration.ms are tombstoned and forgotten.
 * - After replay, Prepare* transactions are completed; Ongoing ones wait for their timeout.
 * - In a cluster (`ownership`, coordinator-partitions.ts) only the ids of the `__transaction_state` partitions
 *   this node leads are coordinated here (else NOT_COORDINATOR; COORDINATOR_LOAD_IN_PROGRESS while one loads);
 *   a lost partition's ids leave memory and their marker retries stop (`unloadPartition`). Markers carry the
 *   partition's leader epoch as coordinator epoch.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { Clock, TimerHandle } from '../../storage/clock.js';
import type { Logger } from '../logger.js';
import { decodeTxnLogKey, decodeTxnLogValue, txnLogValue } from './records.js';
import type { TxnStateStore } from './state-log.js';
import { TxnCompletions, type TxnMarker } from './completion.js';
import type { CoordinatorPartitions } from '../coordinator-partitions.js';
import { coordinatorErrorFor } from '../internal-topic.js';
import {
  MAX_EPOCH,
  NO_EPOCH,
  NO_PRODUCER_ID,
  TxnMetadata,
  partitionKey,
  type TxnSnapshot,
  type TxnState,
} from './state.js';

export interface TxnCoordinatorConfig {
  maxTimeoutMs: number;
  abortCheckIntervalMs: number;
  idExpirationMs: number;
  expireCheckIntervalMs: number;
}

export type { TxnMarker } from './completion.js';

export interface TxnCoordinatorDeps {
  clock: Clock;
  store: TxnStateStore;
  allocateProducerId(): Promise<number>;
  /** Partitions of a topic, undefined if it does not exist. */
  partitionsOf(topic: string): number | undefined;
  /**
   * Append a marker to one partition (a partition that no longer exists is skipped by the writer); stops
   * retrying and rejects when `signal` fires (this node lost the id's `__transaction_state` partition).
   */
  writeMarker(topic: string, partition: number, m: TxnMarker, signal?: AbortSignal): Promise<void>;
  /** The `__consumer_offsets` partition of a group (creating the topic if needed). */
  groupPartition(groupId: string): Promise<{ topic: string; partition: number }>;
  /** Called after the markers of a transaction were written (transactional offsets become visible). */
  onMarkersWritten?(producerId: number, commit: boolean): unknown;
  log?: Logger;
}

export interface InitProducerIdParams {
  transactionalId: string;
  transactionTimeoutMs: number;
  producerId: number;
  producerEpoch: number;
}

export interface ProducerIdAndEpoch {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export class TransactionCoordinator {
  readonly txns = new Map<string, TxnMetadata>();
  loading = false;
  private stopped = false;
  /** The periodic tasks' timers (timeouts, id expiry). */
  private readonly timers = new Set<TimerHandle>();
  /** Second phases in progress (markers + Complete* write), by transactional id. */
  private readonly completions: TxnCompletions;
  /** The `__transaction_state` partitions coordinated here (none: every id, as in unit tests). */
  ownership: CoordinatorPartitions | undefined;
  private timersArmed = false;

  constructor(
    readonly config: TxnCoordinatorConfig,
    private readonly deps: TxnCoordinatorDeps,
  ) {
    this.completions = new TxnCompletions({
      clock: deps.clock,
      writeMarker: deps.writeMarker,
      onMarkersWritten: deps.onMarkersWritten,
      writeComplete: (md, commit) => this.transition(md, commit ? 'CompleteCommit' : 'CompleteAbort', {}),
      isCurrent: (md) => !this.stopped && this.txns.get(md.transactionalId) === md,
      coordinatorEpoch: (id) => this.ownership?.epochOf(id) ?? 0,
      partitionOf: (id) => this.ownership?.partitionFor(id),
      log: deps.log,
    });
  }

  private get now(): number {
    return this.deps.clock.now();
  }

  /** NONE when `transactionalId` is coordinated here now, else COORDINATOR_LOAD_IN_PROGRESS / NOT_COORDINATOR. */
  unavailable(transactionalId: string): number {
    if (this.loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (this.stopped) return ErrorCode.NOT_COORDINATOR;
    return this.ownership?.status(transactionalId) ?? ErrorCode.NONE;
  }

  /**
   * Write `next` for `md`, then make it current. Returns NONE, or (leaving md as it was) the error to answer:
   * NOT_COORDINATOR when leadership of the id's partition moved, else COORDINATOR_NOT_AVAILABLE.
   */
  private async transition(
    md: TxnMetadata,
    to: TxnState,
    changes: Partial<TxnSnapshot>,
    persist = true,
  ): Promise<number> {
    let next: TxnSnapshot;
    try {
      next = md.prepare(to, changes, this.now);
    } catch (err) {
      this.deps.log?.warn(
        { transactionalId: md.transactionalId, err: (err as Error).message },
        'transaction state transition refused',
      );
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    if (persist) {
      try {
        await this.deps.store.write(md.transactionalId, txnLogValue(TxnMetadata.toLogValue(next)), this.now);
      } catch (err) {
        md.abandon();
        this.deps.log?.warn(
          { transactionalId: md.transactionalId, state: to, err: (err as Error).message },
          'writing transaction state failed',
        );
        return coordinatorErrorFor(err);
      }
    }
    md.apply(next);
    return ErrorCode.NONE;
  }

  // ------------------------------------------------------------------------------------- InitProducerId

  async initProducerId(p: InitProducerIdParams): Promise<ProducerIdAndEpoch> {
    const fail = (errorCode: number): ProducerIdAndEpoch => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (!p.transactionalId) return fail(ErrorCode.INVALID_REQUEST);
    const busy = this.unavailable(p.transactionalId);
    if (busy) return fail(busy);
    if (p.transactionTimeoutMs <= 0 || p.transactionTimeoutMs > this.config.maxTimeoutMs)
      return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let md = this.txns.get(p.transactionalId);
    if (!md) {
      let pid: number;
      try {
        pid = await this.deps.allocateProducerId();
      } catch (err) {
        this.deps.log?.warn({ err: (err as Error).message }, 'producer id allocation failed');
        return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
      md = this.txns.get(p.transactionalId);
      if (!md) {
        md = new TxnMetadata(p.transactionalId, {
          producerId: pid,
          producerEpoch: -1,
          timeoutMs: p.transactionTimeoutMs,
          state: 'Empty',
          now: this.now,
        });
        this.txns.set(p.transactionalId, md);
      }
    }
    if (md.pending || this.completions.has(md.transactionalId)) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    switch (md.state) {
      case 'PrepareCommit':
      case 'PrepareAbort':
      case 'PrepareEpochFence':
      case 'Dead':
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case 'Ongoing':
        // Fence the previous producer's epoch and abort its transaction; the caller retries.
        void this.fenceAndAbort(md, 'fenced by InitProducerId');
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      default:
        break;
    }
    // KIP-360: a request with the producer id/epoch it holds. Valid when no epoch was handed out yet,
    // for the current producer id, or for the previous one after its epoch ran out.
    const expected = p.producerId !== NO_PRODUCER_ID;
    if (expected) {
      if (md.producerEpoch !== -1 && p.producerId === md.lastProducerId && p.producerId !== md.producerId) {
        return { errorCode: ErrorCode.NONE, producerId: md.producerId, producerEpoch: md.producerEpoch };
      }
      if (md.producerEpoch !== -1 && p.producerId !== md.producerId) return fail(ErrorCode.PRODUCER_FENCED);
      if (md.producerEpoch !== -1 && p.producerEpoch !== md.producerEpoch) {
        if (p.producerEpoch === md.lastProducerEpoch)
          return { errorCode: ErrorCode.NONE, producerId: md.producerId, producerEpoch: md.producerEpoch };
        return fail(ErrorCode.PRODUCER_FENCED);
      }
    }
    let changes: Partial<TxnSnapshot>;
    if (md.producerEpoch + 1 > MAX_EPOCH) {
      let pid: number;
      try {
        pid = await this.deps.allocateProducerId();
      } catch {
        return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
      if (md.pending || !['Empty', 'CompleteCommit', 'CompleteAbort'].includes(md.state))
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      changes = { producerId: pid, lastProducerId: md.producerId, producerEpoch: 0, lastProducerEpoch: -1 };
    } else {
      changes = { producerEpoch: md.producerEpoch + 1, lastProducerEpoch: md.producerEpoch };
    }
    changes.timeoutMs = p.transactionTimeoutMs;
    changes.startTimestamp = -1;
    const written = await this.transition(md, 'Empty', changes);
    if (written) return fail(written);
    return { errorCode: ErrorCode.NONE, producerId: md.producerId, producerEpoch: md.producerEpoch };
  }

  // ------------------------------------------------------------------------------ AddPartitions/Offsets

  /** Common checks of the calls made inside a transaction; NONE or the error code. */
  private check(md: TxnMetadata | undefined, id: string, producerId: number, producerEpoch: number): number {
    const busy = this.unavailable(id);
    if (busy) return busy;
    if (!md || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (md.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (md.pending || this.completions.has(md.transactionalId)) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (md.state === 'PrepareCommit' || md.state === 'PrepareAbort' || md.state === 'PrepareEpochFence')
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (md.state === 'Dead') return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    return ErrorCode.NONE;
  }

  /** One error code per partition, in order (all the same unless some partitions do not exist). */
  async addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: TopicPartition[],
  ): Promise<number[]> {
    const all = (code: number): number[] => partitions.map(() => code);
    const unknown = partitions.map((tp) => {
      const n = this.deps.partitionsOf(tp.topic);
      return n === undefined || tp.partition < 0 || tp.partition >= n;
    });
    if (unknown.some(Boolean) && !this.unavailable(transactionalId)) {
      return unknown.map((u) => (u ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED));
    }
    return all(
      await this.addKeys(
        transactionalId,
        producerId,
        producerEpoch,
        partitions.map((tp) => partitionKey(tp.topic, tp.partition)),
      ),
    );
  }

  /** AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction. */
  async addOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
  ): Promise<number> {
    const busy = this.unavailable(transactionalId);
    if (busy) return busy;
    if (!groupId) return ErrorCode.INVALID_GROUP_ID;
    let tp: TopicPartition;
    try {
      tp = await this.deps.groupPartition(groupId);
    } catch {
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return this.addKeys(transactionalId, producerId, producerEpoch, [partitionKey(tp.topic, tp.partition)]);
  }

  private async addKeys(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    keys: string[],
  ): Promise<number> {
    const md = this.txns.get(transactionalId);
    const code = this.check(md, transactionalId, producerId, producerEpoch);
    if (code || !md) return code;
    if (md.state === 'Ongoing' && keys.every((k) => md.partitions.has(k))) return ErrorCode.NONE;
    const partitions = new Set(md.state === 'Ongoing' ? md.partitions : []);
    for (const k of keys) partitions.add(k);
    const startTimestamp = md.state === 'Ongoing' ? md.startTimestamp : this.now;
    return this.transition(md, 'Ongoing', { partitions, startTimestamp });
  }

  /** Whether `partition` is part of the ongoing transaction of (id, producer id, epoch); else an error code. */
  verifyOngoing(transactionalId: string, producerId: number, producerEpoch: number, tp: TopicPartition): number {
    const md = this.txns.get(transactionalId);
    const busy = this.unavailable(transactionalId);
    if (busy) return busy;
    if (!md || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (md.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (md.state !== 'Ongoing' || !md.partitions.has(partitionKey(tp.topic, tp.partition)))
      return ErrorCode.INVALID_TXN_STATE;
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------------------------------------- EndTxn

  async endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<number> {
    const md = this.txns.get(transactionalId);
    const busy = this.unavailable(transactionalId);
    if (busy) return busy;
    if (!md || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (md.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (md.pending || this.completions.has(transactionalId)) return ErrorCode.CONCURRENT_TRANSACTIONS;
    switch (md.state) {
      case 'Ongoing':
        break;
      case 'CompleteCommit':
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case 'CompleteAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case 'PrepareCommit':
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case 'PrepareAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      case 'PrepareEpochFence':
        return ErrorCode.PRODUCER_FENCED;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
    const prepared = await this.transition(md, commit ? 'PrepareCommit' : 'PrepareAbort', {});
    if (prepared) return prepared;
    // As Kafka: the partition moved while the decision was written; its new coordinator completes it.
    if (this.txns.get(transactionalId) !== md || this.unavailable(transactionalId)) return ErrorCode.NOT_COORDINATOR;
    void this.completions.complete(md);
    return ErrorCode.NONE;
  }

  /** Fence the producer of an Ongoing transaction (epoch bump unless exhausted) and abort it. */
  private async fenceAndAbort(md: TxnMetadata, reason: string): Promise<void> {
    if (md.state !== 'Ongoing' || md.pending) return;
    this.deps.log?.info(
      { transactionalId: md.transactionalId, producerId: md.producerId, epoch: md.producerEpoch, reason },
      'aborting transaction',
    );
    const epoch = md.producerEpoch >= MAX_EPOCH ? md.producerEpoch : md.producerEpoch + 1;
    // As Kafka: the fenced epoch is not remembered as a 'last' epoch, so the old producer cannot retry into it.
    await this.transition(md, 'PrepareEpochFence', { producerEpoch: epoch, lastProducerEpoch: NO_EPOCH }, false);
    if (await this.transition(md, 'PrepareAbort', {})) {
      // The abort was not written: stay Ongoing (fenced epoch kept) so the next check retries it.
      md.state = 'Ongoing';
      return;
    }
    void this.completions.complete(md);
  }

  /** Second phase of a Prepare* transaction (completion.ts), in the background of the caller. */
  complete(md: TxnMetadata): Promise<void> {
    return this.completions.complete(md);
  }

  // ------------------------------------------------------------------------------- timeouts and expiry

  /** Abort every Ongoing transaction open longer than its timeout. Returns how many were aborted. */
  async abortTimedOut(): Promise<number> {
    const now = this.now;
    const due = [...this.txns.values()].filter(
      (md) => md.state === 'Ongoing' && !md.pending && md.startTimestamp + md.timeoutMs <= now,
    );
    await Promise.all(due.map((md) => this.fenceAndAbort(md, 'transaction timed out')));
    return due.length;
  }

  /** Tombstone and forget ids idle longer than transactional.id.expiration.ms. Returns how many. */
  async expireIds(): Promise<number> {
    const now = this.now;
    let n = 0;
    for (const md of [...this.txns.values()]) {
      if (md.pending || this.completions.has(md.transactionalId)) continue;
      if (md.state !== 'Empty' && md.state !== 'CompleteCommit' && md.state !== 'CompleteAbort') continue;
      if (md.lastUpdateTimestamp + this.config.idExpirationMs > now) continue;
      const next = md.prepare('Dead', {}, now);
      try {
        await this.deps.store.write(md.transactionalId, null, now);
      } catch (err) {
        md.abandon();
        this.deps.log?.warn(
          { transactionalId: md.transactionalId, err: (err as Error).message },
          'expiring transactional id failed',
        );
        continue;
      }
      md.apply(next);
      this.txns.delete(md.transactionalId);
      n++;
    }
    return n;
  }

  // ------------------------------------------------------------------------------------ load and timers

  /** Apply one replayed `__transaction_state` record (later records win; null value = tombstone). */
  applyRecord(key: Buffer, value: Buffer | null): void {
    const id = decodeTxnLogKey(key);
    if (id === undefined) return;
    if (value === null) {
      this.txns.delete(id);
      return;
    }
    const v = decodeTxnLogValue(value);
    const md = TxnMetadata.fromLogValue(id, v);
    const prev = this.txns.get(id);
    if (prev && prev.producerId !== md.producerId) md.lastProducerId = prev.producerId;
    if (prev && prev.producerId === md.producerId && prev.producerEpoch !== md.producerEpoch)
      md.lastProducerEpoch = prev.producerEpoch;
    this.txns.set(id, md);
  }

  /** After replay: complete Prepare* transactions (of the ids `which` selects); start the periodic tasks. */
  async finishLoading(which: (transactionalId: string) => boolean = () => true): Promise<void> {
    this.loading = false;
    const prepared = [...this.txns.values()].filter(
      (md) => (md.state === 'PrepareCommit' || md.state === 'PrepareAbort') && which(md.transactionalId),
    );
    this.armTimers();
    await Promise.all(prepared.map((md) => this.complete(md)));
  }

  /** This node no longer coordinates `partition`: its transactional ids leave memory. */
  unloadPartition(partition: number): void {
    const own = this.ownership;
    if (!own) return;
    for (const id of [...this.txns.keys()]) if (own.inPartition(id, partition)) this.txns.delete(id);
    this.completions.abortPartition(partition);
  }

  private armTimers(): void {
    if (this.timersArmed) return;
    this.timersArmed = true;
    this.every(this.config.abortCheckIntervalMs, () => this.abortTimedOut(), 'aborting timed-out transactions');
    this.every(this.config.expireCheckIntervalMs, () => this.expireIds(), 'expiring transactional ids');
  }

  /** Run `task` every `ms` (counted from the end of the previous run) until shutdown. */
  private every(ms: number, task: () => Promise<unknown>, what: string): void {
    const tick = (): void => {
      this.timers.delete(timer);
      if (this.stopped) return;
      void task()
        .catch((err: unknown) => this.deps.log?.warn({ err: (err as Error).message }, `${what} failed`))
        .finally(() => {
          if (this.stopped) return;
          timer = this.deps.clock.setTimeout(tick, ms);
          this.timers.add(timer);
        });
    };
    let timer = this.deps.clock.setTimeout(tick, ms);
    this.timers.add(timer);
  }

  shutdown(): void {
    this.stopped = true;
    this.ownership?.stop();
    this.completions.stop();
    for (const t of this.timers) this.deps.clock.clearTimeout(t);
    this.timers.clear();
  }

  /** Wait for completions in flight (tests, shutdown). */
  idle(): Promise<void> {
    return this.completions.idle();
  }
}
