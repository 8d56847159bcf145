/**
 * Prometheus metrics of one broker, in a registry of its own (several brokers can share a process):
 * prom-client's default process metrics, Kafka requests by API, version and error code with a latency
 * histogram (fed by the connection layer's `onRequest` callback through request-tally.ts), bytes and records
 * in/out per topic, flush (fsync) latency (the storage flushers' observer hook) — these kept, without
 * prom-client, in request-stats.ts and read at scrape time — and gauges read from the
 * broker at scrape time (partition offsets and sizes, consumer-group lag, connections, waiting fetches,
 * produces waiting on a flush, log recovery time of this start in total and per partition), and client quota
 * throttling per user and client-id (only clients that were throttled get series). Loaded only
 * with the admin app, on its first HTTP request; what came before is in the admin server's RequestStats.
 */
import { Gauge, type Metric, Registry, collectDefaultMetrics } from 'prom-client';
import type { Broker } from '../broker.js';
import type { RequestEvent } from '../connection.js';
import { errorName } from '../../protocol/generated/error-codes.js';
import { fetchOffsets } from '../groups/offsets.js';
import { tallyRequest } from './request-tally.js';
import { type Buckets, type Flow, RequestStats } from './request-stats.js';

export { countRecords } from './request-tally.js';

export class AdminMetrics {
  readonly registry = new Registry();

  constructor(
    private readonly broker: Broker,
    /** The admin server's, fed since it started; a fresh one where the app is built alone (tests). */
    readonly stats: RequestStats = new RequestStats(),
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    registerStatsMetrics(this.registry, stats);

    const logs = () => {
      try {
        return broker.replicaManager.allPartitions();
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
    partitionGauge(
      'runnel_partition_log_end_offset',
      'Offset the next record appended to a partition gets.',
      (l) => l.logEndOffset,
    );
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
          for (const s of groupOffsets(broker))
            this.set(
              { group: s.group, topic: s.topic, partition: String(s.partition) },
              pick(s.offset, s.highWatermark),
            );
        },
      });
    };
    groupGauge(
      'runnel_consumer_group_committed_offset',
      'Committed offset of a consumer group on a partition.',
      (o) => o,
    );
    groupGauge(
      'runnel_consumer_group_lag',
      'High watermark minus the committed offset of a consumer group on a partition.',
      (o, hw) => Math.max(0, hw - o),
    );

    new Gauge({
      name: 'runnel_connections',
      help: 'Open Kafka client connections.',
      registers,
      collect() {
        this.set(broker.connectionCount);
      },
    });
    new Gauge({
      name: 'runnel_fetch_waiting',
      help: 'Fetch requests long-polling for data.',
      registers,
      collect() {
        let n = 0;
        try {
          n = broker.replicaManager.purgatory.waitingFetches;
        } catch {
          // not started
        }
        this.set(n);
      },
    });
    new Gauge({
      name: 'runnel_produce_waiting',
      help: 'Produce appends waiting for a flush (fsync, flush.messages) before they are acknowledged.',
      registers,
      collect() {
        let n = 0;
        for (const l of logs()) n += l.flushWaiters;
        this.set(n);
      },
    });
    const manager = () => {
      try {
        return broker.logs;
      } catch {
        return undefined;
      }
    };
    new Gauge({
      name: 'runnel_log_recovery_seconds',
      help: 'Time this start spent loading and recovering all partition logs.',
      registers,
      collect() {
        const m = manager();
        if (m) this.set(m.recoveryMs / 1000);
      },
    });
    new Gauge({
      name: 'runnel_partition_recovery_seconds',
      help: 'Time this start spent loading and recovering a partition log.',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const r of manager()?.partitionRecoveryMs.values() ?? [])
          this.set({ topic: r.topic, partition: String(r.partition) }, r.ms / 1000);
      },
    });
  }

  /** The connection layer's per-request callback. Never throws. */
  readonly observe = (e: RequestEvent): void => {
    try {
      this.stats.record(tallyRequest(this.broker, e));
    } catch (err) {
      this.broker.log.debug({ err: (err as Error).message }, 'metrics: request not recorded');
    }
  };

  /** The storage flushers' callback. */
  readonly observeFlush = (seconds: number): void => {
    this.stats.observeFlush(seconds);
  };

  /** Count an append (Kafka Produce or the HTTP API). */
  appended(topic: string, bytes: number, records: number): void {
    this.stats.appended(topic, bytes, records);
  }
}

type Labels = Record<string, string>;
interface Sample {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  metricName?: string;
}

/**
 * A metric of the registry whose samples are read from RequestStats at scrape time (prom-client formats them
 * as its own Counter and Histogram: a histogram's `le` label first, then its shared labels).
 */
function collected(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  samples: () => Sample[],
): void {
  const get = async () => ({ name, help, type, aggregator: 'sum', values: samples() });
  registry.registerMetric({ name, help, type, aggregator: 'sum', get, reset() {} } as unknown as Metric);
}

function histogramSamples(name: string, h: Buckets, labels: Labels): Sample[] {
  const out: Sample[] = [];
  let acc = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    acc += h.counts[i];
    out.push({ metricName: `${name}_bucket`, labels: { le: h.bounds[i] }, sharedLabels: labels, value: acc });
  }
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, sharedLabels: labels, value: h.count });
  out.push({ metricName: `${name}_sum`, labels: {}, sharedLabels: labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels: {}, sharedLabels: labels, value: h.count });
  return out;
}

function flowSamples(m: Map<string, Flow>, pick: (f: Flow) => number): Sample[] {
  return [...m].map(([topic, f]) => ({ labels: { topic }, value: pick(f) }));
}

function registerStatsMetrics(registry: Registry, stats: RequestStats): void {
  collected(
    registry,
    'runnel_requests_total',
    'Kafka requests handled, by API name, version and error code (first non-zero error in the response).',
    'counter',
    () =>
      [...stats.requests.values()].map((c) => ({
        labels: { api: c.api, version: c.version, error: errorName(c.errorCode) },
        value: c.n,
      })),
  );
  const latency = 'runnel_request_duration_seconds';
  collected(
    registry,
    latency,
    'Time from a decoded request to its encoded response, by API name and version.',
    'histogram',
    () =>
      [...stats.latency.values()].flatMap((l) => histogramSamples(latency, l.h, { api: l.api, version: l.version })),
  );
  collected(
    registry,
    'runnel_topic_bytes_in_total',
    'Record batch bytes appended by produce (Kafka and HTTP), by topic.',
    'counter',
    () => flowSamples(stats.in, (f) => f.bytes),
  );
  collected(
    registry,
    'runnel_topic_records_in_total',
    'Records appended by produce (Kafka and HTTP), from batch headers, by topic.',
    'counter',
    () => flowSamples(stats.in, (f) => f.records),
  );
  collected(
    registry,
    'runnel_topic_bytes_out_total',
    'Record bytes sent in Fetch responses, by topic.',
    'counter',
    () => flowSamples(stats.out, (f) => f.bytes),
  );
  collected(
    registry,
    'runnel_topic_records_out_total',
    'Records sent in Fetch responses, from batch headers, by topic.',
    'counter',
    () => flowSamples(stats.out, (f) => f.records),
  );
  const flush = 'runnel_log_flush_duration_seconds';
  collected(
    registry,
    flush,
    'Duration of partition log flushes (one group commit: fdatasync of segments, index and directory fsyncs).',
    'histogram',
    () => histogramSamples(flush, stats.flush, {}),
  );
  collected(
    registry,
    'runnel_client_throttle_time_seconds_total',
    'Time clients were throttled (connection muted) for exceeding their quotas, by user and client id.',
    'counter',
    () =>
      [...stats.throttleTime.values()].map((t) => ({
        labels: { user: t.user, client_id: t.clientId },
        value: t.seconds,
      })),
  );
  collected(
    registry,
    'runnel_client_throttled_requests_total',
    'Responses that throttled their client (throttle_time_ms > 0), by user, client id and API.',
    'counter',
    () =>
      [...stats.throttled.values()].map((t) => ({
        labels: { user: t.user, client_id: t.clientId, api: t.api },
        value: t.n,
      })),
  );
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
  let c: Broker['groups'];
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
      const p = broker.replicaManager.getPartition(o.topic, o.partition);
      const log = typeof p === 'number' ? undefined : p;
      out.push({
        group,
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        highWatermark: log?.highWatermark ?? o.offset,
      });
    }
  }
  return out;
}
