/**
 * The file-system seam of the storage layer.
 *
 * Storage code never touches node:fs directly: it goes through `FileSystem`/`FileHandle`, implemented by
 * `NodeFileSystem` (node:fs/promises, and node:fs callbacks where cheaper; used in production) and
 * `MemoryFileSystem` (storage/memory-fs.ts, fault injection and power-loss simulation for tests).
 *
 * Contract (both implementations):
 * - All I/O is asynchronous, with one exception: in start-up mode (`setStartupMode(true)`, LogManager's initial
 *   load, before the broker serves anything) NodeFileSystem runs readdir, stat, exists and readFile as blocking
 *   calls on the calling thread, and `readNow` reads a range of a file that way. Loading 10,000 partitions makes tens
 * of thousands of them; each is a few
 *   microseconds of syscalls, while the callback API pays two thread-pool hand-offs and a promise per call
 *   (about 3x the CPU, and far more wall time on a loaded machine). Promises are still returned.
 * - `FileHandle.writev(buffers, position)` is positional and writes every byte or throws (short writes
 *   are retried). Callers track their own append position, so files are never opened O_APPEND.
 * - `FileHandle.writevNow` (optional) is the same write done at once by a blocking call on the calling thread,
 *   as Kafka's request handler threads write into the page cache: it returns false, writing nothing, when the
 *   handle cannot do that now (no descriptor held: the caller then uses `writev`), and throws a
 *   `FileSystemError` on failure. Issue #16: the log append path uses it for request-sized writes; a write into
 *   the page cache takes about as long as the two thread-pool hand-offs and the promise of `writev`, which also
 *   left the write competing for the cores with the loop that should be reading the next request. A blocking
 *   write that took longer than `InlineWritePolicy.stallMs` (the kernel throttling dirty pages, a stalled
 *   device) turns them off for `pauseMs` on NodeFileSystem's handles: `writev` on the pool then waits instead of
 *   the event loop (fetches, heartbeats and other connections carry on). Writes over `maxBytes` always go there.
 * - `read` may return fewer bytes than asked only at end of file.
 * - Durability: data written to a file is durable after `sync()`/`datasync()` of that file; a directory
 *   entry created, renamed or removed is durable after `syncDir()` of its parent directory. `rename` is
 *   atomic (the destination shows either the old or the new file, never a mix).
 * - Every failure is thrown as `FileSystemError` (a coded `StorageError`), carrying the errno string
 *   (`ENOENT`, `EEXIST`, `EIO`, ...) so callers can tell "missing" from "broken".
 */

import { MIN_READ, noteRead, SLOW_MS } from './read-prefetch.js';
import { open as fsOpen, mkdir, rename, unlink, rm, writeFile } from 'node:fs/promises';
import { closeSync, constants, openSync, read as fsRead, readFile, readFileSync, readSync, writevSync } from 'node:fs';
import { readdir, readdirSync, stat, statSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { StorageError } from '../protocol/errors.js';

// readFile, readdir and stat (start-up does one or more per partition) through the callback API: about half
// the CPU of node:fs/promises' (no FileHandle objects; measured with 10,000 partitions).
const readFileCb = promisify(readFile);
const readdirCb = promisify(readdir);
const statCb = promisify(stat);

export class FileSystemError extends StorageError {
  /** errno-style code: ENOENT, EEXIST, ENOTDIR, EIO, EBADF, ... */
  readonly errno: string;
  constructor(op: string, filePath: string, errno: string, detail?: string) {
    super(`${op} ${filePath}: ${errno}${detail ? ` (${detail})` : ''}`);
    this.errno = errno;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof FileSystemError && err.errno === 'ENOENT';
}

export interface OpenOptions {
  /** Create the file if it does not exist (default false: ENOENT). */
  create?: boolean;
  /** Truncate to zero length on open. */
  truncate?: boolean;
  /**
   * The file is known to exist (just listed) and may be opened on first use: an implementation that
   * can (CachingFileSystem) takes no descriptor until the first operation, which then reports a missing
   * file (ENOENT). Ignored with `create` or `truncate`; others open at once.
   */
  lazy?: boolean;
  /** Open for reading only (O_RDONLY; the log cleaner's sources). Implementations may ignore it. */
  readOnly?: boolean;
}

export interface FileStat {
  size: number;
  isDirectory: boolean;
}

export interface FileHandle {
  readonly path: string;
  /** Read up to `length` bytes at `position` into `buffer[offset..]`; returns bytes read (short only at EOF). */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Write all of `buffers` contiguously starting at `position` (one writev when possible). */
  writev(buffers: readonly Buffer[], position: number): Promise<void>;
  /** As `writev`, by a blocking call, when the handle can now (true); false: nothing written (see the header). */
  writevNow?(buffers: readonly Buffer[], position: number): boolean;
  /** fsync: data and metadata. */
  sync(): Promise<void>;
  /** fdatasync: data and the metadata needed to read it back (size). */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface FileSystem {
  open(filePath: string, options?: OpenOptions): Promise<FileHandle>;
  /** mkdir -p. */
  mkdirp(dirPath: string): Promise<void>;
  /** Entry names of a directory (unsorted). */
  readdir(dirPath: string): Promise<string[]>;
  stat(filePath: string): Promise<FileStat>;
  /** Atomic rename, replacing `to` if it exists. */
  rename(from: string, to: string): Promise<void>;
  unlink(filePath: string): Promise<void>;
  /** rm -rf (no error if missing). */
  rmrf(filePath: string): Promise<void>;
  exists(filePath: string): Promise<boolean>;
  readFile(filePath: string): Promise<Buffer>;
  /** Create/replace a file's content. Not durable by itself (see writeFileDurably in checkpoint.ts). */
  writeFile(filePath: string, data: Buffer): Promise<void>;
  /** fsync a directory, making entry creations/renames/removals in it durable. */
  syncDir(dirPath: string): Promise<void>;
  /** Start-up mode on or off (see the header); optional, a no-op where absent. */
  setStartupMode?(on: boolean): void;
  /**
   * In start-up mode: `length` bytes (fewer at end of file) of the file at `position`, read by blocking calls
   * (open, read, close: no descriptor is kept). Otherwise, or where not implemented: undefined.
   */
  readNow?(filePath: string, position: number, length: number): Buffer | undefined;
  /** True if the files are the OS's at their paths, so another thread may open them (the log cleaner's worker). */
  readonly osFiles?: boolean;
}

/**
 * Bytes this process has had read from storage devices so far: getrusage's ru_inblock (`fsRead`), which Linux
 * counts in 512-byte blocks from the same tally as /proc/self/io `read_bytes` (page-cache hits do not count,
 * the kernel's own read-ahead does). About a microsecond: no file is read.
 */
export function processDiskReadBytes(): number {
  return process.resourceUsage().fsRead * 512;
}

/** A sample of processDiskReadBytes older than this before a read started says nothing about that read. */
const DISK_SAMPLE_FRESH_MS = 1000;
let diskSample = { bytes: 0, at: Number.NEGATIVE_INFINITY };

/**
 * Device bytes the process read from the last slow read's sample to now, a window holding the read started at
 * `since` (performance.now()); 0 when that sample is too old to tell (the next slow read, a moment later, will).
 * One sample a slow read, none a fast one.
 */
function diskReadSince(since: number): number {
  const now = { bytes: processDiskReadBytes(), at: performance.now() };
  const last = diskSample;
  diskSample = now;
  return last.at >= since - DISK_SAMPLE_FRESH_MS ? now.bytes - last.bytes : 0;
}

/** Read exactly up to `length` bytes at `position` (looping on short reads); returns the filled slice. */
export async function readAt(handle: FileHandle, position: number, length: number, into?: Buffer): Promise<Buffer> {
  const buf = into && into.length >= length ? into : Buffer.allocUnsafe(length);
  const t0 = into ? performance.now() : 0;
  let got = 0;
  while (got < length) {
    const n = await handle.read(buf, got, length - got, position + got);
    if (n <= 0) break;
    got += n;
  }
  // Reads into caller memory are consumer fetches' (read-buffers.ts): cold files get read ahead.
  if (into) {
    const ms = performance.now() - t0;
    // Device bytes read meanwhile: only a slow one asks (a fast one is warm whatever they are).
    noteRead(handle, position, got, ms, ms >= SLOW_MS && got >= MIN_READ ? diskReadSince(t0) : undefined);
  }
  return buf.subarray(0, got);
}

/**
 * mkdir -p that makes each newly created level durable by fsyncing its parent directory.
 * Returns true if anything was created.
 */
export async function ensureDirDurable(fs: FileSystem, dirPath: string): Promise<boolean> {
  if (await fs.exists(dirPath)) return false;
  const missing: string[] = [];
  let p = dirPath;
  while (!(await fs.exists(p))) {
    missing.push(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  await fs.mkdirp(dirPath);
  for (let i = missing.length - 1; i >= 0; i--) {
    const parent = path.dirname(missing[i]!);
    if (parent !== missing[i]) await fs.syncDir(parent);
  }
  return true;
}

function wrap(op: string, p: string, err: unknown): FileSystemError {
  if (err instanceof FileSystemError) return err;
  const e = err as NodeJS.ErrnoException;
  return new FileSystemError(op, p, typeof e?.code === 'string' ? e.code : 'EIO', e?.message);
}

/** What is left of `bufs` after a short write of `written` bytes: fully written buffers dropped, one sliced. */
function unwritten(bufs: readonly Buffer[], written: number): Buffer[] {
  let skip = written;
  const rest: Buffer[] = [];
  for (const b of bufs) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}

/** Which writes NodeFileSystem's handles make by blocking calls (see the header). */
export interface InlineWritePolicy {
  /** `writevNow` declines writes of more bytes than this (0: every write; log.append.inline.max.bytes). */
  maxBytes: number;
  /** A blocking write taking longer than this (ms)... */
  stallMs: number;
  /** ...makes `writevNow` decline for this long (ms). */
  pauseMs: number;
}

/**
 * Up to 4 MiB (issue #16): measured on a 2-core VM, ~1 MiB into fresh page cache took ~1.5 ms by a blocking
 * call, while through the thread pool the same write took 10-20 ms to complete (four pool threads, the event
 * loop and the clients contending for two cores) and kept each producer's acks waiting that long. The bound
 * keeps one write's stall of the event loop to a few milliseconds.
 */
export const DEFAULT_INLINE_WRITES: InlineWritePolicy = { maxBytes: 4 * 1024 * 1024, stallMs: 50, pauseMs: 1000 };

/** The blocking-write state shared by one NodeFileSystem's handles. */
interface InlineWrites extends InlineWritePolicy {
  /** performance.now() before which writevNow declines. */
  pausedUntil: number;
}

class NodeFileHandle implements FileHandle {
  constructor(
    readonly path: string,
    private readonly fh: import('node:fs/promises').FileHandle,
    private readonly inline: InlineWrites,
  ) {}

  /** Reads in flight on the descriptor, and what `close` waits on for them (the number is not reused under them). */
  private reading = 0;
  private readsDone: (() => void) | undefined;
  private closing = false;

  // node:fs's callback read on the descriptor: about a third less CPU a call than FileHandle.read (its promise
  // and reference counting), which a consumer fetch pays for every partition it reads (issue #16).
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const fd = this.fh.fd;
      if (this.closing || fd < 0) {
        reject(new FileSystemError('read', this.path, 'EBADF', 'file handle closed'));
        return;
      }
      this.reading++;
      fsRead(fd, buffer, offset, length, position, (err, bytesRead) => {
        if (--this.reading === 0) this.readsDone?.();
        if (err) reject(wrap('read', this.path, err));
        else resolve(bytesRead);
      });
    });
  }

  async writev(buffers: readonly Buffer[], position: number): Promise<void> {
    let total = 0;
    for (const b of buffers) total += b.length;
    if (total === 0) return;
    try {
      let bufs = buffers as Buffer[];
      let pos = position;
      let remaining = total;
      for (;;) {
        const { bytesWritten } = await this.fh.writev(bufs, pos);
        remaining -= bytesWritten;
        if (remaining <= 0) return;
        if (bytesWritten <= 0) throw new FileSystemError('writev', this.path, 'EIO', 'no progress');
        pos += bytesWritten;
        bufs = unwritten(bufs, bytesWritten);
      }
    } catch (err) {
      throw wrap('writev', this.path, err);
    }
  }

  writevNow(buffers: readonly Buffer[], position: number): boolean {
    // A closed FileHandle's fd is -1 (writevSync would throw a range error, not EBADF).
    if (this.fh.fd < 0) throw new FileSystemError('writev', this.path, 'EBADF', 'file handle closed');
    const inline = this.inline;
    let remaining = 0;
    for (const b of buffers) remaining += b.length;
    if (remaining > inline.maxBytes) return false;
    const t0 = performance.now();
    if (t0 < inline.pausedUntil) return false;
    try {
      let bufs = buffers as Buffer[];
      let pos = position;
      while (remaining > 0) {
        const n = writevSync(this.fh.fd, bufs, pos);
        if (n <= 0) throw new FileSystemError('writev', this.path, 'EIO', 'no progress');
        remaining -= n;
        pos += n;
        if (remaining > 0) bufs = unwritten(bufs, n);
      }
      const t1 = performance.now();
      if (t1 - t0 > inline.stallMs) inline.pausedUntil = t1 + inline.pauseMs;
      return true;
    } catch (err) {
      throw wrap('writev', this.path, err);
    }
  }

  async sync(): Promise<void> {
    try {
      await this.fh.sync();
    } catch (err) {
      throw wrap('fsync', this.path, err);
    }
  }

  async datasync(): Promise<void> {
    try {
      await this.fh.datasync();
    } catch (err) {
      throw wrap('fdatasync', this.path, err);
    }
  }

  async truncate(length: number): Promise<void> {
    try {
      await this.fh.truncate(length);
    } catch (err) {
      throw wrap('truncate', this.path, err);
    }
  }

  async size(): Promise<number> {
    try {
      return (await this.fh.stat()).size;
    } catch (err) {
      throw wrap('fstat', this.path, err);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reading > 0) await new Promise<void>((resolve) => (this.readsDone = resolve));
    try {
      await this.fh.close();
    } catch (err) {
      throw wrap('close', this.path, err);
    }
  }
}

/** Production implementation over node:fs/promises. */
export class NodeFileSystem implements FileSystem {
  readonly osFiles = true;
  /** Start-up mode: readdir, stat, exists and readFile block (see the header). */
  private blocking = false;
  private readonly inline: InlineWrites;

  constructor(inlineWrites: InlineWritePolicy = DEFAULT_INLINE_WRITES) {
    this.inline = { ...inlineWrites, pausedUntil: 0 };
  }

  setStartupMode(on: boolean): void {
    this.blocking = on;
  }

  readNow(filePath: string, position: number, length: number): Buffer | undefined {
    if (!this.blocking) return undefined;
    let fd: number | undefined;
    try {
      fd = openSync(filePath, 'r');
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, position + got);
        if (n <= 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    } catch (err) {
      throw wrap('read', filePath, err);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  async open(filePath: string, options: OpenOptions = {}): Promise<FileHandle> {
    let flags = options.readOnly ? constants.O_RDONLY : constants.O_RDWR;
    if (options.create) flags |= constants.O_CREAT;
    if (options.truncate) flags |= constants.O_TRUNC;
    try {
      return new NodeFileHandle(filePath, await fsOpen(filePath, flags, 0o644), this.inline);
    } catch (err) {
      throw wrap('open', filePath, err);
    }
  }

  async mkdirp(dirPath: string): Promise<void> {
    try {
      await mkdir(dirPath, { recursive: true });
    } catch (err) {
      throw wrap('mkdir', dirPath, err);
    }
  }

  async readdir(dirPath: string): Promise<string[]> {
    try {
      return this.blocking ? readdirSync(dirPath) : await readdirCb(dirPath);
    } catch (err) {
      throw wrap('readdir', dirPath, err);
    }
  }

  async stat(filePath: string): Promise<FileStat> {
    try {
      const s = this.blocking ? statSync(filePath) : await statCb(filePath);
      return { size: s.size, isDirectory: s.isDirectory() };
    } catch (err) {
      throw wrap('stat', filePath, err);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      await rename(from, to);
    } catch (err) {
      throw wrap('rename', `${from} -> ${to}`, err);
    }
  }

  async unlink(filePath: string): Promise<void> {
    try {
      await unlink(filePath);
    } catch (err) {
      throw wrap('unlink', filePath, err);
    }
  }

  async rmrf(filePath: string): Promise<void> {
    try {
      await rm(filePath, { recursive: true, force: true });
    } catch (err) {
      throw wrap('rm', filePath, err);
    }
  }

  async exists(filePath: string): Promise<boolean> {
    try {
      if (this.blocking) statSync(filePath);
      else await statCb(filePath);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw wrap('stat', filePath, err);
    }
  }

  async readFile(filePath: string): Promise<Buffer> {
    try {
      return this.blocking ? readFileSync(filePath) : await readFileCb(filePath);
    } catch (err) {
      throw wrap('readFile', filePath, err);
    }
  }

  async writeFile(filePath: string, data: Buffer): Promise<void> {
    try {
      await writeFile(filePath, data);
    } catch (err) {
      throw wrap('writeFile', filePath, err);
    }
  }

  async syncDir(dirPath: string): Promise<void> {
    if (process.platform === 'win32') return; // directories cannot be fsynced there
    let fh: import('node:fs/promises').FileHandle | undefined;
    try {
      fh = await fsOpen(dirPath, constants.O_RDONLY);
      await fh.sync();
    } catch (err) {
      throw wrap('fsync dir', dirPath, err);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }
}
