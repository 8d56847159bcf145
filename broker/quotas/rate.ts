/**
 * The measurements client quotas are checked against, as Kafka's metrics library keeps them: a windowed
 * rate (SampledStat + Rate) for byte and request-time quotas, and a token bucket (KIP-599) for controller
 * mutations. Pure arithmetic over times given by the caller (the quota manager's clock); nothing here reads
 * the time itself, so unit tests drive it with any numbers.
 *
 * SampledRate invariants (Kafka's Rate over SampledStat):
 * - At most `samples` samples, each covering `windowMs` from its start; a value goes to the current sample,
 *   or to a new one once the current is `windowMs` old (the oldest is reused past `samples`).
 * - Samples that started `samples * windowMs` or more before now count nothing (they are reset on read).
 * - rate(now) = sum of live sample values / elapsed window, where the elapsed window is now minus the oldest
 *   sample's start, raised to at least `samples - 1` full windows (Kafka: windows without records count as
 *   empty, so a client back from idle may catch up), but never to more than the time since the rate's first
 *   record, and at least one window. That last bound is Runnel's (Kafka's KAFKA-12319 made the same point for
 *   the first window only): before its first record the client had no windows at all, and counting 10 empty
 *   ones would let a new client send 10 windows' worth at once and then starve it for 10 s, a pattern that
 *   repeats every `samples` windows, so a producer over its quota would not stay near it over 10 s (issue #14).
 *
 * TokenBucket invariants (Kafka's TokenBucket): tokens refill at `quota` per second up to a burst of
 * quota * samples * window seconds; a record takes its value out (tokens may go negative); a new bucket is full.
 */

interface Sample {
  /** When this sample's window began. */
  start: number;
  value: number;
}

export class SampledRate {
  private readonly samples: Sample[] = [];
  private current = 0;
  /** When the first value was recorded (undefined before). */
  private since: number | undefined;

  constructor(
    readonly numSamples: number,
    readonly windowMs: number,
  ) {}

  /** Add `value` at time `now`. */
  record(value: number, now: number): void {
    this.purge(now);
    this.since ??= now;
    let s = this.samples[this.current];
    if (s === undefined) {
      s = { start: now, value: 0 };
      this.samples[this.current] = s;
    } else if (now - s.start >= this.windowMs) {
      this.current = (this.current + 1) % this.numSamples;
      s = this.samples[this.current];
      if (s === undefined) {
        s = { start: now, value: 0 };
        this.samples[this.current] = s;
      } else {
        s.start = now;
        s.value = 0;
      }
    }
    s.value += value;
  }

  /** Take back a value recorded in the current sample (Kafka's unrecordQuotaSensor for a throttled fetch). */
  unrecord(value: number, now: number): void {
    this.record(-value, now);
  }

  /** Units per second at `now`. */
  rate(now: number): number {
    return this.total(now) / (this.windowSizeMs(now) / 1000);
  }

  /** What the live samples hold at `now`. */
  total(now: number): number {
    this.purge(now);
    let total = 0;
    for (const s of this.samples) total += s.value;
    return total;
  }

  /** The window the rate divides by (ms), as Kafka's Rate.windowSize. */
  windowSizeMs(now: number): number {
    this.purge(now);
    let oldest = now;
    for (const s of this.samples) if (s.start < oldest) oldest = s.start;
    let elapsed = now - oldest;
    const fullWindows = Math.floor(elapsed / this.windowMs);
    const minFull = this.numSamples - 1;
    if (fullWindows < minFull) elapsed += (minFull - fullWindows) * this.windowMs;
    // No empty windows before the first record (see the header); one window at least.
    elapsed = Math.min(elapsed, Math.max(now - (this.since ?? now), this.windowMs));
    return Math.max(elapsed, 1);
  }

  /** Reset samples that are too old to count (Kafka's purgeObsoleteSamples). */
  private purge(now: number): void {
    const expireAge = this.numSamples * this.windowMs;
    for (const s of this.samples) {
      if (now - s.start >= expireAge) {
        s.start = now;
        s.value = 0;
      }
    }
  }
}

/**
 * How long (ms) a client whose measured rate is `rate` must wait for it to fall back to `quota`, as Kafka's
 * QuotaUtils.throttleTime: (rate - quota) / quota * window, rounded; 0 when within the quota; at most `maxMs`
 * (Kafka's boundedThrottleTime, for request time; byte rates are not bounded: pass Infinity).
 */
export function throttleTimeMs(rate: number, quota: number, windowMs: number, maxMs: number): number {
  if (rate <= quota) return 0;
  const ms = Math.round(((rate - quota) / quota) * windowMs);
  return Math.max(0, Math.min(ms, maxMs));
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** `quota` per second; burst = quota * samples * window seconds. */
  constructor(
    private quota: number,
    private readonly numSamples: number,
    private readonly windowMs: number,
    now: number,
  ) {
    this.tokens = this.burst();
    this.last = now;
  }

  private burst(): number {
    return this.quota * this.numSamples * (this.windowMs / 1000);
  }

  /** Change the rate (a quota altered); the tokens stay, capped by the new burst. */
  setQuota(quota: number, now: number): void {
    this.refill(now);
    this.quota = quota;
    this.tokens = Math.min(this.tokens, this.burst());
  }

  private refill(now: number): void {
    const burst = this.burst();
    this.tokens = Math.min(burst, this.tokens + (this.quota * Math.max(0, now - this.last)) / 1000);
    this.last = Math.max(this.last, now);
  }

  /** Tokens left at `now` (negative: over the quota). */
  measure(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  record(value: number, now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.burst(), this.tokens - value);
  }

  /** How long until the tokens are back to 0 (Kafka: -tokens / quota * 1000), 0 when not negative. */
  throttleTimeMs(now: number): number {
    const t = this.measure(now);
    return t >= 0 ? 0 : Math.round((-t / this.quota) * 1000);
  }
}
