/**
 * Reused, bounded memory for the file ranges a consumer Fetch reads and sends (issue #16). Reading every
 * partition's range into a fresh `Buffer.allocUnsafe` of up to 1 MiB makes V8 account megabytes of external
 * memory per fetch and run full garbage collections for it (a fifth of the broker's CPU in consume-1k's
 * profile); here the ranges land in slabs that go back to a pool once the response has been handed to the
 * socket. Kafka sends file ranges with sendfile and holds none of it; a broker that reads them into memory must
 * bound what all fetches in flight hold together, or N consumers of many partitions hold N x fetch.max.bytes.
 *
 * - `ReadBufferPool.lease(want, budget)` gives one request a `ReadLease` that may read up to `lease.granted`
 *   bytes: `want` while the leases in flight have been granted less than `budget` together, else what is left
 *   of it, but never less than MIN_GRANT (so every fetch makes progress: at most MIN_GRANT a lease over the
 *   budget). A fetch answers at most `granted` bytes (at least one batch, as always), so under load responses
 *   get smaller instead of memory larger.
 * - `lease.alloc(n)` returns a Buffer of n bytes: n bytes of a slab when MIN_POOLED <= n <= slab size (the
 *   lease's last slab while they fit after its earlier allocations, else a new one), else a fresh buffer
 *   (never pooled). So a lease holds about as many slabs as its reads need bytes, not one a read.
 * - `lease.release()` returns the lease's slabs to the pool and its grant to the budget. Call it only when
 *   nothing reads those buffers any more: for a Fetch, after the socket's write callback of the response (the
 *   bytes are in the kernel or the TLS layer by then), or when no response is sent. Releasing twice is harmless.
 * - The pool keeps free slabs up to the last budget's worth and 8 more (at least `minFree`): a steady load reuses the
 * same
 *   slabs instead of leaving megabytes a fetch to the garbage collector (external memory that RSS carries until
 *   a full collection).
 * - Invariants: a slab is either free in the pool or held by exactly one live lease; `granted` is the sum of
 *   the grants of unreleased leases.
 */

/** Below this, Node's own small-buffer pool is cheaper than a slab. */
const MIN_POOLED = 64 * 1024;
/** The least a lease is granted, whatever the budget (a fetch always makes progress). */
export const MIN_GRANT = 1 << 20;
export class ReadBufferPool {
  private readonly free: Buffer[] = [];
  private grantedBytes = 0;
  private maxFree: number;

  constructor(
    /**
     * Slab size: a read of Kafka clients' default max.partition.fetch.bytes (1 MiB) plus the slack a segment
     * read takes to find its first batch (segment-read.ts) fits one.
     */
    readonly slabSize = (1 << 20) + 64 * 1024,
    /** Free slabs kept at least (and all that is kept while no lease names a budget). */
    readonly minFree = 16,
  ) {
    this.maxFree = minFree;
  }

  /** Slabs idle in the pool (tests). */
  get idle(): number {
    return this.free.length;
  }

  /** Bytes granted to unreleased leases. */
  get granted(): number {
    return this.grantedBytes;
  }

  /** A lease that may read up to `want` bytes, less when the leases in flight hold `budget` already. */
  lease(want = 0, budget = Number.POSITIVE_INFINITY): ReadLease {
    const left = budget - this.grantedBytes;
    const grant = Math.max(0, Math.min(want, Math.max(left, MIN_GRANT)));
    this.grantedBytes += grant;
    // The slabs in flight: the budget's worth plus about one partly filled slab a lease.
    if (Number.isFinite(budget)) this.maxFree = Math.max(this.minFree, Math.ceil(budget / this.slabSize) + 8);
    return new ReadLease(this, grant);
  }

  /** @internal */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.slabSize);
  }

  /** @internal */
  give(slab: Buffer): void {
    if (this.free.length < this.maxFree && !this.free.includes(slab)) this.free.push(slab);
  }

  /** @internal */
  ungrant(bytes: number): void {
    this.grantedBytes = Math.max(0, this.grantedBytes - bytes);
  }
}

export class ReadLease {
  private held: Buffer[] = [];
  /** Where the next allocation may start in the last slab taken (allocations share a slab while they fit). */
  private used = 0;
  private released = false;

  constructor(
    private readonly pool: ReadBufferPool,
    /** Bytes this lease's request may read (its response's limit). */
    readonly granted = 0,
  ) {}

  /** A buffer of `length` bytes (contents undefined), valid until `release()`. */
  readonly alloc = (length: number): Buffer => {
    if (length < MIN_POOLED || length > this.pool.slabSize) return Buffer.allocUnsafe(length);
    let slab = this.held[this.held.length - 1];
    if (slab === undefined || this.used + length > slab.length) {
      slab = this.pool.take();
      this.held.push(slab);
      this.used = 0;
    }
    const start = this.used;
    this.used = (start + length + 7) & ~7; // 8-byte aligned starts
    return slab.subarray(start, start + length);
  };

  /** Give the slabs back, and the grant; the buffers `alloc` returned must not be read after this. */
  release(): void {
    const held = this.held;
    this.held = [];
    this.used = 0;
    for (const s of held) this.pool.give(s);
    if (!this.released) this.pool.ungrant(this.granted);
    this.released = true;
  }
}

/** The process's pool for consumer fetches (buffers are interchangeable, so brokers in one process share it). */
export const fetchReadBuffers = new ReadBufferPool();
