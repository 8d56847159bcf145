/**
 * Metadata cache: brokers, controller, cluster id and, per topic, its id and partitions with leaders.
 * Filled by Metadata requests (v1-12: a null topic list means all topics); entries are refreshed when a
 * caller reports an error that means they are stale (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION,
 * LEADER_NOT_AVAILABLE, ... see errors.ts needsMetadataRefresh) or when they are older than maxAgeMs
 * (Kafka's metadata.max.age.ms, 5 minutes). Like Kafka's clients, callers that need the same topic while
 * its request is out wait for that one request: a producer sending 100 records to a topic it has not
 * seen yet sends one Metadata request, not 100.
 */
import { decodeMetadataResponse, type MetadataResponse } from '../protocol/generated/metadata-response.js';
import { encodeMetadataRequest } from '../protocol/generated/metadata-request.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { Connection } from './connection.js';
import { KafkaError } from './errors.js';
import type { ConnectionPool, Purpose } from './pool.js';

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}
export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  errorCode: number;
}
export interface TopicInfo {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: PartitionInfo[];
  fetchedAt: number;
}

const RETRY_LEADERLESS = 10;

export class Metadata {
  readonly brokers = new Map<number, BrokerInfo>();
  readonly topics = new Map<string, TopicInfo>();
  clusterId: string | null = null;
  controllerId = -1;
  maxAgeMs = 300_000;
  /** Metadata requests for one topic in flight (topic()), shared by the callers that need it meanwhile. */
  private readonly pending = new Map<string, Promise<TopicInfo>>();
  /** The request in flight for the broker list only (connection()). */
  private brokersPending: Promise<unknown> | undefined;

  constructor(readonly pool: ConnectionPool) {}

  /** A Metadata request for `topics` (null = all); updates the cache and returns the raw response. */
  async fetch(topics: string[] | null, allowAutoCreate = false): Promise<MetadataResponse> {
    const conn = await this.pool.any();
    const v = conn.versionFor(3, 1, 12);
    const res = await conn.send(
      3,
      v,
      (w) =>
        encodeMetadataRequest(w, v, {
          topics: topics === null ? null : topics.map((name) => ({ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name })),
          allowAutoTopicCreation: allowAutoCreate,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        }),
      decodeMetadataResponse,
    );
    this.brokers.clear();
    for (const b of res.brokers)
      this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    this.clusterId = res.clusterId;
    this.controllerId = res.controllerId;
    const now = Date.now();
    if (topics === null) {
      const seen = new Set(res.topics.map((t) => t.name));
      for (const name of this.topics.keys()) if (!seen.has(name)) this.topics.delete(name);
    }
    for (const t of res.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== ErrorCode.NONE) {
        this.topics.delete(t.name);
        continue;
      }
      this.topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        internal: t.isInternal,
        fetchedAt: now,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    return res;
  }

  /**
   * A topic's metadata, from the cache when fresh, else fetched (auto-creating it when asked, as the Java
   * producer does). A topic whose partitions have no leader yet is fetched again a few times.
   */
  topic(name: string, opts: { autoCreate?: boolean; refresh?: boolean } = {}): Promise<TopicInfo> {
    const cached = this.topics.get(name);
    if (cached && !opts.refresh && Date.now() - cached.fetchedAt < this.maxAgeMs) return Promise.resolve(cached);
    // A request already out answers this caller too (a refresh included: its answer is newer than the call).
    const autoCreate = opts.autoCreate ?? false;
    const key = autoCreate ? `${name}\u0000auto` : name;
    let p = this.pending.get(key);
    if (!p) {
      p = this.load(name, autoCreate).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  private async load(name: string, autoCreate: boolean): Promise<TopicInfo> {
    let lastCode: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    for (let attempt = 0; attempt < RETRY_LEADERLESS; attempt++) {
      const res = await this.fetch([name], autoCreate);
      const t = res.topics.find((x) => x.name === name);
      lastCode = t ? t.errorCode : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      const info = this.topics.get(name);
      if (info && info.partitions.length > 0 && info.partitions.every((p) => p.leader >= 0)) return info;
      const retry =
        lastCode === ErrorCode.LEADER_NOT_AVAILABLE ||
        (lastCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && autoCreate) ||
        lastCode === ErrorCode.NONE;
      if (!retry) break;
      await sleep(Math.min(50 * 2 ** attempt, 500));
    }
    throw new KafkaError(lastCode === ErrorCode.NONE ? ErrorCode.LEADER_NOT_AVAILABLE : lastCode, `topic ${name}`);
  }

  /** Forget a topic's metadata so the next use fetches it again. */
  invalidate(topic: string): void {
    this.topics.delete(topic);
  }

  leaderOf(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1;
  }

  /** The connection to broker `nodeId` (fetching metadata when the node is unknown). */
  async connection(nodeId: number, purpose: Purpose = 'default'): Promise<Connection> {
    let b = this.brokers.get(nodeId);
    if (!b) {
      this.brokersPending ??= this.fetch([]).finally(() => {
        this.brokersPending = undefined;
      });
      await this.brokersPending;
      b = this.brokers.get(nodeId);
      if (!b) throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `broker ${nodeId} is not in the cluster metadata`);
    }
    return this.pool.get(b.host, b.port, purpose);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
