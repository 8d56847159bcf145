/**
 * Fetching for the consumer: one Fetch request (v4-12, no fetch session: sessionId 0, epoch -1) per
 * partition leader, on the 'fetch' connection so a long poll never holds up other calls. Turns each
 * partition's record batches into ConsumerRecords: batches are CRC-checked, records before the fetch offset
 * are skipped (a batch may start earlier), control batches are never returned, and with read_committed the
 * records of aborted transactions are dropped using the response's aborted-transaction list, as Kafka's
 * consumer does (a producer's transactional batches are skipped from its abort's first offset until its
 * ABORT marker).
 */
import { decodeFetchResponse } from '../protocol/generated/fetch-response.js';
import { defaultFetchPartition, encodeFetchRequest } from '../protocol/generated/fetch-request.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { iterateBatches } from '../protocol/records/batch.js';
import { KafkaError } from './errors.js';
import type { Metadata } from './metadata.js';
import type { ConsumerRecord, Isolation } from './types.js';

export interface FetchTarget {
  topic: string;
  partition: number;
  offset: number;
}

export interface FetchResult {
  topic: string;
  partition: number;
  /** The offset that was asked for. */
  fetchOffset: number;
  /** Where the next fetch starts (after the last whole batch read). */
  nextOffset: number;
  errorCode: number;
  highWatermark: number;
  records: ConsumerRecord[];
}

export interface FetcherOptions {
  isolation: Isolation;
  maxBytes: number;
  partitionMaxBytes: number;
  minBytes: number;
}

export class Fetcher {
  constructor(
    private readonly md: Metadata,
    private readonly opts: FetcherOptions,
  ) {}

  /** Fetch every target from its leader (requests to different brokers run in parallel). */
  async fetch(targets: FetchTarget[], maxWaitMs: number): Promise<FetchResult[]> {
    const byLeader = new Map<number, FetchTarget[]>();
    const out: FetchResult[] = [];
    for (const t of targets) {
      let leader = this.md.leaderOf(t.topic, t.partition);
      if (leader < 0) {
        try {
          await this.md.topic(t.topic, { refresh: true });
          leader = this.md.leaderOf(t.topic, t.partition);
        } catch {
          leader = -1;
        }
      }
      if (leader < 0) {
        out.push({
          ...t,
          fetchOffset: t.offset,
          nextOffset: t.offset,
          errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
          highWatermark: -1,
          records: [],
        });
        continue;
      }
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), t]);
    }
    const parts = await Promise.all(
      [...byLeader].map(([node, ts]) =>
        this.fetchFrom(node, ts, maxWaitMs).catch((e) => {
          const code = e instanceof KafkaError ? e.code : ErrorCode.NETWORK_EXCEPTION;
          return ts.map((t) => ({
            ...t,
            fetchOffset: t.offset,
            nextOffset: t.offset,
            errorCode: code,
            highWatermark: -1,
            records: [],
          }));
        }),
      ),
    );
    for (const p of parts) out.push(...p);
    return out;
  }

  private async fetchFrom(node: number, targets: FetchTarget[], maxWaitMs: number): Promise<FetchResult[]> {
    const conn = await this.md.connection(node, 'fetch');
    const v = conn.versionFor(1, 4, 12);
    const byTopic = new Map<string, FetchTarget[]>();
    for (const t of targets) byTopic.set(t.topic, [...(byTopic.get(t.topic) ?? []), t]);
    const res = await conn.send(
      1,
      v,
      (w) =>
        encodeFetchRequest(w, v, {
          clusterId: null,
          replicaId: -1,
          replicaState: { replicaId: -1, replicaEpoch: -1n },
          maxWaitMs,
          minBytes: this.opts.minBytes,
          maxBytes: this.opts.maxBytes,
          isolationLevel: this.opts.isolation === 'read_committed' ? 1 : 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [...byTopic].map(([topic, ts]) => ({
            topic,
            topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
            partitions: ts.map((t) => ({
              ...defaultFetchPartition(),
              partition: t.partition,
              fetchOffset: BigInt(t.offset),
              partitionMaxBytes: this.opts.partitionMaxBytes,
            })),
          })),
          forgottenTopicsData: [],
          rackId: '',
        }),
      decodeFetchResponse,
      { timeoutMs: maxWaitMs + this.md.pool.opts.requestTimeoutMs },
    );
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, 'Fetch');
    const out: FetchResult[] = [];
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const target = targets.find((x) => x.topic === t.topic && x.partition === p.partitionIndex);
        if (!target) continue;
        const r: FetchResult = {
          topic: t.topic,
          partition: p.partitionIndex,
          fetchOffset: target.offset,
          nextOffset: target.offset,
          errorCode: p.errorCode,
          highWatermark: Number(p.highWatermark),
          records: [],
        };
        if (p.errorCode === ErrorCode.NONE && p.records && p.records.length > 0) {
          const d = await decodePartitionRecords(
            t.topic,
            p.partitionIndex,
            target.offset,
            p.records,
            this.opts.isolation === 'read_committed' ? (p.abortedTransactions ?? []) : null,
          );
          r.records = d.records;
          r.nextOffset = d.nextOffset;
        }
        out.push(r);
      }
    }
    return out;
  }
}

/**
 * The records of one partition's fetched bytes at or after `fetchOffset`, and the offset to fetch next.
 * `aborted` (read_committed) is the response's aborted-transaction list; null = read_uncommitted.
 */
export async function decodePartitionRecords(
  topic: string,
  partition: number,
  fetchOffset: number,
  buf: Buffer,
  aborted: Array<{ producerId: bigint; firstOffset: bigint }> | null,
): Promise<{ records: ConsumerRecord[]; nextOffset: number }> {
  const records: ConsumerRecord[] = [];
  const pendingAborts = aborted ? [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : [];
  const abortedProducers = new Set<bigint>();
  const position = BigInt(fetchOffset);
  let next = position;
  for (const batch of iterateBatches(buf)) {
    const problem = batch.problem();
    if (problem)
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${topic}-${partition} at ${batch.baseOffset}: ${problem}`);
    const nextOffset = batch.nextOffset;
    if (nextOffset <= position) continue;
    if (aborted) {
      while (pendingAborts.length > 0 && pendingAborts[0].firstOffset <= batch.lastOffset)
        abortedProducers.add(pendingAborts.shift()!.producerId);
    }
    next = nextOffset;
    if (batch.isControl) {
      if (aborted && batch.isTransactional && (await batch.controlRecord()).type === 0)
        abortedProducers.delete(batch.producerId);
      continue;
    }
    if (aborted && batch.isTransactional && abortedProducers.has(batch.producerId)) continue;
    for (const rec of await batch.recordsArray()) {
      if (rec.offset < position) continue;
      records.push({
        topic,
        partition,
        offset: Number(rec.offset),
        timestamp: Number(rec.timestamp),
        key: rec.key,
        value: rec.value,
        headers: rec.headers.map((h) => ({ key: h.key, value: h.value })),
      });
    }
  }
  return { records, nextOffset: Number(next) };
}
