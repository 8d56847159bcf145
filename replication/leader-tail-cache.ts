/**
 * The leader's tail cache: the record batches a leader appended most recently, kept in memory as they were
 * written, so that a follower's replica fetch at the start of one of them is answered without reading the
 * log file back (Kafka answers from the page cache with zero-copy sends; Node would read the file through the
 * thread pool, one more asynchronous hop and a copy per follower on every replication round).
 *
 * - One `LeaderTailCache` per Partition while it leads with followers; entries are whole appends
 *   [base, end) in offset order with no gap (an append that does not start at the last entry's end, e.g. after
 *   a transaction marker or a duplicate, starts the cache over).
 * - `read(offset, maxBytes, minOneBatch, segmentStart)` answers only from an entry starting exactly at `offset`,
 *   and only when that entry fits in `maxBytes` (then the following entries that fit too, up to the next
 *   segment): the same whole batches the log would return; anything else is undefined and the caller reads
 *   the log.
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

  constructor(private readonly budget: TailCacheBudget) {}

  /** Bytes held by this cache. */
  get bytes(): number {
    let n = 0;
    for (const e of this.entries) n += e.buf.length;
    return n;
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
   * The appends from `offset` on that fit in `maxBytes` (a first one above it only when it is a single batch
   * and `minOneBatch`) and lie in one log segment (none past an offset where `segmentStart` says a segment
   * begins, as the log reads), or undefined when no cached append starts at `offset`.
   */
  read(
    offset: number,
    maxBytes: number,
    minOneBatch: boolean,
    segmentStart: (offset: number) => boolean = () => false,
  ): Buffer | undefined {
    const i = this.indexOf(offset);
    if (i < 0) return undefined;
    const first = this.entries[i]!;
    if (first.buf.length > maxBytes && !(minOneBatch && isSingleBatch(first.buf))) return undefined;
    const bufs = [first.buf];
    let total = first.buf.length;
    for (let j = i + 1; j < this.entries.length; j++) {
      const len = this.entries[j]!.buf.length;
      if (total + len > maxBytes || segmentStart(this.entries[j]!.base)) break;
      bufs.push(this.entries[j]!.buf);
      total += len;
    }
    return bufs.length === 1 ? first.buf : Buffer.concat(bufs, total);
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

/** True when `buf` holds exactly one v2 batch (its batchLength field covers the rest). */
function isSingleBatch(buf: Buffer): boolean {
  return buf.length >= 12 && buf.readInt32BE(8) + 12 === buf.length;
}
