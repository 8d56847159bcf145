/**
 * CleanedTxns: per-producer transaction tracking during one clean of a log (in memory only, nothing on
 * disk; one instance per clean, fed in offset order across all groups the clean rewrites).
 *
 * Kafka's rule (LogCleaner, KIP-534): a COMMIT/ABORT marker may be removed once no data batch of its
 * transaction is left in the log. The cleaner rewrites every closed segment from the log start, so by
 * the time a marker is read every data batch of its transaction (which precede it) has been read and
 * its fate decided in this clean:
 * - `dataRetained(pid)`: a transactional data batch of `pid` was written to the output (with records,
 *   or empty because it is the last batch of its group; an empty transactional batch still opens a
 *   transaction when producer state is replayed from the log, so it counts as data);
 * - `markerRead(pid)`: the marker ends `pid`'s current transaction; returns whether that transaction
 *   still has retained data (then the marker must stay).
 *
 * Invariant: a producer with no entry has no retained data in its current transaction.
 */

export class CleanedTxns {
  private readonly withData = new Set<number>();

  dataRetained(producerId: number): void {
    this.withData.add(producerId);
  }

  /** End `producerId`'s current transaction; true if it still has retained data batches. */
  markerRead(producerId: number): boolean {
    return this.withData.delete(producerId);
  }
}
