/**
 * The client quotas of one request (Kafka's per-request quota bookkeeping in KafkaApis / RequestHandlerHelper):
 * the handler of a throttled API records what it used into `ctx.quota` (Produce: request bytes; Fetch: response
 * bytes; CreateTopics/CreatePartitions/DeleteTopics: partition mutations); the connection then records the
 * request's handling time against request_percentage (`finish`), puts the largest throttle time into the
 * response's throttle_time_ms and mutes the connection that long after sending it (KIP-219).
 *
 * Invariants:
 * - Handling time excludes the time the handler spent parked (`park`: a Fetch long poll, a JoinGroup waiting for
 *   its rebalance), as Kafka's request thread time does not include purgatory waits.
 * - Exempt from the request-time quota, as in Kafka: ApiVersions, the SASL APIs, broker-to-broker APIs
 *   (WriteTxnMarkers) and replica fetches (`exempt()`); they are neither recorded nor throttled.
 * - `finish` is called once; the throttle time it returns is >= 0 (the request-time part at most the quota
 *   window; byte-rate throttles are not bounded, as in Kafka).
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { MutationQuota, QuotaManager } from './quota-manager.js';

/** The answer for a mutation refused by a strict controller mutation quota (Kafka's default message). */
export const THROTTLED = {
  code: ErrorCode.THROTTLING_QUOTA_EXCEEDED,
  message: 'The throttling quota has been exceeded.',
} as const;

/** API keys never subject to the request-time quota: ApiVersions, SaslHandshake, SaslAuthenticate, WriteTxnMarkers. */
const EXEMPT_APIS = new Set([18, 17, 36, 27]);

export class RequestQuota {
  private throttleMs = 0;
  private exempted = false;
  private parkedMs = 0;
  /** Created by the first mutationQuota() (most requests have none: no array per request). */
  private mutations: MutationQuota[] | undefined;

  constructor(
    private readonly manager: QuotaManager,
    readonly principal: string,
    readonly clientId: string,
    /** Size of the request frame (what producer_byte_rate counts for a Produce, as Kafka's request.sizeInBytes). */
    readonly requestBytes: number,
  ) {}

  /** This request is broker-to-broker (a replica fetch): no client quota applies. */
  exempt(): void {
    this.exempted = true;
  }

  get isExempt(): boolean {
    return this.exempted;
  }

  /** Throttle this client for at least `ms` after the response. */
  throttle(ms: number): void {
    if (ms > this.throttleMs) this.throttleMs = ms;
  }

  /** Record a Produce request's bytes (default: the whole request); returns the throttle time it earned (ms). */
  recordProduce(bytes = this.requestBytes): number {
    if (this.exempted) return 0;
    const t = this.manager.recordAndGetThrottleTimeMs('produce', this.principal, this.clientId, bytes);
    this.throttle(t);
    return t;
  }

  /** Record a Fetch response's bytes; returns the throttle time it earned (ms). */
  recordFetch(bytes: number): number {
    if (this.exempted) return 0;
    const t = this.manager.recordAndGetThrottleTimeMs('fetch', this.principal, this.clientId, bytes);
    this.throttle(t);
    return t;
  }

  /** Take back recorded fetch bytes (the throttled response goes out without them). */
  unrecordFetch(bytes: number): void {
    if (!this.exempted) this.manager.unrecord('fetch', this.principal, this.clientId, bytes);
  }

  /** The most one Fetch response of this client may carry (what its consumer_byte_rate has left), or Infinity. */
  maxFetchBytes(): number {
    if (this.exempted) return Number.POSITIVE_INFINITY;
    return Math.floor(this.manager.maxValueInQuotaWindow('fetch', this.principal, this.clientId));
  }

  /** The controller mutation quota of this request; strict for the API versions that may refuse (KIP-599). */
  mutationQuota(strict: boolean): MutationQuota {
    const q = this.manager.mutationQuota(this.principal, this.clientId, strict);
    this.mutations ??= [];
    this.mutations.push(q);
    return q;
  }

  /** Await `p` without counting the wait as handling time. */
  async park<T>(p: Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await p;
    } finally {
      this.parkedMs += performance.now() - t0;
    }
  }

  /**
   * Record the handling time (`elapsedMs` minus parked time) of a request of `apiKey` against request_percentage
   * and return the throttle time of the whole request (ms).
   */
  finish(apiKey: number, elapsedMs: number): number {
    if (this.mutations) for (const m of this.mutations) this.throttle(m.throttleTimeMs);
    if (this.exempted || EXEMPT_APIS.has(apiKey)) return this.throttleMs;
    const ms = Math.max(0, elapsedMs - this.parkedMs);
    this.throttle(this.manager.recordAndGetThrottleTimeMs('request', this.principal, this.clientId, ms));
    return this.throttleMs;
  }
}
