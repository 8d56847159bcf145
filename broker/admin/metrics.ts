/**
 * Prometheus metrics of one broker, in a registry of its own (several brokers can share a process):
 * prom-client's default process metrics, Kafka requests by API, version and error code with a latency
 * histogram (fed by the connection layer's `onRequest` callback through request-tally.ts), bytes and records
 * in/out per topic, flush (fsync) latency (the storage flushers' observer hook), and gauges read from the
 * broker at scrape time (partition offsets and sizes, consumer-group lag, connections, waiting fetches,
 * produces waiting on a flush, log recovery time of this start in total and per partition), and client quota
 * throttling per user and client-id (only clients that were throttled get series). Loaded only
 * with the admin app, on its first HTTP request; observations made before are replayed (request-tally.ts).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Broker } from '../broker.js';
import type { RequestEvent } from '../connection.js';
import { errorName } from '../../protocol/generated/error-codes.js';
import { fetchOffsets } from '../groups/offsets.js';
import { tallyRequest, type Observation, type RequestTally } from './request-tally.js';

export { countRecords } from './request-tally.js';

export class AdminMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'api' | 'version' | 'error'>;
  private readonly latency: Histogram<'api' | 'version'>;
  private readonly bytesIn: Counter<'topic'>;
  private readonly recordsIn: Counter<'topic'>;
  private readonly bytesOut: Counter<'topic'>;
  private readonly recordsOut: Counter<'topic'>;
  private readonly flushLatency: Histogram;
  private readonly throttleTime: Counter<'user' | 'client_id'>;
  private readonly throttled: Counter<'user' | 'client_id' | 'api'>;

  constructor(private readonly broker: Broker) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'runnel_requests_total',
      help: 'Kafka requests handled, by API name, version and error code (first non-zero error in the response).',
      labelNames: ['api', 'version', 'error'],
      registers,
    });
    this.latency = new Histogram({
      name: 'runnel_request_duration_seconds',
      help: 'Time from a decoded request to its encoded response, by API name and version.',
      labelNames: ['api', 'version'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.bytesIn = new Counter({
      name: 'runnel_topic_bytes_in_total',
      help: 'Record batch bytes appended by produce (Kafka and HTTP), by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.recordsIn = new Counter({
      name: 'runnel_topic_records_in_total',
      help: 'Records appended by produce (Kafka and HTTP), from batch headers, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.bytesOut = new Counter({
      name: 'runnel_topic_bytes_out_total',
      help: 'Record bytes sent in Fetch responses, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.recordsOut = new Counter({
      name: 'runnel_topic_records_out_total',
      help: 'Records sent in Fetch responses, from batch headers, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.flushLatency = new Histogram({
      name: 'runnel_log_flush_duration_seconds',
      help: 'Duration of partition log flushes (one group commit: fdatasync of segments, index and directory fsyncs).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });

    this.throttleTime = new Counter({
      name: 'runnel_client_throttle_time_seconds_total',
      help: 'Time clients were throttled (connection muted) for exceeding their quotas, by user and client id.',
      labelNames: ['user', 'client_id'],
      registers,
    });
    this.throttled = new Counter({
      name: 'runnel_client_throttled_requests_total',
      help: 'Responses that throttled their client (throttle_time_ms > 0), by user, client id and API.',
      labelNames: ['user', 'client_id', 'api'],
      registers,
    });

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
      this.recordRequest(tallyRequest(this.broker, e));
    } catch (err) {
      this.broker.log.debug({ err: (err as Error).message }, 'metrics: request not recorded');
    }
  };

  /** The storage flushers' callback. */
  readonly observeFlush = (seconds: number): void => {
    this.flushLatency.observe(seconds);
  };

  /** Replay observations made before the metrics loaded. */
  replay(items: Observation[]): void {
    for (const o of items) {
      if (o.kind === 'request') this.recordRequest(o.tally);
      else this.observeFlush(o.seconds);
    }
  }

  private recordRequest(t: RequestTally): void {
    const version = String(t.version);
    this.requests.inc({ api: t.api, version, error: errorName(t.errorCode) });
    this.latency.observe({ api: t.api, version }, t.seconds);
    for (const f of t.in) this.appended(f.topic, f.bytes, f.records);
    if (t.throttle) {
      const { user, clientId, seconds } = t.throttle;
      this.throttleTime.inc({ user, client_id: clientId }, seconds);
      this.throttled.inc({ user, client_id: clientId, api: t.api });
    }
    for (const f of t.out) {
      this.bytesOut.inc({ topic: f.topic }, f.bytes);
      this.recordsOut.inc({ topic: f.topic }, f.records);
    }
  }

  /** Count an append (Kafka Produce or the HTTP API). */
  appended(topic: string, bytes: number, records: number): void {
    this.bytesIn.inc({ topic }, bytes);
    this.recordsIn.inc({ topic }, records);
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
