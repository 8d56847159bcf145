/**
 * Shared machinery of the two sparse segment indexes (offset-index.ts, time-index.ts).
 *
 * On-disk format: a flat array of fixed-width big-endian entries; the file holds exactly
 * `entries * entryWidth` bytes once flushed. Indexes are NOT preallocated (unlike Kafka's mmapped
 * files): the file is append-only and is never larger than its valid entries, so no trimming is needed
 * on close and a file whose size is not a multiple of the entry width is corrupt by definition.
 *
 * In memory, all entries live in one growable Buffer in the on-disk byte order (the moral equivalent of
 * Kafka's mmap): lookups never touch the file. New entries are written to the file lazily, by `flush()`
 * (called when the segment is flushed, rolled or closed), so the append hot path costs no index
 * syscalls. Consequently an index file may lag its log on disk; that is safe because the log layer
 * rebuilds the indexes of every segment at or after the recovery point during recovery, and a segment
 * only moves behind the recovery point through a flush, which writes its index first.
 *
 * Invariants:
 * - `count <= capacity`; entries [0, persisted) are known to be identical in memory and in the file.
 * - Every file mutation (write, truncate, sync) runs on a per-index promise chain, so a truncation in
 *   memory racing with an in-flight flush is resolved conservatively at the next flush.
 * - `maxEntries` (segment.index.bytes / width) only drives `isFull` (the roll check); the buffer may
 *   exceed it by the one final entry a time index gets when its segment is rolled.
 */

import type { FileHandle, FileSystem } from './fs.js';
import { readAt } from './fs.js';

export interface IndexOpenOptions {
  /** Create the file if missing (default true). */
  create?: boolean;
  /** Start empty, discarding what the file held (default false). */
  truncate?: boolean;
  /**
   * The file's size when just learned (a stat at load): the file is known to exist and is opened lazily
   * (`OpenOptions.lazy`), and read only if it holds an entry.
   */
  size?: number;
}

/**
 * `open` of a concrete index: open (creating if missing) and load the file at `path`; `corruption` is set
 * when the file cannot be trusted (bad size); the entries are then dropped and the caller must rebuild.
 */
export type IndexOpener<T extends IndexFile> = (
  fs: FileSystem,
  path: string,
  baseOffset: number,
  maxIndexBytes: number,
  options?: IndexOpenOptions,
) => Promise<{ index: T; corruption?: string }>;

/** How a concrete index is constructed (its own entry width is fixed by the subclass). */
export type IndexFactory<T extends IndexFile> = (
  fs: FileSystem,
  path: string,
  handle: FileHandle,
  baseOffset: number,
  maxIndexBytes: number,
) => T;

export abstract class IndexFile {
  protected buf: Buffer;
  protected count = 0;
  private persisted = 0;
  private fileEntries = 0;
  private dirty = false;
  private truncations = 0;
  private io: Promise<void> = Promise.resolve();
  private closed = false;
  readonly maxEntries: number;

  protected constructor(
    protected readonly fs: FileSystem,
    private filePath: string,
    private handle: FileHandle,
    readonly baseOffset: number,
    readonly entryWidth: number,
    /** segment.index.bytes: `maxEntries` is how many whole entries fit in it (at least one). */
    maxIndexBytes: number,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxIndexBytes / entryWidth));
    this.buf = Buffer.alloc(entryWidth * 64);
  }

  /** The `open` of a concrete index built by `make` (shared by OffsetIndex and TimeIndex). */
  protected static opener<T extends IndexFile>(make: IndexFactory<T>): IndexOpener<T> {
    return (fs, path, baseOffset, maxIndexBytes, options = {}) =>
      IndexFile.openWith(fs, path, options, (handle) => make(fs, path, handle, baseOffset, maxIndexBytes));
  }

  get path(): string {
    return this.filePath;
  }

  get entries(): number {
    return this.count;
  }

  /**
   * True while the file may hold entries that memory no longer has (a truncation not yet flushed):
   * such a file must be flushed before the log data it indexes is declared durable.
   */
  get hasStaleEntriesOnDisk(): boolean {
    return this.fileEntries > this.persisted;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /**
   * Open (creating if missing) and load an index built by `make`. `corruption` is set when the file cannot
   * be trusted (bad size, see loadEntries); the entries are then dropped and the caller must rebuild.
   */
  protected static async openWith<T extends IndexFile>(
    fs: FileSystem,
    path: string,
    options: IndexOpenOptions,
    make: (handle: FileHandle) => T,
  ): Promise<{ index: T; corruption?: string }> {
    const known = options.size !== undefined && !options.truncate;
    const handle = known
      ? await fs.open(path, { lazy: true })
      : await fs.open(path, { create: options.create ?? true, truncate: options.truncate ?? false });
    const index = make(handle);
    if (options.truncate) return { index };
    const corruption = await index.loadEntries(options.size);
    if (corruption) index.reset();
    return corruption ? { index, corruption } : { index };
  }

  /**
   * Load entries from the file. Returns a reason string if the file size is not a whole number of
   * entries (the caller treats that as corruption and rebuilds).
   */
  protected async loadEntries(knownSize?: number): Promise<string | undefined> {
    const size = knownSize ?? (await this.handle.size());
    const whole = Math.floor(size / this.entryWidth);
    const data = whole > 0 ? await readAt(this.handle, 0, whole * this.entryWidth) : Buffer.alloc(0);
    this.ensureCapacity(whole);
    data.copy(this.buf, 0);
    this.count = Math.floor(data.length / this.entryWidth);
    this.persisted = this.count;
    this.fileEntries = Math.ceil(size / this.entryWidth);
    if (size % this.entryWidth !== 0) return `size ${size} is not a multiple of ${this.entryWidth}`;
    return undefined;
  }

  protected ensureCapacity(entries: number): void {
    const need = entries * this.entryWidth;
    if (this.buf.length >= need) return;
    const grown = Buffer.alloc(Math.max(need, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.count * this.entryWidth);
    this.buf = grown;
  }

  /** Reserve the next entry slot and return its byte offset in `buf`. */
  protected nextSlot(): number {
    this.ensureCapacity(this.count + 1);
    return this.count++ * this.entryWidth;
  }

  /** Drop entries [n, count) in memory; the file catches up on the next flush. */
  protected truncateEntries(n: number): void {
    if (n >= this.count) return;
    this.count = Math.max(0, n);
    this.truncations++;
    if (this.persisted > this.count) this.persisted = this.count;
  }

  /** Remove all entries. */
  reset(): void {
    this.truncateEntries(0);
  }

  private onChain<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.io.then(fn);
    this.io = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Write unwritten entries, cut stale ones, and fsync if anything changed. */
  flush(): Promise<void> {
    return this.onChain(async () => {
      if (this.closed) return;
      const n = this.count;
      const p = Math.min(this.persisted, n);
      const w = this.entryWidth;
      const truncations = this.truncations;
      if (n > p) {
        const bytes = Buffer.from(this.buf.subarray(p * w, n * w));
        await this.handle.writev([bytes], p * w);
        this.fileEntries = Math.max(this.fileEntries, n);
        this.dirty = true;
      }
      if (this.fileEntries > n) {
        await this.handle.truncate(n * w);
        this.fileEntries = n;
        this.dirty = true;
      }
      // A truncation while we were writing already lowered `persisted` conservatively; keep that.
      if (this.truncations === truncations) this.persisted = n;
      if (this.dirty) {
        this.dirty = false;
        try {
          await this.handle.sync();
        } catch (err) {
          this.dirty = true;
          throw err;
        }
      }
    });
  }

  async close(): Promise<void> {
    await this.onChain(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.handle.close();
    });
  }

  /** Rename the file (e.g. to a `.deleted` name); the open handle stays valid. */
  async renameTo(newPath: string): Promise<void> {
    await this.fs.rename(this.filePath, newPath);
    this.filePath = newPath;
  }

  /** Close and unlink. */
  async delete(): Promise<void> {
    await this.close();
    await this.fs.rmrf(this.filePath);
  }
}
