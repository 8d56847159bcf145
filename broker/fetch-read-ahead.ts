/**
 * Read-ahead for a consumer Fetch over several partitions (issue #16): the partitions' log reads are started a
 * few at a time instead of one after another, so their file reads overlap in the thread pool instead of adding
 * their round trips to every fetch. The handler (handlers/01-fetch.ts) still walks the partitions in order and
 * decides each answer as a sequential read would: a read started ahead used the partition's own maxBytes and
 * minOneBatch, and `usable` tells whether that gives exactly what the sequential read (with the response's room
 * left and minOneBatch only while nothing was read) would return; if not, the handler reads again.
 *
 * Invariants: at most `window` reads run ahead of the handler's position; a read started ahead and never used
 * (the partition answered an error or was left out) has its failure swallowed, never an unhandled rejection.
 */
import type { Partition, PartitionReadResult } from '../replication/partition.js';

export interface AheadRead {
  readonly part: Partition;
  /** maxBytes the read was started with (minOneBatch was on). */
  readonly maxBytes: number;
  readonly result: Promise<PartitionReadResult>;
}

export class FetchReadAhead {
  private readonly started = new Map<number, AheadRead>();
  private next = 0;

  constructor(
    private readonly count: number,
    /** Start item j's read, or undefined when it will not be read (unknown, unauthorized, ...). */
    private readonly start: (j: number) => AheadRead | undefined,
    private readonly window = 8,
  ) {}

  /** The read of item i started ahead for `part` (taken: asked once), after starting the ones up to i + window. */
  take(i: number, part: Partition): AheadRead | undefined {
    for (; this.next < this.count && this.next <= i + this.window; this.next++) {
      const r = this.start(this.next);
      if (r) {
        r.result.catch(() => {});
        this.started.set(this.next, r);
      }
    }
    const r = this.started.get(i);
    this.started.delete(i);
    return r?.part === part ? r : undefined;
  }

  /**
   * Whether `records` read ahead (maxBytes `aheadMax`, minOneBatch) are what a read with maxBytes `room` and
   * minOneBatch `first` returns: the same call, or records within `room` (then the whole batches from the
   * offset that fit in `room` are these, as `aheadMax >= room`).
   */
  static usable(records: Buffer, aheadMax: number, room: number, first: boolean): boolean {
    if (first && room === aheadMax) return true;
    return room <= aheadMax && records.length <= room;
  }
}
