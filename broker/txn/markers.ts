/**
 * The transaction marker sender: how the transaction coordinator's COMMIT/ABORT markers reach the leaders of a
 * transaction's partitions, as Kafka's TransactionMarkerChannelManager does.
 *
 * - Where: the partition's leader in the current metadata image, re-read at each attempt. A partition this node
 *   leads (every partition on a single node) is appended locally through the replica manager; any other goes
 *   to its leader with WriteTxnMarkers (handlers/27-write-txn-markers.ts) over a broker-to-broker connection
 *   (broker-connection.ts, one per destination broker, closed by `close()`).
 * - Batching: the markers queued for one broker are sent together in one request (one entry per producer, its
 *   partitions by topic); markers queued while a request to that broker is in flight go in the next one.
 * - acks=all both ways: the marker counts once the leader's high watermark passed it.
 * - Outcome per partition (Kafka's TransactionMarkerRequestCompletionHandler):
 *   done on NONE, when the topic or partition is no longer in the image, and on UNSUPPORTED_FOR_MESSAGE_FORMAT /
 *   UNSUPPORTED_VERSION (the partition cannot hold markers); done with a warning on INVALID_PRODUCER_EPOCH /
 *   TRANSACTION_COORDINATOR_FENCED (a newer producer or coordinator epoch already ended the transaction there);
 *   retried after `backoffMs` on NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS(_AFTER_
 *   APPEND), REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR, an unknown leader (-1) or one without a listener, and a
 *   failed request (network, timeout, WriteTxnMarkers not offered); any other error rejects the write (the
 *   coordinator retries the transaction later).
 * - Retries go on until one of those outcomes, until the caller's AbortSignal fires (the coordinator lost the
 *   transaction's partition) or until `close()` (broker stop); the write then rejects with ERR_CLOSED.
 */
import { CoordinationError, RunnelError } from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import { encodeWriteTxnMarkersRequest } from '../../protocol/generated/write-txn-markers-request.js';
import {
  decodeWriteTxnMarkersResponse,
  type WriteTxnMarkersResponse,
} from '../../protocol/generated/write-txn-markers-response.js';
import type { MetadataImage } from '../../replication/metadata/image.js';
import { PartitionStateError } from '../../replication/partition.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import type { Clock, TimerHandle } from '../../storage/clock.js';
import { BrokerConnection, type InterBrokerClient } from '../broker-connection.js';
import type { Logger } from '../logger.js';
import type { TxnMarker } from './coordinator.js';

const API_KEY = 27;

/** Codes after which the partition is retried (the leader moved, is not ready, or could not replicate yet). */
const RETRIABLE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.LEADER_NOT_AVAILABLE,
]);
/** Codes after which nothing is left to mark on the partition. */
const SKIPPED = new Set<number>([
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.TRANSACTION_COORDINATOR_FENCED,
  ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
  ErrorCode.UNSUPPORTED_VERSION,
]);

export interface MarkerSenderOptions {
  /** This node's id. */
  nodeId: number;
  /** Whether partitions may be led by other brokers (a replicated cluster); false: every marker is local. */
  clustered: boolean;
  /** The current metadata image (leaders, listeners). */
  image: () => MetadataImage;
  /** The local partitions. */
  partitions: Pick<ReplicaManager, 'appendTxnMarker'>;
  clock: Clock;
  log: Logger;
  /** Wait before retrying a partition (Kafka's retry.backoff.ms default: 100). */
  backoffMs?: number;
  /** How long a leader waits for its high watermark (Kafka's request.timeout.ms default: 30000). */
  requestTimeoutMs?: number;
  /** The connection to another broker (tests); default a BrokerConnection from the image. */
  connect?: (brokerId: number) => BrokerConnection;
  /** The other brokers' inter-broker listener and TLS (default: their first listener, plaintext). */
  via?: InterBrokerClient;
}

interface Pending {
  topic: string;
  partition: number;
  marker: TxnMarker;
  signal: AbortSignal | undefined;
  settled: boolean;
  timer: TimerHandle | undefined;
  onAbort: (() => void) | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The identity of one marker (one entry of a WriteTxnMarkers request). */
function markerKey(m: TxnMarker): string {
  return `${m.producerId}:${m.producerEpoch}:${m.coordinatorEpoch}:${m.commit}`;
}

export class TxnMarkerSender {
  private readonly queues = new Map<number, Pending[]>();
  private readonly sending = new Set<number>();
  private readonly conns = new Map<number, BrokerConnection>();
  private readonly pending = new Set<Pending>();
  private readonly backoffMs: number;
  private readonly requestTimeoutMs: number;
  private closed = false;

  constructor(private readonly o: MarkerSenderOptions) {
    this.backoffMs = o.backoffMs ?? 100;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 30000;
  }

  /** Writes `marker` to topic-partition at its leader; resolves once done (see the outcomes above). */
  write(topic: string, partition: number, marker: TxnMarker, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const p: Pending = {
        topic,
        partition,
        marker,
        signal,
        settled: false,
        timer: undefined,
        onAbort: undefined,
        resolve,
        reject,
      };
      this.pending.add(p);
      if (signal) {
        p.onAbort = () => this.fail(p, this.stoppedError(p));
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.route(p);
    });
  }

  /** Stops: every unfinished write rejects with ERR_CLOSED and the connections close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending]) this.fail(p, this.stoppedError(p));
    this.queues.clear();
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }

  private stoppedError(p: Pending): Error {
    return new CoordinationError('ERR_CLOSED', `transaction marker for ${p.topic}-${p.partition} abandoned: stopped`);
  }

  private settle(p: Pending): boolean {
    if (p.settled) return false;
    p.settled = true;
    this.pending.delete(p);
    this.o.clock.clearTimeout(p.timer);
    p.timer = undefined;
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    return true;
  }

  private done(p: Pending): void {
    if (this.settle(p)) p.resolve();
  }

  private fail(p: Pending, err: Error): void {
    if (this.settle(p)) p.reject(err);
  }

  /** Next attempt: local append, or queued for the leader's next request. */
  private route(p: Pending): void {
    if (p.settled) return;
    if (this.closed || p.signal?.aborted) {
      this.fail(p, this.stoppedError(p));
      return;
    }
    const image = this.o.image();
    const reg = image.partition(p.topic, p.partition);
    if (!reg) {
      this.o.log.info({ topic: p.topic, partition: p.partition }, 'partition gone; transaction marker skipped');
      this.done(p);
      return;
    }
    const leader = this.o.clustered ? reg.leader : this.o.nodeId;
    if (leader === this.o.nodeId) {
      void this.appendLocal(p);
      return;
    }
    if (leader < 0 || !image.endpoint(leader)) {
      this.retry(p, ErrorCode.LEADER_NOT_AVAILABLE);
      return;
    }
    let q = this.queues.get(leader);
    if (!q) {
      q = [];
      this.queues.set(leader, q);
    }
    q.push(p);
    // Markers written in the same turn (one transaction's partitions) share one request.
    if (q.length === 1) queueMicrotask(() => void this.flush(leader));
  }

  private retry(p: Pending, code: number, detail?: string): void {
    if (p.settled) return;
    if (this.closed) {
      this.fail(p, this.stoppedError(p));
      return;
    }
    this.o.log.debug(
      { topic: p.topic, partition: p.partition, code, detail, producerId: p.marker.producerId },
      'transaction marker not written yet; retrying',
    );
    p.timer = this.o.clock.setTimeout(() => {
      p.timer = undefined;
      this.route(p);
    }, this.backoffMs);
  }

  /** One partition's answer (local or remote). */
  private outcome(p: Pending, code: number, err?: Error): void {
    if (code === ErrorCode.NONE) {
      this.done(p);
      return;
    }
    if (RETRIABLE.has(code)) {
      this.retry(p, code, err?.message);
      return;
    }
    if (SKIPPED.has(code)) {
      this.o.log.warn(
        {
          topic: p.topic,
          partition: p.partition,
          producerId: p.marker.producerId,
          epoch: p.marker.producerEpoch,
          code,
          err: err?.message,
        },
        'transaction marker refused; skipped',
      );
      this.done(p);
      return;
    }
    this.fail(p, err ?? new PartitionStateError(`transaction marker for ${p.topic}-${p.partition} failed`, code));
  }

  private async appendLocal(p: Pending): Promise<void> {
    try {
      const r = await this.o.partitions.appendTxnMarker(p.topic, p.partition, p.marker, {
        requiredAcks: -1,
        timeoutMs: this.requestTimeoutMs,
      });
      // No log here: on a single node the topic was deleted (nothing to mark); in a cluster the leader may
      // not have created it yet (route() re-checks the image).
      if (r === undefined) {
        if (this.o.clustered) this.retry(p, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        else this.done(p);
        return;
      }
      this.outcome(p, r.errorCode);
    } catch (err) {
      const code = err instanceof RunnelError && err.kafkaCode >= 0 ? err.kafkaCode : ErrorCode.UNKNOWN_SERVER_ERROR;
      this.outcome(p, code, err as Error);
    }
  }

  private connection(brokerId: number): BrokerConnection {
    let c = this.conns.get(brokerId);
    if (!c) {
      c =
        this.o.connect?.(brokerId) ??
        new BrokerConnection({
          brokerId,
          clientId: `runnel-txn-markers-${this.o.nodeId}`,
          image: this.o.image,
          requestTimeoutMs: this.requestTimeoutMs + 5000,
          ...(this.o.via ? { via: this.o.via } : {}),
        });
      this.conns.set(brokerId, c);
    }
    return c;
  }

  /** Sends what is queued for `brokerId` in one request (one entry per producer id); then the rest. */
  private async flush(brokerId: number): Promise<void> {
    if (this.sending.has(brokerId) || this.closed) return;
    const queue = (this.queues.get(brokerId) ?? []).filter((p) => !p.settled);
    // A producer id appears once per request (the response is keyed by it): a second marker waits.
    const byMarker = new Map<string, Pending[]>();
    const producers = new Map<number, string>();
    const later: Pending[] = [];
    for (const p of queue) {
      const k = markerKey(p.marker);
      const other = producers.get(p.marker.producerId);
      if (other !== undefined && other !== k) {
        later.push(p);
        continue;
      }
      producers.set(p.marker.producerId, k);
      const list = byMarker.get(k);
      if (list) list.push(p);
      else byMarker.set(k, [p]);
    }
    if (later.length > 0) this.queues.set(brokerId, later);
    else this.queues.delete(brokerId);
    if (byMarker.size === 0) return;
    this.sending.add(brokerId);
    const batch = [...byMarker.values()];
    try {
      const res = await this.send(brokerId, batch);
      const codes = new Map<string, number>();
      for (const m of res.markers) {
        for (const t of m.topics) {
          for (const part of t.partitions)
            codes.set(`${m.producerId}\u0000${t.name}\u0000${part.partitionIndex}`, part.errorCode);
        }
      }
      for (const list of batch) {
        for (const p of list) {
          const code = codes.get(`${p.marker.producerId}\u0000${p.topic}\u0000${p.partition}`);
          this.outcome(p, code ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        }
      }
    } catch (err) {
      // The request failed as a whole (connection lost or refused, timed out, no listener, the API not offered
      // yet): every partition of it is retried, on a new connection.
      for (const list of batch)
        for (const p of list) this.retry(p, ErrorCode.NETWORK_EXCEPTION, (err as Error).message);
    } finally {
      this.sending.delete(brokerId);
      if ((this.queues.get(brokerId)?.length ?? 0) > 0) queueMicrotask(() => void this.flush(brokerId));
    }
  }

  private send(brokerId: number, batch: Pending[][]): Promise<WriteTxnMarkersResponse> {
    const markers = batch.map((list) => {
      const m = list[0]!.marker;
      const topics = new Map<string, number[]>();
      for (const p of list) {
        const parts = topics.get(p.topic);
        if (parts) parts.push(p.partition);
        else topics.set(p.topic, [p.partition]);
      }
      return {
        producerId: BigInt(m.producerId),
        producerEpoch: m.producerEpoch,
        transactionResult: m.commit,
        coordinatorEpoch: m.coordinatorEpoch,
        topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
      };
    });
    return this.connection(brokerId).send((c) => {
      const v = c.versionFor(API_KEY, 0, 1);
      return c.send<WriteTxnMarkersResponse>(
        API_KEY,
        v,
        (w) => encodeWriteTxnMarkersRequest(w, v, { markers }),
        decodeWriteTxnMarkersResponse,
        { timeoutMs: this.requestTimeoutMs + 5000 },
      );
    });
  }
}
