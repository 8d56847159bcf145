/**
 * Fetch (key 1), versions 0-17 (0-3 from Kafka 3.9.1's definitions; 13+ name topics by id, KIP-516).
 *
 * Reads whole record batches as stored, from file ranges, without decoding them: per partition up to
 * `partitionMaxBytes`, per response up to `maxBytes` (v3+), always at least one whole batch for the first
 * partition that has data, even above the limits (KIP-74). Consumers read below the high watermark;
 * read_committed (v4+) below the last stable offset (the first offset of an undecided transaction, or the
 * high watermark), with the aborted transactions overlapping the returned batches (from the segments'
 * `.txnindex`) so the client can drop their records; every v4+ response carries the LSO.
 * Every partition carries a record set, empty (never null) when there is nothing to return, as Kafka's
 * broker sends: librdkafka cannot parse a response with a null one. A partition with an error answers as
 * Kafka's does: high watermark, last stable and log start offsets -1, empty records. Unknown topics,
 * partitions (UNKNOWN_TOPIC_OR_PARTITION) and topic ids (v13+: UNKNOWN_TOPIC_ID) are answered apart;
 * any other error (OFFSET_OUT_OF_RANGE, UNKNOWN_LEADER_EPOCH, ...) answers the whole request at once.
 * Long polling: when fewer than `minBytes` are available the request waits up to `maxWaitMs` and answers
 * as soon as a produce to one of its partitions makes `minBytes` available (a delayed fetch in the replica
 * manager's purgatory, woken by appends and high-watermark moves); a request with no existing partition
 * answers at once. Partitions are read through the replica manager: the client's current leader epoch is
 * checked against the partition's (newer → UNKNOWN_LEADER_EPOCH, older → FENCED_LEADER_EPOCH). Fetch
 * sessions (KIP-227, v7+): see `broker/fetch-sessions.ts`. Fetchers below v4 read only message format
 * 0/1: their batches are down-converted (`protocol/records/legacy.ts`).
 * Consumers (replicaId -1) read from the leader; from v11 (KIP-392, a rackId and client metadata) any replica
 * serves them, a follower up to the HW it knows (never beyond; past its log end without a leader epoch: an
 * empty answer, as Kafka), and with `replica.selector.class` set the leader answers a preferredReadReplica
 * (with offsets, no records; replication/replica-selector.ts) when a live in-sync follower in the client's
 * rack should serve it. ListOffsets stays on the leader. v16+ (KIP-951): a NOT_LEADER_OR_FOLLOWER or
 * FENCED_LEADER_EPOCH partition names its current leader, the response carries its endpoint (leader-hints.ts).
 * Replica fetches (replicaId >= 0 up to v14, ReplicaState.replicaId from v15): only from a follower of a
 * partition this node leads (else NOT_LEADER_OR_FOLLOWER); they read up to the log end, not the HW, the
 * fetch offset is recorded as the follower's log end (ReplicaManager.readForReplica: ISR, HW), and the
 * answer carries the HW.
 * Quotas (broker/quotas/, as Kafka's handleFetch): a consumer's response is capped at what its consumer_byte_rate
 * has left in the quota window (one batch at least), its record bytes are recorded against that quota, and over
 * it the answer is throttle_time_ms with no partitions (the bytes unrecorded; an incremental session keeps its
 * new epoch, a full request opens no session); the connection is muted that long after answering. The long-poll
 * wait does not count as request handling time. Replica fetches are exempt from client quotas.
 * Authorization (Kafka's KafkaApis): a replica fetch needs CLUSTER_ACTION on the CLUSTER, else every partition
 * answers TOPIC_AUTHORIZATION_FAILED; a consumer needs READ on each topic, else its partitions answer
 * TOPIC_AUTHORIZATION_FAILED (before existence is looked at) with no records and no offsets. Denied partitions
 * are not waited on; in a fetch session they stay in the session and are checked again on each request.
 * Memory (issue #16): a consumer's file ranges are read into reused slabs (storage/read-buffers.ts) that go back
 * to the pool once the response has been handed to the socket (ctx.afterResponse), not into fresh buffers,
 * and the partitions' reads overlap (broker/fetch-read-ahead.ts) with the answers decided in order as before.
 * Once a consumer's answer is decided, each partition's next range is read ahead for the connection's next fetch
 * (broker/fetch-prefetch.ts), which uses it when it asks for exactly that offset.
 * All consumer fetches in flight together read at most `fetch.memory.max.bytes`: past it a response's maxBytes
 * shrinks to what is left (at least 1 MiB, and one batch as always).
 */
import { decodeFetchRequest, type FetchRequest } from '../../protocol/generated/fetch-request.js';
import {
  defaultFetchResponse,
  defaultFetchResponsePartitionData,
  encodeFetchResponse,
  type FetchResponse,
  type FetchResponsePartitionData,
} from '../../protocol/generated/fetch-response.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import {
  FetchSession,
  FINAL_EPOCH,
  INITIAL_EPOCH,
  INVALID_SESSION_ID,
  nextEpoch,
  type SessionPartition,
} from '../fetch-sessions.js';
import { registerHandler } from './registry.js';
import { batchToLegacy } from '../../protocol/records/legacy.js';
import { RunnelError } from '../../protocol/errors.js';
import type { Partition } from '../../replication/partition.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import { preferredReadReplica } from '../../replication/replica-selector.js';
import { LeaderHints } from '../leader-hints.js';
import { AclOperation, AclResourceType } from '../authorizer.js';
import { authorizedCluster, filterAuthorized } from '../security/authorize.js';
import { fetchReadBuffers } from '../../storage/read-buffers.js';
import { FetchReadAhead, type AheadRead } from '../fetch-read-ahead.js';
import { nextOffsetAfter, prefetchOf, type NextRange } from '../fetch-prefetch.js';

const INT32_MAX = 2147483647;
const EMPTY = Buffer.alloc(0);

/** One partition to read: a request's partition, or a session's. */
type Item = Omit<SessionPartition, 'lastHighWatermark' | 'lastLogStartOffset' | 'lastStableOffset'>;

/** A response with a top-level (session) error and no partitions. */
function sessionError(errorCode: number, sessionId = INVALID_SESSION_ID): FetchResponse {
  const res = defaultFetchResponse();
  res.errorCode = errorCode;
  res.sessionId = sessionId;
  return res;
}

/** A partition answer with an error, as Kafka fills it. */
function failed(out: FetchResponsePartitionData, errorCode: number): void {
  out.errorCode = errorCode;
  out.highWatermark = -1n;
  out.lastStableOffset = -1n;
  out.logStartOffset = -1n;
  out.abortedTransactions = null;
  out.records = EMPTY;
}

interface ReadOptions {
  /** A follower's id (replica fetch), or -1 for consumers. */
  replicaId: number;
  version: number;
  responseMax: number;
  readCommitted: boolean;
  byId: boolean;
  /**
   * KIP-392 (consumers at v11+): followers serve the fetch, and the leader may answer a preferred read
   * replica instead of records (`preferred`, else undefined: read here).
   */
  fromAnyReplica: boolean;
  preferred: ((p: Partition, fetchOffset: number) => number) | undefined;
  /** Whether the client may read the topic (replica fetches: CLUSTER_ACTION; consumers: READ on the topic). */
  readable: (topic: string) => boolean;
  /** Consumers: where file ranges are read into (reused slabs, given back once the response is sent). */
  alloc: ((length: number) => Buffer) | undefined;
  /** Consumers: the read the connection's previous fetch started for a partition at an offset (fetch-prefetch.ts). */
  prefetched: ((part: Partition, offset: number) => AheadRead | undefined) | undefined;
}

/**
 * Read every item once. Returns the answers, the bytes read, whether any read failed (which ends a long
 * poll) and the logs that can be read (the ones a long poll waits on).
 */
async function readOnce(
  partitions: ReplicaManager,
  items: Item[],
  o: ReadOptions,
): Promise<{ results: FetchResponsePartitionData[]; total: number; failedRead: boolean; readable: Item[] }> {
  // failedRead also ends a long poll for a partition redirected to its preferred read replica.
  let total = 0;
  let failedRead = false;
  const results: FetchResponsePartitionData[] = [];
  const readable: Item[] = [];
  // Consumers: the partitions' log reads overlap (fetch-read-ahead.ts); the answers are decided in order below.
  // What is read ahead stays within the response's maxBytes (the memory a sequential read may take anyway).
  let aheadBytes = 0;
  const ahead =
    o.replicaId < 0 && items.length > 1
      ? new FetchReadAhead(items.length, (j) => {
          const it = items[j];
          if ((o.byId && it.topic === '') || !o.readable(it.topic)) return undefined;
          const part = partitions.getPartitionOrError(it.topic, it.partition, it.currentLeaderEpoch, !o.fromAnyReplica);
          if (typeof part === 'number') return undefined;
          const maxBytes = Math.max(0, it.maxBytes);
          if (aheadBytes + maxBytes > o.responseMax) return undefined;
          aheadBytes += maxBytes;
          const pre = o.prefetched?.(part, it.fetchOffset);
          if (pre) return pre;
          const opts = { readCommitted: o.readCommitted, minOneBatch: true, alloc: o.alloc };
          return { part, maxBytes, result: part.read(it.fetchOffset, maxBytes, opts) };
        })
      : undefined;
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const out = defaultFetchResponsePartitionData();
    out.partitionIndex = it.partition;
    out.records = EMPTY;
    results.push(out);
    if (o.byId && it.topic === '') {
      failed(out, ErrorCode.UNKNOWN_TOPIC_ID);
      continue;
    }
    if (!o.readable(it.topic)) {
      failed(out, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      continue;
    }
    if (o.replicaId >= 0) {
      const room = Math.max(0, Math.min(it.maxBytes, o.responseMax - total));
      const r = await partitions.readForReplica(
        o.replicaId,
        { ...it, maxBytes: room, currentLeaderEpoch: it.currentLeaderEpoch },
        total === 0,
      );
      if (r.errorCode !== ErrorCode.NONE) {
        failed(out, r.errorCode);
        if (r.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) failedRead = true;
        continue;
      }
      readable.push(it);
      out.highWatermark = BigInt(r.highWatermark);
      out.lastStableOffset = BigInt(r.lastStableOffset);
      out.logStartOffset = BigInt(r.logStartOffset);
      out.records = r.records;
      total += r.records.length;
      continue;
    }
    const part: Partition | number = partitions.getPartitionOrError(
      it.topic,
      it.partition,
      it.currentLeaderEpoch,
      !o.fromAnyReplica,
    );
    if (typeof part === 'number') {
      failed(out, part);
      if (part !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) failedRead = true;
      continue;
    }
    const preferred = part.isLeader && o.preferred ? o.preferred(part, it.fetchOffset) : -1;
    if (preferred >= 0) {
      // The leader sends the client to a replica closer to it: offsets, no records.
      out.highWatermark = BigInt(part.highWatermark);
      out.lastStableOffset = BigInt(part.lastStableOffset);
      out.logStartOffset = BigInt(part.logStartOffset);
      out.abortedTransactions = o.readCommitted ? [] : null;
      out.preferredReadReplica = preferred;
      failedRead = true;
      continue;
    }
    readable.push(it);
    // read_committed reads up to the last stable offset, read_uncommitted up to the high watermark.
    const room = Math.min(it.maxBytes, o.responseMax - total);
    const early = ahead ? ahead.take(i, part) : o.prefetched?.(part, it.fetchOffset);
    let r = early ? await early.result : undefined;
    if (r === undefined || !FetchReadAhead.usable(r.records, early?.maxBytes ?? 0, Math.max(0, room), total === 0)) {
      r = await part.read(it.fetchOffset, Math.max(0, room), {
        readCommitted: o.readCommitted,
        minOneBatch: total === 0,
        alloc: o.alloc,
      });
    }
    const lso = r.lastStableOffset;
    if (
      r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE &&
      !part.isLeader &&
      it.currentLeaderEpoch < 0 &&
      it.fetchOffset > part.logEndOffset
    ) {
      // A follower asked past its log end by a client without leader epochs (maybe stale metadata): an
      // empty answer and the client retries, as Kafka (OFFSET_OUT_OF_RANGE would reset its position).
      out.highWatermark = BigInt(r.highWatermark);
      out.lastStableOffset = BigInt(lso);
      out.logStartOffset = BigInt(r.logStartOffset);
      out.abortedTransactions = o.readCommitted ? [] : null;
      continue;
    }
    if (r.errorCode !== 0) {
      failed(out, r.errorCode);
      failedRead = true;
      continue;
    }
    out.highWatermark = BigInt(r.highWatermark);
    out.lastStableOffset = BigInt(lso);
    out.logStartOffset = BigInt(r.logStartOffset);
    out.abortedTransactions = o.readCommitted ? [] : null;
    if (room <= 0 && total > 0) continue;
    let records = r.records;
    if (o.version < 4 && records.length > 0) {
      try {
        records = await batchToLegacy(records, o.version < 2 ? 0 : 1);
      } catch (err) {
        if (!(err instanceof RunnelError)) throw err;
        failed(out, err.kafkaCode > 0 ? err.kafkaCode : ErrorCode.CORRUPT_MESSAGE);
        failedRead = true;
        continue;
      }
    }
    out.records = records;
    total += records.length;
    if (o.readCommitted && records.length > 0) {
      const aborted = await part.abortedTransactions(it.fetchOffset, nextOffsetAfter(records));
      out.abortedTransactions = aborted.map((a) => ({
        producerId: BigInt(a.producerId),
        firstOffset: BigInt(a.firstOffset),
      }));
    }
  }
  return { results, total, failedRead, readable };
}

/** For the read-ahead of the next fetch: each partition that returned records, from the offset after them. */
function nextRanges(partitions: ReplicaManager, items: Item[], results: FetchResponsePartitionData[]): NextRange[] {
  const next: NextRange[] = [];
  for (let i = 0; i < items.length; i++) {
    const out = results[i];
    if (out.errorCode !== 0 || !out.records || out.records.length === 0) continue;
    const it = items[i];
    const part = partitions.getPartitionOrError(it.topic, it.partition, it.currentLeaderEpoch, true);
    if (typeof part !== 'number') next.push({ part, offset: nextOffsetAfter(out.records), maxBytes: it.maxBytes });
  }
  return next;
}

/** KIP-951: NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH partitions name their leader, the response its endpoint. */
function addLeaderHints(res: FetchResponse, included: [Item, FetchResponsePartitionData][], hints: LeaderHints): void {
  for (const [it, out] of included) {
    if (out.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || out.errorCode === ErrorCode.FENCED_LEADER_EPOCH) {
      out.currentLeader = hints.leaderOf(it.topic, it.partition);
    }
  }
  res.nodeEndpoints = hints.nodeEndpoints();
}

export const fetchHandler = registerHandler<FetchRequest, FetchResponse>({
  apiKey: 1,
  name: 'Fetch',
  minVersion: 0,
  maxVersion: 17,
  decode: decodeFetchRequest,
  encode: encodeFetchResponse,
  async handle(req, ctx) {
    const { clock, metadata, fetchSessions, partitions, stopping, config } = ctx.services;
    const v = ctx.apiVersion;
    const byId = v >= 13;
    const now = clock.now();
    const nameOf = (topic: string, topicId: string): string =>
      byId ? (metadata.image.topicById(topicId)?.name ?? '') : topic;

    const requested: SessionPartition[] = [];
    for (const t of req.topics) {
      const topic = nameOf(t.topic, t.topicId);
      for (const p of t.partitions) {
        requested.push({
          topic,
          topicId: t.topicId,
          partition: p.partition,
          fetchOffset: Number(p.fetchOffset),
          maxBytes: p.partitionMaxBytes,
          currentLeaderEpoch: p.currentLeaderEpoch,
          lastHighWatermark: -1,
          lastLogStartOffset: -1,
          lastStableOffset: -1,
        });
      }
    }

    // ---- session (KIP-227) ----
    let mode: 'sessionless' | 'full' | 'incremental' = 'sessionless';
    let session: FetchSession | undefined;
    let items: Item[] = requested;
    if (v >= 7) {
      const cache = fetchSessions;
      if (req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH) {
        // A full request closes the session it names; epoch 0 then opens a new one.
        if (req.sessionId !== INVALID_SESSION_ID) cache.remove(req.sessionId);
        if (req.sessionEpoch === INITIAL_EPOCH) mode = 'full';
      } else {
        const s = cache.get(req.sessionId);
        if (!s) return sessionError(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
        if (s.epoch !== req.sessionEpoch) return sessionError(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
        if (s.usesTopicIds !== byId) return sessionError(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
        const forgotten = req.forgottenTopicsData.flatMap((f) =>
          f.partitions.map((partition) => ({ topic: f.topic, topicId: f.topicId, partition })),
        );
        s.update(requested, forgotten);
        if (s.partitions.size === 0) {
          cache.remove(s.id);
        } else {
          cache.touch(s, now);
          s.epoch = nextEpoch(s.epoch);
          session = s;
          mode = 'incremental';
          items = [...s.partitions.values()];
          // A topic id that did not resolve may have been created since.
          for (const e of items) if (byId && e.topic === '') e.topic = nameOf('', e.topicId);
        }
      }
    }
    const expectedEpoch = session?.epoch;

    // ---- read, waiting for minBytes up to maxWaitMs ----
    const replicaId = v >= 15 ? req.replicaState.replicaId : req.replicaId;
    let readableTopics: (topic: string) => boolean;
    if (replicaId >= 0) {
      ctx.quota.exempt();
      const allowed = authorizedCluster(ctx, AclOperation.CLUSTER_ACTION);
      readableTopics = () => allowed;
    } else {
      const allowed = filterAuthorized(
        ctx,
        AclOperation.READ,
        AclResourceType.TOPIC,
        items.filter((it) => it.topic !== '').map((it) => it.topic),
      );
      readableTopics = (topic) => allowed.has(topic);
    }
    // A consumer's file ranges land in reused slabs, back in the pool once the response is in the socket
    // (every read of a long poll included; replica fetches keep fresh memory: the follower's log keeps it).
    // They are bounded together by fetch.memory.max.bytes: past it a response gets less room (lease.granted).
    let alloc: ((length: number) => Buffer) | undefined;
    let prefetched: ReadOptions['prefetched'];
    let responseMax = Math.min(v >= 3 ? req.maxBytes : INT32_MAX, ctx.quota.maxFetchBytes());
    // (v4+: older answers are down-converted, their offsets read from the converted records)
    const prefetch = replicaId < 0 && v >= 4 && ctx.afterResponse && ctx.session ? prefetchOf(ctx.session) : undefined;
    if (replicaId < 0 && ctx.afterResponse) {
      const afterResponse = ctx.afterResponse;
      const lease = fetchReadBuffers.lease(responseMax, config.get('fetch.memory.max.bytes') as number);
      afterResponse(() => lease.release());
      alloc = lease.alloc;
      responseMax = lease.granted;
      const readCommitted = v >= 4 && req.isolationLevel === 1;
      prefetched = prefetch
        ? (part, offset) => prefetch.take(part, offset, readCommitted, (l) => afterResponse(() => l.release()))
        : undefined;
    }
    const opts: ReadOptions = {
      readable: readableTopics,
      alloc,
      prefetched,
      replicaId,
      version: v,
      responseMax,
      readCommitted: v >= 4 && req.isolationLevel === 1,
      byId,
      fromAnyReplica: replicaId < 0 && v >= 11,
      preferred: undefined,
    };
    const selector = opts.fromAnyReplica ? (config.get('replica.selector.class') as string | null) : null;
    if (selector !== null) {
      opts.preferred = (p, fetchOffset) =>
        preferredReadReplica(selector, p, metadata.image, req.rackId ?? '', fetchOffset, clock.now());
    }
    const deadline = now + Math.max(0, req.maxWaitMs);
    let read = await readOnce(partitions, items, opts);
    while (
      read.total < req.minBytes &&
      !read.failedRead &&
      read.readable.length > 0 &&
      clock.now() < deadline &&
      !stopping.aborted
    ) {
      await ctx.quota.park(
        partitions.delayFetch(
          read.readable.map((it) => [it.topic, it.partition] as [string, number]),
          deadline - clock.now(),
        ),
      );
      read = await readOnce(partitions, items, opts);
    }

    // ---- quota: over consumer_byte_rate, an empty answer with the throttle time ----
    const throttleMs = ctx.quota.recordFetch(read.total);
    if (throttleMs > 0) {
      ctx.quota.unrecordFetch(read.total);
      const throttled = defaultFetchResponse();
      throttled.throttleTimeMs = throttleMs;
      throttled.sessionId = mode === 'incremental' && session ? session.id : INVALID_SESSION_ID;
      return throttled;
    }

    // The consumer's next fetch most likely asks for what follows: read it while this answer goes out. Started
    // here, before the answer is encoded (issue #16, consume-1k A/B, 8 alternating pairs, load 4-6): started
    // after the send instead (setImmediate, or once the answer is in the socket) the reads competed with the
    // client's receive and parse: no more MB/s, 13-16 % more broker CPU a GB; one read at a time: slower.
    prefetch?.start(nextRanges(partitions, items, read.results), opts.readCommitted);

    // ---- response ----
    const res = defaultFetchResponse();
    const included: [Item, FetchResponsePartitionData][] = [];
    if (mode === 'incremental' && session) {
      // Another request used the session while this one waited (a duplicate): Kafka answers this way.
      if (session.epoch !== expectedEpoch) return sessionError(ErrorCode.INVALID_FETCH_SESSION_EPOCH, session.id);
      res.sessionId = session.id;
      for (let i = 0; i < items.length; i++) {
        const e = items[i] as SessionPartition;
        const out = read.results[i];
        const news = FetchSession.news(e, {
          errorCode: out.errorCode,
          recordsSize: out.records?.length ?? 0,
          highWatermark: Number(out.highWatermark),
          logStartOffset: Number(out.logStartOffset),
          lastStableOffset: Number(out.lastStableOffset),
        });
        if ((out.records?.length ?? 0) > 0) session.rotate(e);
        if (news || out.preferredReadReplica >= 0) included.push([e, out]);
      }
    } else {
      for (let i = 0; i < items.length; i++) included.push([items[i], read.results[i]]);
      if (mode === 'full') {
        const entries = included.map(([it, out]): SessionPartition => {
          const failedPart = out.errorCode !== 0;
          return {
            ...it,
            lastHighWatermark: failedPart ? -1 : Number(out.highWatermark),
            lastLogStartOffset: Number(out.logStartOffset),
            lastStableOffset: Number(out.lastStableOffset),
          };
        });
        const privileged = replicaId >= 0;
        const created = fetchSessions.create(clock.now(), privileged, byId, entries);
        res.sessionId = created?.id ?? INVALID_SESSION_ID;
      }
    }
    for (const [it, out] of included) {
      const last = res.responses[res.responses.length - 1];
      if (last && (byId ? last.topicId === it.topicId : last.topic === it.topic)) {
        last.partitions.push(out);
      } else {
        res.responses.push({ topic: it.topic, topicId: it.topicId, partitions: [out] });
      }
    }
    if (v >= 16) addLeaderHints(res, included, new LeaderHints(metadata.image));
    return res;
  },
});
