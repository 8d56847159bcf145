/**
 * Prometheus metrics of one broker, in a registry of its own (several brokers can share a process):
 * prom-client's default process metrics, Kafka requests by API, version and error code with a latency
 * histogram (fed by the connection layer's `onRequest` callback), bytes and records in/out per topic, and
 * gauges read from the broker at scrape time (partition offsets and sizes, consumer-group lag, connections,
 * waiting fetches). Loaded only with the admin server.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Broker } from '../broker.js';
import type { RequestEvent } from '../connection.js';
import { errorName } from '../../protocol/generated/error-codes.js';
import { LENGTH_OFFSET, LOG_OVERHEAD, MAGIC_OFFSET, RECORDS_COUNT_OFFSET, BATCH_HEADER_SIZE } from '../../protocol/records/batch-header.js';
import { fetchOffsets } from '../groups/offsets.js';

/** Records in a buffer of whole v2 batches, from the batch headers (nothing is decoded). */
export function countRecords(buf: Buffer | null | undefined): number {
  if (!buf) return 0;
  let n = 0;
  let pos = 0;
  while (pos + BATCH_HEADER_SIZE <= buf.length) {
    const size = LOG_OVERHEAD + buf.readInt32BE(pos + LENGTH_OFFSET);
    if (size < BATCH_HEADER_SIZE || pos + size > buf.length) break;
    if (buf.readInt8(pos + MAGIC_OFFSET) === 2) n += Math.max(0, buf.readInt32BE(pos + RECORDS_COUNT_OFFSET));
    pos += size;
  }
  return n;
}

/** First non-zero errorCode in a response (top level, then nested lists up to depth 3), else 0. */
function responseError(res: unknown, depth = 0): number {
  if (typeof res !== 'object' || res === null || Buffer.isBuffer(res)) return 0;
  const o = res as Record<string, unknown>;
  if (typeof o.errorCode === 'number' && o.errorCode !== 0) return o.errorCode;
  if (depth >= 3) return 0;
  for (const v of Object.values(o)) {
    if (!Array.isArray(v)) continue;
    for (const item of v) {
      const e = responseError(item, depth + 1);
      if (e !== 0) return e;
    }
  }
  return 0;
}

interface ProduceReq {
  topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[];
}
interface ProduceRes {
  responses: { name: string; partitionResponses: { index: number; errorCode: number }[] }[];
}
interface FetchRes {
  responses: { topic: string; topicId: string; partitions: { records: Buffer | null }[] }[];
}

export class AdminMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'api' | 'version' | 'error'>;
  private readonly latency: Histogram<'api' | 'version'>;
  private readonly bytesIn: Counter<'topic'>;
  private readonly recordsIn: Counter<'topic'>;
  private readonly bytesOut: Counter<'topic'>;
  private readonly recordsOut: Counter<'topic'>;

  constructor(private readonly broker: Broker) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: 'runnel_requests_total', help: 'Kafka requests handled, by API name, version and error code (first non-zero error in the response).', labelNames: ['api', 'version', 'error'], registers });
    this.latency = new Histogram({
      name: 'runnel_request_duration_seconds',
      help: 'Time from a decoded request to its encoded response, by API name and version.',
      labelNames: ['api', 'version'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.bytesIn = new Counter({ name: 'runnel_topic_bytes_in_total', help: 'Record batch bytes appended by produce (Kafka and HTTP), by topic.', labelNames: ['topic'], registers });
    this.recordsIn = new Counter({ name: 'runnel_topic_records_in_total', help: 'Records appended by produce (Kafka and HTTP), from batch headers, by topic.', labelNames: ['topic'], registers });
    this.bytesOut = new Counter({ name: 'runnel_topic_bytes_out_total', help: 'Record bytes sent in Fetch responses, by topic.', labelNames: ['topic'], registers });
    this.recordsOut = new Counter({ name: 'runnel_topic_records_out_total', help: 'Records sent in Fetch responses, from batch headers, by topic.', labelNames: ['topic'], registers });

    const logs = () => {
      try {
        return broker.logs.allLogs();
      } catch {
        return [];
      }
    };
    const partitionGauge = (name: string, help: string, read: (l: ReturnType<typeof logs>[number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition'],
        registers,
        collect() {
          this.reset();
          for (const l of logs()) this.set({ topic: l.topic, partition: String(l.partition) }, read(l));
        },
      });
    };
    partitionGauge('runnel_partition_log_start_offset', 'First offset of a partition log.', (l) => l.logStartOffset);
    partitionGauge('runnel_partition_log_end_offset', 'Offset the next record appended to a partition gets.', (l) => l.logEndOffset);
    partitionGauge('runnel_partition_high_watermark', 'High watermark of a partition.', (l) => l.highWatermark);
    partitionGauge('runnel_partition_size_bytes', 'Bytes of a partition log on disk (all segments).', (l) => l.size);

    const groupGauge = (name: string, help: string, pick: (offset: number, hw: number) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['group', 'topic', 'partition'],
        registers,
        collect() {
          this.reset();
          for (const s of groupOffsets(broker)) this.set({ group: s.group, topic: s.topic, partition: String(s.partition) }, pick(s.offset, s.highWatermark));
        },
      });
    };
    groupGauge('runnel_consumer_group_committed_offset', 'Committed offset of a consumer group on a partition.', (o) => o);
    groupGauge('runnel_consumer_group_lag', 'High watermark minus the committed offset of a consumer group on a partition.', (o, hw) => Math.max(0, hw - o));

    new Gauge({ name: 'runnel_connections', help: 'Open Kafka client connections.', registers, collect() { this.set(broker.connectionCount); } });
    new Gauge({ name: 'runnel_fetch_waiting', help: 'Fetch requests long-polling for data.', registers, collect() { this.set(broker.appendNotifier.waiting); } });
  }

  /** The connection layer's per-request callback. Never throws. */
  readonly observe = (e: RequestEvent): void => {
    try {
      const version = String(e.apiVersion);
      this.requests.inc({ api: e.api, version, error: errorName(responseError(e.response)) });
      this.latency.observe({ api: e.api, version }, e.durationMs / 1000);
      if (e.apiKey === 0) this.observeProduce(e.request as ProduceReq, e.response as ProduceRes | null);
      else if (e.apiKey === 1 && e.response) this.observeFetch(e.response as FetchRes);
    } catch (err) {
      this.broker.log.debug({ err: (err as Error).message }, 'metrics: request not recorded');
    }
  };

  /** Count an append (Kafka Produce or the HTTP API). */
  appended(topic: string, bytes: number, records: number): void {
    this.bytesIn.inc({ topic }, bytes);
    this.recordsIn.inc({ topic }, records);
  }

  private observeProduce(req: ProduceReq, res: ProduceRes | null): void {
    for (let i = 0; i < req.topicData.length; i++) {
      const t = req.topicData[i];
      const tr = res?.responses[i];
      for (let j = 0; j < t.partitionData.length; j++) {
        const p = t.partitionData[j];
        if (tr && tr.partitionResponses[j]?.errorCode !== 0) continue;
        if (!res && !this.broker.logs.getLog(t.name, p.index)) continue;
        this.appended(t.name, p.records?.length ?? 0, countRecords(p.records));
      }
    }
  }

  private observeFetch(res: FetchRes): void {
    for (const t of res.responses) {
      const topic = t.topic || this.broker.logs.topicById(t.topicId)?.name;
      if (!topic) continue;
      let bytes = 0;
      let records = 0;
      for (const p of t.partitions) {
        bytes += p.records?.length ?? 0;
        records += countRecords(p.records);
      }
      if (bytes > 0) {
        this.bytesOut.inc({ topic }, bytes);
        this.recordsOut.inc({ topic }, records);
      }
    }
  }
}

export interface GroupOffset {
  group: string;
  topic: string;
  partition: number;
  offset: number;
  highWatermark: number;
}

/** Committed offsets of every group with the partitions' high watermarks (lag = hw - offset). */
export function groupOffsets(broker: Broker, only?: string): GroupOffset[] {
  let c;
  try {
    c = broker.groups;
    broker.logs;
  } catch {
    return [];
  }
  const out: GroupOffset[] = [];
  for (const group of only === undefined ? [...c.groups.keys()] : [only]) {
    const r = fetchOffsets(c, group, null);
    if (r.errorCode !== 0) continue;
    for (const o of r.offsets) {
      if (o.offset < 0) continue;
      const log = broker.logs.getLog(o.topic, o.partition);
      out.push({ group, topic: o.topic, partition: o.partition, offset: o.offset, highWatermark: log?.highWatermark ?? o.offset });
    }
  }
  return out;
}
