/**
 * Group commit of `__consumer_offsets` writes: the records every group writes during one turn of the event
 * loop (commits, group metadata, tombstones) go to their partition as one record batch, one append and one
 * wait for the high watermark, instead of one of each per request, as Kafka's coordinator runtime batches
 * the writes of many groups to one partition.
 *
 * - `submit(partition, records)` queues one write and resolves (or rejects) when the batch holding it is
 *   appended and acknowledged; every write of a batch gets the batch's outcome.
 * - A batch is flushed on the next check phase (setImmediate, after the I/O callbacks of this turn: the
 *   requests read together are written together, no latency is added) or at once when it reaches
 *   `maxBatchBytes` (estimated); a write larger than that alone goes in a batch of its own, so an oversized
 *   write fails alone (with the log's MESSAGE_TOO_LARGE) and never takes others with it.
 * Invariants: one write's records are never split across batches (a commit of several partitions stays
 * atomic); per partition, batches are appended in submission order, so a group's records keep their order.
 */
import type { InternalRecord } from '../internal-topic.js';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface PendingBatch {
  records: InternalRecord[];
  bytes: number;
  waiters: Waiter[];
}

/** Per-record overhead estimate of the batch format (length, attributes, deltas, lengths, header count). */
const RECORD_OVERHEAD = 24;
/** Default batch size cap: far below message.max.bytes (1 MiB by default). */
export const DEFAULT_MAX_BATCH_BYTES = 256 * 1024;

export class PartitionBatcher {
  private readonly pending = new Map<number, PendingBatch>();
  private scheduled = false;

  constructor(
    /** Append one batch's records to the partition; resolves once acknowledged. */
    private readonly append: (partition: number, records: InternalRecord[]) => Promise<void>,
    private readonly maxBatchBytes = DEFAULT_MAX_BATCH_BYTES,
  ) {}

  submit(partition: number, records: InternalRecord[]): Promise<void> {
    let bytes = 0;
    for (const r of records) bytes += r.key.length + (r.value?.length ?? 0) + RECORD_OVERHEAD;
    return new Promise<void>((resolve, reject) => {
      let batch = this.pending.get(partition);
      if (batch && batch.bytes + bytes > this.maxBatchBytes) {
        this.pending.delete(partition);
        this.send(partition, batch);
        batch = undefined;
      }
      if (!batch) {
        batch = { records: [], bytes: 0, waiters: [] };
        this.pending.set(partition, batch);
      }
      for (const r of records) batch.records.push(r);
      batch.bytes += bytes;
      batch.waiters.push({ resolve, reject });
      if (batch.bytes >= this.maxBatchBytes) {
        this.pending.delete(partition);
        this.send(partition, batch);
      } else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Send every pending batch (the check phase after the writes were queued). */
  private flush(): void {
    this.scheduled = false;
    const batches = [...this.pending];
    this.pending.clear();
    for (const [partition, batch] of batches) this.send(partition, batch);
  }

  private send(partition: number, batch: PendingBatch): void {
    let appended: Promise<void>;
    try {
      appended = this.append(partition, batch.records);
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(
      () => {
        for (const w of batch.waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }
}
