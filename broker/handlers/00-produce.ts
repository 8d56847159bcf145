/**
 * Produce (key 0), versions 0-11 implemented (0-2 from Kafka 3.9.1's definitions, carrying magic 0/1
 * message sets that are converted to v2 batches on append); advertised 0-11 (librdkafka needs v0 in the
 * advertised range to compress). v12/v13 (KIP-890 part 2, topic ids) are not advertised.
 *
 * Per partition: validate (produce-validator.ts), stamp offsets and append; errors are per partition and
 * nothing is written for a failed partition. acks=0 appends and sends no response; acks=1 and acks=-1
 * answer once the append is done (and fsynced when flush.messages demands it); acks=-1 then waits in the
 * purgatory until the high watermark passes the batch (at once with one replica), else REQUEST_TIMED_OUT
 * after timeoutMs. Other acks values get INVALID_REQUIRED_ACKS. A partition this node does not lead (a
 * follower's, or one of the cluster not hosted here) → NOT_LEADER_OR_FOLLOWER, nothing written; v10+ answers
 * then name its current leader and the response that leader's endpoint (KIP-951, broker/leader-hints.ts).
 * In a cluster, a partition with no log here whose topic this node may not have applied yet (just created
 * through another node) is looked up again once this node caught up with etcd (bounded;
 * broker/partition-catch-up.ts), so a producer that learned the new leader elsewhere is not refused. After this
 * node's etcd session lost its lease (say the process was stopped past the session timeout), the first requests
 * wait (bounded) until its image caught up with etcd (MetadataStore.catchUpIfStale): a former leader resumed
 * answers NOT_LEADER_OR_FOLLOWER for partitions moved meanwhile instead of appending a batch no follower takes.
 * Appends go through the replica manager (Partition.appendAsLeader, this node's leader epoch); the HW move
 * wakes fetches waiting on the partition. Once every partition's append is queued on its log, the handler
 * releases the connection (ctx.release) so the client's next pipelined request starts while this one waits
 * for its write and fsync: consecutive produces share writevs and fsyncs (group commit) and stay in order.
 *
 * Authorization (as Kafka's KafkaApis): a request carrying transactional batches needs WRITE on its
 * TransactionalId, else every partition answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED and nothing is written;
 * then WRITE on each topic, else its partitions answer TOPIC_AUTHORIZATION_FAILED (checked before the topic's
 * existence, so an unauthorized client learns nothing) and are not written. Idempotent batches need no
 * cluster permission here (KIP-679: InitProducerId checks it). With acks=0 a denied partition closes the
 * connection once the request is done (the client gets no answer to see the error in, as Kafka's
 * closeConnection); Kafka closes so for any partition error, Runnel so far only for authorization failures.
 *
 * Idempotence (storage/producer-state.ts, checked inside the partition's append queue): a retried batch
 * (one of the producer's last five) is answered with its original base offset and not written again;
 * sequence gaps answer OUT_OF_ORDER_SEQUENCE_NUMBER, stale epochs INVALID_PRODUCER_EPOCH (the coded
 * error's kafkaCode). Test hook: `Broker.dropProduceResponse(topic, partition)` (seen as
 * `services.testHooks`) returning true after an append makes the handler throw, which closes the
 * connection without an answer (clients retry).
 *
 * Quotas (broker/quotas/): the request's size is recorded against the client's producer_byte_rate once its
 * appends are queued; over the quota the response carries throttle_time_ms (v1+) and the connection is muted that
 * long after answering (also with acks=0, which gets no answer). A throttled request does not release the
 * connection early: the client's next request waits for the mute, as it does in Kafka (one request of a
 * connection at a time), instead of overlapping it (a client pipelining large requests would outrun its quota).
 */
import { decodeProduceRequest, type ProduceRequest } from '../../protocol/generated/produce-request.js';
import {
  defaultProduceResponse,
  defaultProduceResponsePartitionProduceResponse,
  encodeProduceResponse,
  type ProduceResponse,
  type ProduceResponsePartitionProduceResponse,
} from '../../protocol/generated/produce-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { InjectedFaultError, RunnelError } from '../../protocol/errors.js';
import { ProducerStateError } from '../../storage/producer-state.js';
import { validateProduce } from '../produce-validator.js';
import { LeaderHints } from '../leader-hints.js';
import { partitionCaughtUp } from '../partition-catch-up.js';
import { registerHandler } from './registry.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  MAGIC_OFFSET,
  TRANSACTIONAL_FLAG_MASK,
} from '../../protocol/records/batch-header.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorized, filterAuthorized } from '../security/authorize.js';

/** Kafka's RequestUtils.hasTransactionalRecords: some partition's first batch is a transactional v2 batch. */
function hasTransactionalRecords(req: ProduceRequest): boolean {
  return req.topicData.some((t) =>
    t.partitionData.some(
      (p) =>
        p.records !== null &&
        p.records.length >= BATCH_HEADER_SIZE &&
        p.records[MAGIC_OFFSET] === 2 &&
        (p.records.readInt16BE(ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG_MASK) !== 0,
    ),
  );
}

/** KIP-951: each NOT_LEADER_OR_FOLLOWER partition names its current leader; the response their endpoints. */
function addLeaderHints(res: ProduceResponse, hints: LeaderHints): void {
  for (const t of res.responses) {
    for (const p of t.partitionResponses) {
      if (p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) p.currentLeader = hints.leaderOf(t.name, p.index);
    }
  }
  res.nodeEndpoints = hints.nodeEndpoints();
}

export const produceHandler = registerHandler<ProduceRequest, ProduceResponse>({
  apiKey: 0,
  name: 'Produce',
  minVersion: 0,
  maxVersion: 11,
  decode: decodeProduceRequest,
  encode: encodeProduceResponse,
  async handle(req, ctx) {
    const { clock, partitions, testHooks } = ctx.services;
    const stale = ctx.services.metadata.catchUpIfStale?.();
    if (stale) await stale;
    const v = ctx.apiVersion;
    const acksValid = req.acks === 0 || req.acks === 1 || req.acks === -1;
    const res = defaultProduceResponse();
    const pending: Promise<void>[] = [];
    // Partitions whose append is not yet queued on its log (or failed before): `allQueued` settles at zero.
    let unqueued = 1;
    let markAllQueued!: () => void;
    const allQueued = new Promise<void>((resolve) => (markAllQueued = resolve));
    const queuedOne = (): void => {
      if (--unqueued === 0) markAllQueued();
    };
    let drop = false;
    let txnDenied = false;
    if (hasTransactionalRecords(req)) {
      const id = req.transactionalId;
      txnDenied = id === null || !authorized(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, id);
    }
    const writable = txnDenied
      ? new Set<string>()
      : filterAuthorized(
          ctx,
          AclOperation.WRITE,
          AclResourceType.TOPIC,
          req.topicData.map((t) => t.name),
        );
    for (const t of req.topicData) {
      const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
      res.responses.push({ name: t.name, topicId: t.topicId, partitionResponses });
      for (const p of t.partitionData) {
        const out = defaultProduceResponsePartitionProduceResponse();
        out.index = p.index;
        out.baseOffset = -1n;
        out.logAppendTimeMs = -1n;
        out.logStartOffset = -1n;
        partitionResponses.push(out);
        if (txnDenied) {
          out.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
          continue;
        }
        if (!writable.has(t.name)) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        if (!acksValid) {
          out.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
          continue;
        }
        const found = partitions.getPartitionOrError(t.name, p.index);
        // Not here (yet?): this node may not have applied a topic just created elsewhere; catch up first.
        const lookup = typeof found === 'number' ? partitionCaughtUp(ctx.services, t.name, p.index) : found;
        unqueued++;
        let isQueued = false;
        const markQueued = (): void => {
          if (isQueued) return;
          isQueued = true;
          queuedOne();
        };
        pending.push(
          (async () => {
            try {
              const partition = await lookup;
              if (typeof partition === 'number') {
                out.errorCode = partition;
                return;
              }
              const now = clock.now();
              const checked = await validateProduce(p.records, v, partition.logConfig, now);
              if (checked.errorCode !== ErrorCode.NONE) {
                out.errorCode = checked.errorCode;
                out.errorMessage = checked.errorMessage ?? null;
                if (
                  checked.errorCode === ErrorCode.INVALID_RECORD ||
                  checked.errorCode === ErrorCode.INVALID_TIMESTAMP
                ) {
                  out.recordErrors = [{ batchIndex: 0, batchIndexErrorMessage: checked.errorMessage ?? null }];
                }
                ctx.log.debug({ topic: t.name, partition: p.index, error: checked.errorMessage }, 'produce rejected');
                return;
              }
              try {
                const r = await partitions.appendRecords(t.name, p.index, checked.records!, {
                  requiredAcks: req.acks,
                  timeoutMs: req.timeoutMs,
                  appendTime: now,
                  onQueued: markQueued,
                });
                out.errorCode = r.errorCode;
                out.baseOffset = BigInt(r.baseOffset);
                out.logAppendTimeMs = BigInt(r.logAppendTime);
                out.logStartOffset = BigInt(r.logStartOffset);
                if (testHooks.dropProduceResponse?.(t.name, p.index)) drop = true;
              } catch (err) {
                out.errorCode =
                  err instanceof RunnelError && err.kafkaCode > 0 ? err.kafkaCode : ErrorCode.KAFKA_STORAGE_ERROR;
                out.errorMessage = (err as Error).message;
                const level = err instanceof ProducerStateError ? 'debug' : 'warn';
                ctx.log[level]({ topic: t.name, partition: p.index, err: (err as Error).message }, 'append failed');
              }
            } finally {
              markQueued();
            }
          })(),
        );
      }
    }
    // Every append is in its log's queue, in this request's order: the next request may start, unless this one
    // is throttled (then it waits for the mute).
    queuedOne(); // every partition is counted
    const throttled = allQueued.then(() => {
      const ms = ctx.quota.recordProduce();
      if (ms === 0) ctx.release?.();
      return ms;
    });
    await Promise.all(pending);
    const throttleMs = await throttled;
    if (drop) throw new InjectedFaultError('test hook: produce response dropped');
    if (req.acks === 0 && (txnDenied || req.topicData.some((t) => !writable.has(t.name)))) {
      ctx.log.info(
        { correlationId: ctx.header.correlationId, clientId: ctx.header.clientId },
        'Closing connection due to error during produce request with ack=0: authorization failed',
      );
      ctx.closeConnection?.();
      return null;
    }
    res.throttleTimeMs = throttleMs;
    if (v >= 10) addLeaderHints(res, new LeaderHints(ctx.services.metadata.image));
    return req.acks === 0 ? null : res;
  },
});
