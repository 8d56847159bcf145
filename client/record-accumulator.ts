/**
 * Producer batching, per topic-partition, as Kafka's RecordAccumulator: records are appended to the
 * partition's open batch; a batch is ready to send once it holds batchBytes, once lingerMs has passed since
 * its first record, when a newer batch follows it, or on flush. At most one batch per partition is in flight
 * (so records of a partition are written in order, also across retries, and idempotent sequence numbers stay
 * contiguous); a batch that fails with a retriable error goes back to the head of its partition's queue.
 * Every call costs O(1) per record; only drain, nextDueIn and pendingCount visit every partition (once a send
 * round, not once a record). drain starts where the previous round's requests had no room (Java's drainIndex),
 * so that with more ready batches than one request holds no partition waits behind the same others each time.
 */
import type { RecordInput } from '../protocol/records/builder.js';
import type { RecordMetadata } from './types.js';

export interface PendingRecord {
  input: RecordInput;
  timestamp: number;
  resolve: (m: RecordMetadata) => void;
  reject: (e: Error) => void;
}

export class Batch {
  readonly records: PendingRecord[] = [];
  bytes = 0;
  closed = false;
  attempts = 0;
  /** Idempotence: first sequence number, fixed at the first send so a retry resends the same one. */
  baseSequence = -1;
  producerId = -1n;
  producerEpoch = -1;
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
  ) {}

  fail(e: Error): void {
    for (const r of this.records) r.reject(e);
  }
}

interface PartitionQueue {
  batches: Batch[];
  inFlight: boolean;
  /** Position in `list` (drain order). */
  index: number;
}

export class RecordAccumulator {
  private readonly queues = new Map<string, PartitionQueue>();
  /** The queues in creation order; drain visits them from `drainIndex` round. */
  private readonly list: PartitionQueue[] = [];
  private drainIndex = 0;
  private flushing = 0;

  constructor(
    private readonly lingerMs: number,
    private readonly batchBytes: number,
  ) {}

  private queue(topic: string, partition: number): PartitionQueue {
    const k = `${topic}\u0000${partition}`;
    let q = this.queues.get(k);
    if (!q) {
      q = { batches: [], inFlight: false, index: this.list.length };
      this.queues.set(k, q);
      this.list.push(q);
    }
    return q;
  }

  /**
   * Append one record. Returns the milliseconds until a batch this append made ready or started is due (0: now,
   * lingerMs for a new batch), or -1 when it changed no due time (the caller arms its sender timer with it).
   */
  append(topic: string, partition: number, rec: PendingRecord, size: number): number {
    const q = this.queue(topic, partition);
    let b = q.batches[q.batches.length - 1];
    let due = -1;
    if (!b || b.closed || (b.records.length > 0 && b.bytes + size > this.batchBytes)) {
      // A batch followed by a newer one is ready.
      due = b ? 0 : this.flushing > 0 ? 0 : this.lingerMs;
      if (b) b.closed = true;
      b = new Batch(topic, partition, Date.now());
      q.batches.push(b);
    }
    b.records.push(rec);
    b.bytes += size;
    if (b.bytes >= this.batchBytes) {
      b.closed = true;
      due = 0;
    }
    // A partition with a batch in flight is looked at again when that batch completes.
    return q.inFlight ? -1 : due;
  }

  private isReady(b: Batch, now: number): boolean {
    return b.closed || this.flushing > 0 || now - b.createdAt >= this.lingerMs;
  }

  /**
   * Take the ready head batch of every partition that has nothing in flight, marking them in flight; in drain
   * order, from where the last `requeueUnsent` left off.
   */
  drain(now = Date.now()): Batch[] {
    const out: Batch[] = [];
    const n = this.list.length;
    for (let i = 0; i < n; i++) {
      const q = this.list[(this.drainIndex + i) % n]!;
      const b = q.batches[0];
      if (q.inFlight || !b || !this.isReady(b, now)) continue;
      b.closed = true;
      q.batches.shift();
      q.inFlight = true;
      out.push(b);
    }
    return out;
  }

  /** A sent batch is done (acknowledged or failed for good). */
  done(b: Batch): void {
    this.queue(b.topic, b.partition).inFlight = false;
  }

  /**
   * Drained batches that found no room in a request (in drain order): back to the head of their queues; the
   * next drain starts with the first of them.
   */
  requeueUnsent(bs: Batch[]): void {
    if (bs.length === 0) return;
    for (const b of bs) this.requeue(b);
    this.drainIndex = this.queue(bs[0]!.topic, bs[0]!.partition).index;
  }

  /** A sent batch failed with a retriable error: back to the head of its queue. */
  requeue(b: Batch): void {
    const q = this.queue(b.topic, b.partition);
    q.inFlight = false;
    q.batches.unshift(b);
  }

  /** Milliseconds until the oldest open batch is due, or -1 when nothing waits. */
  nextDueIn(now = Date.now()): number {
    let min = -1;
    for (const q of this.queues.values()) {
      const b = q.batches[0];
      if (!b || q.inFlight) continue;
      const left = this.isReady(b, now) ? 0 : this.lingerMs - (now - b.createdAt);
      if (min < 0 || left < min) min = left;
    }
    return min;
  }

  get pendingCount(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.batches.length + (q.inFlight ? 1 : 0);
    return n;
  }

  beginFlush(): void {
    this.flushing++;
  }
  endFlush(): void {
    this.flushing--;
  }

  /** Fail every queued (not in-flight) record. */
  abort(e: Error): void {
    for (const q of this.queues.values()) for (const b of q.batches.splice(0)) b.fail(e);
  }
}
