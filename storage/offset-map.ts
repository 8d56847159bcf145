/**
 * OffsetMap: key -> latest offset, built by the log cleaner over the dirty section of a log.
 *
 * In memory only (nothing on disk). Keys are compared byte for byte (stored as latin1 strings, which map
 * bytes 0-255 one to one). `put` keeps the largest offset seen for a key, so batches may be fed in any
 * order. The map is bounded by `maxEntries`: `full` turns true once it holds that many distinct keys;
 * the cleaner then stops extending the dirty section at the current segment boundary (it may overshoot
 * by the keys of one segment, which bounds memory to maxEntries + one segment's keys).
 */

export class OffsetMap {
  private readonly map = new Map<string, number>();
  /** Largest offset put so far (-1 if none). */
  latestOffset = -1;

  constructor(readonly maxEntries = 1_000_000) {}

  private static keyOf(key: Buffer): string {
    return key.toString('latin1');
  }

  put(key: Buffer, offset: number): void {
    const k = OffsetMap.keyOf(key);
    const prev = this.map.get(k);
    if (prev === undefined || offset > prev) this.map.set(k, offset);
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  /** Latest offset of `key` in the dirty section, or undefined if the key does not occur there. */
  get(key: Buffer): number | undefined {
    return this.map.get(OffsetMap.keyOf(key));
  }

  get size(): number {
    return this.map.size;
  }

  get full(): boolean {
    return this.map.size >= this.maxEntries;
  }

  clear(): void {
    this.map.clear();
    this.latestOffset = -1;
  }
}
