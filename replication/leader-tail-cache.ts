/**
 * The leader's tail cache: the record batches a leader appended most recently, kept in memory as they were
 * written, so that a follower's replica fetch or a consumer's fetch at the start of one of them is answered
 * without reading the log file back (Kafka answers from the page cache with zero-copy sends; Node would read
 * the file through the thread pool, one more asynchronous hop and a copy per fetch).
 *
 * - One `LeaderTailCache` per leading Partition, filled as partition-tail.ts decides (with followers on the
 *   replication budget, without on the small `log.tail.cache.max.bytes` one, evicted by age only); entries are
 *   whole appends [base, end) in offset order with no gap (an append that does not start at the last entry's
 *   end, e.g. after a transaction marker or a duplicate, starts the cache over).
 * - `read(offset, maxBytes, minOneBatch, maxOffset)` answers only from an entry starting exactly at `offset`:
 *   the same whole batches the log would return within one segment (those below `maxOffset`, the consumer's HW
 *   or LSO, that fit `maxBytes`); anything else is undefined and the caller reads the log.
 * - Entries every follower has (`evictBelow`, from the followers' fetch offsets) leave at once; all of them
 *   on a leadership change or when the partition goes (`clear`).
 * - Memory: one `TailCacheBudget` per node bounds the bytes of every cache together; past it the oldest
 *   entries of any partition leave first. The buffers are the appended ones (no copy): with acks=all they
 *   are held until the followers fetched them anyway.
 */

interface Entry {
  base: number;
  end: number;
  buf: Buffer;
  owner: LeaderTailCache;
  /** Removed from its cache (the budget's queue drops it lazily). */
  dead: boolean;
}

/** Bytes of every tail cache of one node together, oldest entries evicted first. */
export class TailCacheBudget {
  private used = 0;
  private queue: Entry[] = [];
  private head = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes cached now (tests, metrics). */
  get bytes(): number {
    return this.used;
  }

  /** @internal */
  added(e: Entry): void {
    this.used += e.buf.length;
    this.queue.push(e);
    while (this.used > this.maxBytes && this.head < this.queue.length) {
      const old = this.queue[this.head++]!;
      if (!old.dead) old.owner.evictOldest();
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head).filter((x) => !x.dead);
      this.head = 0;
    }
  }

  /** @internal */
  removed(e: Entry): void {
    e.dead = true;
    this.used -= e.buf.length;
  }
}

export class LeaderTailCache {
  private entries: Entry[] = [];

  constructor(readonly budget: TailCacheBudget) {}

  /** Bytes held by this cache. */
  get bytes(): number {
    let n = 0;
    for (const e of this.entries) n += e.buf.length;
    return n;
  }

  /** End offset of the latest cached append (-1: none). */
  get end(): number {
    return this.entries[this.entries.length - 1]?.end ?? -1;
  }

  /** The leader wrote `buf`, offsets [base, end). */
  add(base: number, end: number, buf: Buffer): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.end !== base) this.clear();
    if (end <= base || buf.length === 0 || buf.length > this.budget.maxBytes) return;
    const e: Entry = { base, end, buf, owner: this, dead: false };
    this.entries.push(e);
    this.budget.added(e);
  }

  /**
   * The batches from `offset` on, read as the log reads them (storage/segment-read.ts): whole batches with
   * lastOffset < `maxOffset` that fit in `maxBytes` (the first one regardless when `minOneBatch`); undefined when
   * no cached append starts at `offset` or not even one batch goes (the caller reads the log). The caller reads
   * only within one segment (partition-tail.ts: the active one). `alloc` holds a result of several appends.
   */
  read(
    offset: number,
    maxBytes: number,
    minOneBatch: boolean,
    maxOffset = Number.POSITIVE_INFINITY,
    alloc?: (length: number) => Buffer,
  ): Buffer | undefined {
    const i = this.indexOf(offset);
    if (i < 0) return undefined;
    const bufs: Buffer[] = [];
    let total = 0;
    for (let j = i; j < this.entries.length; j++) {
      const e = this.entries[j]!;
      if (e.end <= maxOffset && total + e.buf.length <= maxBytes) {
        bufs.push(e.buf);
        total += e.buf.length;
        continue;
      }
      // Only some of this append's batches go (or none): walk them as the log would.
      const n = leadingBatches(e.buf, total, maxBytes, minOneBatch && total === 0, maxOffset);
      if (n > 0) bufs.push(e.buf.subarray(0, n));
      total += n;
      break;
    }
    if (total === 0) return undefined;
    if (bufs.length === 1) return bufs[0]!;
    return alloc ? concatInto(alloc(total).subarray(0, total), bufs) : Buffer.concat(bufs, total);
  }

  /** Drop the appends that end at or below `offset` (every follower has them). */
  evictBelow(offset: number): void {
    let n = 0;
    while (n < this.entries.length && this.entries[n]!.end <= offset) this.budget.removed(this.entries[n++]!);
    if (n > 0) this.entries.splice(0, n);
  }

  /** @internal the budget's eviction. */
  evictOldest(): void {
    const e = this.entries.shift();
    if (e) this.budget.removed(e);
  }

  clear(): void {
    for (const e of this.entries) this.budget.removed(e);
    this.entries = [];
  }

  private indexOf(offset: number): number {
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = this.entries[mid]!.base;
      if (b === offset) return mid;
      if (b < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** Smallest v2 batch (its header). */
const BATCH_HEADER = 61;

/**
 * Bytes of `buf`'s leading whole v2 batches with lastOffset < `maxOffset` that fit in `maxBytes` after `used`
 * bytes (the first regardless when `firstAnyway`); a malformed length stops the walk.
 */
function leadingBatches(buf: Buffer, used: number, maxBytes: number, firstAnyway: boolean, maxOffset: number): number {
  let pos = 0;
  while (pos + BATCH_HEADER <= buf.length) {
    const size = buf.readInt32BE(pos + 8) + 12;
    if (size < BATCH_HEADER || pos + size > buf.length) break;
    if (Number(buf.readBigInt64BE(pos)) + buf.readInt32BE(pos + 23) >= maxOffset) break;
    if (used + pos + size > maxBytes && !(firstAnyway && pos === 0)) break;
    pos += size;
  }
  return pos;
}

function concatInto(out: Buffer, bufs: Buffer[]): Buffer {
  let at = 0;
  for (const b of bufs) at += b.copy(out, at);
  return out;
}
