/**
 * TxnIndex: the aborted-transaction index of one segment, `<20-digit base>.txnindex` (Kafka's layout).
 *
 * On disk: a sequence of 34-byte entries, no header, all big-endian: version int16 (0), producerId
 * int64, firstOffset int64 (first offset of the aborted transaction; may lie in an earlier segment),
 * lastOffset int64 (offset of its ABORT marker, which lies in this segment), lastStableOffset int64
 * (the partition's last stable offset right after the marker: a reader collecting aborted
 * transactions up to an upper bound can stop at the first entry whose lastStableOffset reaches it).
 * Entries are appended in marker order, so lastOffset increases.
 *
 * The file is created lazily by the first append (most segments never see an aborted transaction) and
 * kept fully in memory (entries are few). A trailing partial entry (torn write) is ignored and cut on
 * the next append. The index is rebuilt from the log for the region producer-state recovery replays
 * (producer-recovery.ts), so an entry lost in a crash comes back. Renamed and deleted with its segment.
 */

import type { FileHandle, FileSystem } from './fs.js';
import { isNotFound } from './fs.js';
import { readInt64Number, writeInt64Number } from '../protocol/records/batch-header.js';

export const TXN_INDEX_SUFFIX = '.txnindex';
export const TXN_ENTRY_SIZE = 34;

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  lastStableOffset: number;
}

export class TxnIndex {
  private handle: FileHandle | undefined;
  private dirty = false;
  private fileEntries = 0;

  private constructor(
    private readonly fs: FileSystem,
    private _path: string,
    private entries: AbortedTxn[],
    private exists: boolean,
  ) {
    this.fileEntries = entries.length;
  }

  /** Load `filePath` if it exists (an absent file is an empty index). */
  /** Reads the file; `exists` false (known from a directory listing) skips the read. */
  static async load(fs: FileSystem, filePath: string, exists = true): Promise<TxnIndex> {
    if (!exists) return new TxnIndex(fs, filePath, [], false);
    let buf: Buffer;
    try {
      buf = await fs.readFile(filePath);
    } catch (err) {
      if (isNotFound(err)) return new TxnIndex(fs, filePath, [], false);
      throw err;
    }
    const entries: AbortedTxn[] = [];
    for (let p = 0; p + TXN_ENTRY_SIZE <= buf.length; p += TXN_ENTRY_SIZE) {
      if (buf.readInt16BE(p) !== 0) break;
      entries.push({
        producerId: readInt64Number(buf, p + 2),
        firstOffset: readInt64Number(buf, p + 10),
        lastOffset: readInt64Number(buf, p + 18),
        lastStableOffset: readInt64Number(buf, p + 26),
      });
    }
    const idx = new TxnIndex(fs, filePath, entries, true);
    if (entries.length * TXN_ENTRY_SIZE !== buf.length) idx.fileEntries = -1; // rewrite on next change
    return idx;
  }

  /** A new empty index; an existing file at `filePath` is replaced on the first append. */
  static create(fs: FileSystem, filePath: string): TxnIndex {
    const idx = new TxnIndex(fs, filePath, [], false);
    idx.fileEntries = -1;
    return idx;
  }

  get path(): string {
    return this._path;
  }
  get count(): number {
    return this.entries.length;
  }
  all(): readonly AbortedTxn[] {
    return this.entries;
  }

  private async open(): Promise<FileHandle> {
    this.handle ??= await this.fs.open(this._path, { create: true });
    this.exists = true;
    return this.handle;
  }

  async append(e: AbortedTxn): Promise<void> {
    this.entries.push(e);
    await this.persistFrom(Math.max(this.fileEntries, 0));
  }

  /** Drop entries whose marker is at or after `offset` (truncation, recovery replay). */
  async truncateFrom(offset: number): Promise<void> {
    const keep = this.entries.filter((e) => e.lastOffset < offset);
    if (keep.length === this.entries.length && this.fileEntries >= 0) return;
    this.entries = keep;
    if (!this.exists) return;
    const h = await this.open();
    await h.truncate(0);
    this.fileEntries = 0;
    await this.persistFrom(0);
  }

  /** Write entries [from, end) at their positions and cut anything after them. */
  private async persistFrom(from: number): Promise<void> {
    const h = await this.open();
    if (from === 0 && this.fileEntries !== 0) await h.truncate(0);
    const bufs: Buffer[] = [];
    for (let i = from; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      const b = Buffer.alloc(TXN_ENTRY_SIZE);
      b.writeInt16BE(0, 0);
      writeInt64Number(b, 2, e.producerId);
      writeInt64Number(b, 10, e.firstOffset);
      writeInt64Number(b, 18, e.lastOffset);
      writeInt64Number(b, 26, e.lastStableOffset);
      bufs.push(b);
    }
    if (bufs.length) await h.writev(bufs, from * TXN_ENTRY_SIZE);
    this.fileEntries = this.entries.length;
    this.dirty = true;
  }

  /**
   * Aborted transactions overlapping [fetchOffset, upperBound): lastOffset >= fetchOffset and
   * firstOffset < upperBound. `complete` is true when an entry showed that no later segment can hold
   * more (its lastStableOffset >= upperBound).
   */
  collect(fetchOffset: number, upperBound: number): { aborted: AbortedTxn[]; complete: boolean } {
    const aborted: AbortedTxn[] = [];
    for (const e of this.entries) {
      if (e.lastOffset >= fetchOffset && e.firstOffset < upperBound) aborted.push(e);
      if (e.lastStableOffset >= upperBound) return { aborted, complete: true };
    }
    return { aborted, complete: false };
  }

  async flush(): Promise<void> {
    if (!this.dirty || !this.handle) return;
    this.dirty = false;
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  /** Rename the file if there is one (open handles stay valid). */
  async renameTo(newPath: string): Promise<void> {
    if (newPath === this._path) return;
    if (this.exists || (await this.fs.exists(this._path))) {
      try {
        await this.fs.rename(this._path, newPath);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    this._path = newPath;
  }

  async delete(): Promise<void> {
    await this.close();
    await this.fs.rmrf(this._path);
  }
}
