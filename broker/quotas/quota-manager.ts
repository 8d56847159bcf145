/**
 * Client quota enforcement, as Kafka's ClientQuotaManager (producer_byte_rate, consumer_byte_rate),
 * ClientRequestQuotaManager (request_percentage) and ControllerMutationQuotaManager (controller_mutation_rate,
 * KIP-599) do it, over the quotas stored by AlterClientQuotas (replication/metadata/client-quotas.ts).
 *
 * - Resolution (Kafka's DefaultQuotaCallback), per quota key, first entity that sets the key wins:
 *   users/<user>/clients/<client-id>, users/<user>/clients/<default>, users/<user>,
 *   users/<default>/clients/<client-id>, users/<default>/clients/<default>, users/<default>,
 *   clients/<client-id>, clients/<default>. The user is the principal's name (ANONYMOUS when unauthenticated).
 *   The matched entity also decides who shares one rate: a user-only entity makes all client-ids of that user
 *   share it; a client-id-only entity all users of that client-id; others measure each (user, client-id).
 *   No quota: nothing is recorded and nothing is throttled.
 * - Quotas are read from the store at each record, so AlterClientQuotas applies at once to live connections;
 *   measured rates survive a quota change.
 * - Byte and request-time rates: SampledRate over `quota.window.num` samples of `quota.window.size.seconds`;
 *   a value is recorded, then the rate is checked: over the quota, the throttle time is
 *   (rate - quota) / quota * window (rate.ts: the window never reaches back before the client's first record).
 *   As in Kafka, byte-rate throttle times are not bounded (ClientQuotaManager) while request time's are capped
 *   by one sample window (ClientRequestQuotaManager's boundedThrottleTime): a 1 MB produce at 100 KB/s must
 *   wait its 10 s, else a client sending large requests would get one per second whatever its quota.
 *   request_percentage is a share of one thread: handler time in ms / 10 per second gives percent.
 * - A consumer's fetch is capped at what it may still take without going over its quota (quota * window minus
 *   what the window holds; Kafka caps it at quota * (samples - 1) windows, assuming an empty window): its
 *   responses then come sized to the quota instead of as 10-window chunks with 10 s gaps between them.
 * - Controller mutations: a TokenBucket per sensor (`controller.quota.window.*`); strict (CreateTopics v6+,
 *   CreatePartitions v3+, DeleteTopics v5+) checks before recording and refuses a mutation while the tokens are
 *   below 0 (THROTTLING_QUOTA_EXCEEDED) with the time until they are back; permissive records and only throttles.
 * - Sensors unused for an hour are dropped (Kafka's inactive sensor expiry); at most MAX_SENSORS exist.
 */
import type { Clock } from '../../storage/clock.js';
import { principalName } from '../security/session.js';
import type { QuotaEntity } from '../../replication/metadata/client-quotas.js';
import { SampledRate, throttleTimeMs, TokenBucket } from './rate.js';

/** Where quotas are read from (ClientQuotaStore). */
export interface QuotaSource {
  quotaValue(entity: QuotaEntity, key: string): number | undefined;
  /** false when no quota at all is set: every lookup is skipped (the common case costs nothing). */
  hasQuotas?(): boolean;
}

export type RateQuotaType = 'produce' | 'fetch' | 'request';

export const QUOTA_KEYS = {
  produce: 'producer_byte_rate',
  fetch: 'consumer_byte_rate',
  request: 'request_percentage',
  mutation: 'controller_mutation_rate',
} as const;

export interface QuotaManagerOptions {
  source: QuotaSource;
  clock: Clock;
  /** quota.window.num / quota.window.size.seconds (ms). */
  numSamples: number;
  windowMs: number;
  /** controller.quota.window.num / controller.quota.window.size.seconds (ms). */
  mutationSamples: number;
  mutationWindowMs: number;
}

/** The quota that applies to a (user, client-id) and the sensor it is measured in. */
export interface ResolvedQuota {
  quota: number;
  /** The sensor's tags: '' where the matched entity does not name that type. */
  user: string;
  clientId: string;
}

const INACTIVE_MS = 3_600_000;
const MAX_SENSORS = 100_000;

/** Resolve `key` for (user, clientId) with Kafka's precedence (see the header). */
export function resolveQuota(
  source: QuotaSource,
  key: string,
  user: string,
  clientId: string,
): ResolvedQuota | undefined {
  const order: Array<[QuotaEntity, string, string]> = [
    [{ user, 'client-id': clientId }, user, clientId],
    [{ user, 'client-id': null }, user, clientId],
    [{ user }, user, ''],
    [{ user: null, 'client-id': clientId }, user, clientId],
    [{ user: null, 'client-id': null }, user, clientId],
    [{ user: null }, user, ''],
    [{ 'client-id': clientId }, '', clientId],
    [{ 'client-id': null }, '', clientId],
  ];
  for (const [entity, u, c] of order) {
    const quota = source.quotaValue(entity, key);
    if (quota !== undefined) return { quota, user: u, clientId: c };
  }
  return undefined;
}

interface Sensor<T> {
  stat: T;
  lastUsed: number;
}

/** One request's controller mutation quota (Kafka's ControllerMutationQuota). */
export interface MutationQuota {
  /** Take `permits` mutations; false (strict only) when refused: the caller answers THROTTLING_QUOTA_EXCEEDED. */
  record(permits: number): boolean;
  /** The throttle time this request earned so far (ms). */
  readonly throttleTimeMs: number;
}

const UNLIMITED: MutationQuota = { record: () => true, throttleTimeMs: 0 };

export class QuotaManager {
  private readonly rates = new Map<string, Sensor<SampledRate>>();
  private readonly buckets = new Map<string, Sensor<TokenBucket>>();
  private nextSweep = 0;

  constructor(private readonly opts: QuotaManagerOptions) {}

  private resolve(key: string, principal: string, clientId: string): ResolvedQuota | undefined {
    if (this.opts.source.hasQuotas?.() === false) return undefined;
    return resolveQuota(this.opts.source, key, principalName(principal), clientId);
  }

  private sweep(now: number): void {
    if (now < this.nextSweep && this.rates.size + this.buckets.size < MAX_SENSORS) return;
    this.nextSweep = now + 60_000;
    for (const m of [this.rates, this.buckets] as Map<string, Sensor<unknown>>[]) {
      for (const [k, s] of m) if (now - s.lastUsed >= INACTIVE_MS || m.size > MAX_SENSORS) m.delete(k);
    }
  }

  private rateSensor(type: RateQuotaType, q: ResolvedQuota, now: number): SampledRate {
    this.sweep(now);
    const k = `${type}\u0000${q.user}\u0000${q.clientId}`;
    let s = this.rates.get(k);
    if (!s) {
      s = { stat: new SampledRate(this.opts.numSamples, this.opts.windowMs), lastUsed: now };
      this.rates.set(k, s);
    }
    s.lastUsed = now;
    return s.stat;
  }

  /**
   * Record `value` (bytes; for 'request' the handler time in ms) for this client and return how long it must be
   * throttled (ms), 0 when within its quota or without one.
   */
  recordAndGetThrottleTimeMs(type: RateQuotaType, principal: string, clientId: string, value: number): number {
    const q = this.resolve(QUOTA_KEYS[type], principal, clientId);
    if (!q) return 0;
    const now = this.opts.clock.now();
    const rate = this.rateSensor(type, q, now);
    // Kafka records request time as a percentage of a second: ms * 100 / 1000.
    rate.record(type === 'request' ? value / 10 : value, now);
    const max = type === 'request' ? this.opts.windowMs : Number.POSITIVE_INFINITY;
    return throttleTimeMs(rate.rate(now), q.quota, rate.windowSizeMs(now), max);
  }

  /** Take back a recorded value (a throttled fetch answers without its records). */
  unrecord(type: RateQuotaType, principal: string, clientId: string, value: number): void {
    const q = this.resolve(QUOTA_KEYS[type], principal, clientId);
    if (!q) return;
    const now = this.opts.clock.now();
    this.rateSensor(type, q, now).unrecord(type === 'request' ? value / 10 : value, now);
  }

  /**
   * The most a client may take now without going over its quota: quota * window minus what the window holds, at
   * most Kafka's getMaxValueInQuotaWindow (quota * (samples - 1) windows), 0 when over; Infinity without a quota.
   * What a quota-bound consumer's fetch returns at most (one batch at least).
   */
  maxValueInQuotaWindow(type: RateQuotaType, principal: string, clientId: string): number {
    const q = this.resolve(QUOTA_KEYS[type], principal, clientId);
    if (!q) return Number.POSITIVE_INFINITY;
    const now = this.opts.clock.now();
    const rate = this.rateSensor(type, q, now);
    const allowed = (q.quota * rate.windowSizeMs(now)) / 1000 - rate.total(now);
    return Math.max(0, Math.min(allowed, q.quota * (this.opts.numSamples - 1) * (this.opts.windowMs / 1000)));
  }

  /** The measured rate of a client (bytes/s, or percent for 'request'); 0 without a quota (metrics, tests). */
  measuredRate(type: RateQuotaType, principal: string, clientId: string): number {
    const q = this.resolve(QUOTA_KEYS[type], principal, clientId);
    if (!q) return 0;
    const now = this.opts.clock.now();
    return this.rateSensor(type, q, now).rate(now);
  }

  /** A request's controller mutation quota; `strict` for the API versions that may refuse (KIP-599). */
  mutationQuota(principal: string, clientId: string, strict: boolean): MutationQuota {
    const q = this.resolve(QUOTA_KEYS.mutation, principal, clientId);
    if (!q) return UNLIMITED;
    const { clock } = this.opts;
    const bucket = (): TokenBucket => {
      const now = clock.now();
      this.sweep(now);
      const k = `${q.user}\u0000${q.clientId}`;
      let s = this.buckets.get(k);
      if (!s) {
        s = {
          stat: new TokenBucket(q.quota, this.opts.mutationSamples, this.opts.mutationWindowMs, now),
          lastUsed: now,
        };
        this.buckets.set(k, s);
      } else {
        s.stat.setQuota(q.quota, now);
      }
      s.lastUsed = now;
      return s.stat;
    };
    let throttle = 0;
    return {
      record(permits: number): boolean {
        const b = bucket();
        const now = clock.now();
        if (strict) {
          if (b.measure(now) < 0) {
            throttle = Math.max(throttle, b.throttleTimeMs(now));
            return false;
          }
          b.record(permits, now);
          return true;
        }
        b.record(permits, now);
        throttle = Math.max(throttle, b.throttleTimeMs(now));
        return true;
      },
      get throttleTimeMs(): number {
        return throttle;
      },
    };
  }
}
