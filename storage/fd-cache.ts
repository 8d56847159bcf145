/**
 * A bounded cache of open file descriptors: `CachingFileSystem` wraps a `FileSystem` (fs.ts) and hands out
 * `FileHandle`s that hold a real descriptor only while it is recently used. With thousands of partitions,
 * each segment's `.log`, `.index` and `.timeindex` would otherwise keep three descriptors open for the life of
 * the process and exhaust the process's limit (EMFILE), leaving none for connections.
 *
 * How it works:
 * - `open()` opens the file at once (so ENOENT/EEXIST and create/truncate happen at open time, as before) and
 *   returns a cached handle; `open(p, { lazy: true })` (a file just listed, start-up) returns a handle without
 *   a descriptor, opened by its first operation as after an eviction. Every operation on it pins the handle
 *   (`pins > 0`), reopening the file read-write without create/truncate if it was closed, and unpins it when done.
 * - At most `maxOpen` descriptors are held; opening one more first closes the least recently used unpinned
 *   descriptor. A pinned descriptor is never closed under an in-flight read or write; if every descriptor is
 *   pinned (more concurrent I/O than the limit), the open waits until one is unpinned.
 * - Calls that take a descriptor while they run (readFile, writeFile, syncDir, readdir, rmrf) count in the
 *   same budget. An open (or one of those calls) failing with EMFILE/ENFILE makes the cache close a share of
 *   its unpinned descriptors and retry once; if it still fails the caller gets the FileSystemError (errno
 *   EMFILE/ENFILE) for that operation only.
 * - Renames go through this file system (storage code never renames behind it), so a handle follows its file:
 *   `rename(from, to)` moves the handles of `from` (or of every file under a renamed directory) to the new
 *   path. POSIX keeps an open descriptor valid after its file is replaced or unlinked; to keep that meaning,
 *   a handle open at that moment becomes sticky (never evicted until closed), and one not open at that moment
 *   is orphaned (its operations fail with ENOENT, as a reopen would find another file or none).
 * - Closing a descriptor with unsynced writes is safe: the data stays in the page cache and a later sync
 *   through a new descriptor writes it out (Linux reports a writeback error not yet seen to the next fsync of
 *   the file, from any descriptor, since 4.13/4.16).
 *
 * Invariants: `openCount` counts descriptors held by cached handles (including ones being opened or closed);
 * every handle in `lru` has a descriptor; a handle with `pins > 0` is never evicted; a closed handle's
 * descriptor is released once its last in-flight operation ends.
 */

import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { FileHandle, FileStat, FileSystem, OpenOptions } from './fs.js';
import { FileSystemError } from './fs.js';

/** Descriptors assumed when the process's limit cannot be read (not Linux). */
export const FALLBACK_FD_LIMIT = 1024;
/** Share of the process's descriptor limit the derived cache size takes; the rest is for connections. */
export const DERIVED_SHARE = 0.5;
/** The cache never goes below this many descriptors. */
export const MIN_OPEN_FILES = 16;

/** Soft limit of open files of this process (`Max open files` of /proc/self/limits), or undefined. */
export function processFdLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  if (m[1] === 'unlimited') return Number.MAX_SAFE_INTEGER;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** `log.max.open.files`: the configured value, or (0) a share of `fdLimit` (processFdLimit(); undefined: unknown). */
export function deriveMaxOpenFiles(configured: number, fdLimit: number | undefined): number {
  if (configured > 0) return Math.max(MIN_OPEN_FILES, configured);
  const limit = Math.min(fdLimit ?? FALLBACK_FD_LIMIT, 1 << 20);
  return Math.max(MIN_OPEN_FILES, Math.floor(limit * DERIVED_SHARE));
}

export function isOutOfDescriptors(err: unknown): boolean {
  const code = err instanceof FileSystemError ? err.errno : (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

export interface FdCacheOptions {
  /** Most descriptors held by cached handles (see deriveMaxOpenFiles). */
  maxOpen: number;
  logger?: Logger;
}

export interface FdCacheStats {
  /** Descriptors held now. */
  open: number;
  maxOpen: number;
  /** Cached handles not closed by their owner. */
  handles: number;
  /** Descriptors closed to make room, since start. */
  evictions: number;
  /** Reopens of a handle whose descriptor had been evicted, since start. */
  reopens: number;
  /** EMFILE/ENFILE seen from the OS, since start. */
  outOfDescriptors: number;
  /** Opens that waited for a descriptor to be unpinned (every one was in use), since start. */
  waitsForRoom: number;
}

class CachedHandle implements FileHandle {
  real: FileHandle | undefined;
  opening: Promise<FileHandle> | undefined;
  pins = 0;
  closed = false;
  sticky = false;
  orphaned = false;
  /** A descriptor was opened for it before (the next open is a reopen). */
  everOpened = false;

  constructor(
    private readonly cache: CachingFileSystem,
    public filePath: string,
  ) {}

  get path(): string {
    return this.filePath;
  }

  private use<T>(op: string, fn: (h: FileHandle) => Promise<T>): Promise<T> {
    return this.cache.withHandle(this, op, fn);
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.use('read', (h) => h.read(buffer, offset, length, position));
  }
  writev(buffers: readonly Buffer[], position: number): Promise<void> {
    return this.use('writev', (h) => h.writev(buffers, position));
  }
  /** At once when this handle holds a descriptor that can (no reopen, nothing to wait for); else false. */
  writevNow(buffers: readonly Buffer[], position: number): boolean {
    return this.cache.withHandleNow(this, (h) => h.writevNow?.(buffers, position) ?? false);
  }
  sync(): Promise<void> {
    return this.use('fsync', (h) => h.sync());
  }
  datasync(): Promise<void> {
    return this.use('fdatasync', (h) => h.datasync());
  }
  truncate(length: number): Promise<void> {
    return this.use('truncate', (h) => h.truncate(length));
  }
  size(): Promise<number> {
    return this.use('fstat', (h) => h.size());
  }
  close(): Promise<void> {
    return this.cache.closeHandle(this);
  }
}

/** A FileSystem whose handles share a bounded pool of descriptors (see the header). */
export class CachingFileSystem implements FileSystem {
  private maxOpen: number;
  private openCount = 0;
  /** Handles holding a descriptor, least recently used first. */
  private readonly lru = new Set<CachedHandle>();
  private readonly byPath = new Map<string, Set<CachedHandle>>();
  /** Per directory: its entries with paths of `byPath` below (see countBelow); none: nothing is scanned for. */
  private readonly below = new Map<string, number>();
  private handles = 0;
  private evictions = 0;
  private reopens = 0;
  private outOfDescriptors = 0;
  private lastWarn = 0;
  private waitsForRoom = 0;
  private readonly roomWaiters: (() => void)[] = [];

  constructor(
    private readonly inner: FileSystem,
    private readonly opts: FdCacheOptions,
  ) {
    this.maxOpen = Math.max(1, opts.maxOpen);
  }

  get osFiles(): boolean {
    return this.inner.osFiles === true;
  }

  stats(): FdCacheStats {
    return {
      open: this.openCount,
      maxOpen: this.maxOpen,
      handles: this.handles,
      evictions: this.evictions,
      reopens: this.reopens,
      outOfDescriptors: this.outOfDescriptors,
      waitsForRoom: this.waitsForRoom,
    };
  }

  // ---- cached handles ------------------------------------------------------------------------------

  async open(filePath: string, options: OpenOptions = {}): Promise<FileHandle> {
    const h = new CachedHandle(this, filePath);
    if (!options.lazy || options.create || options.truncate) {
      h.pins++;
      try {
        await this.attach(h, options);
      } finally {
        h.pins--;
      }
    }
    this.handles++;
    this.register(h);
    this.touch(h);
    return h;
  }

  /** Run `fn` on the handle's descriptor, opening it if needed; the handle is pinned meanwhile. */
  async withHandle<T>(h: CachedHandle, op: string, fn: (real: FileHandle) => Promise<T>): Promise<T> {
    if (h.closed) throw new FileSystemError(op, h.path, 'EBADF', 'file handle closed');
    if (h.orphaned) throw new FileSystemError(op, h.path, 'ENOENT', 'file replaced or removed while not open');
    h.pins++;
    try {
      const real = h.real ?? (await this.attach(h, {}));
      this.touch(h);
      return await fn(real);
    } finally {
      h.pins--;
      if (h.pins === 0) {
        if (h.closed) await this.release(h);
        else if (this.openCount > this.maxOpen) this.evict(this.openCount - this.maxOpen);
        else if (h.real) this.wakeOne();
      }
    }
  }

  /**
   * `fn` on the handle's descriptor if it holds one now (a blocking call: nothing can evict it meanwhile), as
   * a use of it (least recently used order); false without one, or for a closed or orphaned handle (the
   * caller's async path then reopens or reports it).
   */
  withHandleNow(h: CachedHandle, fn: (real: FileHandle) => boolean): boolean {
    const real = h.real;
    if (real === undefined || h.closed || h.orphaned) return false;
    if (!fn(real)) return false;
    this.touch(h);
    return true;
  }

  /** Give `h` a descriptor (sharing an open in flight), making room first. */
  private attach(h: CachedHandle, options: OpenOptions): Promise<FileHandle> {
    if (h.real) return Promise.resolve(h.real);
    if (h.opening) return h.opening;
    const reopen = h.everOpened;
    h.everOpened = true;
    const p = (async () => {
      await this.makeRoom();
      try {
        const real = await this.retryOnEmfile(() => this.inner.open(h.path, options));
        h.real = real;
        if (reopen) this.reopens++;
        return real;
      } catch (err) {
        this.openCount--;
        throw err;
      } finally {
        h.opening = undefined;
      }
    })();
    h.opening = p;
    return p;
  }

  /**
   * Reserve one more descriptor (counted in `openCount` on return): close the least recently used unpinned one,
   * or, when every one is pinned (a burst of concurrent I/O on more files than the limit), wait for one to be
   * unpinned or closed.
   * A waiter holds no descriptor and an operation holds its pin only for one call on one file, so this ends.
   */
  private async makeRoom(): Promise<void> {
    for (let waits = 0; this.openCount >= this.maxOpen; waits++) {
      const closing = this.evict(this.openCount - this.maxOpen + 1);
      if (closing.length > 0) {
        await Promise.all(closing);
        continue;
      }
      if (waits === 0) this.waitsForRoom++;
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    // Reserved in the same tick as the check: concurrent callers cannot all see the same free slot.
    this.openCount++;
  }

  /** A descriptor became evictable or was closed: let one waiter of makeRoom look again. */
  private wakeOne(): void {
    this.roomWaiters.shift()?.();
  }

  private touch(h: CachedHandle): void {
    if (!h.real || h.closed) return;
    this.lru.delete(h);
    this.lru.add(h);
  }

  /** Close up to `n` least recently used unpinned, non-sticky descriptors; returns their closes. */
  private evict(n: number): Promise<void>[] {
    const closing: Promise<void>[] = [];
    if (n <= 0) return closing;
    for (const h of this.lru) {
      if (closing.length >= n) break;
      if (h.pins > 0 || h.sticky || !h.real) continue;
      const real = h.real;
      h.real = undefined;
      this.lru.delete(h);
      this.evictions++;
      closing.push(this.closeReal(real));
    }
    return closing;
  }

  private async closeReal(real: FileHandle): Promise<void> {
    try {
      await real.close();
    } catch (err) {
      this.opts.logger?.warn({ err, path: real.path }, 'closing an evicted file descriptor failed');
    } finally {
      this.openCount--;
      this.wakeOne();
    }
  }

  async closeHandle(h: CachedHandle): Promise<void> {
    if (h.closed) return;
    h.closed = true;
    this.handles--;
    this.unregister(h);
    if (h.opening) await h.opening.catch(() => undefined);
    if (h.pins === 0) await this.release(h);
  }

  private async release(h: CachedHandle): Promise<void> {
    const real = h.real;
    if (!real) return;
    h.real = undefined;
    this.lru.delete(h);
    // Counted until closed: a close can wait long in the thread pool (behind fsyncs) with the descriptor open.
    try {
      await real.close();
    } finally {
      this.openCount--;
      this.wakeOne();
    }
  }

  /** A call that takes a descriptor for its duration (readFile, syncDir...): counted in the same budget. */
  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    await this.makeRoom();
    try {
      return await this.retryOnEmfile(fn);
    } finally {
      this.openCount--;
      this.wakeOne();
    }
  }

  /** Run a descriptor-taking call; on EMFILE/ENFILE close a share of the cache and retry once. */
  private async retryOnEmfile<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!isOutOfDescriptors(err)) throw err;
      this.outOfDescriptors++;
      const freed = this.evict(Math.max(4, Math.ceil(this.lru.size / 4)));
      await Promise.all(freed);
      this.warnOutOfDescriptors(err, freed.length);
      return await fn();
    }
  }

  private warnOutOfDescriptors(err: unknown, freed: number): void {
    const now = Date.now();
    if (now - this.lastWarn < 10_000) return;
    this.lastWarn = now;
    const e = err as FileSystemError;
    this.opts.logger?.warn(
      { errno: e.errno, freed, open: this.openCount, maxOpen: this.maxOpen, handles: this.handles },
      'out of file descriptors: closed cached log files and retried (consider raising ulimit -n)',
    );
  }

  // ---- path tracking -------------------------------------------------------------------------------

  private register(h: CachedHandle): void {
    const set = this.byPath.get(h.filePath);
    if (set) set.add(h);
    else {
      this.byPath.set(h.filePath, new Set([h]));
      this.countBelow(h.filePath, 1);
    }
  }

  private unregister(h: CachedHandle): void {
    const set = this.byPath.get(h.filePath);
    set?.delete(h);
    if (set?.size === 0) {
      this.byPath.delete(h.filePath);
      this.countBelow(h.filePath, -1);
    }
  }

  /**
   * `below` counts per directory its entries (files, or directories with a count) that have paths of `byPath`
   * under them, so a directory has a count iff some such path lies below it. A change walks up only while an
   * entry appears or disappears: the files of 10,000 partition directories do not each walk to the root.
   */
  private countBelow(filePath: string, delta: number): void {
    for (let d = path.dirname(filePath), prev = filePath; d !== prev; prev = d, d = path.dirname(d)) {
      const before = this.below.get(d) ?? 0;
      const n = before + delta;
      if (n > 0) this.below.set(d, n);
      else this.below.delete(d);
      if (before > 0 && n > 0) return; // d had and keeps a count: its ancestors do not change
    }
  }

  /** Handles of `p` itself, or (`under`) of every file below the directory `p`. */
  private handlesAt(p: string, under: boolean): CachedHandle[] {
    const out = [...(this.byPath.get(p) ?? [])];
    const dir = p.length > 1 && p.endsWith(path.sep) ? p.slice(0, -1) : p;
    // A file (or a directory of no open file) has nothing below it: no scan of every open path.
    if (under && this.below.has(dir)) {
      const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
      for (const [k, set] of this.byPath) if (k.startsWith(prefix)) out.push(...set);
    }
    return out;
  }

  /** The file(s) at `p` are going away: open handles keep their descriptor, closed ones are orphaned. */
  private detach(handles: CachedHandle[]): void {
    for (const h of handles) {
      if (h.real || h.opening) h.sticky = true;
      else h.orphaned = true;
      this.unregister(h);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const moving = this.handlesAt(from, !this.byPath.has(from));
    const replaced = this.handlesAt(to, false);
    await this.retryOnEmfile(() => this.inner.rename(from, to));
    this.detach(replaced);
    for (const h of moving) {
      this.unregister(h);
      h.filePath = h.filePath === from ? to : to + h.filePath.slice(from.length);
      this.register(h);
    }
  }

  async unlink(filePath: string): Promise<void> {
    const gone = this.handlesAt(filePath, false);
    await this.retryOnEmfile(() => this.inner.unlink(filePath));
    this.detach(gone);
  }

  async rmrf(filePath: string): Promise<void> {
    const gone = this.handlesAt(filePath, true);
    await this.withSlot(() => this.inner.rmrf(filePath));
    this.detach(gone);
  }

  /** Rewrites the same inode (truncate + write): handles of the file stay on it. */
  writeFile(filePath: string, data: Buffer): Promise<void> {
    return this.withSlot(() => this.inner.writeFile(filePath, data));
  }

  // ---- other calls: pass-through (with the EMFILE retry) -----------------------------------------------

  mkdirp(dirPath: string): Promise<void> {
    return this.retryOnEmfile(() => this.inner.mkdirp(dirPath));
  }
  readdir(dirPath: string): Promise<string[]> {
    return this.withSlot(() => this.inner.readdir(dirPath));
  }
  stat(filePath: string): Promise<FileStat> {
    return this.retryOnEmfile(() => this.inner.stat(filePath));
  }
  exists(filePath: string): Promise<boolean> {
    return this.retryOnEmfile(() => this.inner.exists(filePath));
  }
  readFile(filePath: string): Promise<Buffer> {
    return this.withSlot(() => this.inner.readFile(filePath));
  }
  syncDir(dirPath: string): Promise<void> {
    return this.withSlot(() => this.inner.syncDir(dirPath));
  }
  setStartupMode(on: boolean): void {
    this.inner.setStartupMode?.(on);
  }
  /** Blocking, so never concurrent with another call: one descriptor, briefly, outside the budget. */
  readNow(filePath: string, position: number, length: number): Buffer | undefined {
    return this.inner.readNow?.(filePath, position, length);
  }
}
