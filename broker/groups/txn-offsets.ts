/**
 * Transactional offset commits (TxnOffsetCommit, KIP-98), kept as Kafka keeps them:
 *
 * - TxnOffsetCommit appends the offset-commit records (records.ts formats) to the group's
 *   `__consumer_offsets` partition as a *transactional* batch carrying the producer id and epoch (origin
 *   'coordinator': no sequence numbers), and stages them in memory under the producer id. They are not
 *   visible to OffsetFetch yet.
 * - When the transaction coordinator has written the COMMIT marker to that partition, `complete(pid,
 *   true)` materializes the staged offsets into the groups (setOffset); an ABORT drops them.
 * - On start-up, offsets-log.ts's replay does the same in log order: records of transactional batches
 *   are held per producer id until that producer's control batch (COMMIT applies them, ABORT drops
 *   them). Records still unresolved at the end of the log belong to transactions that are Ongoing or
 *   Prepare* in `__transaction_state`; they are handed to `adopt()`, and the coordinator's completion
 *   (markers rewritten, or the timeout abort) resolves them as above. So committed offsets are exactly
 *   those whose COMMIT marker is in the log, across restarts. After an ABORT the touched keys' current
 *   values are written again (see complete()), because the log cleaner does not drop aborted records.
 *
 * Validation (Kafka's doTxnCommitOffsets): the producer must hold the transactional id at this epoch
 * with the group's partition in its Ongoing transaction (else INVALID_PRODUCER_ID_MAPPING /
 * PRODUCER_FENCED / INVALID_TXN_STATE); a missing group is created; a member id that is not empty must
 * belong to the group (UNKNOWN_MEMBER_ID), a generation ≥ 0 must be the group's (ILLEGAL_GENERATION), a
 * static instance must not be fenced (FENCED_INSTANCE_ID). Not done: OffsetFetch requireStable's
 * UNSTABLE_OFFSET_COMMIT while offsets are staged.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { buildRecordBatch } from '../../protocol/records/builder.js';
import type { BrokerServices } from '../services.js';
import type { GroupCoordinator } from './coordinator.js';
import { Group } from './group.js';
import { MAX_METADATA_BYTES } from './offsets.js';
import { OFFSETS_TOPIC, OffsetsTopicLog, type GroupLogRecord } from './offsets-log.js';
import { coordinatorErrorFor } from '../internal-topic.js';
import { PartitionStateError } from '../../replication/partition.js';
import {
  decodeKey,
  decodeOffsetValue,
  offsetKey,
  offsetsPartitionFor,
  offsetValue,
  type OffsetValue,
} from './records.js';

export interface StagedOffset {
  group: string;
  topic: string;
  partition: number;
  value: OffsetValue;
}

export interface TxnCommitParams {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  partitions: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string | null }[];
}

/** What TxnOffsetCommit needs from the transaction coordinator. */
export interface TxnVerifier {
  verifyOngoing(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    tp: { topic: string; partition: number },
  ): number;
}

export class TxnOffsetStore {
  /** producer id → staged offsets, in commit order */
  readonly pending = new Map<number, StagedOffset[]>();

  /** Whether an open transaction has staged an offset for this group and partition (OffsetFetch requireStable). */
  hasPending(group: string, topic: string, partition: number): boolean {
    for (const list of this.pending.values()) {
      for (const o of list) if (o.group === group && o.partition === partition && o.topic === topic) return true;
    }
    return false;
  }

  constructor(private readonly groups: () => GroupCoordinator | undefined) {}

  stage(producerId: number, offsets: StagedOffset[]): void {
    let list = this.pending.get(producerId);
    if (!list) {
      list = [];
      this.pending.set(producerId, list);
    }
    list.push(...offsets);
  }

  /** Records left unresolved by the replay of `__consumer_offsets` (producer id → raw records). */
  adopt(unresolved: Map<number, { key: Buffer; value: Buffer | null }[]>): void {
    for (const [pid, records] of unresolved) {
      const staged: StagedOffset[] = [];
      for (const r of records) {
        const k = decodeKey(r.key);
        if (k?.kind !== 'offset' || r.value === null) continue;
        staged.push({ group: k.group, topic: k.topic, partition: k.partition, value: decodeOffsetValue(r.value) });
      }
      if (staged.length > 0) this.stage(pid, staged);
    }
  }

  /**
   * The producer's transaction ended: materialize (commit) or drop (abort) its staged offsets. After an
   * abort the current committed value of each touched key (or a tombstone) is written again, so that the
   * latest record of the key in `__consumer_offsets` is not the aborted one: the log cleaner judges
   * records by key only and would otherwise let the aborted record hide the committed one.
   */
  async complete(producerId: number, commit: boolean): Promise<number> {
    const list = this.pending.get(producerId);
    this.pending.delete(producerId);
    const c = this.groups();
    if (!list || !c) return 0;
    // Groups of partitions not coordinated here: their coordinator replays the records and the marker.
    const here = list.filter((s) => c.status(s.group) === ErrorCode.NONE);
    if (!commit) {
      await this.restoreAfterAbort(c, here);
      return 0;
    }
    for (const s of here) {
      let group = c.groups.get(s.group);
      if (!group) {
        group = new Group(s.group, c.clock.now());
        c.groups.set(s.group, group);
      }
      group.setOffset(s.topic, s.partition, s.value);
    }
    return here.length;
  }

  private async restoreAfterAbort(c: GroupCoordinator, list: StagedOffset[]): Promise<void> {
    const byGroup = new Map<string, Map<string, GroupLogRecord>>();
    for (const s of list) {
      let recs = byGroup.get(s.group);
      if (!recs) {
        recs = new Map();
        byGroup.set(s.group, recs);
      }
      const current = c.groups.get(s.group)?.offsets.get(s.topic)?.get(s.partition);
      recs.set(`${s.topic}\u0000${s.partition}`, {
        key: offsetKey(s.group, s.topic, s.partition),
        value: current ? offsetValue(current) : null,
      });
    }
    for (const [group, recs] of byGroup) {
      try {
        await c.store.write(group, [...recs.values()], c.clock.now());
      } catch (err) {
        c.log?.warn({ group, err: (err as Error).message }, 'rewriting offsets after an aborted transaction failed');
      }
    }
  }
}

/** TxnOffsetCommit: one error code per partition, in order. */
export async function txnCommitOffsets(
  services: Pick<BrokerServices, 'groups' | 'metadata' | 'partitions' | 'config'>,
  store: TxnOffsetStore,
  txn: TxnVerifier,
  p: TxnCommitParams,
): Promise<number[]> {
  const all = (code: number): number[] => p.partitions.map(() => code);
  const c = services.groups;
  if (!p.groupId) return all(ErrorCode.INVALID_GROUP_ID);
  const unavailable = c.status(p.groupId);
  if (unavailable) return all(unavailable);
  const offsetsLog = new OffsetsTopicLog(services);
  try {
    await offsetsLog.ensureTopic();
  } catch {
    return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }
  const partition = offsetsPartitionFor(p.groupId, services.metadata.image.topic(OFFSETS_TOPIC)!.partitions);
  const verified = txn.verifyOngoing(p.transactionalId, p.producerId, p.producerEpoch, {
    topic: OFFSETS_TOPIC,
    partition,
  });
  if (verified !== ErrorCode.NONE) return all(verified);

  const consumerGroup = c.consumer?.groups.get(p.groupId);
  if (consumerGroup && p.memberId) {
    const code = c.consumer!.validateOffsetCommit(p.groupId, p.memberId, p.generationId, { transactional: true });
    if (code !== ErrorCode.NONE) return all(code);
  } else {
    const group = c.groups.get(p.groupId);
    if (group) {
      if (group.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      const holder = p.groupInstanceId !== null ? group.staticMembers.get(p.groupInstanceId) : undefined;
      if (holder !== undefined && holder !== p.memberId) return all(ErrorCode.FENCED_INSTANCE_ID);
      if (p.memberId !== '' && !group.members.has(p.memberId)) return all(ErrorCode.UNKNOWN_MEMBER_ID);
      if (p.generationId >= 0 && p.generationId !== group.generation) return all(ErrorCode.ILLEGAL_GENERATION);
    } else if (p.memberId !== '' || p.generationId >= 0) {
      if (!consumerGroup) return all(ErrorCode.ILLEGAL_GENERATION);
    }
  }

  const now = c.clock.now();
  const codes: number[] = [];
  const staged: StagedOffset[] = [];
  for (const part of p.partitions) {
    const metadata = part.metadata ?? '';
    const count = services.metadata.image.topic(part.topic)?.partitions;
    if (Buffer.byteLength(metadata, 'utf8') > MAX_METADATA_BYTES) codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
    else if (count === undefined || part.partition < 0 || part.partition >= count)
      codes.push(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    else {
      staged.push({
        group: p.groupId,
        topic: part.topic,
        partition: part.partition,
        value: { offset: part.offset, leaderEpoch: part.leaderEpoch, metadata, commitTimestamp: now },
      });
      codes.push(ErrorCode.NONE);
    }
  }
  if (staged.length === 0) return codes;
  try {
    const batch = await buildRecordBatch(
      staged.map((s) => ({
        key: offsetKey(s.group, s.topic, s.partition),
        value: offsetValue(s.value),
        timestamp: now,
      })),
      { producerId: p.producerId, producerEpoch: p.producerEpoch, baseSequence: -1, transactional: true },
    );
    const r = await services.partitions.appendRecords(OFFSETS_TOPIC, partition, batch, {
      origin: 'coordinator',
      requiredAcks: -1,
      timeoutMs: services.config.int('offsets.commit.timeout.ms'),
    });
    if (r.errorCode !== ErrorCode.NONE) throw new PartitionStateError('transactional offset commit', r.errorCode);
  } catch (err) {
    const code = (err as { kafkaCode?: number }).kafkaCode;
    c.log?.warn({ group: p.groupId, err: (err as Error).message }, 'writing transactional offset commit failed');
    const mapped =
      code === ErrorCode.INVALID_PRODUCER_EPOCH || code === ErrorCode.PRODUCER_FENCED
        ? ErrorCode.PRODUCER_FENCED
        : coordinatorErrorFor(err, ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
    return codes.map((x) => (x === ErrorCode.NONE ? mapped : x));
  }
  store.stage(p.producerId, staged);
  return codes;
}
