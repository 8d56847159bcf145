/**
 * The network ReplicaTransport (replication/replica-fetcher.ts) of a node in a replicated cluster: a follower's
 * Fetch (v12), OffsetForLeaderEpoch (v4) and ListOffsets (v4, earliest: the leader's log start after an
 * OFFSET_OUT_OF_RANGE), each with replicaId = this node, to its leader, over
 * Runnel's own client connection (client/connection.ts), as Kafka's ReplicaFetcherThread uses its
 * NetworkClient to the leader's listener.
 *
 * - One connection per leader (broker-connection.ts: the leader's inter-broker listener in the image, opened
 *   on first use; a failed request closes it and the next one reconnects; the fetcher backs off
 *   `replica.fetch.backoff.ms` after a transport failure).
 * - Fetch v12 addresses topics by name and carries replicaId; the answer's records are handed over as they are
 *   (slices of the response frame). `release(answers)`, once the fetcher has written them, gives the frame's
 *   memory back to the connection for a later response (Connection.recycleFrame): no new allocation per round.
 */
import type { Connection } from '../client/connection.js';
import { decodeFetchResponse, type FetchResponse } from '../protocol/generated/fetch-response.js';
import { encodeFetchRequest } from '../protocol/generated/fetch-request.js';
import {
  decodeOffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochResponse,
} from '../protocol/generated/offset-for-leader-epoch-response.js';
import { encodeOffsetForLeaderEpochRequest } from '../protocol/generated/offset-for-leader-epoch-request.js';
import { encodeListOffsetsRequest } from '../protocol/generated/list-offsets-request.js';
import { decodeListOffsetsResponse, type ListOffsetsResponse } from '../protocol/generated/list-offsets-response.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { MetadataImage } from '../replication/metadata/image.js';
import type {
  EpochEndRequest,
  EpochEndResult,
  LogStartRequest,
  LogStartResult,
  ReplicaTransport,
} from '../replication/replica-fetcher.js';
import type { ReplicaFetchData, ReplicaFetchPartition } from '../replication/replica-manager.js';
import { BrokerConnection, type InterBrokerClient } from './broker-connection.js';

const FETCH_VERSION = 12;
const EPOCH_VERSION = 4;
const LIST_OFFSETS_VERSION = 4;
const EARLIEST_TIMESTAMP = -2n;

export interface NetworkTransportOptions {
  /** The leader's id. */
  leaderId: number;
  /** This node's id (the replicaId of every request). */
  nodeId: number;
  /** The current metadata image (the leader's listener). */
  image: () => MetadataImage;
  /** request.timeout for one request beyond a fetch's max wait. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** replica.fetch.max.bytes for a whole response. */
  responseMaxBytes?: number;
  /** The leader's inter-broker listener and TLS (default: its first listener, plaintext). */
  via?: InterBrokerClient;
}

/** Groups items by topic, keeping their order. */
function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const list = out.get(it.topic);
    if (list) list.push(it);
    else out.set(it.topic, [it]);
  }
  return out;
}

interface TopicPartition {
  topic: string;
  partition: number;
}

/**
 * The answers in the order of the items asked, one each: the answer for the item's topic-partition, or
 * `missing(item)` where the response left it out.
 */
function inItemOrder<R extends TopicPartition>(
  items: readonly TopicPartition[],
  answers: readonly R[],
  missing: (it: TopicPartition) => R,
): R[] {
  const key = (x: TopicPartition): string => `${x.topic}\u0000${x.partition}`;
  const found = new Map<string, R>();
  for (const a of answers) found.set(key(a), a);
  return items.map((it) => found.get(key(it)) ?? missing({ topic: it.topic, partition: it.partition }));
}

export class NetworkReplicaTransport implements ReplicaTransport {
  private readonly conn: BrokerConnection;
  /** The connection and frame memory of fetch answers not yet released. */
  private readonly held = new WeakMap<ReplicaFetchData[], { conn: Connection; memory: ArrayBufferLike }>();

  constructor(private readonly o: NetworkTransportOptions) {
    this.conn = new BrokerConnection({
      brokerId: o.leaderId,
      clientId: `runnel-replica-fetcher-${o.nodeId}`,
      image: o.image,
      requestTimeoutMs: o.requestTimeoutMs ?? 30000,
      ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      ...(o.via ? { via: o.via } : {}),
    });
  }

  private send<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
    return this.conn.send(fn);
  }

  async fetch(replicaId: number, items: ReplicaFetchPartition[], maxWaitMs: number): Promise<ReplicaFetchData[]> {
    const topics = [...byTopic(items)].map(([topic, list]) => ({
      topic,
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      partitions: list.map((it) => ({
        partition: it.partition,
        currentLeaderEpoch: it.currentLeaderEpoch,
        fetchOffset: BigInt(it.fetchOffset),
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: it.maxBytes,
        replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
        highWatermark: 9223372036854775807n,
      })),
    }));
    let conn: Connection | undefined;
    const res = await this.send((c) => {
      conn = c;
      return c.send<FetchResponse>(
        1,
        FETCH_VERSION,
        (w) =>
          encodeFetchRequest(w, FETCH_VERSION, {
            clusterId: null,
            replicaId,
            replicaState: { replicaId, replicaEpoch: -1n },
            maxWaitMs,
            minBytes: 1,
            maxBytes: this.o.responseMaxBytes ?? 10 * 1048576,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics,
            forgottenTopicsData: [],
            rackId: '',
          }),
        decodeFetchResponse,
        { timeoutMs: (this.o.requestTimeoutMs ?? 30000) + maxWaitMs },
      );
    });
    const answers = res.responses.flatMap((t) =>
      t.partitions.map(
        (p): ReplicaFetchData => ({
          topic: t.topic,
          partition: p.partitionIndex,
          errorCode: p.errorCode !== ErrorCode.NONE ? p.errorCode : res.errorCode,
          highWatermark: Number(p.highWatermark),
          lastStableOffset: Number(p.lastStableOffset),
          logStartOffset: Number(p.logStartOffset),
          logEndOffset: -1,
          records: p.records ?? Buffer.alloc(0),
        }),
      ),
    );
    const ordered = inItemOrder(items, answers, (it) => ({
      ...it,
      errorCode: res.errorCode !== ErrorCode.NONE ? res.errorCode : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      logEndOffset: -1,
      records: Buffer.alloc(0),
    }));
    const memory = answers.find((a) => a.records.length > 0)?.records.buffer;
    if (conn && memory) this.held.set(ordered, { conn, memory });
    return ordered;
  }

  /** The fetcher is done with `answers` (returned by `fetch`): their frame's memory may be read into again. */
  release(answers: ReplicaFetchData[]): void {
    const h = this.held.get(answers);
    if (!h) return;
    this.held.delete(answers);
    h.conn.recycleFrame(h.memory);
  }

  async offsetForLeaderEpoch(replicaId: number, items: EpochEndRequest[]): Promise<EpochEndResult[]> {
    const topics = [...byTopic(items)].map(([topic, list]) => ({
      topic,
      partitions: list.map((it) => ({
        partition: it.partition,
        currentLeaderEpoch: it.currentLeaderEpoch,
        leaderEpoch: it.leaderEpoch,
      })),
    }));
    const res = await this.send((c) =>
      c.send<OffsetForLeaderEpochResponse>(
        23,
        EPOCH_VERSION,
        (w) => encodeOffsetForLeaderEpochRequest(w, EPOCH_VERSION, { replicaId, topics }),
        decodeOffsetForLeaderEpochResponse,
      ),
    );
    const answers = res.topics.flatMap((t) =>
      t.partitions.map(
        (p): EpochEndResult => ({
          topic: t.topic,
          partition: p.partition,
          errorCode: p.errorCode,
          leaderEpoch: p.leaderEpoch,
          endOffset: Number(p.endOffset),
        }),
      ),
    );
    return inItemOrder(items, answers, (it) => ({
      ...it,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      leaderEpoch: -1,
      endOffset: -1,
    }));
  }

  async logStartOffsets(replicaId: number, items: LogStartRequest[]): Promise<LogStartResult[]> {
    const topics = [...byTopic(items)].map(([name, list]) => ({
      name,
      partitions: list.map((it) => ({
        partitionIndex: it.partition,
        currentLeaderEpoch: it.currentLeaderEpoch,
        timestamp: EARLIEST_TIMESTAMP,
        maxNumOffsets: 1,
      })),
    }));
    const res = await this.send((c) =>
      c.send<ListOffsetsResponse>(
        2,
        LIST_OFFSETS_VERSION,
        (w) =>
          encodeListOffsetsRequest(w, LIST_OFFSETS_VERSION, { replicaId, isolationLevel: 0, topics, timeoutMs: 0 }),
        decodeListOffsetsResponse,
      ),
    );
    const answers = res.topics.flatMap((t) =>
      t.partitions.map(
        (p): LogStartResult => ({
          topic: t.name,
          partition: p.partitionIndex,
          errorCode: p.errorCode,
          logStartOffset: Number(p.offset),
        }),
      ),
    );
    return inItemOrder(items, answers, (it) => ({
      ...it,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      logStartOffset: -1,
    }));
  }

  /** Closes the connection; later requests fail. */
  close(): void {
    this.conn.close();
  }
}
