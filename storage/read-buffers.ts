/**
 * Reused memory for the file ranges a consumer Fetch reads and sends (issue #16). Reading every partition's
 * range into a fresh `Buffer.allocUnsafe` of up to 1 MiB makes V8 account megabytes of external memory per
 * fetch and run full garbage collections for it (a fifth of the broker's CPU in consume-1k's profile); here
 * the ranges land in slabs that go back to a pool once the response has been handed to the socket.
 *
 * - `ReadBufferPool.lease()` gives one request a `ReadLease`; `lease.alloc(n)` returns a Buffer of n bytes:
 *   a slab's first n bytes when MIN_POOLED <= n <= slab size, else a fresh buffer (never pooled).
 * - `lease.release()` returns the lease's slabs to the pool (at most `maxFree` kept; the others are left to
 *   the garbage collector). Call it only when nothing reads those buffers any more: for a Fetch, after the
 *   socket's write callback of the response (the bytes are in the kernel or the TLS layer by then), or when
 *   no response is sent. Releasing twice is harmless; never releasing only costs the reuse.
 * - Invariant: a slab is either free in the pool or held by exactly one live lease.
 */

/** Below this, Node's own small-buffer pool is cheaper than a slab. */
const MIN_POOLED = 64 * 1024;

export class ReadBufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    /**
     * Slab size: a read of Kafka clients' default max.partition.fetch.bytes (1 MiB) plus the slack a segment
     * read takes to find its first batch (segment-read.ts) fits one.
     */
    readonly slabSize = (1 << 20) + 64 * 1024,
    /** Slabs kept while unused. */
    readonly maxFree = 16,
  ) {}

  /** Slabs idle in the pool (tests). */
  get idle(): number {
    return this.free.length;
  }

  lease(): ReadLease {
    return new ReadLease(this);
  }

  /** @internal */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.slabSize);
  }

  /** @internal */
  give(slab: Buffer): void {
    if (this.free.length < this.maxFree && !this.free.includes(slab)) this.free.push(slab);
  }
}

export class ReadLease {
  private held: Buffer[] = [];

  constructor(private readonly pool: ReadBufferPool) {}

  /** A buffer of `length` bytes (contents undefined), valid until `release()`. */
  readonly alloc = (length: number): Buffer => {
    if (length < MIN_POOLED || length > this.pool.slabSize) return Buffer.allocUnsafe(length);
    const slab = this.pool.take();
    this.held.push(slab);
    return slab.subarray(0, length);
  };

  /** Give the slabs back; the buffers `alloc` returned must not be read after this. */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const s of held) this.pool.give(s);
  }
}

/** The process's pool for consumer fetches (buffers are interchangeable, so brokers in one process share it). */
export const fetchReadBuffers = new ReadBufferPool();
