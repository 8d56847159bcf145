/**
 * The request and flush metrics of one broker, kept without prom-client: requests by API, version and error
 * code, a latency histogram by API and version, record bytes and records in and out per topic, flush (fsync)
 * latency and client quota throttling. Bounded by label cardinality (APIs x versions x error codes, topics,
 * throttled clients), never by traffic: a broker that is never scraped keeps a few maps, not a list.
 *
 * The admin server (server.ts) creates it when it starts and feeds it from the broker's request and flush
 * observers from the first request on; metrics.ts exposes it through prom-client when the admin app loads
 * (the first HTTP request). Nothing is replayed and nothing forces that load: an earlier design buffered raw
 * observations and loaded fastify and prom-client once 10,000 were waiting, a synchronous require of ~300
 * modules that stalled the event loop for 340 ms to 1 s in the middle of traffic (issue #16).
 */
import type { RequestTally } from './request-tally.js';

/** runnel_request_duration_seconds's buckets (upper bounds, seconds). */
export const REQUEST_SECONDS_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** runnel_log_flush_duration_seconds's buckets. */
export const FLUSH_SECONDS_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** A histogram: per-bucket (not cumulative) counts, the count and sum of everything observed. */
export class Buckets {
  readonly counts: Float64Array;
  count = 0;
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(v: number): void {
    this.count++;
    this.sum += v;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

export interface RequestCount {
  api: string;
  version: string;
  errorCode: number;
  n: number;
}
export interface RequestLatency {
  api: string;
  version: string;
  h: Buckets;
}
export interface Flow {
  bytes: number;
  records: number;
}
export interface ThrottleTime {
  user: string;
  clientId: string;
  seconds: number;
}
export interface ThrottledCount {
  user: string;
  clientId: string;
  api: string;
  n: number;
}

export class RequestStats {
  /** Keyed `api version errorCode`. */
  readonly requests = new Map<string, RequestCount>();
  /** Keyed `api version`. */
  readonly latency = new Map<string, RequestLatency>();
  /** By topic: appended by produce (Kafka and HTTP). */
  readonly in = new Map<string, Flow>();
  /** By topic: sent in Fetch responses. */
  readonly out = new Map<string, Flow>();
  readonly flush = new Buckets(FLUSH_SECONDS_BUCKETS);
  /** Keyed `user \0 clientId`. */
  readonly throttleTime = new Map<string, ThrottleTime>();
  /** Keyed `user \0 clientId \0 api`. */
  readonly throttled = new Map<string, ThrottledCount>();

  record(t: RequestTally): void {
    const key = `${t.api} ${t.version} ${t.errorCode}`;
    const c = this.requests.get(key);
    if (c) c.n++;
    else this.requests.set(key, { api: t.api, version: String(t.version), errorCode: t.errorCode, n: 1 });
    const lkey = `${t.api} ${t.version}`;
    let l = this.latency.get(lkey);
    if (!l) {
      l = { api: t.api, version: String(t.version), h: new Buckets(REQUEST_SECONDS_BUCKETS) };
      this.latency.set(lkey, l);
    }
    l.h.observe(t.seconds);
    for (const f of t.in) this.appended(f.topic, f.bytes, f.records);
    for (const f of t.out) add(this.out, f.topic, f.bytes, f.records);
    if (t.throttle) {
      const { user, clientId, seconds } = t.throttle;
      const tkey = `${user}\0${clientId}`;
      const tt = this.throttleTime.get(tkey);
      if (tt) tt.seconds += seconds;
      else this.throttleTime.set(tkey, { user, clientId, seconds });
      const akey = `${tkey}\0${t.api}`;
      const tc = this.throttled.get(akey);
      if (tc) tc.n++;
      else this.throttled.set(akey, { user, clientId, api: t.api, n: 1 });
    }
  }

  observeFlush(seconds: number): void {
    this.flush.observe(seconds);
  }

  /** Count an append (Kafka Produce or the HTTP API). */
  appended(topic: string, bytes: number, records: number): void {
    add(this.in, topic, bytes, records);
  }
}

function add(m: Map<string, Flow>, topic: string, bytes: number, records: number): void {
  const f = m.get(topic);
  if (f) {
    f.bytes += bytes;
    f.records += records;
  } else m.set(topic, { bytes, records });
}
