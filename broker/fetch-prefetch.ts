/**
 * Read-ahead across a consumer's fetches (issue #16). A consumer reading a backlog sends its next Fetch for
 * the offsets right after what the last response carried, and the broker sat idle while the client parsed
 * that response, then spent a thread-pool round trip reading the file on the next request. Once a response is
 * decided, `start` reads each partition's next range (from the offset after the records just returned, the
 * same maxBytes) into slabs of the fetch pool (storage/read-buffers.ts); the next Fetch on the connection
 * `take`s the read for a partition at exactly that offset, and the handler uses it as it uses a read started
 * ahead within one request (fetch-read-ahead.ts: `usable` decides, else it reads again).
 *
 * Invariants:
 * - A read is used only by the connection that started it (one FetchPrefetch per connection session), once,
 *   for the same partition object, still led at the same leader epoch, at its exact offset, with the offset
 *   still at or above the log start. It was bounded by the high watermark (or LSO) when it ran; both only grow
 *   while the epoch holds, so its batches are what a read now may return (maybe fewer); the answer's offsets are
 *   the partition's current ones (`current`).
 * - Only partitions that had records and have more below the high watermark (LSO) are read; a new `start`
 *   discards whatever the previous one left unused. A discarded read's slabs go back to the pool once it
 *   settled; a taken one's lease passes to the taker, who releases it after its response is sent.
 * - At most MAX_BYTES are read ahead per connection, and `prefetchBudget.maxBytes` by every connection together
 *   (reads started and not yet taken or discarded). When a read would pass the latter, reads older than
 *   EXPIRY_MS (a consumer that did not come back for them, a closed connection) are discarded first.
 */
import type { Session } from './security/session.js';
import type { Partition, PartitionReadResult } from '../replication/partition.js';
import { fetchReadBuffers, type ReadLease } from '../storage/read-buffers.js';
import type { AheadRead } from './fetch-read-ahead.js';
import { BATCH_HEADER_SIZE, entrySize, lastOffsetNumber } from '../protocol/records/batch-header.js';

/** Bytes read ahead per connection at most. */
const MAX_BYTES = 16 * 1024 * 1024;
/** Reads ahead older than this give way when the budget of all connections is used up. */
const EXPIRY_MS = 1000;

/** Bytes read ahead by every connection together at most (tests lower it). */
export const prefetchBudget = { maxBytes: 64 * 1024 * 1024 };
let budgetUsed = 0;
/** The connections' read-aheads holding reads (strongly: a closed connection's reads expire from here). */
const holders = new Set<FetchPrefetch>();

/** Bytes of the reads ahead not yet taken or discarded, every connection together (tests). */
export function prefetchedBytes(): number {
  return budgetUsed;
}

function reserve(bytes: number, now: number): boolean {
  if (budgetUsed + bytes > prefetchBudget.maxBytes) for (const h of holders) h.expire(now - EXPIRY_MS);
  if (budgetUsed + bytes > prefetchBudget.maxBytes) return false;
  budgetUsed += bytes;
  return true;
}

interface Entry {
  part: Partition;
  epoch: number;
  offset: number;
  maxBytes: number;
  readCommitted: boolean;
  /** When the read started (performance.now()). */
  at: number;
  lease: ReadLease;
  result: Promise<PartitionReadResult>;
}

/** A partition's next range to read ahead. */
export interface NextRange {
  part: Partition;
  offset: number;
  maxBytes: number;
}

export class FetchPrefetch {
  private entries: Entry[] = [];

  /** Reads started and not yet taken or discarded (tests). */
  get pending(): number {
    return this.entries.length;
  }

  /**
   * The read started ahead for `part` at `offset` (taken: asked once), its lease handed to `adopt`; undefined
   * when there is none usable.
   */
  take(
    part: Partition,
    offset: number,
    readCommitted: boolean,
    adopt: (lease: ReadLease) => void,
  ): AheadRead | undefined {
    const i = this.entries.findIndex((e) => e.part === part);
    if (i < 0) return undefined;
    const e = this.entries[i]!;
    this.entries.splice(i, 1);
    if (this.entries.length === 0) holders.delete(this);
    if (
      e.offset !== offset ||
      e.readCommitted !== readCommitted ||
      !part.isLeader ||
      part.leaderEpoch !== e.epoch ||
      offset < part.logStartOffset
    ) {
      discard(e);
      return undefined;
    }
    budgetUsed -= e.maxBytes;
    adopt(e.lease);
    return { part, maxBytes: e.maxBytes, result: e.result.then((r) => current(part, r)) };
  }

  /** Read `next` ahead, in place of anything still unused. */
  start(next: readonly NextRange[], readCommitted: boolean): void {
    this.discardAll();
    let bytes = 0;
    const now = performance.now();
    for (const { part, offset, maxBytes } of next) {
      const limit = readCommitted ? part.lastStableOffset : part.highWatermark;
      if (!part.isLeader || maxBytes <= 0 || offset >= limit || bytes + maxBytes > MAX_BYTES) continue;
      if (!reserve(maxBytes, now)) continue;
      bytes += maxBytes;
      const lease = fetchReadBuffers.lease();
      const result = part.read(offset, maxBytes, { readCommitted, minOneBatch: true, alloc: lease.alloc });
      result.catch(() => {});
      this.entries.push({ part, epoch: part.leaderEpoch, offset, maxBytes, readCommitted, at: now, lease, result });
    }
    if (this.entries.length > 0) holders.add(this);
  }

  /** Discard the reads started before `before` (performance.now() time). */
  expire(before: number): void {
    const old = this.entries.filter((e) => e.at < before);
    if (old.length === 0) return;
    for (const e of old) discard(e);
    this.entries = this.entries.filter((e) => e.at >= before);
    if (this.entries.length === 0) holders.delete(this);
  }

  /** Drop every read not taken (their slabs go back once the reads settled). */
  discardAll(): void {
    for (const e of this.entries) discard(e);
    this.entries = [];
    holders.delete(this);
  }
}

function discard(e: Entry): void {
  budgetUsed -= e.maxBytes;
  const release = (): void => e.lease.release();
  e.result.then(release, release);
}

/** A read's result with the partition's offsets as they are now (an error result as it was). */
function current(part: Partition, r: PartitionReadResult): PartitionReadResult {
  if (r.errorCode !== 0) return r;
  // Spelled out, not spread: the same object shape as every other read result.
  return {
    errorCode: r.errorCode,
    records: r.records,
    highWatermark: part.highWatermark,
    logStartOffset: part.logStartOffset,
    logEndOffset: r.logEndOffset,
    lastStableOffset: part.lastStableOffset,
  };
}

/** One past the last offset of the whole v2 batches in `records`. */
export function nextOffsetAfter(records: Buffer): number {
  let pos = 0;
  let next = 0;
  while (pos + BATCH_HEADER_SIZE <= records.length) {
    const size = entrySize(records, pos);
    if (pos + size > records.length) break;
    next = lastOffsetNumber(records, pos) + 1;
    pos += size;
  }
  return next;
}

const byConnection = new WeakMap<Session, FetchPrefetch>();

/** The read-ahead of the connection whose session this is. */
export function prefetchOf(session: Session): FetchPrefetch {
  let p = byConnection.get(session);
  if (!p) {
    p = new FetchPrefetch();
    byConnection.set(session, p);
  }
  return p;
}
