/**
 * Producer, with the Java producer's semantics:
 * - keys → partitions with murmur2 (partitioner.ts), keyless records sticky; an explicit partition wins;
 * - records batched per partition by lingerMs / batchBytes (record-accumulator.ts), one Produce request per
 *   leader holding the ready batch of each of its partitions (up to maxRequestBytes a request, further ready
 *   batches in further requests), up to maxInFlight requests per broker;
 * - compression of each batch (gzip, snappy, lz4, zstd), acks 0 / 1 / -1 (all);
 * - retries of retriable errors (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, timeouts, lost
 *   connections, ...) after a metadata refresh, resending the same batch bytes, in order per partition;
 * - idempotence (default on with acks=-1, as Java's enable.idempotence): when the broker offers
 *   InitProducerId (API key 22), batches carry the producer id, epoch and per-partition sequence numbers;
 *   DUPLICATE_SEQUENCE_NUMBER counts as success. Without InitProducerId the default falls back to a plain
 *   producer; an explicit `idempotent: true` then fails the sends.
 * - topic metadata cached (client/metadata.ts): one Metadata request for the records of a new topic, then
 *   again only after an error that needs it or metadataMaxAgeMs;
 * Defaults follow Kafka 4: acks -1, linger 5 ms, batch 16 KiB, no compression, 5 in flight, retries until
 * deliveryTimeoutMs (120 s).
 */
import { decodeProduceResponse, type ProduceResponse } from '../protocol/generated/produce-response.js';
import { encodeProduceRequest } from '../protocol/generated/produce-request.js';
import { decodeInitProducerIdResponse } from '../protocol/generated/init-producer-id-response.js';
import { encodeInitProducerIdRequest } from '../protocol/generated/init-producer-id-request.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { buildRecordBatch, type RecordInput } from '../protocol/records/builder.js';
import { KafkaError, needsMetadataRefresh } from './errors.js';
import { Metadata, sleep } from './metadata.js';
import { StickyPartitioner, partitionForKey } from './partitioner.js';
import { ConnectionPool, resolveOptions, type ClientOptions } from './pool.js';
import { type Batch, RecordAccumulator, type PendingRecord } from './record-accumulator.js';
import type { Compression, ProducerRecord, RecordMetadata } from './types.js';

export interface ProducerOptions extends ClientOptions {
  acks?: 0 | 1 | -1;
  lingerMs?: number;
  batchBytes?: number;
  compression?: Compression;
  idempotent?: boolean;
  maxInFlight?: number;
  /**
   * Most bytes of batches (their uncompressed size) in one Produce request (Kafka's max.request.size, 1 MiB);
   * more ready batches go in further requests, so that client and broker work on them in parallel.
   */
  maxRequestBytes?: number;
  retries?: number;
  /** Milliseconds between retries of a batch (Kafka's retry.backoff.ms). */
  retryBackoffMs?: number;
  /** A record not acknowledged this long after send() fails (Kafka's delivery.timeout.ms, 120 s). */
  deliveryTimeoutMs?: number;
  /** Topic metadata older than this is fetched again before use (Kafka's metadata.max.age.ms, 5 minutes). */
  metadataMaxAgeMs?: number;
}

const CODECS: Record<Compression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

interface SendingBatch extends Batch {
  buffer?: Buffer;
}

export class Producer {
  readonly pool: ConnectionPool;
  readonly metadata: Metadata;
  private readonly acks: 0 | 1 | -1;
  private readonly lingerMs: number;
  private readonly batchBytes: number;
  private readonly codec: number;
  private readonly maxInFlight: number;
  private readonly maxRequestBytes: number;
  private readonly retries: number;
  private readonly retryBackoffMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly idempotence: 'on' | 'off' | 'auto';
  private readonly acc: RecordAccumulator;
  private readonly sticky: StickyPartitioner;
  private readonly nodeInFlight = new Map<number, number>();
  private readonly nextSequence = new Map<string, number>();
  private producerId: { id: bigint; epoch: number } | null = null;
  private producerIdInit: Promise<{ id: bigint; epoch: number } | null> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private running = false;
  private rerun = false;
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(opts: ProducerOptions) {
    const o = resolveOptions(opts);
    this.pool = new ConnectionPool(o);
    this.metadata = new Metadata(this.pool);
    if (opts.metadataMaxAgeMs !== undefined) this.metadata.maxAgeMs = opts.metadataMaxAgeMs;
    this.acks = opts.acks ?? -1;
    this.lingerMs = opts.lingerMs ?? 5;
    this.batchBytes = opts.batchBytes ?? 16_384;
    this.codec = CODECS[opts.compression ?? 'none'];
    if (this.codec === undefined)
      throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, String(opts.compression));
    this.retries = opts.retries ?? 2_147_483_647;
    this.retryBackoffMs = opts.retryBackoffMs ?? 100;
    this.deliveryTimeoutMs = opts.deliveryTimeoutMs ?? 120_000;
    this.requestTimeoutMs = o.requestTimeoutMs;
    if (opts.idempotent === true && this.acks !== -1) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'an idempotent producer needs acks=-1 (all)');
    }
    this.idempotence = opts.idempotent === true ? 'on' : opts.idempotent === false || this.acks !== -1 ? 'off' : 'auto';
    this.maxInFlight = opts.maxInFlight ?? 5;
    this.maxRequestBytes = opts.maxRequestBytes ?? 1_048_576;
    if (this.idempotence === 'on' && this.maxInFlight > 5) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'an idempotent producer allows at most 5 requests in flight');
    }
    this.acc = new RecordAccumulator(this.lingerMs, this.batchBytes);
    this.sticky = new StickyPartitioner(this.batchBytes);
  }

  send(record: ProducerRecord): Promise<RecordMetadata> {
    return this.enqueue(record);
  }

  sendBatch(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    return Promise.all(records.map((r) => this.enqueue(r)));
  }

  /** Send everything queued now (ignoring linger) and wait until every record is acknowledged or failed. */
  async flush(): Promise<void> {
    this.acc.beginFlush();
    try {
      this.schedule(0);
      while (this.acc.pendingCount > 0 || this.active > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    } finally {
      this.acc.endFlush();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.pool.close();
  }

  /** The producer id and epoch in use (null when not idempotent). */
  get producerIdentity(): { id: bigint; epoch: number } | null {
    return this.producerId;
  }

  private async enqueue(r: ProducerRecord): Promise<RecordMetadata> {
    if (this.closed) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'producer is closed');
    const info = await this.metadata.topic(r.topic, { autoCreate: true });
    const n = info.partitions.length;
    const key = r.key === undefined || r.key === null ? null : typeof r.key === 'string' ? Buffer.from(r.key) : r.key;
    const value = r.value === null ? null : typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    const headers = Object.entries(r.headers ?? {}).map(([k, v]) => ({
      key: k,
      value: typeof v === 'string' ? Buffer.from(v) : v,
    }));
    let size = 21 + (key?.length ?? 0) + (value?.length ?? 0);
    for (const h of headers) size += h.key.length + (h.value?.length ?? 0) + 4;
    let partition: number;
    if (r.partition !== undefined) {
      if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= n) {
        throw new KafkaError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `partition ${r.partition} of ${r.topic}, which has ${n} partitions`,
        );
      }
      partition = r.partition;
    } else if (key !== null) {
      partition = partitionForKey(key, n);
    } else {
      partition = this.sticky.partition(
        r.topic,
        n,
        info.partitions.filter((p) => p.leader >= 0).map((p) => p.partition),
        size,
      );
    }
    const timestamp = r.timestamp ?? Date.now();
    const input: RecordInput = { key, value, headers, timestamp };
    return new Promise<RecordMetadata>((resolve, reject) => {
      const rec: PendingRecord = { input, timestamp, resolve, reject };
      const due = this.acc.append(r.topic, partition, rec, size);
      if (due >= 0) this.schedule(due);
    });
  }

  /** Run the sender in `ms` (0 = after the current batch of synchronous sends). */
  private schedule(ms: number): void {
    if (ms < 0 || this.closed) return;
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, ms);
  }

  private async run(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    let deferred = false;
    try {
      do {
        this.rerun = false;
        const batches = this.acc.drain();
        const byNode = new Map<number, Batch[]>();
        const unsent: Batch[] = [];
        for (const b of batches) {
          let leader = this.metadata.leaderOf(b.topic, b.partition);
          if (leader < 0) {
            try {
              await this.metadata.topic(b.topic, { refresh: true, autoCreate: true });
              leader = this.metadata.leaderOf(b.topic, b.partition);
            } catch (e) {
              this.failed(b, e);
              continue;
            }
          }
          if (leader < 0) {
            this.retryOrFail(b, new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${b.topic}-${b.partition}`));
            continue;
          }
          const list = byNode.get(leader);
          if (list) list.push(b);
          else byNode.set(leader, [b]);
        }
        for (const [node, bs] of byNode) {
          // Requests of at most maxRequestBytes (a batch larger than that goes alone), while in-flight room lasts.
          for (let i = 0; i < bs.length; ) {
            if ((this.nodeInFlight.get(node) ?? 0) >= this.maxInFlight) {
              for (; i < bs.length; i++) unsent.push(bs[i]!); // sent when a request to this broker completes
              deferred = true;
              break;
            }
            const request: Batch[] = [];
            for (
              let bytes = 0;
              i < bs.length && (request.length === 0 || bytes + bs[i]!.bytes <= this.maxRequestBytes);
              i++
            ) {
              bytes += bs[i]!.bytes;
              request.push(bs[i]!);
            }
            this.nodeInFlight.set(node, (this.nodeInFlight.get(node) ?? 0) + 1);
            this.active++;
            void this.sendTo(node, request).finally(() => {
              this.nodeInFlight.set(node, (this.nodeInFlight.get(node) ?? 1) - 1);
              this.active--;
              this.schedule(0);
              this.wakeIdle();
            });
          }
        }
        this.acc.requeueUnsent(unsent);
      } while (this.rerun);
    } finally {
      this.running = false;
    }
    if (!deferred) this.schedule(this.acc.nextDueIn());
    this.wakeIdle();
  }

  private wakeIdle(): void {
    if (this.acc.pendingCount === 0 && this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async ensureProducerId(): Promise<{ id: bigint; epoch: number } | null> {
    if (this.idempotence === 'off') return null;
    if (this.producerId) return this.producerId;
    this.producerIdInit ??= this.initProducerId().finally(() => {
      this.producerIdInit = null;
    });
    return this.producerIdInit;
  }

  private async initProducerId(): Promise<{ id: bigint; epoch: number } | null> {
    for (let attempt = 0; ; attempt++) {
      const conn = await this.pool.any();
      if (!conn.supports(22)) {
        if (this.idempotence === 'on')
          throw new KafkaError(
            ErrorCode.UNSUPPORTED_VERSION,
            'the broker does not offer InitProducerId: no idempotent producer',
          );
        return null;
      }
      const v = conn.versionFor(22, 0, 5);
      const res = await conn.send(
        22,
        v,
        (w) =>
          encodeInitProducerIdRequest(w, v, {
            transactionalId: null,
            transactionTimeoutMs: 60_000,
            producerId: -1n,
            producerEpoch: -1,
            enable2Pc: false,
            keepPreparedTxn: false,
          }),
        decodeInitProducerIdResponse,
      );
      if (res.errorCode === ErrorCode.NONE) {
        this.producerId = { id: res.producerId, epoch: res.producerEpoch };
        this.nextSequence.clear();
        return this.producerId;
      }
      const err = new KafkaError(res.errorCode, 'InitProducerId');
      if (!err.retriable || attempt >= 10) throw err;
      await sleep(this.retryBackoffMs);
    }
  }

  private async encode(b: SendingBatch): Promise<Buffer> {
    if (b.buffer) return b.buffer;
    const pid = await this.ensureProducerId();
    if (pid && b.baseSequence < 0) {
      const k = `${b.topic}\u0000${b.partition}`;
      const seq = this.nextSequence.get(k) ?? 0;
      b.baseSequence = seq;
      b.producerId = pid.id;
      b.producerEpoch = pid.epoch;
      this.nextSequence.set(k, (seq + b.records.length) % 0x80000000);
    }
    b.buffer = await buildRecordBatch(
      b.records.map((r) => r.input),
      {
        compression: this.codec,
        producerId: b.producerId,
        producerEpoch: b.producerEpoch,
        baseSequence: b.baseSequence,
      },
    );
    return b.buffer;
  }

  private async sendTo(node: number, batches: SendingBatch[]): Promise<void> {
    let bufs: Buffer[];
    try {
      bufs = await Promise.all(batches.map((b) => this.encode(b)));
    } catch (e) {
      for (const b of batches) this.failed(b, e);
      return;
    }
    const byTopic = new Map<string, Array<{ index: number; records: Buffer }>>();
    /** The request's batches by topic and partition (a response names each at most once). */
    const sent = new Map<string, Map<number, Batch>>();
    batches.forEach((b, i) => {
      const data = { index: b.partition, records: bufs[i]! };
      const list = byTopic.get(b.topic);
      if (list) list.push(data);
      else byTopic.set(b.topic, [data]);
      const parts = sent.get(b.topic) ?? new Map<number, Batch>();
      if (parts.size === 0) sent.set(b.topic, parts);
      parts.set(b.partition, b);
    });
    let res: ProduceResponse;
    try {
      const conn = await this.metadata.connection(node);
      const v = conn.versionFor(0, 3, 11);
      const encode = (w: import('../protocol/wire/writer.js').Writer): void =>
        encodeProduceRequest(w, v, {
          transactionalId: null,
          acks: this.acks,
          timeoutMs: this.requestTimeoutMs,
          topicData: [...byTopic].map(([name, partitionData]) => ({
            name,
            topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
            partitionData,
          })),
        });
      if (this.acks === 0) {
        await conn.send(0, v, encode, () => null, { noResponse: true });
        for (const b of batches) this.succeeded(b, -1n, -1n);
        return;
      }
      res = await conn.send(0, v, encode, decodeProduceResponse, { timeoutMs: this.requestTimeoutMs + 5_000 });
    } catch (e) {
      for (const b of batches) this.retryOrFail(b, e);
      return;
    }
    const seen = new Set<Batch>();
    for (const t of res.responses) {
      for (const p of t.partitionResponses) {
        const b = sent.get(t.name)?.get(p.index);
        if (!b || seen.has(b)) continue;
        seen.add(b);
        if (p.errorCode === ErrorCode.NONE || p.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
          this.succeeded(b, p.baseOffset, p.logAppendTimeMs);
        } else {
          const msg =
            p.errorMessage ??
            p.recordErrors
              .map((r) => r.batchIndexErrorMessage)
              .filter(Boolean)
              .join('; ');
          this.retryOrFail(b, new KafkaError(p.errorCode, `${b.topic}-${b.partition}${msg ? `: ${msg}` : ''}`));
        }
      }
    }
    for (const b of batches) {
      if (!seen.has(b))
        this.retryOrFail(
          b,
          new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no response for ${b.topic}-${b.partition}`),
        );
    }
  }

  private succeeded(b: Batch, baseOffset: bigint, logAppendTime: bigint): void {
    this.acc.done(b);
    const base = Number(baseOffset);
    const lat = Number(logAppendTime);
    b.records.forEach((r, i) => {
      r.resolve({
        topic: b.topic,
        partition: b.partition,
        offset: base < 0 ? -1 : base + i,
        timestamp: lat >= 0 ? lat : r.timestamp,
      });
    });
  }

  private failed(b: Batch, e: unknown): void {
    this.acc.done(b);
    if (b.baseSequence >= 0) {
      const code = e instanceof KafkaError ? e.code : -1;
      const k = `${b.topic}\u0000${b.partition}`;
      const rejected =
        e instanceof KafkaError &&
        !e.retriable &&
        !needsMetadataRefresh(code) &&
        code !== ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER &&
        code !== ErrorCode.UNKNOWN_PRODUCER_ID &&
        code !== ErrorCode.INVALID_PRODUCER_EPOCH;
      if (
        rejected &&
        this.producerId?.id === b.producerId &&
        this.nextSequence.get(k) === (b.baseSequence + b.records.length) % 0x80000000
      ) {
        this.nextSequence.set(k, b.baseSequence); // the broker refused the batch: its sequence numbers are free again
      } else if (this.producerId?.id === b.producerId) {
        // Unknown outcome or a sequence fault: a new producer id, fresh sequences (Java bumps the epoch).
        this.producerId = null;
      }
    }
    b.fail(e instanceof Error ? e : new Error(String(e)));
  }

  private retryOrFail(b: Batch, e: unknown): void {
    const retriable = e instanceof KafkaError && (e.retriable || needsMetadataRefresh(e.code));
    if (!retriable || b.attempts >= this.retries || this.closed || Date.now() - b.createdAt >= this.deliveryTimeoutMs) {
      this.failed(b, e);
      return;
    }
    b.attempts++;
    if (e instanceof KafkaError && needsMetadataRefresh(e.code)) this.metadata.invalidate(b.topic);
    setTimeout(
      () => {
        this.acc.requeue(b);
        this.schedule(0);
      },
      Math.min(this.retryBackoffMs * 2 ** Math.min(b.attempts - 1, 5), 1_000),
    );
  }
}
