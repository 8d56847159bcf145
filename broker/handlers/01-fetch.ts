/**
 * Fetch (key 1), versions 0-17 (0-3 from Kafka 3.9.1's definitions; 13+ name topics by id, KIP-516).
 *
 * Reads whole record batches as stored, from file ranges, without decoding them: per partition up to
 * `partitionMaxBytes`, per response up to `maxBytes` (v3+), always at least one whole batch for the first
 * partition that has data, even above the limits (KIP-74). Consumers read below the high watermark;
 * read_committed (v4+) below the last stable offset (the first offset of an undecided transaction, or the
 * high watermark), with the aborted transactions overlapping the returned batches (from the segments'
 * `.txnindex`) so the client can drop their records; every v4+ response carries the LSO.
 * Long polling: when fewer than `minBytes` are available the request waits up to `maxWaitMs` and answers
 * as soon as a produce to one of its partitions makes `minBytes` available. Incremental fetch sessions
 * (KIP-227, v7+) are kept in `FetchSessionCache`. Fetchers below v4 read only message format 0/1: their
 * batches are down-converted (`protocol/records/legacy.ts`). Leader epoch is 0 (single node).
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
import type { Broker } from '../broker.js';
import { FetchSession, type SessionPartition } from '../fetch-sessions.js';
import { registerHandler } from './registry.js';
import { leaderLog } from '../topics.js';
import { batchToLegacy } from '../../protocol/records/legacy.js';
import { RunnelError } from '../../protocol/errors.js';
import { BATCH_HEADER_SIZE, entrySize, lastOffsetNumber } from '../../protocol/records/batch-header.js';

const INT32_MAX = 2147483647;

interface Item {
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
  entry: SessionPartition | undefined;
}

/** One past the last offset of the whole v2 batches in `records`. */
function nextOffsetAfter(records: Buffer): number {
  let pos = 0;
  let next = 0;
  while (pos + BATCH_HEADER_SIZE <= records.length) {
    const size = entrySize(records, pos);
    if (pos + size > records.length) break;
    next = lastOffsetNumber(records, pos) + 1;
    pos += size;
  }
  return next;
}

function emptyResponse(errorCode: number): FetchResponse {
  const res = defaultFetchResponse();
  res.errorCode = errorCode;
  return res;
}

export const fetchHandler = registerHandler<FetchRequest, FetchResponse>({
  apiKey: 1,
  name: 'Fetch',
  minVersion: 0,
  maxVersion: 17,
  decode: decodeFetchRequest,
  encode: encodeFetchResponse,
  async handle(req, ctx) {
    const broker = ctx.broker as Broker;
    const v = ctx.apiVersion;
    const byId = v >= 13;
    const now = broker.clock.now();

    // ---- session (KIP-227) ----
    let session: FetchSession | undefined;
    let incremental = false;
    if (v >= 7) {
      const cache = broker.fetchSessions;
      if (req.sessionId === 0) {
        if (req.sessionEpoch === 0) session = cache.create(now);
        else if (req.sessionEpoch !== -1) return emptyResponse(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      } else if (req.sessionEpoch === -1) {
        cache.remove(req.sessionId);
      } else {
        const s = cache.get(req.sessionId);
        if (!s) return emptyResponse(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
        if (s.epoch !== req.sessionEpoch) return emptyResponse(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
        session = s;
        incremental = true;
        s.lastUsed = now;
      }
    }

    const nameOf = (t: { topic: string; topicId: string }): string | undefined =>
      byId ? broker.logs.topicById(t.topicId)?.name : t.topic;
    const requested: Item[] = [];
    for (const t of req.topics) {
      const name = nameOf(t) ?? (byId ? '' : t.topic);
      for (const p of t.partitions) {
        requested.push({
          topic: name,
          topicId: t.topicId,
          partition: p.partition,
          fetchOffset: Number(p.fetchOffset),
          maxBytes: p.partitionMaxBytes,
          currentLeaderEpoch: p.currentLeaderEpoch,
          entry: undefined,
        });
      }
    }
    let items: Item[] = requested;
    if (session) {
      const keyOf = (topic: string, topicId: string, partition: number): string =>
        FetchSession.key(byId ? topicId : topic, partition);
      if (!incremental) session.partitions.clear();
      for (const f of req.forgottenTopicsData) {
        for (const p of f.partitions) session.partitions.delete(keyOf(f.topic, f.topicId, p));
      }
      for (const it of requested) {
        const k = keyOf(it.topic, it.topicId, it.partition);
        const e = session.partitions.get(k);
        if (e) {
          e.fetchOffset = it.fetchOffset;
          e.maxBytes = it.maxBytes;
        } else {
          session.partitions.set(k, {
            topic: it.topic,
            topicId: it.topicId,
            partition: it.partition,
            fetchOffset: it.fetchOffset,
            maxBytes: it.maxBytes,
            lastHighWatermark: -2,
            lastLogStartOffset: -2,
            lastStableOffset: -2,
          });
        }
      }
      const epochs = new Map(requested.map((it) => [keyOf(it.topic, it.topicId, it.partition), it.currentLeaderEpoch]));
      items = [...session.partitions.entries()].map(([k, e]) => ({
        topic: e.topic,
        topicId: e.topicId,
        partition: e.partition,
        fetchOffset: e.fetchOffset,
        maxBytes: e.maxBytes,
        currentLeaderEpoch: epochs.get(k) ?? -1,
        entry: e,
      }));
    }

    // ---- read, waiting for minBytes up to maxWaitMs ----
    const responseMax = v >= 3 ? req.maxBytes : INT32_MAX;
    const readCommitted = v >= 4 && req.isolationLevel === 1;
    const deadline = now + Math.max(0, req.maxWaitMs);
    let results: FetchResponsePartitionData[];
    for (;;) {
      let total = 0;
      let errors = false;
      results = [];
      for (const it of items) {
        const out = defaultFetchResponsePartitionData();
        out.partitionIndex = it.partition;
        out.records = null;
        results.push(out);
        const log =
          byId && it.topic === ''
            ? ErrorCode.UNKNOWN_TOPIC_ID
            : leaderLog(broker, it.topic, it.partition, it.currentLeaderEpoch);
        if (typeof log === 'number') {
          out.errorCode = log;
          out.highWatermark = -1n;
          errors = true;
          continue;
        }
        // read_committed reads up to the last stable offset, read_uncommitted up to the high watermark.
        const lso = log.lastStableOffset;
        const limit = readCommitted ? lso : log.highWatermark;
        const room = Math.min(it.maxBytes, responseMax - total);
        const r = await log.read(it.fetchOffset, Math.max(0, room), { maxOffset: limit, minOneBatch: total === 0 });
        out.highWatermark = BigInt(r.highWatermark);
        out.lastStableOffset = BigInt(lso);
        out.logStartOffset = BigInt(r.logStartOffset);
        out.abortedTransactions = readCommitted ? [] : null;
        if (r.errorCode !== 0) {
          out.errorCode = r.errorCode;
          errors = true;
          continue;
        }
        if (room <= 0 && total > 0) continue;
        let records = r.records;
        if (v < 4 && records.length > 0) {
          try {
            records = await batchToLegacy(records, v < 2 ? 0 : 1);
          } catch (err) {
            if (!(err instanceof RunnelError)) throw err;
            out.errorCode = err.kafkaCode > 0 ? err.kafkaCode : ErrorCode.CORRUPT_MESSAGE;
            errors = true;
            continue;
          }
        }
        out.records = records;
        total += records.length;
        if (readCommitted && records.length > 0) {
          const aborted = await log.abortedTransactions(it.fetchOffset, nextOffsetAfter(records));
          out.abortedTransactions = aborted.map((a) => ({
            producerId: BigInt(a.producerId),
            firstOffset: BigInt(a.firstOffset),
          }));
        }
      }
      if (total >= req.minBytes || errors || broker.clock.now() >= deadline || broker.stopping) break;
      await broker.appendNotifier.wait(
        items.map((it) => [it.topic, it.partition] as [string, number]),
        deadline - broker.clock.now(),
      );
    }

    // ---- response ----
    const res = defaultFetchResponse();
    res.sessionId = session?.id ?? 0;
    if (session) session.epoch = session.epoch >= INT32_MAX ? 1 : session.epoch + (incremental ? 1 : 0);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const out = results[i];
      if (it.entry) {
        const e = it.entry;
        const hw = Number(out.highWatermark);
        const lso = Number(out.lastStableOffset);
        const lstart = Number(out.logStartOffset);
        const news =
          !incremental ||
          out.errorCode !== 0 ||
          (out.records !== null && out.records.length > 0) ||
          hw !== e.lastHighWatermark ||
          lso !== e.lastStableOffset ||
          lstart !== e.lastLogStartOffset;
        e.lastHighWatermark = hw;
        e.lastStableOffset = lso;
        e.lastLogStartOffset = lstart;
        if (!news) continue;
      }
      const last = res.responses[res.responses.length - 1];
      if (last && (byId ? last.topicId === it.topicId : last.topic === it.topic)) {
        last.partitions.push(out);
      } else {
        res.responses.push({ topic: it.topic, topicId: it.topicId, partitions: [out] });
      }
    }
    return res;
  },
});
